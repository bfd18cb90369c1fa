"""How well the distilled goal model says what the LM would say, against the number of labelled situations.

Usage: ``python -m ellm_core.crafter.analysis.distill_quality --labels 1000 5000 20000 --heldout 500 --out DIR``
(``--help`` for the rest). The LM (the training default: CTranslate2, the Crafter few-shot prompt) answers
situations of a seeded random play; the goal models learn the first N of them; then, on situations of another
seed that the LM has not labelled, each model's goals are compared with the LM's own answers: precision (a
predicted goal matches one of the LM's) and recall (share of the LM's goals matched), at each threshold, over
the held-out situations the model answers, and its coverage (share it answers at all). Two goal models:

- ``nearest``: the goals of the nearest labelled observation above the floor (:class:`ellm_core.goals.distilled.NearestLabels`);
- ``classifier``: one logistic regression per goal text over the observation embedding (scikit-learn), goals with
  P >= 0.5; fitted once on the N labels.

The LM's answers go through the run's SQLite cache (``--cache``), so a stopped measurement resumes where it was.
With ``--labels-from RUN [RUN ...]`` the labelled situations are instead those distilled training runs labelled, in
the order they learned them, run after run, each once (read from its latest checkpoint; their answers come from that run's cache, ``--cache``, without
asking the LM): the goal model is measured on the situations the agent itself met.
Writes ``distill_quality.json`` and ``distill_quality.md`` in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)


def agreement(predicted: list[list[str] | None], truth: list[list[str]], embedder, threshold: float) -> dict:
    """Precision and recall of ``predicted`` against ``truth`` (the LM's answers) where a prediction exists."""
    from ellm_core.goals.quality import Situation, score_suggestions

    pairs = [(p, t) for p, t in zip(predicted, truth) if p is not None and t]
    if not pairs:
        return {"precision": 0.0, "recall": 0.0, "answered": 0}
    situations = [Situation("", [], list(t)) for _, t in pairs]
    scores = score_suggestions(situations, [list(p) for p, _ in pairs], embedder, threshold)
    return {"precision": scores["precision"], "recall": scores["recall"], "answered": len(pairs)}


def classifier_predict(train_vectors: np.ndarray, train_goals: list[list[str]], vectors: np.ndarray) -> list:
    """One logistic regression per goal text seen in ``train_goals``; the goals with P >= 0.5 per row."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    binarizer = MultiLabelBinarizer()
    targets = binarizer.fit_transform(train_goals)
    keep = targets.sum(axis=0) > 0
    constant = keep & (targets.sum(axis=0) == len(targets))
    always = list(np.asarray(binarizer.classes_)[constant])
    if not (keep & ~constant).any():  # every label the same: nothing to learn
        return [list(always) for _ in range(len(vectors))]
    model = OneVsRestClassifier(LogisticRegression(max_iter=500, C=4.0)).fit(train_vectors, targets[:, keep & ~constant])
    names = np.asarray(binarizer.classes_)[keep & ~constant]
    probabilities = model.predict_proba(vectors)
    return [always + [str(name) for name, p in zip(names, row) if p >= 0.5] for row in probabilities]


def measure(config, labels: list[int], heldout: int, thresholds: list[float], batch_size: int = 64,
            generator=None, embedder=None, pool: list | None = None) -> dict:
    """Label, learn and compare (see the module docstring); ``config`` is the training run's TrainConfig
    (``generator``/``embedder`` replace its LM goals and embedder: tests pass fakes); ``pool``: the labelled
    situations to use instead of a random play's (``run_labels``)."""
    from ellm_core.cache import open_cache
    from ellm_core.crafter.prewarm import play_situations
    from ellm_core.run.assembly import make_goal_source
    from ellm_core.run.config import updated
    from ellm_core.text.embed import CachedEmbedder, make_embedder

    cache = open_cache(config.cache)
    generator = generator or make_goal_source(updated(config, goal_source="lm"), cache)  # the LM
    embedder = CachedEmbedder(embedder or make_embedder(config.embedder), cache)
    most = max(labels)
    pool = list(pool)[:most] if pool is not None else list(play_situations(int(most / 0.2) + 5_000, config.seed))[:most]
    seen = set(pool)
    held = [s for s in play_situations(heldout * 20, config.seed + 1) if s not in seen][:heldout]
    if len(pool) < most:
        logger.warning("%d labelled situations, fewer than %d: the largest set is all of them", len(pool), most)
    todo = pool + held
    answers: list[list[str]] = []
    for start in tqdm(range(0, len(todo), batch_size), desc="LM labels", unit="batch", disable=None):
        chunk = todo[start:start + batch_size]
        answers += generator.suggest_batch([obs for obs, _ in chunk], [list(acts) for _, acts in chunk])
    labelled, truth = answers[:len(pool)], answers[len(pool):]
    result = compare_goal_models(pool, labelled, held, truth, labels, thresholds, config.goal.distill_floor, embedder)
    return {**result, "seed": config.seed, "lm": getattr(getattr(generator, "lm", None), "identity", None)}


def compare_goal_models(pool: list, labelled: list[list[str]], held: list, truth: list[list[str]], labels: list[int],
                        thresholds: list[float], floor: float, embedder) -> dict:
    """The goal models learned from the first N of ``pool`` (answers ``labelled``), each N of ``labels``, against
    the LM's answers ``truth`` on the ``held`` situations; and the LM's most frequent answer as a baseline."""
    from ellm_core.goals.distilled import NearestLabels

    pool_vectors = embedder.encode([obs for obs, _ in pool])
    held_vectors = embedder.encode([obs for obs, _ in held])
    rows = []
    for n in sorted(labels):
        n = min(n, len(pool))
        nearest = NearestLabels(floor)
        nearest.add(pool_vectors[:n], labelled[:n])
        predictions = {"nearest": nearest.predict([obs for obs, _ in held], held_vectors),
                       "classifier": classifier_predict(pool_vectors[:n], labelled[:n], held_vectors)}
        for model, predicted in predictions.items():
            row = {"model": model, "labels": n, "heldout": len(held),
                   "coverage": sum(p is not None for p in predicted) / max(len(held), 1)}
            for threshold in thresholds:
                scores = agreement(predicted, truth, embedder, threshold)
                row[f"precision@{threshold:g}"], row[f"recall@{threshold:g}"] = scores["precision"], scores["recall"]
            rows.append(row)
            logger.info("%s", row)
    most_frequent = max(set(map(tuple, labelled)), key=[tuple(a) for a in labelled].count, default=())
    baseline = {"model": "the LM's most frequent answer", "labels": len(pool), "heldout": len(held), "coverage": 1.0}
    for threshold in thresholds:
        scores = agreement([list(most_frequent)] * len(held), truth, embedder, threshold)
        baseline[f"precision@{threshold:g}"], baseline[f"recall@{threshold:g}"] = scores["precision"], scores["recall"]
    rows.append(baseline)
    return {"rows": rows, "floor": floor, "thresholds": thresholds}


def measure_label_files(labels_file: str | Path, heldout_file: str | Path, labels: list[int],
                        thresholds: list[float], floor: float, embedder) -> dict:
    """:func:`compare_goal_models` on two label files (``ellm crafter prewarm --labels-out``): the goal models learn
    the first N situations of ``labels_file``; the truth is ``heldout_file``'s goals on its situations that
    ``labels_file`` does not hold. No LM is asked."""
    from ellm_core.goals.labels import label_goals

    pool, labelled, header = label_goals(labels_file)
    held, truth, _ = label_goals(heldout_file, k=header["k"])
    known = set(pool)
    kept = [i for i, situation in enumerate(held) if situation not in known]
    result = compare_goal_models(pool, labelled, [held[i] for i in kept], [truth[i] for i in kept], labels,
                                 thresholds, floor, embedder)
    return {**result, "labels_file": str(labels_file), "heldout_file": str(heldout_file),
            "lm": header["lm_identity"]}


def format_markdown(result: dict) -> str:
    """The rows as a Markdown table."""
    metrics = [f"{kind}@{t:g}" for t in result["thresholds"] for kind in ("precision", "recall")]
    lines = ["| goal model | labelled | held-out | coverage | " + " | ".join(metrics) + " |",
             "| --- | --- | --- | --- |" + " --- |" * len(metrics)]
    for row in result["rows"]:
        lines.append(f"| {row['model']} | {row['labels']} | {row['heldout']} | {row['coverage']:.2f} | "
                     + " | ".join(f"{row[m]:.2f}" for m in metrics) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and write its table."""
    from ellm_core.crafter.cli import crafter_train_defaults
    from ellm_core.logs import setup_logging

    parser = argparse.ArgumentParser(prog="python -m ellm_core.crafter.analysis.distill_quality",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, nargs="+", default=[1000, 5000, 20000], help="labelled set sizes")
    parser.add_argument("--heldout", type=int, default=500, help="held-out situations (another seed's play)")
    parser.add_argument("--threshold", type=float, nargs="+", default=[0.5, 0.99], help="match thresholds")
    parser.add_argument("--floor", type=float, default=0.9, help="the nearest model's similarity floor")
    parser.add_argument("--seed", type=int, default=0, help="seed of the labelled play (held-out: seed + 1)")
    parser.add_argument("--cache", default="runs/distill-quality/cache.sqlite", help="SQLite cache of the LM answers")
    parser.add_argument("--labels-from", nargs="+", default=None, metavar="RUN",
                        help="distilled training runs: their labelled situations instead of a random play's")
    parser.add_argument("--labels-file", default=None, metavar="FILE",
                        help="a label file (ellm crafter prewarm --labels-out) as the labelled situations, with "
                             "--heldout-file: no LM is asked")
    parser.add_argument("--heldout-file", default=None, metavar="FILE",
                        help="with --labels-file: a label file of another play whose goals are the truth")
    parser.add_argument("--out", default="results/goal_quality/distilled", help="output folder")
    args = parser.parse_args(argv)
    setup_logging(0)
    from ellm_core.run.config import updated

    if bool(args.labels_file) != bool(args.heldout_file):
        parser.exit(2, "error: --labels-file and --heldout-file go together\n")
    if args.labels_file:
        from ellm_core.cache import open_cache
        from ellm_core.text.embed import CachedEmbedder, make_embedder

        embedder = CachedEmbedder(make_embedder("default"), open_cache(args.cache))
        result = measure_label_files(args.labels_file, args.heldout_file, args.labels, args.threshold, args.floor,
                                     embedder)
        return _write(result, Path(args.out))

    from ellm_core.run.checkpoint import run_labels

    pool = None
    if args.labels_from:
        try:
            pool = run_labels(*args.labels_from)
        except ValueError as error:
            parser.exit(2, f"error: {error}\n")

    config = updated(crafter_train_defaults("demo"), reward="ellm", seed=args.seed, cache=args.cache,
                     distill_floor=args.floor)
    Path(args.cache).parent.mkdir(parents=True, exist_ok=True)
    result = measure(config, args.labels, args.heldout, args.threshold, pool=pool)
    result["labels_from"] = args.labels_from
    return _write(result, Path(args.out))


def _write(result: dict, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    (out / "distill_quality.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (out / "distill_quality.md").write_text(format_markdown(result) + "\n", encoding="utf-8")
    print(format_markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
