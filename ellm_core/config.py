"""Config dataclasses as command-line flags, and the resolved config saved in a run directory.

Each experiment is one dataclass whose fields carry ``metadata={"help": ...}`` (as peft's configs do).
:func:`add_dataclass_arguments` turns the fields into ``--flags``; :func:`dataclass_from_args` builds the
dataclass back from the parsed namespace; :func:`save_config` writes it as YAML.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


def option(default: Any, help_text: str, **metadata: Any) -> Any:
    """A dataclass field with ``--help`` text (and e.g. ``choices=...``) for :func:`add_dataclass_arguments`."""
    return dataclasses.field(default=default, metadata={"help": help_text, **metadata})


def _flag_type(annotation: Any) -> tuple[Any, bool]:
    """(argparse type, is_bool) for a field annotation such as ``int``, ``str | None`` or ``bool``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        non_none = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        annotation = non_none[0] if len(non_none) == 1 else str
    if annotation is bool:
        return None, True
    return (annotation if annotation in (int, float, str) else str), False


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type, prefix: str = "") -> None:
    """Add one ``--{prefix}{field-name}`` flag per dataclass field (booleans get ``--x/--no-x``)."""
    hints = typing.get_type_hints(cls)
    group = parser.add_argument_group(cls.__name__)
    for field in dataclasses.fields(cls):
        if not field.init or field.metadata.get("cli") is False:
            continue
        name = field.metadata.get("flag", field.name)  # a field may keep an older flag's name
        flag = f"--{prefix}{name.replace('_', '-')}"
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        # %(default)s: argparse fills in the default at --help time, so a command's set_defaults shows
        help_text = field.metadata.get("help", "").replace("%", "%%") + " (default: %(default)s)"
        kind, is_bool = _flag_type(hints[field.name])
        choices = field.metadata.get("choices")
        dest = prefix.replace("-", "_") + name
        if is_bool:
            group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=default, help=help_text)
        else:
            group.add_argument(flag, dest=dest, type=kind, default=default, choices=choices, help=help_text)


def dataclass_from_args(cls: type[T], args: argparse.Namespace, prefix: str = "") -> T:
    """Build ``cls`` from the flags added by :func:`add_dataclass_arguments`."""
    values = {}
    for field in dataclasses.fields(cls):
        dest = prefix.replace("-", "_") + field.metadata.get("flag", field.name)
        if field.init and hasattr(args, dest):
            values[field.name] = getattr(args, dest)
    return cls(**values)


def json_object(text: str | None, flag: str) -> dict[str, Any]:
    """The JSON object given to command-line ``flag`` (empty for none); anything else is a clear error."""
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        raise ValueError(f"{flag} must be a JSON object, got {text!r}: {error}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{flag} must be a JSON object, got {text!r}")
    return value


def to_dict(config: Any) -> dict[str, Any]:
    """A dataclass (possibly nested) as plain dict of YAML-safe values."""
    return dataclasses.asdict(config)


def save_config(config: Any, run_dir: str | Path, name: str = "config.yaml") -> Path:
    """Write the resolved config of a run as YAML in ``run_dir``; returns the file path."""
    path = Path(run_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(to_dict(config), sort_keys=False), encoding="utf-8")
    return path


def load_config(cls: type[T], path: str | Path) -> T:
    """Read a config saved by :func:`save_config` (unknown keys are an error naming them)."""
    values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return from_dict(cls, values, str(path))


def from_dict(cls: type[T], values: dict[str, Any], where: str = "config") -> T:
    """Build ``cls`` from plain values, nested dataclass fields included (unknown keys are an error)."""
    upgrade = getattr(cls, "upgrade_values", None)  # older saved layouts of the same config
    values = upgrade(values) if upgrade is not None else values
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{where}: unknown {cls.__name__} keys {unknown}; known: {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    converted = {
        name: from_dict(hints[name], value, f"{where}.{name}")
        if isinstance(value, dict) and dataclasses.is_dataclass(hints[name]) else value
        for name, value in values.items()
    }
    return cls(**converted)
