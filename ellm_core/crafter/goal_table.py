"""The goal-quality table: one Markdown row per ``ellm goals eval --out`` JSON file in a directory.

Usage: ``python -m ellm_core.crafter.goal_table results/goal_quality [--json]``. Rows are sorted with the bounds
first (oracle, random), then by precision in view (the truth that depends on the situation), best first.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

COLUMNS = (("precision", "precision"), ("recall", "recall"), ("precision_in_view", "precision in view"),
           ("recall_in_view", "recall in view"), ("empty_share", "empty"),
           ("suggestions_per_situation", "goals / situation"), ("seconds_per_situation", "s / situation"),
           ("tokens_per_s", "tokens/s"))


def load_results(directory: str | Path) -> list[dict[str, Any]]:
    """Every goal-quality result (a JSON object with ``precision`` and ``name``) in ``directory``."""
    results = []
    for path in sorted(Path(directory).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "precision" in data and "name" in data:
            results.append({**data, "file": path.name})
    return results


def _order(result: dict[str, Any]) -> tuple:
    bound = {"oracle": 0, "random": 1}.get(result.get("generator", ""), 2)
    return bound, -result.get("precision_in_view", result["precision"])


def format_table(results: Iterable[dict[str, Any]]) -> str:
    """A Markdown table of ``results`` (missing values shown as "-")."""
    rows = sorted(results, key=_order)
    lines = ["| generator | " + " | ".join(title for _, title in COLUMNS) + " |",
             "| --- |" + " --- |" * len(COLUMNS)]
    for result in rows:
        cells = []
        for key, _ in COLUMNS:
            value = result.get(key)
            digits = 1 if key in ("tokens_per_s", "seconds_per_situation") and (value or 0) >= 10 else 2
            cells.append("-" if value is None else f"{value:.{digits}f}")
        lines.append(f"| {result['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table of a results directory."""
    parser = argparse.ArgumentParser(prog="python -m ellm_core.crafter.goal_table", description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="directory of `ellm goals eval --out` JSON files")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of Markdown")
    args = parser.parse_args(argv)
    results = load_results(args.directory)
    if args.json:
        print(json.dumps([{k: r.get(k) for k in ("name", "file", *(key for key, _ in COLUMNS))} for r in results]))
    else:
        print(format_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
