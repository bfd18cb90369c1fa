"""Atomic checkpoints: a killed run (even mid-write) resumes from the last complete one.

A checkpoint is one ``torch.save`` file ``RUN/checkpoints/step_<N>.pt`` written to a temporary name, flushed
and renamed into place; ``RUN/checkpoints/latest`` (itself replaced atomically) names the newest complete
one. Loading uses ``torch.load(weights_only=True)``: tensors and plain Python containers only.

A finished run also writes ``RUN/qnet.pt``, its final Q-network's weights alone (under a megabyte at the
``demo`` sizes, where a checkpoint with its replay buffer is ~100 MB): small enough to keep beside a run's
results, and all that ``--init-from`` loads.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger(__name__)


def _atomic_write(path: Path, write) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_checkpoint(run_dir: str | Path, step: int, payload: dict[str, Any], keep: int = 2) -> Path:
    """Write ``payload`` as the checkpoint of ``step``, point ``latest`` at it, keep the newest ``keep``."""
    directory = Path(run_dir) / "checkpoints"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"step_{step:010d}.pt"
    _atomic_write(path, lambda handle: torch.save(payload, handle))
    _atomic_write(directory / "latest", lambda handle: handle.write(path.name.encode()))
    for old in sorted(directory.glob("step_*.pt"))[:-keep]:
        old.unlink(missing_ok=True)
    for stale in directory.glob("*.tmp"):  # left by a run killed mid-write
        stale.unlink(missing_ok=True)
    logger.debug("checkpoint written: %s", path)
    return path


#: The final Q-network's state dict, written by a finished run.
NETWORK_FILE = "qnet.pt"


def save_network(run_dir: str | Path, state_dict: dict[str, torch.Tensor]) -> Path:
    """Write a Q-network's weights atomically as ``RUN/qnet.pt``."""
    path = Path(run_dir) / NETWORK_FILE
    _atomic_write(path, lambda handle: torch.save({name: t.detach().cpu() for name, t in state_dict.items()}, handle))
    return path


def load_network(run_dir: str | Path) -> tuple[dict[str, torch.Tensor], Path]:
    """A run's Q-network weights: its ``qnet.pt``, else the network of its newest checkpoint; and the file read."""
    path = Path(run_dir) / NETWORK_FILE
    if path.is_file():
        return load_checkpoint(path), path
    path = latest_checkpoint(run_dir)
    if path is None:
        raise FileNotFoundError(f"{run_dir}: no {NETWORK_FILE} and no checkpoint there (a finished or checkpointed "
                                "run needed)")
    return load_checkpoint(path)["agent"]["q"], path


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest complete checkpoint of a run, or None when it has none."""
    pointer = Path(run_dir) / "checkpoints" / "latest"
    if not pointer.is_file():
        return None
    path = pointer.parent / pointer.read_text().strip()
    return path if path.is_file() else None


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``)."""
    return torch.load(path, map_location="cpu", weights_only=True)
