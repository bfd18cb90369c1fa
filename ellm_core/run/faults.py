"""Faults from outside a run (a full disk, a read-only folder, a file cut short or damaged) and their one-line errors.

Each error here is a user error of the CLI (:data:`ellm_core.cli.USER_ERRORS`): one line naming the file, what is
intact, and the way on; never a traceback. This module imports nothing heavy, so the CLI can name them cheaply.
"""

from __future__ import annotations

import errno
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ellm_core.cache.store import CacheDamagedError, cache_damaged  # noqa: F401  (the cache's own error)


class WriteFailedError(OSError):
    """A run could not write its checkpoint or its stats (a full disk, a read-only folder); what was written before
    is intact. The message says what to do."""


class NoCheckpointError(FileExistsError):
    """``--resume`` found steps in a run folder but no checkpoint that loads; the message names the choices."""


def write_failed(what: str | Path, error: OSError, intact: str) -> WriteFailedError:
    """The one-line error of a failed write of ``what``: the cause, what is ``intact``, and the way on."""
    cause = "the disk is full" if error.errno == errno.ENOSPC else (error.strerror or str(error))
    failure = WriteFailedError(f"could not write {what} ({cause}); {intact}: free space (or fix the folder's "
                               "permissions) and run the same command with --resume")
    failure.errno = error.errno
    return failure


class TrainingStopped(Exception):
    """Training stopped on SIGINT or SIGTERM after finishing its step and writing a checkpoint; the message names
    the step and the way on (the same command with ``--resume``). The exit status is ``128 + signal``, as the
    shell reports a process ended by that signal."""

    def __init__(self, signum: int, step: int, run_dir: str | Path) -> None:
        self.signum, self.step, self.exit_status = signum, step, 128 + signum
        super().__init__(f"stopped by {signal.Signals(signum).name} at step {step}; checkpoint written in "
                         f"{run_dir}: run the same command with --resume to continue")


class StopRequest:
    """Set by :func:`stop_signals` when SIGINT or SIGTERM arrives; ``signum`` says which (0: none)."""

    signum: int = 0

    def __bool__(self) -> bool:
        return bool(self.signum)


@contextmanager
def stop_signals() -> Iterator[StopRequest]:
    """Within the block, SIGINT and SIGTERM (what Slurm, Kubernetes and Ray send before they stop a job) only set the
    yielded request, so the loop can finish its step and checkpoint; a second signal of either kind ends the
    process as before. Outside the main thread signals cannot be caught and the request stays unset."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame) -> None:
        if request.signum:  # asked twice: stop now, as without this block
            signal.signal(signum, previous[signum])
            signal.raise_signal(signum)
        request.signum = signum

    for signum in previous:
        signal.signal(signum, handler)
    try:
        yield request
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
