"""Goal-source levers measured on a label file before any run: would another ranking make the crafting chain a goal?

A label file holds, per situation, the LM's calibrated score of every candidate goal and the content-free prior the
calibration subtracted (its header's ``baseline``), so other rankings of the same answers cost no LM call:

- the strength of the calibration: ``raw - alpha * prior`` for alpha in 1 (today), 0.75, 0.5, 0.25, 0 (raw);
- calibration against the mean score over the file's real situations instead of a content-free observation;
- the goals already achieved removed before the top k (ELLM's filter), with the goals an agent achieves in almost
  every episode (eat cow, defeat zombie, wake up, eat plant, place plant, collect sapling) standing in for them;
- top k of 1, 3 and 4 (the paper's bullet lists name 3 to 4 goals);
- with ``--prerequisites``: each goal's prerequisites, as the LM named them (:mod:`ellm_core.goals.chain`), first.

For each ranking the table gives the share of situations with ``goal`` among the goals, over the situations whose
inventory names ``having`` (where it could pay next) and over all. ``python -m ellm_core.crafter.analysis.chain_levers FILE``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ellm_core.goals.chain import GoalChain
from ellm_core.goals.labels import holds, read_labels

#: Achievements an agent unlocks in almost every episode: once achieved, ELLM's filter removes them.
USUALLY_ACHIEVED = ("eat cow", "defeat zombie", "wake up", "eat plant", "place plant", "collect sapling")
ALPHAS = (1.0, 0.75, 0.5, 0.25, 0.0)
TOP_K = (1, 3, 4)


def rankings(path: str | Path) -> tuple[list[str], list[str], dict[str, np.ndarray]]:
    """(candidates, observations, {ranking name: scores (situations x candidates)}) of a label file."""
    header, lines = read_labels(path)
    rows = list(lines)
    calibrated = np.asarray([row["scores"] for row in rows], dtype=float)
    baselines = {acts: np.asarray(values, dtype=float) for acts, values in header["baseline"].items()}
    prior = np.asarray([baselines[", ".join(row["actions"])] for row in rows]) if header["calibrate"] \
        else np.zeros_like(calibrated)
    raw = calibrated + prior
    variants = {f"calibrated x {alpha:g}" if alpha else "raw": raw - alpha * prior for alpha in ALPHAS}
    variants["mean over real situations"] = raw - raw.mean(axis=0)
    return list(header["candidates"]), [row["observation"] for row in rows], variants


def lever_table(path: str | Path, goal: str, having: str | None = None, chain: GoalChain | None = None) -> dict:
    """Share of situations with ``goal`` among the goals of the top k under each ranking, with and without the usual
    achievements removed first; over the situations holding ``having`` and over all. With a ``chain`` (the LM's
    prerequisites) two more rows per ranking: the top k with each goal's prerequisites put before it, and the
    first goal of that list alone (``--active-goals 1``)."""
    candidates, observations, variants = rankings(path)
    if goal not in candidates:
        raise ValueError(f"{path}: {goal!r} is not one of its candidates")
    removed = {name for name in USUALLY_ACHIEVED if name in candidates}
    holding = np.asarray([holds(text, having) for text in observations])
    plans = [(name, filtered, None) for name in variants for filtered in (False, True)]
    if chain is not None:
        plans += [(name, filtered, way) for name in ("calibrated x 1", "raw") for way in ("prerequisites", "first")
                  for filtered in (False, True)]
    rows = []
    for name, filtered, way in plans:
        order = np.argsort(-variants[name], axis=1, kind="stable")
        row = {"ranking": name + {None: "", "prerequisites": " + the LM's prerequisites",
                                  "first": " + the LM's prerequisites, first goal only"}[way],
               "usual_achievements_removed": filtered}
        for k in TOP_K:
            chosen = []
            for ranked in order:
                names = [candidates[i] for i in ranked if not (filtered and candidates[i] in removed)][:k]
                if chain is not None and way is not None:
                    names = [n for n in chain.expand(names) if not (filtered and n in removed)]
                    names = names[:1] if way == "first" else names
                chosen.append(goal in names)
            chosen = np.asarray(chosen)
            row[f"top{k}_having"] = round(float(chosen[holding].mean()), 4) if holding.any() else None
            row[f"top{k}_all"] = round(float(chosen.mean()), 4)
        rows.append(row)
    return {"file": Path(path).name, "goal": goal, "having": having, "situations": len(observations),
            "situations_having": int(holding.sum()), "usual_achievements": list(USUALLY_ACHIEVED), "rows": rows}


def format_table(result: dict) -> str:
    """The lever table as Markdown."""
    having = f"holding {result['having']}" if result["having"] else "all"
    lines = [f"Share of situations with '{result['goal']}' among the goals ({result['situations_having']} situations "
             f"{having}; all {result['situations']} in brackets):", "",
             "| ranking | usual achievements removed | top 1 | top 3 | top 4 |", "| --- | --- | --- | --- | --- |"]
    for row in result["rows"]:
        cells = " | ".join(f"{100 * row[f'top{k}_having']:.1f} % ({100 * row[f'top{k}_all']:.1f} %)" for k in TOP_K)
        lines.append(f"| {row['ranking']} | {'yes' if row['usual_achievements_removed'] else 'no'} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print (and with ``--out`` write as JSON and Markdown) the lever table of a label file."""
    parser = argparse.ArgumentParser(prog="python -m ellm_core.crafter.analysis.chain_levers", description=__doc__.splitlines()[0])
    parser.add_argument("file", help="a label file of ranked goals")
    parser.add_argument("--goal", default="place crafting table", help="the goal to look for")
    parser.add_argument("--having", default="wood", help="situations whose inventory names this item ('' for all)")
    parser.add_argument("--prerequisites", default=None, help="also rank with the LM's prerequisites (a file of "
                        "python -m ellm_core.crafter.analysis.prerequisites)")
    parser.add_argument("--out", default=None, help="write FILE.json and FILE.md (a path without suffix)")
    args = parser.parse_args(argv)
    try:
        chain = GoalChain.load(args.prerequisites) if args.prerequisites else None
        result = lever_table(args.file, args.goal, args.having or None, chain)
    except (OSError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    text = format_table(result)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out + ".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        extra = f" --prerequisites {args.prerequisites}" if args.prerequisites else ""
        Path(args.out + ".md").write_text(f"`python -m ellm_core.crafter.analysis.chain_levers {args.file} --goal "
                                          f"'{args.goal}' --having '{args.having}'{extra}`\n\n{text}",
                                          encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
