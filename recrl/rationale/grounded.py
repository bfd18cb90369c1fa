"""The grounded-input comparison: rationales trained from earlier liked titles against rationales trained from
those items with their metadata (``--history metadata``), on held-out perplexity, personal signal and made-up people.

``python -m recrl.rationale.grounded RESULTS`` reads ``RESULTS/rationale-{titles,metadata}/`` (``metrics.json`` and
``people.json`` from ``recrl rationale check --json``) and ``RESULTS/validate-full/report.json``, and writes
``RESULTS/grounded.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

#: Input format -> its goal source label in the validation report (results/recrl/run.sh).
SOURCES = {"titles": "rationales", "metadata": "grounded rationales"}
PERSONAL = ("own_minus_shuffled_spearman", "own_minus_shuffled_auc", "partial_spearman", "incremental_auc")


def _interval(cell: dict) -> str:
    return f"{cell['value']:.3f} [{cell['low']:.3f}, {cell['high']:.3f}]"


def grounded_table(results: str | Path) -> str:
    """The comparison as Markdown: one row per input format, then the personal signal per metric."""
    results = Path(results)
    lines = ["| input | held-out perplexity (base → tuned) | rationales naming a person | made up (in no catalogue "
             "item) | outside the user's train items |", "| --- | --- | --- | --- | --- |"]
    for history in SOURCES:
        folder = results / f"rationale-{history}"
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        people = next(iter(json.loads((folder / "people.json").read_text(encoding="utf-8")).values()))
        lines.append(f"| {history} | {metrics['perplexity_base']:.1f} → {metrics['perplexity_tuned']:.1f} | "
                     f"{people['naming_rate']:.1%} | {people['made_up_rate']:.1%} | {people['outside_history_rate']:.1%} |")
    report_path = results / "validate-full" / "report.json"
    if report_path.is_file():
        personal = json.loads(report_path.read_text(encoding="utf-8")).get("personal", [])
        lines += ["", "Personal signal of the reward under each input's rationales (95 % bootstrap CI over users):", "",
                  "| metric | input | own − shuffled ρ | own − shuffled AUC | ρ given popularity | AUC gain over popularity |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for row in personal:
            history = next((h for h, label in SOURCES.items() if label == row["goals"]), None)
            if history is not None:
                lines.append(f"| {row['metric']} | {history} | " + " | ".join(_interval(row[s]) for s in PERSONAL) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write RESULTS/grounded.md and print it."""
    parser = argparse.ArgumentParser(prog="python -m recrl.rationale.grounded", description=__doc__.splitlines()[0])
    parser.add_argument("results", help="the results folder (results/recrl)")
    args = parser.parse_args(argv)
    table = grounded_table(args.results)
    (Path(args.results) / "grounded.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
