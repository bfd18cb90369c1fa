"""The canonical product schema every source is converted to (see the project's DESIGN notes).

- ``items``: item_id, title, description (the product caption), categories (list of str), extra (JSON str)
- ``interactions``: user_id, item_id, rating (1-5), review_title, review_text, timestamp (UTC, may be null)
- ``split``: user_id, item_id, split (``train`` / ``valid`` / ``test``)
- ``users`` (optional): user_id, extra (JSON str) where the source has user attributes
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recrl.data.describe import DescriptionOptions
from recrl.data.rows import BadRow, RowLedger

ITEM_COLUMNS = ("item_id", "title", "description", "categories", "extra")
INTERACTION_COLUMNS = ("user_id", "item_id", "rating", "review_title", "review_text", "timestamp")
SPLIT_COLUMNS = ("user_id", "item_id", "split")
USER_COLUMNS = ("user_id", "extra")
SPLITS = ("train", "valid", "test")


def to_json(extra: dict[str, Any]) -> str:
    """Source-specific fields as a compact JSON string (nulls and empty values left out)."""
    def present(value: Any) -> bool:
        if isinstance(value, float) and value != value:  # NaN
            return False
        return not (value is None or (isinstance(value, (str, list, dict)) and not value))

    return json.dumps({key: value for key, value in extra.items() if present(value)},
                      ensure_ascii=False, sort_keys=True, default=str)


class ChunkedTable:
    """Rows appended one dict at a time, held as compact DataFrame chunks so memory stays bounded.

    Python lists of strings cost ~60 bytes per value; every ``chunk_rows`` rows are moved into a DataFrame
    (Arrow-backed strings), so a million reviews do not sit in memory as a million dicts.
    """

    def __init__(self, columns: tuple[str, ...], chunk_rows: int = 50_000):
        self.columns = columns
        self.chunk_rows = chunk_rows
        self._pending: dict[str, list[Any]] = {column: [] for column in columns}
        self._chunks: list[pd.DataFrame] = []
        self.rows = 0

    def append(self, row: dict[str, Any]) -> None:
        """Add one row (a dict with every column)."""
        for column in self.columns:
            self._pending[column].append(row[column])
        self.rows += 1
        if len(self._pending[self.columns[0]]) >= self.chunk_rows:
            self._flush()

    def _flush(self) -> None:
        if self._pending[self.columns[0]]:
            self._chunks.append(pd.DataFrame(self._pending, columns=list(self.columns)))
            self._pending = {column: [] for column in self.columns}

    def frame(self) -> pd.DataFrame:
        """All rows as one DataFrame, in the order they were appended."""
        self._flush()
        if not self._chunks:
            return pd.DataFrame({column: pd.Series(dtype=object) for column in self.columns})
        return pd.concat(self._chunks, ignore_index=True)


def normalise_items(items: pd.DataFrame) -> pd.DataFrame:
    """Items with canonical columns and dtypes."""
    items = items.loc[:, list(ITEM_COLUMNS)].copy()
    for column in ("item_id", "title", "description", "extra"):
        items[column] = items[column].astype(str)
    items["categories"] = [list(value) if value is not None else [] for value in items["categories"]]
    return items.reset_index(drop=True)


def normalise_interactions(interactions: pd.DataFrame) -> pd.DataFrame:
    """Interactions with canonical columns and dtypes (``timestamp`` in seconds becomes UTC datetime)."""
    interactions = interactions.loc[:, list(INTERACTION_COLUMNS)].copy()
    for column in ("user_id", "item_id", "review_title", "review_text"):
        interactions[column] = interactions[column].astype(str)
    interactions["rating"] = interactions["rating"].astype(np.float32)
    seconds = pd.to_numeric(interactions["timestamp"], errors="coerce")
    interactions["timestamp"] = pd.to_datetime(seconds * 1000, unit="ms", utc=True).astype("datetime64[ms, UTC]")
    return interactions.reset_index(drop=True)


@dataclass
class SourceOptions:
    """What a source loader needs: where the input is and how to treat it (filled by ``prepare``)."""

    input: str | None = None
    meta: str | None = None
    on_bad_row: str = "error"
    require_text: bool | None = None
    description: DescriptionOptions = field(default_factory=DescriptionOptions)
    films: str | None = "auto"


@dataclass
class SourceTables:
    """A source converted to the canonical schema, before the shared rules (dedup, k-core, split) run.

    ``interactions`` keeps the input order; rows dropped later are counted in ``interaction_ledger``
    (and unreferenced items in ``item_ledger``).
    """

    items: pd.DataFrame
    interactions: pd.DataFrame
    item_ledger: RowLedger
    interaction_ledger: RowLedger
    users: pd.DataFrame | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def convert_rows(rows: Iterable[tuple[int, Any]], parse: Callable[[Any], dict[str, Any]],
                 ledger: RowLedger, table: ChunkedTable) -> None:
    """Parse each ``(line, raw)`` row into ``table``; a :class:`BadRow` from ``parse`` goes to ``ledger``."""
    for line, raw in rows:
        try:
            row = parse(raw)
        except BadRow as problem:
            ledger.bad(line, problem)
            continue
        table.append(row)
