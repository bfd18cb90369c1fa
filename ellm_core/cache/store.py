"""One persistent SQLite key-value cache for LLM outputs and embeddings.

Safe for several processes at once (WAL journal, busy timeout, one connection per process), persistent
across runs, with hit/miss counters. Values are bytes; :func:`pack_array` / :func:`pack_json` convert
arrays and JSON-able values without pickle.

Example:
    >>> cache = SQLiteCache(":memory:")
    >>> cache.put_many("model-a", {"hello": pack_json(["chop a tree"])})
    >>> unpack_json(cache.get_many("model-a", ["hello"])["hello"])
    ['chop a tree']
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_SQLITE_MAX_PARAMS = 500


def make_key(*parts: str) -> str:
    """A fixed-length key (sha256 hex) for any number of text parts, e.g. model identity + prompt."""
    digest = hashlib.sha256()
    for part in parts:
        encoded = part.encode("utf-8", errors="surrogatepass")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.hexdigest()


def pack_array(array: np.ndarray) -> bytes:
    """Serialise an array with ``np.save`` (no pickle)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def unpack_array(blob: bytes) -> np.ndarray:
    """Inverse of :func:`pack_array`."""
    return np.load(io.BytesIO(blob), allow_pickle=False)


def pack_json(value: Any) -> bytes:
    """Serialise a JSON-able value as UTF-8 bytes."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def unpack_json(blob: bytes) -> Any:
    """Inverse of :func:`pack_json`."""
    return json.loads(blob.decode("utf-8"))


class CacheDamagedError(ValueError):
    """A cache file is not a readable SQLite database; the message names the file and the ways out."""


def cache_damaged(path: str | Path, error: Exception) -> CacheDamagedError:
    """The one-line error of a cache file that SQLite cannot read, with the three ways out."""
    return CacheDamagedError(f"the cache {path} is damaged ({error}): run with --cache none, move it aside "
                             f"(mv {path} {path}.damaged) and let the run start a new one, or rebuild it from a "
                             f"committed export (ellm cache import EXPORT.jsonl.gz {path}); `ellm cache check {path}` "
                             "tells what SQLite finds")


class SQLiteCache:
    """A namespaced key-value store in one SQLite file.

    Args:
        path: database file (created with its parent directory), or ``":memory:"``.
        timeout_s: how long a writer waits for another process's lock before failing.
    """

    def __init__(self, path: str | Path, timeout_s: float = 60.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.timeout_s = timeout_s
        self.hits = 0
        self.misses = 0
        self._local = threading.local()
        self.write_failures = 0  # puts that could not be stored (a full disk, a read-only file): answers used uncached
        try:
            self._connection()  # fail early on an unusable path
        except sqlite3.DatabaseError as error:  # not a database, or damaged beyond opening
            if _is_busy(error):  # another process kept it locked for the whole timeout: not damage
                raise
            raise cache_damaged(self.path, error) from None

    def _connection(self) -> sqlite3.Connection:
        """One connection per process and thread (connections must not cross a fork)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None and self._local.pid == os.getpid():
            return connection
        # Switching to WAL and creating the table can meet another process doing the same; SQLite answers that
        # "database is locked" at once, without its busy timeout, so the set-up is retried until the timeout.
        deadline = time.monotonic() + self.timeout_s
        while True:
            connection = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
            try:
                self._set_up(connection)
                break
            except sqlite3.OperationalError as error:
                connection.close()
                if not _is_busy(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def _set_up(self, connection: sqlite3.Connection) -> None:
        """WAL journal and the table; a read-only file or folder only warns (its entries are still read)."""
        try:
            if self.path != ":memory:":
                connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS cache (namespace TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
                " PRIMARY KEY (namespace, key)) WITHOUT ROWID"
            )
        except sqlite3.OperationalError as error:
            if "readonly" not in str(error) and "read-only" not in str(error):
                raise
            logger.warning("the cache %s is read-only (%s): its entries are read, new ones are not stored",
                           self.path, error)

    def get_many(self, namespace: str, keys: Iterable[str]) -> dict[str, bytes]:
        """Values found for ``keys`` (missing keys are absent); updates the hit/miss counters. A damaged page met
        here is a :class:`CacheDamagedError` naming the file."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, bytes] = {}
        connection = self._connection()
        for start in range(0, len(wanted), _SQLITE_MAX_PARAMS):
            chunk = wanted[start : start + _SQLITE_MAX_PARAMS]
            marks = ",".join("?" * len(chunk))
            try:
                rows = connection.execute(
                    f"SELECT key, value FROM cache WHERE namespace = ? AND key IN ({marks})", [namespace, *chunk]
                ).fetchall()
            except sqlite3.DatabaseError as error:
                if _is_busy(error):
                    raise
                raise cache_damaged(self.path, error) from None
            found.update((key, bytes(value)) for key, value in rows)
        self.hits += len(found)
        self.misses += len(wanted) - len(found)
        return found

    def put_many(self, namespace: str, items: Mapping[str, bytes]) -> bool:
        """Insert or replace ``items`` in one transaction; ``False`` when they could not be stored (a full disk, a
        read-only file): the caller goes on with the values uncached, and a warning says so once."""
        if not items:
            return True
        connection = self._connection()
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(
                    "INSERT OR REPLACE INTO cache (namespace, key, value) VALUES (?, ?, ?)",
                    [(namespace, key, sqlite3.Binary(value)) for key, value in items.items()],
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        except sqlite3.OperationalError as error:
            if _is_busy(error):
                raise
            if not self.write_failures:
                logger.warning("the cache %s cannot store new entries (%s): they are used uncached and computed "
                               "again next time", self.path, error)
            self.write_failures += 1
            return False
        return True

    def check(self) -> tuple[str, dict[str, int]]:
        """SQLite's ``PRAGMA integrity_check`` ("ok" when sound) and the entries per namespace."""
        connection = self._connection()
        try:
            verdict = "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check").fetchall())
            counts = dict(connection.execute("SELECT namespace, COUNT(*) FROM cache GROUP BY namespace").fetchall())
        except sqlite3.DatabaseError as error:
            raise cache_damaged(self.path, error) from None
        return verdict, counts

    def items(self, namespace: str) -> Iterator[tuple[str, bytes]]:
        """Every ``(key, value)`` of ``namespace``, in key order."""
        rows = self._connection().execute("SELECT key, value FROM cache WHERE namespace = ? ORDER BY key", [namespace])
        for key, value in rows:
            yield key, bytes(value)

    def __len__(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM cache").fetchone()[0]

    @property
    def hit_rate(self) -> float:
        """Share of looked-up keys that were found (0 before any look-up)."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def stats(self) -> dict[str, float]:
        """Hits, misses and hit rate since this object was created."""
        return {"hits": self.hits, "misses": self.misses, "hit_rate": self.hit_rate}

    def close(self) -> None:
        """Close this thread's connection (others close when garbage-collected)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None and self._local.pid == os.getpid():
            connection.close()
        self._local.connection = None


def _is_busy(error: BaseException) -> bool:
    """Whether SQLite's error is another process's lock (worth waiting for), not damage."""
    return isinstance(error, sqlite3.OperationalError) and ("locked" in str(error) or "busy" in str(error))


def open_cache(path: str | Path | None) -> SQLiteCache | None:
    """The cache at ``path``: ``None`` means the default file in the cache directory, ``"none"`` no cache."""
    from ellm_core.resources import cache_dir

    if path == "none":
        return None
    return SQLiteCache(Path(path) if path else cache_dir() / "cache.sqlite")
