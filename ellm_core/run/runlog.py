"""What a run writes: CSV tables, TensorBoard scalars, and PNG curves at the end.

``progress.csv`` has one row per logging interval (step, returns, intrinsic reward, ε, loss, steps/s, cache
hit rate, ...); ``episodes.csv`` one row per finished episode; ``eval.csv`` one row per evaluation; an ELLM or oracle run
ends with ``goals.csv`` (per goal: env steps active, times rewarded).
On resume, rows beyond the checkpoint's step (written by the killed run after its last checkpoint) are
dropped so every table stays consistent with the restored state.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

from ellm_core.run.faults import write_failed

logger = logging.getLogger(__name__)

TABLES = ("progress", "episodes", "eval")


def write_csv(path: str | Path, rows: list[dict[str, Any]], fields: list[str] | None = None) -> Path:
    """Write ``rows`` as a CSV table at ``path`` (columns: ``fields``, else the first row's keys; missing values
    blank); no rows and no fields write nothing."""
    path = Path(path)
    fields = fields if fields is not None else list(rows[0]) if rows else []
    if fields:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, restval="")
            writer.writeheader()
            writer.writerows(rows)
    return path


class RunLog:
    """Appends rows to ``RUN/<table>.csv`` and scalars to TensorBoard (``RUN/tb``)."""

    def __init__(self, run_dir: str | Path, tensorboard: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.run_dir / "tb"))

    def path(self, table: str) -> Path:
        return self.run_dir / f"{table}.csv"

    def _read(self, table: str) -> tuple[list[str], list[dict[str, str]]]:
        path = self.path(table)
        if not path.exists() or path.stat().st_size == 0:
            return [], []
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            return list(reader.fieldnames or []), rows

    def _rewrite(self, table: str, fields: list[str], rows: list[dict[str, Any]]) -> None:
        write_csv(self.path(table), rows, fields)

    def write(self, table: str, row: dict[str, Any]) -> None:
        """Append ``row`` to the table; a row with new columns widens the header (older rows get blanks). A failed
        write (a full disk) is a :class:`~ellm_core.run.faults.WriteFailedError` naming the table."""
        try:
            self._write(table, row)
        except OSError as error:
            raise write_failed(self.path(table), error, "its earlier rows and the run's last checkpoint are "
                               "intact") from None

    def _write(self, table: str, row: dict[str, Any]) -> None:
        path = self.path(table)
        fields, _ = self._read(table) if path.exists() else ([], [])
        if not fields or not set(row) <= set(fields):
            _, rows = self._read(table)
            fields = fields + [key for key in row if key not in fields]
            self._rewrite(table, fields, [*rows, row])
        else:
            with path.open("a", newline="", encoding="utf-8") as handle:
                csv.DictWriter(handle, fieldnames=fields, restval="").writerow(row)
        if self.writer is not None and "step" in row:
            for key, value in row.items():
                if key != "step" and isinstance(value, int | float):
                    self.writer.add_scalar(f"{table}/{key}", value, row["step"])

    def truncate_after(self, step: int) -> None:
        """Drop rows whose step is beyond ``step`` (used when resuming)."""
        for table in TABLES:
            fields, rows = self._read(table)
            kept = [row for row in rows if float(row.get("step") or 0) <= step]
            if len(kept) != len(rows):
                self._rewrite(table, fields, kept)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def plot_curves(run_dir: str | Path) -> list[Path]:
    """Save PNG training curves (episode returns, intrinsic reward, loss, evaluation) in the run directory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    run_dir, saved = Path(run_dir), []
    panels = [("episodes", "extrinsic_return"), ("episodes", "intrinsic_return"), ("progress", "loss"),
              ("eval", "extrinsic_return_mean")]
    frames = {table: pd.read_csv(run_dir / f"{table}.csv") for table in TABLES if (run_dir / f"{table}.csv").exists()}
    available = [(t, c) for t, c in panels if t in frames and c in frames[t] and len(frames[t])]
    if not available:
        return saved
    figure, axes = plt.subplots(1, len(available), figsize=(4.2 * len(available), 3.2), squeeze=False)
    for axis, (table, column) in zip(axes[0], available):
        frame = frames[table].dropna(subset=[column])
        series = frame[column]
        if table == "episodes" and len(series) > 20:
            series = series.rolling(max(1, len(series) // 20), min_periods=1).mean()
        axis.plot(frame["step"], series, marker="o" if len(series) < 30 else None, markersize=3)
        axis.set_xlabel("environment steps")
        axis.set_title(f"{table}: {column}", fontsize=9)
    figure.tight_layout()
    path = run_dir / "curves.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    saved.append(path)
    return saved
