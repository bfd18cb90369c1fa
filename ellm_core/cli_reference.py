"""The command-line reference as Markdown, written from the argparse parsers themselves (so it cannot drift).

The documentation site builds its CLI page with it (``docs/gen_pages.py`` passes the ``ellm`` and ``recrl``
parsers; nothing in ``ellm_core`` imports the CLI module). One section per command and subcommand, with its
description and a table of every option.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence


def walk(parser: argparse.ArgumentParser, prefix: str) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """``(command line, parser)`` of ``parser`` and of every subcommand below it, depth first."""
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from walk(child, f"{prefix} {name}")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def options(parser: argparse.ArgumentParser) -> list[tuple[str, str, str]]:
    """``(flags, default, help)`` of each argument a command takes (subcommand choices excluded)."""
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        flags = ", ".join(f"`{flag}`" for flag in action.option_strings) or f"`{action.dest}` (positional)"
        if action.choices and not isinstance(action, argparse._SubParsersAction):
            flags += " {" + ", ".join(str(choice) for choice in action.choices) + "}"
        default = action.default
        shown = "" if default in (None, argparse.SUPPRESS) or isinstance(action, argparse._StoreTrueAction) and \
            default is False else f"`{default}`"
        rows.append((flags, shown, (action.help or "").replace("%(default)s", str(default))))
    return rows


def cli_markdown(programs: Sequence[tuple[str, Callable[[], argparse.ArgumentParser]]]) -> str:
    """The reference page of ``programs`` (name, parser builder), e.g. ``[("ellm", ellm_core.cli.build_parser)]``."""
    names = " and ".join(f"`{name}`" for name, _ in programs)
    lines = ["# Command-line reference", "",
             f"Generated from the argparse parsers of {names} (`ellm_core/cli_reference.py`); every command "
             "also answers `--help`.", ""]
    for program, build in programs:
        for command, parser in walk(build(), program):
            depth = min(command.count(" ") + 2, 4)
            lines += ["#" * depth + f" `{command}`", ""]
            if parser.description:
                lines += [parser.description.strip().split("\n\n")[0].replace("\n", " "), ""]
            rows = options(parser)
            if rows:
                lines += ["| option | default | what it does |", "| --- | --- | --- |"]
                lines += [f"| {_cell(flags)} | {_cell(default)} | {_cell(text)} |" for flags, default, text in rows]
                lines.append("")
    return "\n".join(lines) + "\n"
