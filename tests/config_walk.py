"""The walk of a run's config: which modules ``train(config)`` hands its ``TrainConfig`` to, in call order.

Every Python call inside ``ellm_core`` that receives a ``TrainConfig`` (or its goal, DQN or LM part) as an argument, from the moment ``train`` is
entered, is a visit to the callee's module; consecutive visits to one module are one *stay*, and a stay in a module
already left is a *return* (returns = stays - modules). Fewer returns: the config reaches each part once, from the
assembly, rather than being read again along the way. The walk runs the richest smoke run of
``tests/ellm_core/test_same_runs.py`` (ranked goals of a scripted LM with the LM's chain, goal-conditioned).

``python -m tests.config_walk`` prints the walk; ``tests/test_layout.py`` holds the returns under a ceiling.
"""

from __future__ import annotations

import sys
import tempfile
from itertools import groupby
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


PACKAGE = str(ROOT / "ellm_core") + "/"
#: The run's config and the parts of it that travel on their own.
CONFIGS = {"TrainConfig", "GoalConfig", "DQNConfig", "LMConfig"}
_names: dict[str, str | None] = {}


def _module(filename: str) -> str | None:
    if filename not in _names:
        inside = filename.startswith(PACKAGE)
        relative = Path(filename[len(PACKAGE):]).with_suffix("").parts if inside else ()
        _names[filename] = ("ellm_core." + ".".join(relative)).removesuffix(".__init__") if inside else None
    return _names[filename]


def walk(argv: list[str]) -> list[str]:
    """The modules, one per visit, that the config of ``ellm crafter train ARGV`` passes through from ``train``."""
    from ellm_core.cli import main

    visits: list[str] = []
    inside = [False]

    def profile(frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        if not inside[0]:
            inside[0] = code.co_name == "train" and (_module(code.co_filename) or "").endswith("train")
            if not inside[0]:
                return
        module = _module(code.co_filename)
        if module is None:
            return
        arguments = [frame.f_locals.get(name) for name in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]]
        if any(type(value).__name__ in CONFIGS for value in arguments):
            visits.append(module)

    sys.setprofile(profile)
    try:
        assert main(["crafter", "train", *argv]) == 0
    finally:
        sys.setprofile(None)
    return visits


def summary(visits: list[str]) -> dict[str, object]:
    """Modules, stays, returns, and how often each module was entered."""
    stays = [module for module, _ in groupby(visits)]
    entered = {module: stays.count(module) for module in dict.fromkeys(stays)}
    return {"modules": len(entered), "stays": len(stays), "returns": len(stays) - len(entered), "entered": entered}


def smoke_argv(out: Path) -> list[str]:
    from tests.ellm_core.test_same_runs import COMMON, METHODS

    return [*COMMON, *METHODS["ellm-chain"], "--steps", "24", "--length", "12", "--out", str(out)]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        result = summary(walk(smoke_argv(Path(folder) / "run")))
    print(f"{result['modules']} modules, {result['stays']} stays, {result['returns']} returns")
    for module, times in sorted(result["entered"].items(), key=lambda item: -item[1]):
        print(f"  {times:>3}  {module}")
