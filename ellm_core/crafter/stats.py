"""Writing crafter's ``stats.jsonl`` during training (one line per finished episode, crafter's format)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ellm_core.run.faults import write_failed

logger = logging.getLogger(__name__)


class StatsWriter:
    """An ``episode_hook`` for :func:`ellm_core.run.train.train` that appends each episode's ``episode_stats``.

    Lines carry crafter's keys (``length``, ``reward``, ``achievement_*``) plus ``step``, the training step at
    which the episode ended, so that a resumed run can drop the episodes after its checkpoint.
    """

    def __init__(self, path: str | Path, resume_step: int | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume_step is not None and self.path.exists():
            kept, broken = [], 0
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    if line.strip() and json.loads(line).get("step", 0) <= resume_step:
                        kept.append(line)
                except json.JSONDecodeError:  # a line cut short by a failed write
                    broken += 1
            if broken:
                logger.warning("%s: dropped %d line(s) cut short by a failed write", self.path, broken)
            self.path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        elif self.path.exists():
            self.path.unlink()
        self.episodes = 0

    def __call__(self, info: dict[str, Any], step: int) -> None:
        stats = info.get("episode_stats")
        if stats is None:
            return
        line = {key: value.item() if hasattr(value, "item") else value for key, value in stats.items()}
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({**line, "step": int(step)}) + "\n")
        except OSError as error:
            raise write_failed(self.path, error, "its earlier lines and the run's last checkpoint are intact") from None
        self.episodes += 1
