"""Ranked-goal labels: situations labelled ahead of training and shipped as a readable file, as the official ELLM
code shipped its Codex answers (``ellm crafter prewarm --labels-out`` writes one).

- :func:`write_labels`: one JSON line per situation with the observation, the actions, the model, the calibrated
  score of every candidate goal and the goals chosen, after a header line that says how they were made;
- :func:`label_entries`: the cache entries those lines stand for, so that ``ellm cache import LABELS CACHE`` lets
  a training run with the same LM read them instead of asking the LM;
- :func:`summarize_labels`: what the file says (how often each goal is chosen), recomputed from it alone.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ellm_core.cache import make_key
from ellm_core.cache.files import register_entry_file
from ellm_core.goals.generators import RANK_CONTENT_FREE

logger = logging.getLogger(__name__)

#: The ``format`` of a label file's header line.
LABELS_FORMAT = "ellm-ranked-labels/1"
Situation = tuple[str, tuple[str, ...]]


def _open_text(path: Path, mode: str):
    if path.suffix != ".gz":
        return open(path, mode, encoding="utf-8")
    return io.TextIOWrapper(gzip.GzipFile(path, mode + "b", mtime=0), encoding="utf-8")


def _write_rows(out: str | Path, header: dict, rows: Iterable[dict]) -> int:
    """Write a label file of ``header`` and ``rows`` to ``out`` atomically (a temporary file renamed); returns the
    number of rows."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp" + out.suffix)
    count = 0
    with _open_text(temporary, "w") as handle:
        handle.write(json.dumps(header, ensure_ascii=False) + "\n")
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    temporary.replace(out)
    return count


def write_labels(path: str | Path, generator, situations: Sequence[Situation], model: str, prompts: str,
                 visits: dict[Situation, int] | None = None, batch_size: int = 64) -> int:
    """Write the label file of ``situations`` with a :class:`~ellm_core.goals.RankedGoals` ``generator`` over a
    cached LM (its cached scores are read, missing ones computed) and the prompt file ``prompts`` (as a config
    names it, e.g. ``data:crafter/prompts.yaml``); returns the number of lines. Written atomically."""
    actions = sorted({acts for _, acts in situations})
    header = {"format": LABELS_FORMAT, "model": model, "lm_identity": generator.lm.scoring_identity,
              "prompts": prompts, "answer_prefix": generator.answer_prefix,
              "candidates": generator.candidates, "calibrate": generator.calibrate, "k": generator.k,
              "content_free": RANK_CONTENT_FREE,
              "baseline": {", ".join(acts): [round(float(v), 6) for v in generator.baseline_scores(list(acts))]
                           for acts in actions} if generator.calibrate else {}}

    def rows() -> Iterator[dict]:
        for start in range(0, len(situations), batch_size):
            chunk = situations[start:start + batch_size]
            scores = generator.scores([obs for obs, _ in chunk], [list(acts) for _, acts in chunk])
            for (observation, acts), row in zip(chunk, scores):
                line = {"observation": observation, "actions": list(acts), "model": model,
                        "scores": [round(float(v), 4) for v in row],
                        "goals": [generator.candidates[i] for i in np.argsort(-row, kind="stable")[:generator.k]]}
                if visits:
                    line["visits"] = visits.get((observation, acts), 0)
                yield line

    return _write_rows(path, header, rows())


def read_labels(path: str | Path) -> tuple[dict, Iterator[dict]]:
    """The header and the lines of a label file; a malformed line is an error naming the file and line."""
    path = Path(path)
    handle = _open_text(path, "r")
    first = handle.readline()
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != LABELS_FORMAT:
        handle.close()
        raise ValueError(f"{path}:1: not a label file (its first line has no \"format\": \"{LABELS_FORMAT}\")")

    def lines() -> Iterator[dict]:
        with handle:
            for number, line in enumerate(handle, 2):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    if len(row["scores"]) != len(header["candidates"]):
                        raise ValueError(f"{len(row['scores'])} scores for {len(header['candidates'])} candidates")
                    row["actions"] = [str(a) for a in row["actions"]]
                    str(row["observation"])
                except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                    raise ValueError(f"{path}:{number}: not a label line ({error})") from None
                yield row

    return header, lines()


def is_label_file(path: str | Path) -> bool:
    """Whether ``path`` starts with a label file's header line."""
    try:
        with _open_text(Path(path), "r") as handle:
            return json.loads(handle.readline()).get("format") == LABELS_FORMAT
    except (OSError, ValueError, AttributeError, EOFError):
        return False


def label_entries(path: str | Path, identity: str | None = None) -> Iterator[tuple[str, str, list[float]]]:
    """The ``(namespace, key, value)`` cache entries that a label file stands for: each situation's raw scores
    (calibrated + the header's baseline) under the key its ranked goal generator reads, and each baseline.
    ``identity``: key them for this LM instead of the file's (the same model at another precision)."""
    from ellm_core.goals.prompts import PromptConfig, open_ended_prompt

    header, lines = read_labels(path)
    prompts = PromptConfig.load(header["prompts"])
    kind = "score:" + json.dumps([header["answer_prefix"], [" " + c for c in header["candidates"]]])

    def key(observation: str, actions: list[str]) -> str:
        return make_key(identity or header["lm_identity"], kind, json.dumps(open_ended_prompt(observation, actions, prompts),
                                                                sort_keys=True))

    baselines = {acts: np.asarray(values) for acts, values in header["baseline"].items()}
    for acts, values in baselines.items():
        yield "llm", key(header["content_free"], acts.split(", ")), [float(v) for v in values]
    for row in lines:
        raw = np.asarray(row["scores"], dtype=float)
        if header["calibrate"]:
            raw = raw + baselines[", ".join(row["actions"])]
        yield "llm", key(row["observation"], row["actions"]), [float(v) for v in raw]


def label_goals(path: str | Path, k: int | None = None) -> tuple[list[Situation], list[list[str]], dict]:
    """The situations of a label file and their goals (the file's, or the top ``k`` of its scores when ``k`` differs
    from the file's), and its header."""
    header, lines = read_labels(path)
    situations, goal_lists = [], []
    for row in lines:
        situations.append((row["observation"], tuple(row["actions"])))
        if k is None or k == header["k"]:
            goal_lists.append(list(row["goals"]))
        else:
            order = np.argsort(-np.asarray(row["scores"]), kind="stable")[:k]
            goal_lists.append([header["candidates"][i] for i in order])
    return situations, goal_lists, header


def merge_labels(out: str | Path, paths: Sequence[str | Path]) -> int:
    """Join label files made with the same LM, candidates and prompts into ``out`` (atomically), each situation once
    (its visits summed, its first line's scores kept); returns the number of situations."""
    header, rows = None, {}
    for path in paths:
        this, lines = read_labels(path)
        same = ("lm_identity", "candidates", "prompts", "answer_prefix", "calibrate", "k", "baseline")
        if header is not None and any(this[key] != header[key] for key in same):
            raise ValueError(f"{path}: made with other settings than {paths[0]} (they must agree on {', '.join(same)})")
        header = header or this
        for row in lines:
            key = (row["observation"], tuple(row["actions"]))
            if key in rows:
                rows[key]["visits"] = rows[key].get("visits", 0) + row.get("visits", 0)
            else:
                rows[key] = row
    if header is None:
        raise ValueError("no label files to merge")
    return _write_rows(out, header, rows.values())



def summarize_labels(path: str | Path) -> dict:
    """What a label file says, from the file alone: situations, models, how often each goal is chosen first."""
    header, lines = read_labels(path)
    first, chosen, visits, count, models = Counter(), Counter(), 0, 0, Counter()
    margins = []
    for row in lines:
        count += 1
        models[row["model"]] += 1
        visits += int(row.get("visits", 0))
        if row["goals"]:
            first[row["goals"][0]] += 1
        chosen.update(row["goals"])
        top = sorted(row["scores"], reverse=True)
        margins.append(top[0] - top[1] if len(top) > 1 else 0.0)
    return {"file": Path(path).name, "format": header["format"], "situations": count, "models": dict(models),
            "lm_identity": header["lm_identity"], "k": header["k"], "calibrate": header["calibrate"],
            "visits": visits,
            "first_goal_share": {goal: round(n / count, 4) for goal, n in first.most_common()} if count else {},
            "goals_never_first": [c for c in header["candidates"] if c not in first],
            "median_top1_margin": round(float(np.median(margins)), 4) if margins else None}


def holds(observation: str, item: str | None) -> bool:
    """Whether a caption's inventory ("You have ...") names ``item`` (always, when ``item`` is None)."""
    return item is None or item in observation.split("You have", 1)[-1]


def select_labels(path: str | Path, out: str | Path, having: str) -> int:
    """Write the situations of ``path`` whose inventory names ``having`` to ``out`` (same header, atomically);
    returns their number. A probe of other prompts then asks the LM about those situations alone."""
    header, lines = read_labels(path)
    return _write_rows(out, header, (row for row in lines if holds(row["observation"], having)))


def goal_rank(path: str | Path, goal: str, having: str | None = None) -> dict:
    """Where a label file's LM ranks ``goal`` among its candidates (1 is first), calibrated (the file's scores) and raw
    (with the content-free prior added back): the median rank, the share of situations with it in the top 1, 3 and 5,
    and the goals ranked first instead, over the situations whose inventory ("You have ...") names ``having`` (every
    situation when None)."""
    header, lines = read_labels(path)
    if goal not in header["candidates"]:
        raise ValueError(f"{path}: {goal!r} is not one of its candidates ({', '.join(header['candidates'])})")
    index = header["candidates"].index(goal)
    baselines = {acts: np.asarray(values) for acts, values in header["baseline"].items()}
    ranks: dict[str, list[int]] = {"calibrated": [], "raw": []}
    firsts: dict[str, Counter] = {"calibrated": Counter(), "raw": Counter()}
    for row in lines:
        if not holds(row["observation"], having):
            continue
        calibrated = np.asarray(row["scores"], dtype=float)
        raw = calibrated + baselines[", ".join(row["actions"])] if header["calibrate"] else calibrated
        for name, scores in (("calibrated", calibrated), ("raw", raw)):
            ranks[name].append(int((scores > scores[index]).sum()) + 1)
            firsts[name][header["candidates"][int(np.argmax(scores))]] += 1
    count = len(ranks["raw"])
    return {"file": Path(path).name, "goal": goal, "having": having, "situations": count,
            **{f"median_rank_{name}": float(np.median(ranks[name])) if count else None for name in ranks},
            **{f"share_in_top_{name}": {str(k): round(sum(r <= k for r in ranks[name]) / count, 4) if count else None
                                        for k in (1, 3, 5)} for name in ranks},
            **{f"first_{name}": dict(firsts[name].most_common(5)) for name in firsts}}


def main(argv: list[str] | None = None) -> int:
    """``python -m ellm_core.goals.labels merge OUT PART ...``, ``summary FILE``, ``select FILE OUT --having ITEM`` or
    ``rank FILE GOAL``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ellm_core.goals.labels", description="label files of ranked goals")
    actions = parser.add_subparsers(dest="action", required=True)
    merge = actions.add_parser("merge", help="join label files made with the same settings, each situation once")
    merge.add_argument("out", help="the label file to write (.jsonl or .jsonl.gz)")
    merge.add_argument("parts", nargs="+", help="the label files to join")
    summary = actions.add_parser("summary", help="what a label file says, recomputed from it alone")
    summary.add_argument("file", help="a label file")
    summary.add_argument("--out", default=None, help="also write the summary as JSON here")
    select = actions.add_parser("select", help="keep the situations whose inventory names an item")
    select.add_argument("file", help="a label file")
    select.add_argument("out", help="the label file to write")
    select.add_argument("--having", required=True, help='an inventory item, e.g. "wood"')
    rank = actions.add_parser("rank", help="where the LM ranks one goal, calibrated and raw, and what it ranks first")
    rank.add_argument("file", help="a label file")
    rank.add_argument("goal", help='one of its candidates, e.g. "place crafting table"')
    rank.add_argument("--having", default=None, help='only situations whose inventory names this, e.g. "wood"')
    rank.add_argument("--out", default=None, help="also write the result as JSON here")
    args = parser.parse_args(argv)
    try:
        if args.action == "merge":
            print(f"{merge_labels(args.out, args.parts)} situations in {args.out}")
            return 0
        if args.action == "select":
            print(f"{select_labels(args.file, args.out, args.having)} situations in {args.out}")
            return 0
        if args.action == "rank":
            result = goal_rank(args.file, args.goal, args.having)
        else:
            result = summarize_labels(args.file)
    except (OSError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


register_entry_file(is_label_file, label_entries)  # `ellm cache import LABELS CACHE` reads label files

if __name__ == "__main__":
    raise SystemExit(main())
