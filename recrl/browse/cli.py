"""``recrl browse train`` and ``recrl browse eval``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ellm_core.config import add_dataclass_arguments, dataclass_from_args
from recrl.browse.options import BrowseOptions, browse_train_defaults

logger = logging.getLogger(__name__)


def add_browse_command(commands: argparse._SubParsersAction) -> None:
    """Add ``browse`` with its ``train`` and ``eval`` subcommands to the ``recrl`` parser."""
    from ellm_core.run.cli import add_train_arguments, train_flag_defaults

    browse = commands.add_parser("browse", help="DQN on ProductBrowse-v0 with rationale goals (ELLM) or baselines",
                                 description="Train and evaluate browsing agents on a prepared data directory.")
    browse.set_defaults(handler=lambda args: browse.print_help() or 2)
    actions = browse.add_subparsers(dest="browse_command", metavar="ACTION")

    train = actions.add_parser("train", help="train DQN on ProductBrowse-v0; ends with the held-out evaluation",
                               description=cmd_train.__doc__)
    add_train_arguments(train, browse_train_defaults(None))
    add_dataclass_arguments(train, BrowseOptions)
    train.add_argument("--eval-sessions", type=int, default=50, help="held-out sessions of the final evaluation")
    train.set_defaults(handler=cmd_train, preset_hook=lambda name: train.set_defaults(
        **train_flag_defaults(browse_train_defaults(name))))

    evaluate = actions.add_parser("eval", help="score runs on test users against random and popularity policies",
                                  description=cmd_eval.__doc__)
    evaluate.add_argument("runs", nargs="+", help="run directories of `recrl browse train` (seeds of one or more "
                                                  "rewards)")
    evaluate.add_argument("--episodes", type=int, default=100, help="test sessions per policy")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the sessions (the same for every policy)")
    evaluate.add_argument("--slates", choices=("mix", "held-out"), default="mix",
                          help="test sessions' slates: the training mix, or one held-out item of the user among "
                               "popularity-sampled negatives it never rated (leave-one-out)")
    evaluate.add_argument("--out", default=None, help="directory for browse_eval.json/.md/.png (default: first run)")
    evaluate.add_argument("--trace", type=int, default=0, metavar="N",
                          help="also write the first N test sessions of the first run step by step (traces.md, "
                               "trace.png): history, goals, slates, choices, rewards, held-out ratings")
    evaluate.set_defaults(handler=cmd_eval)


def cmd_train(args: argparse.Namespace) -> int:
    """Train DQN on ProductBrowse-v0 (ELLM with the user's rationales as goals, or a baseline reward), then
    evaluate it on held-out test sessions against the random and popularity policies."""
    import recrl.browse  # noqa: F401  (registers the environment)
    from ellm_core.run.cli import train_config_from_args
    from ellm_core.run.train import train
    from recrl.browse.train import configure

    options = dataclass_from_args(BrowseOptions, args)
    config = configure(train_config_from_args(args), options)
    summary = train(config)
    logger.info("trained %d steps, %d sessions", summary["step"], summary["episodes"])
    return _evaluate([config.out], args.eval_sessions, config.seed, Path(config.out))


def cmd_eval(args: argparse.Namespace) -> int:
    """Score trained browse runs on held-out ratings of test users: liked share of opened items, mean held-out
    rating, session NDCG; the random and popularity policies browse the same sessions."""
    status = _evaluate(args.runs, args.episodes, args.seed, Path(args.out or args.runs[0]), args.slates)
    if args.trace:
        from recrl.browse.trace import write_traces

        paths = write_traces(args.runs[0], args.trace, Path(args.out or args.runs[0]) / "traces", args.seed)
        print(f"wrote {', '.join(str(path) for path in paths)}")
    return status


def _evaluate(runs: list[str], episodes: int, seed: int, out: Path, slates: str = "mix") -> int:
    from recrl.browse.evaluate import evaluate_runs
    from recrl.browse.report import format_table, write_report

    report = evaluate_runs(runs, episodes, seed, slates=slates)
    files = write_report(report, out)
    print(format_table(report))
    print(f"wrote {', '.join(str(path) for path in files)}")
    return 0
