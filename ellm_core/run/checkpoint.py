"""Atomic, verified checkpoints: a killed run (even mid-write) resumes from the newest complete one.

A checkpoint is one ``torch.save`` file ``RUN/checkpoints/step_<N>.pt`` written to a temporary name, flushed
and renamed into place, with its size and sha256 beside it (``step_<N>.pt.sha256``); ``RUN/checkpoints/latest``
(itself replaced atomically) names the newest one, for people. A resume trusts none of these names: it takes the
newest ``step_*.pt`` whose size and checksum match (a checkpoint from before the checksums: one that loads) and
says why it skipped newer ones (:func:`resume_checkpoint`). Damage comes from outside the run (a full disk, a copy
cut short), so the newest two checkpoints are kept. Loading uses ``torch.load(weights_only=True)``: tensors and
plain Python containers only.

A finished run also writes ``RUN/qnet.pt``, its final Q-network's weights alone (under a megabyte at the
``demo`` sizes, where a checkpoint with its replay buffer is ~100 MB): small enough to keep beside a run's
results, and all that ``--init-from`` loads.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from ellm_core.run.faults import NoCheckpointError, write_failed

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


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(run_dir: str | Path, step: int, payload: dict[str, Any], keep: int = 2) -> Path:
    """Write ``payload`` as the checkpoint of ``step`` with its size and sha256 beside it, point ``latest`` at it,
    keep the newest ``keep``. A failed write (a full disk) raises :class:`WriteFailedError` and leaves the earlier
    checkpoints as they were."""
    directory = Path(run_dir) / "checkpoints"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"step_{step:010d}.pt"
    try:
        _atomic_write(path, lambda handle: torch.save(payload, handle))
        record = json.dumps({"size": path.stat().st_size, "sha256": _digest(path)}).encode()
        _atomic_write(_sidecar(path), lambda handle: handle.write(record))
        _atomic_write(directory / "latest", lambda handle: handle.write(path.name.encode()))
    except OSError as error:
        _sidecar(path).unlink(missing_ok=True)
        if path.exists() and not _sidecar(path).exists():
            path.unlink(missing_ok=True)
        previous = sorted(directory.glob("step_*.pt"))
        raise write_failed(path, error, f"the checkpoint {previous[-1].name} is intact" if previous
                           else "no earlier checkpoint exists") from None
    for old in sorted(directory.glob("step_*.pt"))[:-keep]:
        old.unlink(missing_ok=True)
        _sidecar(old).unlink(missing_ok=True)
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


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def verify_checkpoint(path: str | Path) -> str | None:
    """Why the checkpoint at ``path`` cannot be trusted (``None``: it can): its size or sha256 differ from those
    written beside it; or, for a checkpoint from before the checksums, it does not load."""
    path = Path(path)
    try:
        record = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        record = None
    except (OSError, ValueError):
        return "its checksum file is unreadable"
    try:
        size = path.stat().st_size
        if record is None:
            load_checkpoint(path)
            return None
        if size != record.get("size"):
            return f"{size:,} bytes, {record.get('size', 0):,} written (cut short?)"
        if _digest(path) != record.get("sha256"):
            return "its sha256 differs from the one written with it"
    except Exception as error:  # noqa: BLE001  (any load failure means "not this one")
        return f"it does not load ({str(error).splitlines()[0][:80]})"
    return None


def checkpoints(run_dir: str | Path) -> list[Path]:
    """The run's ``step_*.pt`` files, newest first (whatever ``latest`` says)."""
    return sorted((Path(run_dir) / "checkpoints").glob("step_*.pt"), reverse=True)


def newest_good_checkpoint(run_dir: str | Path) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The newest checkpoint that passes :func:`verify_checkpoint`, and the newer ones skipped with the reason."""
    skipped = []
    for path in checkpoints(run_dir):
        reason = verify_checkpoint(path)
        if reason is None:
            return path, skipped
        skipped.append((path, reason))
    return None, skipped


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest checkpoint of a run that is complete (verified), or None when it has none."""
    return newest_good_checkpoint(run_dir)[0]


def run_holds_steps(run_dir: str | Path) -> bool:
    """Whether a run folder holds a trained run's traces: checkpoints, or rows of its progress or episode logs."""
    run_dir = Path(run_dir)
    if checkpoints(run_dir):
        return True
    for name in ("progress.csv", "episodes.csv", "stats.jsonl"):
        path = run_dir / name
        if path.is_file() and path.stat().st_size > 0:
            return True
    return False


def resume_checkpoint(run_dir: str | Path, resume: bool, overwrite: bool = False) -> Path | None:
    """The checkpoint a run starts from: the newest good one with ``resume``, ``None`` for a fresh start.

    Never a fresh start over a folder that holds steps unless ``overwrite`` (then the old run's files are removed):
    without ``resume`` that is a ``FileExistsError``; with it but no checkpoint that loads, a
    :class:`NoCheckpointError`; both name the folder and the choices. Skipped checkpoints are logged with the reason.
    """
    run_dir = Path(run_dir)
    if overwrite:
        clear_run(run_dir)
        return None
    if not resume:
        if run_holds_steps(run_dir):
            raise FileExistsError(f"run directory {run_dir} already holds a run; pass --resume to continue it, "
                                  "--overwrite to start again there, or choose another --out")
        return None
    path, skipped = newest_good_checkpoint(run_dir)
    for bad, reason in skipped:
        logger.warning("skipping checkpoint %s: %s", bad, reason)
    if path is not None:
        logger.info("resuming from %s%s", path, f" (the newest good one of {len(skipped) + 1})" if skipped else "")
        return path
    if run_holds_steps(run_dir):
        found = "; ".join(f"{bad.name}: {reason}" for bad, reason in skipped) or "no checkpoint files"
        raise NoCheckpointError(f"{run_dir} holds steps but no checkpoint that loads ({found}); pass --overwrite to "
                                "start again from scratch there, or choose another --out")
    logger.warning("no checkpoint in %s: starting from scratch", run_dir)
    return None


def clear_run(run_dir: Path) -> None:
    """Remove what an earlier run wrote in ``run_dir`` (checkpoints, logs, stats, summary), for ``--overwrite``."""
    import shutil

    if (run_dir / "checkpoints").is_dir():
        shutil.rmtree(run_dir / "checkpoints")
    if (run_dir / "tb").is_dir():
        shutil.rmtree(run_dir / "tb")
    for name in ("progress.csv", "episodes.csv", "eval.csv", "stats.jsonl", "summary.json", NETWORK_FILE,
                 "goals.csv", "pays.csv"):
        (run_dir / name).unlink(missing_ok=True)
    logger.info("--overwrite: removed the earlier run's files in %s", run_dir)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def run_labels(*run_dirs: str | Path) -> list[tuple[str, tuple[str, ...]]]:
    """The situations distilled training runs labelled, from their latest checkpoints: in order, run after run,
    each once."""
    labelled: dict[tuple[str, tuple[str, ...]], None] = {}
    for run_dir in run_dirs:
        path = latest_checkpoint(run_dir)
        if path is None:
            raise ValueError(f"{run_dir} has no checkpoint: pass a distilled training run's directory to --labels-from")
        state = load_checkpoint(path).get("goal_source") or {}
        if not state.get("labelled"):
            raise ValueError(f"{path} holds no labelled situations: --labels-from needs a run with --goal-source "
                             "distilled")
        labelled.update(((str(observation), tuple(actions)), None) for observation, actions in state["labelled"])
    return list(labelled)
