"""The ``recrl`` command. Subcommands register themselves in :data:`COMMANDS` as the modules land
(``data``, ``rationale``, ``browse``, ``validate``); ``recrl --help`` lists what is available."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ellm_core.cli import run_handler
from ellm_core.logs import setup_logging
from recrl.browse.cli import add_browse_command
from recrl.data.cli import add_data_command
from recrl.rationale.cli import add_rationale_command
from recrl.validation.cli import add_validate_command

#: name -> function adding the subcommand's parser to the ``recrl`` subparsers.
COMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "data": add_data_command,
    "rationale": add_rationale_command,
    "browse": add_browse_command,
    "validate": add_validate_command,
}


def build_parser() -> argparse.ArgumentParser:
    """The ``recrl`` argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="recrl", description="ELLM for recommendation: data, rationales, "
                                     "product browsing and reward validation.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_command in COMMANDS.values():
        add_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``recrl`` console script."""
    parser = build_parser()
    first, _ = parser.parse_known_args(argv)
    if getattr(first, "preset", None) and getattr(first, "preset_hook", None):
        first.preset_hook(first.preset)  # the preset's values become defaults; explicit flags still win
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0 if COMMANDS else 2
    return run_handler("recrl", args)


if __name__ == "__main__":
    sys.exit(main())
