import argparse
from dataclasses import dataclass, field

import pytest

from ellm_core.config import add_dataclass_arguments, dataclass_from_args, load_config, save_config
from ellm_core.lm.base import LMConfig


@dataclass
class Example:
    steps: int = field(default=10, metadata={"help": "training steps"})
    name: str | None = None
    cuda: bool = False


def test_flags_round_trip_through_argparse_and_yaml(tmp_path):
    parser = argparse.ArgumentParser()
    add_dataclass_arguments(parser, Example, prefix="x-")
    add_dataclass_arguments(parser, LMConfig, prefix="lm-")
    args = parser.parse_args(["--x-steps", "5", "--x-cuda", "--lm-temperature", "0.5"])
    example = dataclass_from_args(Example, args, prefix="x-")
    assert example == Example(steps=5, name=None, cuda=True)
    assert dataclass_from_args(LMConfig, args, prefix="lm-").temperature == 0.5
    path = save_config(example, tmp_path / "run")
    assert load_config(Example, path) == example
    assert "training steps (default: 10)" in parser.format_help()


def test_load_config_rejects_unknown_keys(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("steps: 3\nstepz: 4\n")
    with pytest.raises(ValueError, match="stepz"):
        load_config(Example, path)
