"""``ellm goals eval``: score an LM's goal suggestions on held-out Crafter situations against the
achievements each situation makes possible (precision, recall; the oracle and random bounds).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ellm_core.resources import data_dir, data_resource

logger = logging.getLogger(__name__)


def add_goal_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``ellm goals eval`` (added to the ``goals`` parser)."""
    group = parser.add_argument_group("eval")
    group.add_argument("--env", choices=("crafter", "crafter-paper"), default="crafter",
                       help="eval: where situations come from: crafter's game, or the paper's (ellm/CrafterPaper-v0, "
                       "its oracle's goals in --goal-vocabulary)")
    group.add_argument("--goal-vocabulary", choices=("actions", "achievements"), default="actions",
                       help="eval, --env crafter-paper: goals and candidates as action names ('chop tree') or as "
                       "achievement texts ('collect wood')")
    group.add_argument("--generator", choices=("lm", "distilled", "replay", "oracle", "random"), default="lm",
                       help="eval: the LM (with --mode); distilled: the goal model learned from --labels-from's "
                            "labels; replay: the suggestions a scored row kept (--suggestions-from), rescored; the "
                            "oracle (upper bound) / random achievements (lower)")
    group.add_argument("--suggestions-from", default=None, metavar="ROW.json",
                       help="eval: a row written by --out whose kept suggestions --generator replay scores again")
    group.add_argument("--labels-from", nargs="+", default=None, metavar="RUN",
                       help="eval: --goal-source distilled training runs whose labels the distilled goal model "
                            "learns (their answers are read from --cache, the runs' cache; the LM is not asked)")
    group.add_argument("--distill-floor", type=float, default=0.9, help="eval: the distilled goal model's floor")
    group.add_argument("--situations", type=int, default=60, help="eval: how many situations")
    group.add_argument("--seed", type=int, default=0, help="eval: seed of the play that yields the situations")
    group.add_argument("--situations-file", default=None,
                       help="eval: JSONL of situations to score (written there first if missing; default: the "
                            "committed set results/goal_quality/crafter_situations_seed<S>_n<N>.jsonl if it is "
                            "that one, else beside --out, else in the cache directory)")
    group.add_argument("--threshold", type=float, nargs="+", default=None,
                       help="eval: similarities that count as a match, each scored (default: the reward's "
                       "DEFAULT_THRESHOLD and the paper's 0.99); the first is the headline")
    group.add_argument("--embedder", default="default", help="eval: default (all-MiniLM-L6-v2), hashing[:DIM], path")
    group.add_argument("--name", default=None, help="eval: row label (default: generator, mode, backend)")
    group.add_argument("--out", default=None, help="eval: JSON file to write the result to")


def situations_path(seed: int, count: int, out: str | None = None, prefix: str = "crafter") -> Path:
    """Where ``ellm goals eval`` keeps a situation set: the committed evaluation set in results/goal_quality when
    it is that one, else beside ``--out``, else in the cache directory (never a new file in the source tree)."""
    from ellm_core.resources import cache_dir

    name = f"{prefix}_situations_seed{seed}_n{count}.jsonl"
    committed = data_dir().parent / "results" / "goal_quality" / name
    if committed.is_file():
        return committed
    return (Path(out).parent if out else cache_dir() / "situations") / name


def distilled_goal_model(args: argparse.Namespace, lm_goals, cache):
    """The goal model of a distilled run, learned from the run's labels and the LM's cached answers to them."""
    from ellm_core.goals.distilled import FrozenLabels
    from ellm_core.run.checkpoint import run_labels
    from ellm_core.text.embed import CachedEmbedder, make_embedder

    if not args.labels_from:
        raise ValueError("--generator distilled needs --labels-from RUN, a --goal-source distilled training run")
    labelled = run_labels(*args.labels_from)
    answers = []
    for start in range(0, len(labelled), 256):
        chunk = labelled[start:start + 256]
        answers += lm_goals.cached_batch([obs for obs, _ in chunk], [list(acts) for _, acts in chunk])
    known = [(situation, goals) for situation, goals in zip(labelled, answers) if goals is not None]
    if not known:
        raise ValueError(f"none of the {len(labelled)} labels of {' '.join(args.labels_from)} is in the cache "
                         f"{args.cache}: "
                         "pass the run's --cache and its LM flags (e.g. --lm-temperature 0.1 for --profile paper)")
    if len(known) < len(labelled):
        logger.warning("%d of %d labels have no cached answer (other LM flags?); the goal model learns %d",
                       len(labelled) - len(known), len(labelled), len(known))
    embedder = CachedEmbedder(make_embedder(args.embedder), cache)
    return FrozenLabels([s for s, _ in known], [g for _, g in known], embedder, args.distill_floor)


def cmd_goals_eval(args: argparse.Namespace, make_generator) -> int:
    """Score goal suggestions on held-out Crafter situations; prints one row and writes JSON with --out."""
    from ellm_core.cache import open_cache
    from ellm_core.crafter.caption import crafter_text
    from ellm_core.crafter.profiles import PAPER_THRESHOLD
    from ellm_core.crafter.situations import collect_situations
    from ellm_core.goals.quality import (
        RandomGoals,
        ReplayedGoals,
        SituationOracle,
        evaluate_generator,
        load_situations,
        save_situations,
    )
    from ellm_core.hardware import describe
    from ellm_core.lm.base import LMConfig
    from ellm_core.resources import cpu_threads
    from ellm_core.reward import DEFAULT_THRESHOLD
    from ellm_core.text.embed import CachedEmbedder, make_embedder

    paper = args.env == "crafter-paper"
    prefix = f"crafter_paper_{args.goal_vocabulary}" if paper else "crafter"
    path = Path(args.situations_file) if args.situations_file else situations_path(args.seed, args.situations,
                                                                                   args.out, prefix)
    if path.is_file():
        situations = load_situations(path)
    else:
        situations = collect_situations(args.situations, seed=args.seed, game="paper" if paper else "crafter",
                                        goal_vocabulary=args.goal_vocabulary)
        save_situations(situations, path)
        logger.info("wrote %d situations to %s", len(situations), path)
    if paper:
        from ellm_core.crafter.paper import PaperCrafterEnv

        candidates = PaperCrafterEnv(length=1, goal_vocabulary=args.goal_vocabulary).goal_candidates()
    else:
        candidates = list(crafter_text()["achievements"].values())
    cache = open_cache(args.cache)
    if args.generator == "oracle":
        generator = SituationOracle(situations)
    elif args.generator == "random":
        generator = RandomGoals(candidates, k=2, seed=args.seed)
    elif args.generator == "replay":
        if not args.suggestions_from:
            raise ValueError("--generator replay needs --suggestions-from ROW.json (a row written by --out)")
        row = json.loads(Path(args.suggestions_from).read_text(encoding="utf-8"))
        if "suggestions" not in row:
            raise ValueError(f"{args.suggestions_from} kept no suggestions (scored before rows kept them): score it "
                             "again with its LM")
        generator = ReplayedGoals(situations, row["suggestions"])
    else:  # the LM, or the goal model learned from its answers
        args.prompts = args.prompts or data_resource("crafter/prompts.yaml")
        generator = make_generator(args, cache, args.mode, candidates)
        if args.generator == "distilled":
            generator = distilled_goal_model(args, generator, cache)
    thresholds = [DEFAULT_THRESHOLD, PAPER_THRESHOLD] if args.threshold is None else list(args.threshold)
    threshold = thresholds[0]
    embedder = CachedEmbedder(make_embedder(args.embedder), cache)
    result = evaluate_generator(generator, situations, embedder, thresholds, batch_size=args.lm_batch_size)
    if args.generator == "replay":  # the time is the replayed row's LM's, not the lookup's
        result.update({key: row[key] for key in ("seconds_per_situation", "tokens_per_s") if key in row})
    compute_type = LMConfig(backend=args.lm_backend, device=args.lm_device,
                            compute_type=args.lm_compute_type).resolved_compute_type()
    variant = "".join(label for flag, label in ((args.no_few_shot, " no-few-shot"), (args.no_system, " no-system"),
                                                (args.mode in ("closed", "ranked") and args.calibrate, " calibrated"),
                                                (args.lm_adapter is not None, " adapter"),
                                                (args.lm_grammar is not None, f" grammar={args.lm_grammar}"),
                                                (args.lm_backend == "ctranslate2" or compute_type != "float32",
                                                 f" {compute_type}")) if flag)
    name = args.name or (f"{args.generator} {args.suggestions_from}" if args.generator == "replay" else
                         args.generator if args.generator not in ("lm", "distilled")
                         else f"{args.lm_backend} {args.mode}{variant}"
                         + (f" distilled ({len(generator.model)} labels)" if args.generator == "distilled" else ""))
    result = {"name": name, "situations": len(situations), "situations_file": str(path), "threshold": threshold,
              "generator": args.generator, "mode": args.mode, "backend": args.lm_backend, "model": args.lm_model,
              "adapter": args.lm_adapter, "few_shot": not args.no_few_shot, "system": not args.no_system,
              "calibrate": args.mode in ("closed", "ranked") and args.calibrate, "rank_k": args.rank_k if args.mode == "ranked" else None,
              "repetition_penalty": args.lm_repetition_penalty, "grammar": args.lm_grammar,
              "compute_type": compute_type if args.lm_backend in ("ctranslate2", "transformers") else None,
              "hardware": describe(cpu_threads()),
              "labels_from": args.labels_from, "suggestions_from": args.suggestions_from,
              "embedder": args.embedder, **result}
    print(f"{'name':<28}{'threshold':>10}{'precision':>10}{'recall':>8}{'prec. in view':>14}{'rec. in view':>13}"
          f"{'empty':>7}{'s/situation':>12}")
    for key, row in result["by_threshold"].items():
        print(f"{name:<28}{key:>10}{row['precision']:>10.2f}{row['recall']:>8.2f}"
              f"{row.get('precision_in_view', 0):>14.2f}{row.get('recall_in_view', 0):>13.2f}{row['empty_share']:>7.2f}"
              f"{result['seconds_per_situation']:>12.3f}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0
