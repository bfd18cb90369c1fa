"""A sweep's spec and its cells: the YAML file, the grid of (method, seed) runs and each one's command line.

:class:`SweepSpec` reads and checks a spec file (see :mod:`ellm_core.experiments.sweep` for its keys);
:func:`cells` expands it into :class:`Cell` objects, each with its full command line and its state on disk
(new, partial, waiting, done). Nothing here runs anything: the runners (:mod:`~ellm_core.experiments.local`,
:mod:`~ellm_core.experiments.ray_runner`) take cells.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ellm_core.config import from_dict
from ellm_core.run.checkpoint import NETWORK_FILE, checkpoints, latest_checkpoint

#: Programs run as ``python -m MODULE`` of this interpreter, so cells use the same environment.
PROGRAMS = {"ellm": "ellm_core.cli", "recrl": "recrl.cli"}


def command_argv(command: str) -> list[str]:
    """``ellm crafter train`` → ``[python, -m, ellm_core.cli, crafter, train]`` (other programs as written)."""
    words = shlex.split(command)
    if words and words[0] in PROGRAMS:
        return [sys.executable, "-m", PROGRAMS[words[0]], *words[1:]]
    return words


def check_command(command: str, where: str, allow_any: bool = False) -> None:
    """A spec's ``command:`` and setup ``run:`` lines must start with ``ellm`` or ``recrl`` (a spec found on disk
    runs what it says); ``allow_any`` (``ellm sweep --allow-any-command``) lifts this."""
    words = shlex.split(command) if command else []
    if not allow_any and (not words or words[0] not in PROGRAMS):
        raise ValueError(f"{where}: {command!r} is not an ellm or recrl command; a sweep runs only those unless "
                         "you pass --allow-any-command")


@dataclass
class SweepSpec:
    """One sweep: the command, the grid, the budget of the machine, and the aggregation at the end."""

    command: str
    out: str
    methods: dict[str, dict[str, Any]]
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    args: dict[str, Any] = field(default_factory=dict)
    parallel: int = 1
    threads: int = 0
    setup: list[dict[str, str]] = field(default_factory=list)
    #: run after the comparison, once every cell of the step's ``methods`` (every cell when absent) is done
    finish: list[dict[str, Any]] = field(default_factory=list)
    compare: dict[str, Any] | None = None
    results: str | None = None  # where finished cells' small files (``keep``) and the comparison are copied
    keep: list[str] = field(default_factory=lambda: ["stats.jsonl", "config.yaml", "summary.json"])
    #: the kept files that make a results copy stand for its finished cell when the run directory is gone (what
    #: the comparison reads); default: every file of ``keep``
    record: list[str] | None = None

    @classmethod
    def load(cls, path: str | Path, allow_any_command: bool = False) -> SweepSpec:
        """Read and check a spec file; errors name the file and the problem. Commands must be ``ellm``/``recrl``
        ones unless ``allow_any_command``."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no sweep spec at {path}")
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            where = getattr(error, "problem_mark", None)
            line = f" line {where.line + 1}" if where is not None else ""
            raise ValueError(f"{path}:{line} is not valid YAML ({getattr(error, 'problem', None) or error})") from None
        if not isinstance(values, dict):
            raise ValueError(f"{path}: a sweep spec is a YAML mapping")
        missing = [key for key in ("command", "out", "methods") if key not in values]
        if missing:
            raise ValueError(f"{path}: missing keys {missing}")
        spec = from_dict(cls, values, str(path))
        if not isinstance(spec.methods, dict) or not spec.methods:
            raise ValueError(f"{path}: methods must map names to flag mappings")
        for name, flags in spec.methods.items():
            if flags is not None and not isinstance(flags, dict):
                raise ValueError(f"{path}: method {name!r} must map flags to values, got {flags!r}")
        for step in spec.setup:
            if not isinstance(step, dict) or "run" not in step or set(step) - {"run", "creates", "methods"}:
                raise ValueError(f"{path}: a setup step is {{run: COMMAND, creates: PATH, methods: [...]}}, got {step!r}")
            check_command(str(step["run"]), f"{path}: setup", allow_any_command)
        for step in spec.finish:
            if not isinstance(step, dict) or "run" not in step or set(step) - {"run", "needs", "methods"}:
                raise ValueError(f"{path}: a finish step is {{run: COMMAND, needs: PATH, methods: [...]}}, got {step!r}")
            check_command(str(step["run"]), f"{path}: finish", allow_any_command)
        check_command(str(spec.command), f"{path}: command", allow_any_command)
        return spec


@dataclass
class Cell:
    """One (method, seed) run of a sweep."""

    method: str
    seed: int
    out: Path
    argv: list[str]
    steps: int | None = None  # the budget, when the spec sets ``steps``
    init_from: Path | None = None  # the pretrained run it starts from, when the spec sets ``init-from``
    results: Path | None = None  # ``RESULTS/runs/<cell>``: the kept copy of the finished run, when the spec has one
    record_files: tuple[str, ...] = ("summary.json",)  # what that copy must hold to stand for the run

    def finished(self, directory: Path) -> bool:
        """Whether ``directory`` holds this cell's finished run (``summary.json`` at the budget)."""
        summary = directory / "summary.json"
        return summary.is_file() and (self.steps is None or json.loads(summary.read_text())["step"] >= self.steps)

    @property
    def record(self) -> Path:
        """Where the finished run's files are: its kept copy in the results folder when that copy is finished and
        holds the ``record`` files (``results/`` is committed, ``runs/`` is scratch), else the run directory. So a
        comparison lists paths that exist in the repository."""
        if (self.results is not None and self.finished(self.results)
                and all((self.results / name).is_file() for name in self.record_files)):
            return self.results
        return self.out

    @property
    def status(self) -> str:
        """``done`` (summary.json written, at the budget, in the run directory or its results copy), ``partial``
        (a checkpoint to resume: also a finished run whose budget the spec has since raised), ``waiting`` (its
        ``init-from`` run is not finished, or left no network) or ``new``."""
        if self.finished(self.record):
            return "done"
        if checkpoints(self.out):  # any step_*.pt: the resume takes the newest that loads
            return "partial"
        return "waiting" if self.init_from and not pretrained(self.init_from) else "new"

    @property
    def progress(self) -> str:
        """``STEP/STEPS``: the finished run's step, else the last row of its ``progress.csv`` (``-`` before one)."""
        summary, path = self.record / "summary.json", self.out / "progress.csv"
        if summary.is_file():
            step = str(json.loads(summary.read_text(encoding="utf-8"))["step"])
        elif path.is_file():
            lines = path.read_text(encoding="utf-8").strip().splitlines()
            step = lines[-1].split(",", 1)[0] if len(lines) > 1 else "0"
        else:
            return "-"
        return f"{step}/{self.steps}" if self.steps else step

    @property
    def log(self) -> Path:
        """``OUT.log``: the cell's command lines and output (its lock file is ``OUT.lock``)."""
        return self.out.with_name(self.out.name + ".log")

    def under(self, root: Path) -> Cell:
        """This cell with its relative paths starting at ``root``."""
        return replace(self, out=root / self.out, results=self.results and root / self.results,
                       init_from=self.init_from and root / self.init_from)


def pretrained(run_dir: Path) -> bool:
    """Whether ``run_dir`` is a finished run whose Q-network can be loaded (``qnet.pt`` or a checkpoint)."""
    return (run_dir / "summary.json").is_file() and (
        (run_dir / NETWORK_FILE).is_file() or latest_checkpoint(run_dir) is not None)


def fill(text: Any, context: dict[str, Any]) -> str:
    """``text`` with its ``{seed}``-style fields (the keys of ``context``) filled in; other braces, such as a JSON
    value's (``{"goal_vocabulary": "achievements"}``), stay as written."""
    return re.sub(r"\{(\w+)\}", lambda match: str(context.get(match[1], match[0])), str(text))


def flags(values: dict[str, Any], context: dict[str, Any]) -> list[str]:
    """Command-line flags of a ``{flag: value}`` mapping; ``{seed}``-style fields of strings are filled in."""
    argv = []
    for key, value in values.items():
        flag = "--" + str(key).replace("_", "-")
        if value is None:
            continue
        if value is True:
            argv.append(flag)
        elif value is False:
            argv.append("--no-" + flag[2:])
        elif isinstance(value, (list, tuple)):
            argv += [flag, *(fill(v, context) for v in value)]
        else:
            argv += [flag, fill(value, context)]
    return argv


def cells(spec: SweepSpec) -> list[Cell]:
    """The grid, method-major in the spec's order, with each cell's full command line."""
    grid = []
    for method, overrides in spec.methods.items():
        for seed in spec.seeds:
            out = Path(spec.out) / f"{method}-seed{seed}"
            context = {"seed": seed, "method": method, "out": spec.out}
            values = {**spec.args, **(overrides or {}), "seed": seed, "out": str(out)}
            steps = int(values["steps"]) if values.get("steps") is not None else None
            source = values.get("init-from", values.get("init_from"))
            grid.append(Cell(method, seed, out, command_argv(spec.command) + flags(values, context), steps,
                             Path(fill(source, context)) if source else None,
                             Path(spec.results) / "runs" / out.name if spec.results else None,
                             tuple(spec.keep if spec.record is None else spec.record)))
    return grid
