"""Sessions a comparison already recorded, reused when a replay confirms them.

A browse comparison replays every run and anchor policy on the same held-out sessions (1,000 × 10 steps each at full
scale). Adding a reward to a finished comparison would replay the runs it already holds. Instead,
:func:`load_recorded` reads their sessions from the comparison's ``sessions.parquet`` (when its ``browse_eval.json``
has the same sessions and seed), and :func:`confirmed` replays only the first ``check`` sessions of each: when they
match the record, the record stands for the run; when they do not (another CPU, changed code), the whole run is
replayed and a warning says so.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from pathlib import Path

from recrl.browse.metrics import METRICS

logger = logging.getLogger(__name__)


def load_recorded(folder: str | Path, episodes: int, seed: int) -> dict[str, list[dict]]:
    """``{run or policy label: its sessions in order}`` from ``folder``'s ``sessions.parquet``; empty when the
    folder has none or its report used other sessions (another count or seed)."""
    folder = Path(folder)
    report, table = folder / "browse_eval.json", folder / "sessions.parquet"
    if not (report.is_file() and table.is_file()):
        return {}
    summary = json.loads(report.read_text(encoding="utf-8"))
    if summary.get("episodes") != episodes or summary.get("seed") != seed:
        return {}
    import pandas as pd

    recorded = {}
    for run, part in pd.read_parquet(table).sort_values("session").groupby("run", sort=False):
        if list(part["session"]) == list(range(episodes)):
            recorded[str(run)] = [{"user_id": row["user"], **{metric: float(row[metric]) for metric in METRICS}}
                                  for row in part.to_dict("records")]
    return recorded


def same_sessions(replayed: list[dict], recorded: list[dict], tolerance: float = 1e-9) -> bool:
    """Whether replayed sessions give the recorded user and metrics, session by session (NaN equals NaN)."""
    def same(a: float, b: float) -> bool:
        return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tolerance

    return len(replayed) == len(recorded) and all(
        str(new.get("user_id", "")) == str(old["user_id"]) and all(same(float(new[m]), old[m]) for m in METRICS)
        for new, old in zip(replayed, recorded))


def confirmed(label: str, recorded: dict[str, list[dict]], episodes: int, check: int,
              replay: Callable[[int], list[dict]]) -> list[dict] | None:
    """The recorded sessions of ``label`` when replaying its first ``check`` (``replay(n)``) gives the same ones;
    ``None`` when there is no record, or ``check`` is 0, or the replay differs (then a warning names the label)."""
    kept = recorded.get(label)
    if kept is None or len(kept) != episodes or check <= 0:
        return None
    count = min(check, episodes)
    if same_sessions(replay(count), kept[:count]):
        logger.info("%s: the first %d of its %d recorded sessions replay the same; the record is kept", label,
                    count, episodes)
        return kept
    logger.warning("%s: its first %d recorded sessions replay differently here; replaying all %d", label, count,
                   episodes)
    return None
