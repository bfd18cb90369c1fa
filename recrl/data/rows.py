"""Reading input rows with line numbers, and accounting for every one of them.

Every input file gets a :class:`RowLedger`. A row is either kept or dropped for one named reason, so that
``kept + sum(dropped) == read`` always holds and ``report.json`` can say where each row went. *Malformed*
rows (bad JSON, a missing field, a bad rating, empty text, undecodable bytes) stop ``prepare`` with a
:class:`BadRowError` naming the file and line unless the policy is ``"skip"``; rows dropped by the data rules
(duplicates, unknown items, k-core filtering) are always counted and never stop anything.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

#: Reasons a row can be dropped, with what they mean (the keys of ``report.json``'s ``dropped``).
DROP_REASONS: dict[str, str] = {
    "bad_json": "the line is not a JSON object",
    "undecodable": "the line's bytes are not valid UTF-8 (or the file's encoding)",
    "missing_field": "a required field is absent or null",
    "bad_rating": "the rating is not a number or is outside 1-5",
    "bad_timestamp": "the timestamp is not a number",
    "empty_text": "the text this source requires is empty",
    "duplicate": "another row has the same key (user, item) or item id; the latest is kept",
    "unknown_item": "the interaction's item id is not in the item file",
    "k_core": "removed by the --min-user / --min-item filter",
    "no_interactions": "an item that no kept interaction refers to",
}
#: The reasons that make a row *malformed*: they stop ``prepare`` unless ``--on-bad-row skip``.
MALFORMED = frozenset({"bad_json", "undecodable", "missing_field", "bad_rating", "bad_timestamp", "empty_text"})
ON_BAD_ROW = ("error", "skip")


class BadRow(ValueError):
    """Raised by a row parser: ``reason`` is a key of :data:`DROP_REASONS`, the message says what was wrong."""

    def __init__(self, reason: str, message: str):
        if reason not in DROP_REASONS:
            raise ValueError(f"unknown drop reason {reason!r}; expected one of {sorted(DROP_REASONS)}")
        super().__init__(message)
        self.reason = reason


class BadRowError(ValueError):
    """A malformed row under ``on_bad_row="error"``: the message names the file, the line and the problem."""


class RowLedger:
    """Counts the rows of one input file: read, kept, and dropped per reason.

    Args:
        path: the file the rows come from (named in errors and in the report).
        on_bad_row: ``"error"`` raises :class:`BadRowError` on a malformed row; ``"skip"`` counts it.
    """

    def __init__(self, path: str | Path, on_bad_row: str = "error"):
        if on_bad_row not in ON_BAD_ROW:
            raise ValueError(f"on_bad_row must be one of {ON_BAD_ROW}, got {on_bad_row!r}")
        self.path = str(path)
        self.on_bad_row = on_bad_row
        self.read = 0
        self.dropped: Counter[str] = Counter()

    @property
    def kept(self) -> int:
        """Rows read and not dropped."""
        return self.read - sum(self.dropped.values())

    def bad(self, line: int, problem: BadRow) -> None:
        """Record a row the parser rejected: raise for a malformed row under ``"error"``, else count it."""
        if problem.reason in MALFORMED and self.on_bad_row == "error":
            raise BadRowError(f"{self.path}, line {line}: {problem.reason}: {problem} "
                              "(pass --on-bad-row skip to skip and count such rows)")
        self.dropped[problem.reason] += 1

    def drop(self, reason: str, count: int) -> None:
        """Count ``count`` rows dropped later by a data rule (duplicates, unknown items, k-core)."""
        if reason not in DROP_REASONS:
            raise ValueError(f"unknown drop reason {reason!r}; expected one of {sorted(DROP_REASONS)}")
        if count:
            self.dropped[reason] += int(count)

    def report(self) -> dict[str, Any]:
        """The file's entry in ``report.json``."""
        return {"path": self.path, "read": self.read, "kept": self.kept,
                "dropped": {reason: self.dropped[reason] for reason in DROP_REASONS if self.dropped[reason]}}


def open_binary(path: str | Path) -> io.BufferedIOBase:
    """Open a file for binary reading, transparently gunzipping it when it starts with the gzip magic bytes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    with path.open("rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb")


def _progress(path: str | Path, total: int | None = None) -> tqdm:
    return tqdm(total=total, desc=f"reading {Path(path).name}", unit=" rows", unit_scale=True,
                mininterval=1.0, leave=False)


def iter_lines(path: str | Path, ledger: RowLedger, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each non-blank line (1-based), counting each in ``ledger.read``.

    Streams the file (``.gz`` or plain) line by line; lines that do not decode are reported through the
    ledger as ``undecodable``.
    """
    with open_binary(path) as handle, _progress(path) as bar:
        for number, raw in _whole_lines(path, handle):
            if not raw.strip():
                continue
            ledger.read += 1
            bar.update()
            try:
                yield number, raw.decode(encoding)
            except UnicodeDecodeError as error:
                ledger.bad(number, BadRow("undecodable", f"{error.reason} at byte {error.start}"))


def _whole_lines(path: str | Path, handle: Any) -> Iterator[tuple[int, bytes]]:
    """``enumerate(handle, start=1)``, where a file cut short or damaged (a truncated ``.gz``: gzip's end-of-stream
    marker missing, or garbled bytes) is one ``ValueError`` naming the file and the last line read whole."""
    number = 0
    try:
        for number, raw in enumerate(handle, start=1):  # noqa: B007 (named in the error)
            yield number, raw
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(f"{path}: unreadable after line {number} ({error}): the file is cut short or damaged; "
                         "nothing was written (download it again)") from None


def iter_json_lines(path: str | Path, ledger: RowLedger) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` for each JSON-object line of a ``.jsonl``/``.json`` file (``.gz`` ok)."""
    for number, text in iter_lines(path, ledger):
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            ledger.bad(number, BadRow("bad_json", f"{error.msg} at column {error.colno}"))
            continue
        if not isinstance(record, dict):
            ledger.bad(number, BadRow("bad_json", f"expected a JSON object, found {type(record).__name__}"))
            continue
        yield number, record


def iter_csv_rows(path: str | Path, ledger: RowLedger, delimiter: str = ",", fieldnames: list[str] | None = None,
                  encoding: str = "utf-8", quoting: int = csv.QUOTE_MINIMAL) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, row dict)`` for a delimited text file (``.gz`` ok).

    Without ``fieldnames`` the first line is the header. Each line is decoded on its own, so a line with
    bad bytes is reported as ``undecodable`` and the rest of the file still reads; a row with the wrong
    number of columns is reported as ``missing_field``.
    """
    line_number = 0

    def decoded_lines() -> Iterator[str]:
        nonlocal line_number
        with open_binary(path) as handle:
            for line_number, raw in _whole_lines(path, handle):  # noqa: B007 (read by the caller)
                try:
                    yield raw.decode(encoding)
                except UnicodeDecodeError as error:
                    ledger.read += 1
                    ledger.bad(line_number, BadRow("undecodable", f"{error.reason} at byte {error.start}"))

    reader = csv.reader(decoded_lines(), delimiter=delimiter, quoting=quoting)
    header = list(fieldnames) if fieldnames else next(reader, [])
    with _progress(path) as bar:
        for values in reader:
            if not values:
                continue
            ledger.read += 1
            bar.update()
            if len(values) != len(header):
                ledger.bad(line_number, BadRow("missing_field", f"expected {len(header)} columns, found "
                                               f"{len(values)}"))
                continue
            yield line_number, dict(zip(header, values))


def parse_rating(value: Any) -> float:
    """A rating in 1-5 from a JSON number or numeric string; :class:`BadRow` otherwise."""
    if value is None:
        raise BadRow("missing_field", "rating is missing")
    if isinstance(value, bool):
        raise BadRow("bad_rating", f"rating is not a number: {value!r}")
    try:
        rating = float(value)
    except (TypeError, ValueError):
        raise BadRow("bad_rating", f"rating is not a number: {value!r}") from None
    if not 1.0 <= rating <= 5.0:  # also rejects NaN
        raise BadRow("bad_rating", f"rating {value!r} is outside 1-5")
    return rating


def parse_timestamp_s(value: Any, unit_s: float = 1.0) -> float:
    """A Unix time in seconds from a number (or numeric string) in units of ``unit_s`` seconds."""
    if value is None or value == "":
        raise BadRow("missing_field", "timestamp is missing")
    if isinstance(value, bool):
        raise BadRow("bad_timestamp", f"timestamp is not a number: {value!r}")
    try:
        return float(value) * unit_s
    except (TypeError, ValueError):
        raise BadRow("bad_timestamp", f"timestamp is not a number: {value!r}") from None


def require(record: dict[str, Any], *fields: str) -> None:
    """Raise ``missing_field`` naming the first of ``fields`` absent from ``record`` (or null/empty)."""
    for field in fields:
        if record.get(field) in (None, ""):
            raise BadRow("missing_field", f"field {field!r} is missing")
