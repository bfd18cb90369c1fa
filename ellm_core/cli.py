"""The ``ellm`` command: ``ellm goals`` (try prompts in seconds) and ``ellm demo`` (goals → captions → rewards).

Run ``ellm --help`` or ``ellm COMMAND --help`` for the options.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from ellm_core.cache import open_cache
from ellm_core.config import add_dataclass_arguments, dataclass_from_args
from ellm_core.lm.base import LMConfig
from ellm_core.lm.shipped import ShippedModelError  # a light module: no backend is imported
from ellm_core.logs import setup_logging
from ellm_core.reward import DEFAULT_THRESHOLD
from ellm_core.run.cli import add_train_arguments, train_config_from_args
from ellm_core.run.faults import TrainingStopped, WriteFailedError

logger = logging.getLogger("ellm_core")

DEMO_SITUATIONS = 4  # situations shown by `ellm demo`



#: Errors that mean "the input is wrong", not "the program is wrong": printed as one line naming the input.
USER_ERRORS = (FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError, ValueError,
               ShippedModelError, WriteFailedError)  # (NoCheckpointError and CacheDamagedError are among them)


def run_handler(prog: str, args: argparse.Namespace) -> int:
    """Run the parsed command's handler. A user error (missing path, wrong kind of folder, malformed file,
    impossible value) becomes one line on stderr and exit status 2; ``-v`` shows its traceback instead."""
    try:
        return args.handler(args)
    except USER_ERRORS as error:
        if getattr(args, "verbose", 0):
            raise
        names = [getattr(args, "command", None)] + [value for key, value in vars(args).items()
                                                    if key.endswith("_command") or key == "action"]
        command = " ".join([prog, *(name for name in names if isinstance(name, str))])
        message = error.strerror + f": {error.filename}" if isinstance(error, OSError) and error.filename else error
        print(f"{command}: {message} (-v shows the traceback)", file=sys.stderr)
        return 2
    except TrainingStopped as stopped:
        print(f"{prog}: {stopped}", file=sys.stderr)
        return stopped.exit_status
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache", default=None, help="SQLite cache file for LLM outputs and embeddings "
                        "(default: ~/.cache/ellm/cache.sqlite; 'none' disables it)")
    parser.add_argument("--prompts", default=None, help="YAML file overriding keys of data/prompts.yaml")
    parser.add_argument("--no-few-shot", action="store_true", help="drop the few-shot examples from the prompt")
    parser.add_argument("--no-system", action="store_true",
                        help="drop the task system message (the model's chat template may insert its own)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    add_dataclass_arguments(parser, LMConfig, prefix="lm-")


def _goal_generator(args: argparse.Namespace, cache, mode: str, candidates: list[str] | None = None):
    from ellm_core.goals import ClosedFormGoals, OpenEndedGoals, RankedGoals
    from ellm_core.goals.prompts import PromptConfig
    from ellm_core.lm.registry import for_ranking, make_language_model

    prompts = PromptConfig.load(args.prompts)
    if args.no_few_shot:
        prompts = prompts.without_few_shot()
    if getattr(args, "no_system", False):
        prompts = prompts.without_system()
    if mode == "ranked":  # the default backend only generates: rank on one that scores
        args.lm_backend = for_ranking(dataclass_from_args(LMConfig, args, prefix="lm-")).backend
    lm = make_language_model(dataclass_from_args(LMConfig, args, prefix="lm-"), cache,
                             candidates if mode == "constrained" else None)
    if mode in ("closed", "ranked", "constrained") and not candidates:
        raise ValueError(f"--mode {mode} needs --candidates 'goal one;goal two;...'")
    if mode == "closed":
        return ClosedFormGoals(lm, candidates, threshold=args.yes_threshold, prompts=prompts,
                               calibrate=getattr(args, "calibrate", False))
    if mode == "ranked":
        return RankedGoals(lm, candidates, prompts=prompts, k=args.rank_k, calibrate=getattr(args, "calibrate", False))
    return OpenEndedGoals(lm, prompts, max_goals=args.max_goals)


def cmd_goals(args: argparse.Namespace) -> int:
    """Print the goals the LM suggests for one observation."""
    if not args.observation or not args.actions:
        raise SystemExit("ellm goals: --observation and --actions are required (or use `ellm goals eval`)")
    cache = open_cache(args.cache)
    candidates = [c.strip() for c in args.candidates.split(";") if c.strip()] if args.candidates else None
    generator = _goal_generator(args, cache, args.mode, candidates)
    actions = [a.strip() for a in args.actions.split(",") if a.strip()]
    goals = generator.suggest(args.observation, actions)
    if not goals:
        print("(no goals: the model's answer parsed into an empty list)")
    for goal in goals:
        print(f"- {goal}")
    return 0


def demo_situations(count: int = DEMO_SITUATIONS):
    """Real Crafter situations from seeded play (the committed goal-quality set) where something is achievable in
    view, of different kinds."""
    from ellm_core.crafter.analysis.goals_cli import situations_path
    from ellm_core.crafter.situations import collect_situations
    from ellm_core.goals.quality import load_situations

    path = situations_path(1, 40)
    situations = load_situations(path) if path.is_file() else collect_situations(40, seed=1)
    chosen, kinds = [], set()
    for situation in situations:
        kind = tuple(situation.in_view or ())
        if kind and kind not in kinds:
            chosen.append(situation)
            kinds.add(kind)
        if len(chosen) == count:
            break
    return chosen


def cmd_demo(args: argparse.Namespace) -> int:
    """Goals from the real LM for real Crafter situations, beside what is achievable there, and the ELLM reward the
    agent would earn by achieving each of those things."""
    from ellm_core.resources import data_resource
    from ellm_core.reward import EpisodeReward
    from ellm_core.text.embed import CachedEmbedder, make_embedder

    args.prompts = args.prompts or data_resource("crafter/prompts.yaml")
    cache = open_cache(args.cache)
    generator = _goal_generator(args, cache, "open")
    embedder = CachedEmbedder(make_embedder(args.embedder), cache)
    situations = demo_situations()
    answers = [generator.suggest(s.observation, s.actions) for s in situations]
    matched = 0
    for number, (situation, goals) in enumerate(zip(situations, answers), 1):
        print(f"Situation {number} (seeded Crafter play): {situation.observation}")
        print(f"  LM goals:            {'; '.join(goals) or '(none parsed from the answer)'}")
        print(f"  achievable in view:  {'; '.join(situation.in_view or [])}")
        print(f"  ELLM reward if the agent now does each achievable thing (threshold {args.threshold}):")
        for caption in situation.in_view or []:
            reward, goal, _ = EpisodeReward(embedder, threshold=args.threshold).step(goals, caption)
            matched += bool(goal)
            verdict = f"{reward:.2f}  (matches the goal '{goal}')" if goal else "0     (no goal matches)"
            print(f"    {caption:<20} -> {verdict}")
        print()
    print(f"{matched} achievable things would be rewarded in {len(situations)} situations. Goal quality on 40 "
          "situations: results/goal_quality/table.md; training: `ellm crafter train --reward ellm`.")
    if cache is not None:
        stats = cache.stats()
        print(f"cache: {stats['hits']} hits, {stats['misses']} misses ({cache.path})")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train DQN with the chosen intrinsic reward on a text environment; writes the run directory."""
    from ellm_core.run.train import train

    summary = train(train_config_from_args(args))
    print(json.dumps(summary["final_eval"], indent=2))
    print(f"run directory: {args.out}")
    return 0


def build_parser(train_defaults=None, crafter_defaults=None, suggester_defaults=None) -> argparse.ArgumentParser:
    """The ``ellm`` argument parser; ``train_defaults`` / ``crafter_defaults`` (TrainConfigs) and
    ``suggester_defaults`` (a SuggesterConfig) set the defaults of ``ellm train`` / ``ellm crafter train`` /
    ``ellm crafter suggester``."""
    import ellm_core.goals.labels  # noqa: F401  (registers label files with `ellm cache import`)
    from ellm_core.cache.files import add_cache_command
    from ellm_core.crafter.analysis.goals_cli import add_goal_eval_arguments, cmd_goals_eval
    from ellm_core.crafter.cli import add_crafter_command
    from ellm_core.experiments.cli import add_sweep_command

    parser = argparse.ArgumentParser(prog="ellm", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    goals = commands.add_parser("goals", help="suggest goals for one observation, or measure goal quality",
                                description="`ellm goals --observation ... --actions ...` prints the suggested "
                                "goals; `ellm goals eval --env crafter` scores a goal generator on held-out "
                                "situations (precision, recall, empty answers, speed).")
    goals.add_argument("action", nargs="?", choices=("suggest", "eval"), default="suggest",
                       help="suggest (default) or eval")
    goals.add_argument("--observation", help="suggest: caption of the current observation")
    goals.add_argument("--actions", help="suggest: comma-separated valid actions")
    goals.add_argument("--mode", choices=("open", "closed", "ranked", "constrained"), default="open",
                       help="open-ended, closed-form by P(yes), ranked: the candidates by the LM's log-probability "
                       "of writing each, or constrained: open-ended generation held to lines of the candidates "
                       "(ranked and constrained need --lm-backend transformers)")
    goals.add_argument("--rank-k", type=int, default=1, help="ranked: keep the k best candidates")
    goals.add_argument("--candidates", default=None, help="closed-form: ';'-separated candidate goals")
    goals.add_argument("--yes-threshold", type=float, default=0.5, help="closed-form: keep goals with P(yes) above")
    goals.add_argument("--calibrate", action="store_true",
                       help="closed-form and ranked: scores relative to the same question about a content-free "
                       "observation")
    goals.add_argument("--max-goals", type=int, default=5, help="open-ended: at most this many goals")
    add_goal_eval_arguments(goals)
    _add_common(goals)
    goals.set_defaults(handler=lambda args: cmd_goals_eval(args, _goal_generator) if args.action == "eval"
                       else cmd_goals(args))

    demo = commands.add_parser("demo", help="goals and ELLM rewards with the real offline models",
                               description=cmd_demo.__doc__)
    demo.add_argument("--embedder", default="default", help="default (all-MiniLM-L6-v2), hashing[:DIM], or a path")
    demo.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="similarity threshold of the reward")
    demo.add_argument("--max-goals", type=int, default=5, help="at most this many goals")
    _add_common(demo)
    demo.set_defaults(handler=cmd_demo)

    train = commands.add_parser("train", help="train DQN with an intrinsic reward on a text environment",
                                description=cmd_train.__doc__)
    add_train_arguments(train, train_defaults)
    train.set_defaults(handler=cmd_train)
    add_crafter_command(commands, crafter_defaults, suggester_defaults)
    add_sweep_command(commands)
    add_cache_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ellm`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    train_defaults = crafter_defaults = suggester_defaults = None
    if argv[:1] == ["train"]:  # parse twice: the preset's values become the defaults, explicit flags win
        from ellm_core.run.config import TrainConfig, apply_preset

        first, _ = build_parser().parse_known_args(argv)
        train_defaults = apply_preset(TrainConfig(), first.preset)
    elif argv[:2] in (["crafter", "train"], ["crafter", "prewarm"]):
        from ellm_core.crafter.cli import crafter_train_defaults

        first, _ = build_parser().parse_known_args(argv)
        crafter_defaults = crafter_train_defaults(first.preset, first.profile)
    elif argv[:2] == ["crafter", "suggester"]:
        from ellm_core.crafter.suggester import SuggesterConfig
        from ellm_core.crafter.suggester import apply_preset as suggester_preset

        first, _ = build_parser().parse_known_args(argv)
        suggester_defaults = suggester_preset(SuggesterConfig(), first.preset)
    args = build_parser(train_defaults, crafter_defaults, suggester_defaults).parse_args(argv)
    setup_logging(args.verbose)
    return run_handler("ellm", args)


if __name__ == "__main__":
    sys.exit(main())
