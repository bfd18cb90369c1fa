"""The local backend of ``ellm sweep``: cells as processes pinned to disjoint cores, their setup, and stopping them.

Each cell runs under a lock file beside its log, so two sweeps never run one cell; a SIGTERM to the sweep
(:func:`stop_cells`) terminates its cells, so none is left running without that lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import shlex
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ellm_core.experiments.spec import Cell, command_argv
from ellm_core.resources import cpu_threads

logger = logging.getLogger("ellm_core.experiments.sweep")

def core_slots(parallel: int, threads: int) -> tuple[list[list[int]], int]:
    """Disjoint core sets for ``parallel`` cells of ``threads`` cores each, fitted to this machine's cores."""
    cores = sorted(os.sched_getaffinity(0))
    parallel = parallel if parallel > 0 else max(1, len(cores) // max(threads, 1))
    threads = threads if threads > 0 else max(1, len(cores) // parallel)
    if parallel * threads > len(cores):
        fitted = max(1, len(cores) // threads)
        logger.warning("%d cells × %d threads > %d cores: running %d at a time", parallel, threads, len(cores),
                       fitted)
        parallel = fitted
    threads = min(threads, len(cores))
    return [cores[i * threads:(i + 1) * threads] for i in range(parallel)], threads


def cell_environment(threads: int) -> dict[str, str]:
    """The environment of a cell: its thread counts and the offline model hubs."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            "NUMBA_NUM_THREADS": str(threads),
            "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1"}


#: Exit status of a cell another sweep is running (its lock is held): skipped, not failed.
BUSY = -1
#: Exit status of a cell not started because the sweep was stopped.
STOPPED = -2
#: Exit status of a cell found finished once its lock was taken (another sweep ran it meanwhile): skipped.
FINISHED = -3
_RUNNING: set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()
_STOPPING = threading.Event()


def stop_cells(signum: int | None = None, frame: Any = None) -> None:
    """Terminate the running cells and start no more. A killed sweep must leave no orphan: an orphan cell holds
    no lock, so a restarted sweep would run it twice into one directory. As a signal handler it then exits."""
    _STOPPING.set()
    with _RUNNING_LOCK:
        for process in _RUNNING:
            process.terminate()
    if signum is not None:
        raise SystemExit(128 + signum)


def run_cell(cell: Cell, threads: int, cores: list[int] | None = None, cwd: str | None = None) -> int:
    """Run one cell's command with its output appended to its log; returns the exit status, :data:`BUSY` when
    another sweep holds the cell's lock file (``LOG`` with ``.lock``) or :data:`FINISHED` when the cell is done
    once the lock is taken. The cell's state is read under the lock, not when the sweep was planned: another sweep
    may have finished the cell since (skipped), or started it (resumed, not begun again over its checkpoints).
    ``cwd``: where the cell's relative paths start (a Ray worker's own directory may be elsewhere)."""
    if cwd is not None:
        cell = cell.under(Path(cwd))
    cell.log.parent.mkdir(parents=True, exist_ok=True)
    pin = (lambda: os.sched_setaffinity(0, cores)) if cores else None
    with open(cell.log.with_suffix(".lock"), "w") as lock, open(cell.log, "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return BUSY
        status = cell.status
        if status == "done":
            return FINISHED
        argv = command_line(cell, status)
        logger.info("start %s (%s) on cores %s", cell.out, status, cores or "any")
        handle.write(f"$ {shlex.join(argv)}\n")
        handle.flush()
        with _RUNNING_LOCK:
            if _STOPPING.is_set():
                return STOPPED
            process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, env=cell_environment(threads),
                                       preexec_fn=pin, cwd=cwd)
            _RUNNING.add(process)
        try:
            return process.wait()
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(process)


_SETUP_LOCK = threading.Lock()


def run_setup(steps: list[dict[str, Any]], method: str, cores: list[int] | None = None) -> int:
    """Run the setup commands ``method`` needs (a step's ``methods``, or every method) whose ``creates`` path is
    missing, one at a time across the sweep; returns the first failing exit status, else 0."""
    with _SETUP_LOCK:
        for step in steps:
            if step.get("methods") and method not in step["methods"]:
                continue
            if step.get("creates") and Path(step["creates"]).exists():
                continue
            logger.info("setup for %s: %s", method, step["run"])
            pin = (lambda: os.sched_setaffinity(0, cores)) if cores else None
            code = subprocess.run(command_argv(step["run"]), env=cell_environment(len(cores) if cores else cpu_threads()),
                                  preexec_fn=pin).returncode
            if code:
                logger.error("setup %r failed (exit %d)", step["run"], code)
                return code
    return 0


def command_line(cell: Cell, status: str | None = None) -> list[str]:
    """The cell's command, resuming when it has a checkpoint (``status``: the cell's, when just read)."""
    return cell.argv + (["--resume"] if (status or cell.status) == "partial" else [])


def run_local(todo: list[Cell], parallel: int, threads: int, setup: list[dict[str, Any]] = ()) -> dict[str, int]:
    """Run cells as local processes, each pinned to its own cores, after the setup its method needs;
    ``{cell out: exit status}``."""
    slots, threads = core_slots(parallel, threads)
    _STOPPING.clear()
    free: queue.Queue = queue.Queue()
    for slot in slots:
        free.put(slot)

    def work(cell: Cell) -> int:
        slot = free.get()
        if _STOPPING.is_set():
            free.put(slot)
            return STOPPED
        try:
            code = run_setup(setup, cell.method, slot)
            if code:
                return code
            return run_cell(cell, threads, slot)
        finally:
            free.put(slot)

    with ThreadPoolExecutor(max_workers=len(slots)) as pool:
        codes = dict(zip((str(cell.out) for cell in todo), pool.map(work, todo)))
    return codes
