"""``ellm sweep SPEC.yaml``: a grid of methods × seeds of one training command, run to completion.

A spec is one YAML file (:class:`SweepSpec`)::

    command: ellm crafter train        # any `ellm …` / `recrl …` train command that takes --seed/--out/--resume
    out: runs/crafter-100k             # cell (method, seed) runs in OUT/<method>-seed<seed>
    seeds: [0, 1, 2]
    parallel: 2                        # cells at once (0: as many as the cores allow at `threads` each)
    threads: 1                         # CPU threads per cell (0: cores // parallel)
    args: {preset: demo, steps: 100000, length: 400}     # flags of every cell
    methods:                                             # flags of each method (override args)
      none: {reward: none}
      ellm-nofilter: {reward: ellm, filter-achieved: false}
      from-ellm: {init-from: "runs/crafter-100k/ellm-seed{seed}"}  # {seed}, {method}, {out} are filled in
    setup:     # run before the first cell of `methods` (of every method when absent), unless `creates` exists
      - {run: "ellm crafter suggester --out runs/s", creates: runs/s/adapter, methods: [suggester]}
    compare: {kind: crafter, baselines: [none, novelty]}  # the aggregation that ends the sweep
    results: results/crafter/100k      # finished cells' small files (keep: [stats.jsonl, ...]) and the comparison
    record: [stats.jsonl, summary.json]   # a kept copy holding these stands for its cell once runs/ is gone

Flags: ``key: value`` becomes ``--key value``; ``true`` becomes ``--key``, ``false`` ``--no-key``; a list
gives the values after one flag. A cell whose run directory holds ``summary.json`` is done and skipped; one
with a checkpoint is resumed (``--resume``). Each cell's output goes to ``OUT/<method>-seed<seed>.log``. ``runs/``
is scratch: a cell whose run directory is gone is also done when its copy in the results folder is finished and
holds the ``record`` files, and the comparison reads that copy.

Cores are never oversubscribed: each local cell is pinned to its own ``threads`` cores (CPU affinity) and
its torch/OpenMP threads are set to match. With ``--backend ray`` every cell is a Ray task reserving
``threads`` CPUs, so the same spec runs on a cluster whose nodes share the working directory.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ellm_core.checkpoint import NETWORK_FILE, latest_checkpoint
from ellm_core.config import from_dict
from ellm_core.sweep_local import (  # noqa: F401 (re-exported: the sweep's API)
    BUSY,
    FINISHED,
    PROGRAMS,
    STOPPED,
    command_argv,
    command_line,
    core_slots,
    run_cell,
    run_local,
    run_setup,
    stop_cells,
)

logger = logging.getLogger(__name__)


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
    compare: dict[str, Any] | None = None
    results: str | None = None  # where finished cells' small files (``keep``) and the comparison are copied
    keep: list[str] = field(default_factory=lambda: ["stats.jsonl", "config.yaml", "summary.json"])
    #: the kept files that make a results copy stand for its finished cell when the run directory is gone (what
    #: the comparison reads); default: every file of ``keep``
    record: list[str] | None = None

    @classmethod
    def load(cls, path: str | Path) -> SweepSpec:
        """Read and check a spec file; errors name the file and the problem."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no sweep spec at {path}")
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
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
        """Where the finished run's files are: the run directory, else its kept copy in the results folder (the
        run directory may be gone: ``runs/`` is scratch, ``results/`` is committed)."""
        if (self.results is not None and not self.finished(self.out) and self.finished(self.results)
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
        if (self.out / "checkpoints" / "latest").is_file():
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
            argv += [flag, *(str(v).format(**context) for v in value)]
        else:
            argv += [flag, str(value).format(**context)]
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
                             Path(str(source).format(**context)) if source else None,
                             Path(spec.results) / "runs" / out.name if spec.results else None,
                             tuple(spec.keep if spec.record is None else spec.record)))
    return grid


def run_sweep(spec: SweepSpec, backend: str = "local", address: str | None = None,
              methods: list[str] | None = None, run: bool = True, seeds: list[int] | None = None) -> dict[str, Any]:
    """Run every unfinished cell (only those of ``methods`` and ``seeds`` if given; none when ``run`` is False),
    then the spec's comparison and the copy into its results folder, both over the whole grid; returns a report."""
    unknown = sorted(set(methods or ()) - set(spec.methods)) + sorted(set(seeds or ()) - set(spec.seeds))
    if unknown:
        raise ValueError(f"unknown methods or seeds {unknown}; the spec has {sorted(spec.methods)} × {spec.seeds}")
    grid = cells(spec)
    selected = [cell for cell in grid if (not methods or cell.method in methods) and (not seeds or cell.seed in seeds)]
    waiting = [str(cell.out) for cell in selected if cell.status == "waiting"]
    if waiting:
        logger.warning("%d cells wait for their --init-from run to finish: %s", len(waiting), ", ".join(waiting))
    todo = [cell for cell in selected if cell.status in ("new", "partial")] if run else []
    logger.info("%d cells, %d to run (%d to resume)", len(grid), len(todo),
                sum(cell.status == "partial" for cell in todo))
    if backend == "ray":
        from ellm_core.sweep_ray import run_ray

        codes = run_ray(todo, spec.threads, address, spec.setup)
    else:
        codes = run_local(todo, spec.parallel, spec.threads, spec.setup)
    failed = [out for out, code in codes.items() if code not in (0, BUSY, STOPPED, FINISHED)]
    busy = [out for out, code in codes.items() if code == BUSY]
    elsewhere = [out for out, code in codes.items() if code == FINISHED]
    for out in failed:
        logger.error("cell %s failed (exit %d): see %s.log", out, codes[out], out)
    for out in busy:
        logger.warning("cell %s is being run by another sweep: skipped", out)
    for out in elsewhere:
        logger.info("cell %s was finished by another sweep: skipped", out)
    report = {"cells": len(grid), "ran": len(todo) - len(busy) - len(elsewhere), "failed": failed, "busy": busy, "waiting": waiting,
              "done": [str(cell.out) for cell in grid if cell.status == "done"]}
    if spec.compare:
        from ellm_core.sweep_compare import run_comparison

        report["compare"] = run_comparison(spec, grid)
    if spec.results:
        from ellm_core.sweep_compare import collect

        report["results"] = collect(spec, grid)
    return report
