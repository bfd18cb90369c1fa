"""The goal-quality table: one Markdown row per ``ellm goals eval --out`` JSON file in a directory.

Usage: ``python -m ellm_core.crafter.analysis.goal_table results/goal_quality [--json]``. Rows are sorted with the bounds
first (oracle, random), then by precision in view (the truth that depends on the situation), best first. The
headline columns are at each row's first threshold (the reward's default, 0.5); the ``@0.99`` columns at the
paper's threshold, where a goal counts only when it says (nearly) word for word what is achievable.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

COLUMNS = (("precision", "precision"), ("recall", "recall"), ("precision_in_view", "precision in view"),
           ("recall_in_view", "recall in view"), ("0.99:precision", "precision @0.99"),
           ("0.99:precision_in_view", "precision in view @0.99"), ("0.99:recall_in_view", "recall in view @0.99"),
           ("empty_share", "empty"), ("suggestions_per_situation", "goals / situation"),
           ("seconds_per_situation", "s / situation"), ("tokens_per_s", "tokens/s"))


def value(result: dict[str, Any], key: str) -> float | None:
    """A column's value: ``name`` at the row's headline threshold, ``T:name`` at threshold ``T`` (from the row's
    ``by_threshold`` scores; rows written before those existed show none)."""
    threshold, _, name = key.rpartition(":")
    if not threshold:
        return result.get(name)
    return result.get("by_threshold", {}).get(threshold, {}).get(name)


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
            number = value(result, key)
            digits = 1 if key in ("tokens_per_s", "seconds_per_situation") and (number or 0) >= 10 else 2
            cells.append("-" if number is None else f"{number:.{digits}f}")
        lines.append(f"| {result['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table of a results directory."""
    parser = argparse.ArgumentParser(prog="python -m ellm_core.crafter.analysis.goal_table", description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="directory of `ellm goals eval --out` JSON files")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of Markdown")
    args = parser.parse_args(argv)
    results = load_results(args.directory)
    if args.json:
        print(json.dumps([{"name": r["name"], "file": r["file"], **{key: value(r, key) for key, _ in COLUMNS}}
                          for r in results]))
    else:
        print(format_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
