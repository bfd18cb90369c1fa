"""Faults from outside a run (a full disk, a read-only folder, a file cut short or damaged) and their one-line errors.

Each error here is a user error of the CLI (:data:`ellm_core.cli.USER_ERRORS`): one line naming the file, what is
intact, and the way on; never a traceback. This module imports nothing heavy, so the CLI can name them cheaply.
"""

from __future__ import annotations

import errno
from pathlib import Path


class WriteFailedError(OSError):
    """A run could not write its checkpoint or its stats (a full disk, a read-only folder); what was written before
    is intact. The message says what to do."""


class NoCheckpointError(FileExistsError):
    """``--resume`` found steps in a run folder but no checkpoint that loads; the message names the choices."""


class CacheDamagedError(ValueError):
    """A cache file is not a readable SQLite database; the message names the file and the ways out."""


def write_failed(what: str | Path, error: OSError, intact: str) -> WriteFailedError:
    """The one-line error of a failed write of ``what``: the cause, what is ``intact``, and the way on."""
    cause = "the disk is full" if error.errno == errno.ENOSPC else (error.strerror or str(error))
    failure = WriteFailedError(f"could not write {what} ({cause}); {intact}: free space (or fix the folder's "
                               "permissions) and run the same command with --resume")
    failure.errno = error.errno
    return failure


def cache_damaged(path: str | Path, error: Exception) -> CacheDamagedError:
    """The one-line error of a cache file that SQLite cannot read, with the three ways out."""
    return CacheDamagedError(f"the cache {path} is damaged ({error}): run with --cache none, move it aside "
                             f"(mv {path} {path}.damaged) and let the run start a new one, or rebuild it from a "
                             f"committed export (ellm cache import EXPORT.jsonl.gz {path}); `ellm cache check {path}` "
                             "tells what SQLite finds")
