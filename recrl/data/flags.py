"""The data layer's own config helpers: :class:`~recrl.data.prepare.PrepareConfig` fields as ``--flags`` and back,
and its YAML record. ``recrl.data`` imports nothing from ``ellm_core``, so it can be used (and tested) alone."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path
from typing import Any

import yaml


def option(default: Any, help_text: str, **metadata: Any) -> Any:
    """A dataclass field carrying its ``--help`` text (and e.g. ``choices=...``)."""
    return dataclasses.field(default=default, metadata={"help": help_text, **metadata})


def add_config_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """One ``--field-name`` flag per field of ``cls``; booleans (also ``bool | None``) get ``--x/--no-x``."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        kinds = [kind for kind in typing.get_args(hints[field.name]) if kind is not type(None)] or [hints[field.name]]
        kind = kinds[0] if len(kinds) == 1 else str
        text = f"{field.metadata.get('help', '')} (default: {field.default})"
        if kind is bool:
            parser.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, default=field.default,
                                action=argparse.BooleanOptionalAction, help=text)
        else:
            parser.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, default=field.default,
                                type=kind, choices=field.metadata.get("choices"), help=text)


def config_from_flags(cls: type, args: argparse.Namespace) -> Any:
    """``cls`` built from the flags of :func:`add_config_flags`."""
    return cls(**{field.name: getattr(args, field.name) for field in dataclasses.fields(cls)})


def save_config(config: Any, directory: str | Path, name: str = "config.yaml") -> Path:
    """The config as YAML in ``directory``; returns the file."""
    path = Path(directory) / name
    path.write_text(yaml.safe_dump(dataclasses.asdict(config), sort_keys=False), encoding="utf-8")
    return path
