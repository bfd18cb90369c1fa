"""``recrl data prepare`` and ``recrl data stats``."""

from __future__ import annotations

import argparse
import json
import logging

from recrl.data.flags import add_config_flags, config_from_flags
from recrl.data.prepare import PrepareConfig, prepare
from recrl.data.prepared import dataset_stats, load_prepared
from recrl.data.rows import BadRowError

logger = logging.getLogger(__name__)


def add_data_command(commands: argparse._SubParsersAction) -> None:
    """Add ``data`` with its ``prepare`` and ``stats`` subcommands to the ``recrl`` parser."""
    data = commands.add_parser("data", help="prepare product/rating data into the canonical schema",
                               description="Convert a data source into a prepared directory, or summarise one.")
    data.set_defaults(handler=lambda args: data.print_help() or 2)
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")

    prepare_parser = actions.add_parser(
        "prepare", help="convert a source into items/interactions/split parquet + report.json",
        description="Convert a source (the bundled sample, Amazon Reviews 2023/2018, MovieLens) into a prepared "
                    "directory. Every input row is accounted for in report.json.")
    add_config_flags(prepare_parser, PrepareConfig)
    prepare_parser.set_defaults(handler=run_prepare)

    stats_parser = actions.add_parser("stats", help="print users, items, interactions, density, rating histogram",
                                      description="Summarise a prepared directory.")
    stats_parser.add_argument("directory", help="a directory written by `recrl data prepare`")
    stats_parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    stats_parser.set_defaults(handler=run_stats)


def run_prepare(args: argparse.Namespace) -> int:
    """Handler of ``recrl data prepare``: prints where every input row went."""
    config = config_from_flags(PrepareConfig, args)
    try:
        report = prepare(config)
    except (BadRowError, FileNotFoundError, FileExistsError, ValueError) as error:
        logger.error("%s", error)
        return 2
    for role, entry in report["files"].items():
        dropped = ", ".join(f"{reason} {count}" for reason, count in entry["dropped"].items()) or "none"
        print(f"{role}: {entry['path']}\n  read {entry['read']}, kept {entry['kept']}, dropped: {dropped}")
    print(f"wrote {config.out}: {report['users']} users, {report['items']} items, "
          f"{report['interactions']} interactions; split {report['split']}")
    return 0


def format_stats(stats: dict) -> str:
    """The ``stats`` summary as readable lines."""
    lines = [f"users         {stats['users']}", f"items         {stats['items']}",
             f"interactions  {stats['interactions']}", f"density       {stats['density']:.4%}"]
    if stats.get("liked_share") is not None:
        lines.append(f"liked share   {stats['liked_share']:.1%}")
    lines.append("split         " + ", ".join(f"{name} {count}" for name, count in stats["split"].items()))
    lines.append("ratings")
    top = max(stats["rating_histogram"].values(), default=1)
    for rating, count in stats["rating_histogram"].items():
        lines.append(f"  {rating:>4} {count:>9}  {'#' * round(40 * count / top)}")
    return "\n".join(lines)


def run_stats(args: argparse.Namespace) -> int:
    """Handler of ``recrl data stats DIR``."""
    try:
        stats = dataset_stats(load_prepared(args.directory))
    except (FileNotFoundError, ValueError) as error:
        logger.error("%s", error)
        return 2
    print(json.dumps(stats, indent=2) if args.json else format_stats(stats))
    return 0
