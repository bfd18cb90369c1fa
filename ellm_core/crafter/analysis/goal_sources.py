"""Where a goal-reward row's goals came from and which of them paid: one Markdown row per method of a sweep.

For each method with goal-reward cells (a ``summary.json`` with ``goals_by_lm``, and a ``goals.csv``), over its
seeds: the labels the goal model learned before the run (``labels_preloaded``) and had at its end (``labels``); the
share of steps whose goals came from the LM's own answer, from the distilled goal model (the nearest labelled
situation) and from neither (``goals_by_lm``, ``goals_by_model``, ``goals_by_none``, means over seeds); the goal
reward paid (times a caption matched a goal) and what it paid for (the goals with the largest shares of it, summed
over seeds); the false pay share (pay to a goal naming another achievement than the caption's); and the goals most
often active (share of goal-steps).

Usage: ``python -m ellm_core.crafter.analysis.goal_sources results/crafter/100k/runs --methods qwen-ranked-paper ...
[--out FILE]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

SEED = re.compile(r"^(?P<method>.+)-seed(?P<seed>\d+)$")


def method_cells(runs: str | Path) -> dict[str, list[Path]]:
    """Finished cells (a ``summary.json``) under ``runs``, by method (the folder name without ``-seedN``)."""
    cells: dict[str, list[Path]] = {}
    for folder in sorted(Path(runs).iterdir()):
        match = SEED.match(folder.name)
        if match and (folder / "summary.json").is_file():
            cells.setdefault(match["method"], []).append(folder)
    return cells


def read_goals(path: Path) -> tuple[Counter, Counter]:
    """A ``goals.csv``'s active steps and rewards by goal text."""
    active, rewarded = Counter(), Counter()
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            active[row["goal"]] += int(row["active_steps"])
            rewarded[row["goal"]] += int(row["rewarded"])
    return active, rewarded


def _shares(counts: Counter, top: int) -> str:
    total = sum(counts.values())
    if not total:
        return "-"
    return ", ".join(f"{goal} {count / total:.0%}" for goal, count in counts.most_common(top) if count)


def summarize(cells: list[Path], top: int = 4) -> dict[str, Any]:
    """The goal sources and pay of one method's cells."""
    summaries = [json.loads((cell / "summary.json").read_text(encoding="utf-8")) for cell in cells]
    active, rewarded = Counter(), Counter()
    for cell in cells:
        if (cell / "goals.csv").is_file():
            more_active, more_rewarded = read_goals(cell / "goals.csv")
            active.update(more_active)
            rewarded.update(more_rewarded)

    def mean(key: str) -> float | None:
        values = [s[key] for s in summaries if s.get(key) is not None]
        return float(np.mean(values)) if values else None

    return {"seeds": len(cells), "labels_preloaded": mean("labels_preloaded"), "labels": mean("labels"),
            "goals_by_lm": mean("goals_by_lm"), "goals_by_model": mean("goals_by_model"),
            "goals_by_none": mean("goals_by_none"), "rewards": sum(rewarded.values()),
            "paid_for": _shares(rewarded, top), "false_pay": mean("false_pay_share"),
            "active": _shares(active, top)}


def _number(value: float | None, form: str) -> str:
    return "-" if value is None else format(value, form)


def format_table(rows: dict[str, dict[str, Any]]) -> str:
    """The Markdown table of :func:`summarize` rows, by method."""
    lines = ["| method | seeds | labels before / at end | steps answered by LM / goal model / neither | rewards "
             "| paid for (share of rewards) | false pay | most active goals (share of goal-steps) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for method, row in rows.items():
        answered = " / ".join(_number(row[key], ".0%") for key in ("goals_by_lm", "goals_by_model", "goals_by_none"))
        labels = f"{_number(row['labels_preloaded'], ',.0f')} / {_number(row['labels'], ',.0f')}"
        lines.append(f"| {method} | {row['seeds']} | {labels} | {answered} | {row['rewards']} | {row['paid_for']} "
                     f"| {_number(row['false_pay'], '.0%')} | {row['active']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ellm_core.crafter.analysis.goal_sources", description=__doc__.splitlines()[0])
    parser.add_argument("runs", help="a folder of cells named METHOD-seedN (a sweep's kept runs)")
    parser.add_argument("--methods", nargs="+", default=None, help="methods to show, in this order (default: all "
                                                                   "with goal sources)")
    parser.add_argument("--top", type=int, default=4, help="goals named per column")
    parser.add_argument("--out", default=None, help="write the table here as well as printing it")
    args = parser.parse_args(argv)
    cells = method_cells(args.runs)
    methods = args.methods or [m for m, found in cells.items()
                               if "goals_by_lm" in json.loads((found[0] / "summary.json").read_text(encoding="utf-8"))]
    missing = [m for m in methods if m not in cells]
    if missing:
        parser.error(f"no finished cells of {', '.join(missing)} in {args.runs}")
    table = format_table({method: summarize(cells[method], args.top) for method in methods})
    print(table, end="")
    if args.out:
        Path(args.out).write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
