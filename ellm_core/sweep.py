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

Flags: ``key: value`` becomes ``--key value``; ``true`` becomes ``--key``, ``false`` ``--no-key``; a list
gives the values after one flag. A cell whose run directory holds ``summary.json`` is done and skipped; one
with a checkpoint is resumed (``--resume``). Each cell's output goes to ``OUT/<method>-seed<seed>.log``.

Cores are never oversubscribed: each local cell is pinned to its own ``threads`` cores (CPU affinity) and
its torch/OpenMP threads are set to match. With ``--backend ray`` every cell is a Ray task reserving
``threads`` CPUs, so the same spec runs on a cluster whose nodes share the working directory.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import queue
import shlex
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ellm_core.config import from_dict
from ellm_core.resources import cpu_threads

logger = logging.getLogger(__name__)

#: Programs run through the interpreter of this environment (no console script needed on PATH).
PROGRAMS = {"ellm": "ellm_core.cli", "recrl": "recrl.cli"}


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

    @property
    def status(self) -> str:
        """``done`` (summary.json written, at the budget), ``partial`` (a checkpoint to resume: also a finished
        run whose budget the spec has since raised), ``waiting`` (its ``init-from`` run is not finished) or
        ``new``."""
        summary = self.out / "summary.json"
        if summary.is_file() and (self.steps is None or json.loads(summary.read_text())["step"] >= self.steps):
            return "done"
        if (self.out / "checkpoints" / "latest").is_file():
            return "partial"
        return "waiting" if self.init_from and not (self.init_from / "summary.json").is_file() else "new"

    @property
    def progress(self) -> str:
        """``STEP/STEPS``: the finished run's step, else the last row of its ``progress.csv`` (``-`` before one)."""
        summary, path = self.out / "summary.json", self.out / "progress.csv"
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
        return self.out.with_name(self.out.name + ".log")


def command_argv(command: str) -> list[str]:
    """``ellm crafter train`` → ``[python, -m, ellm_core.cli, crafter, train]`` (other programs as written)."""
    words = shlex.split(command)
    if words and words[0] in PROGRAMS:
        return [sys.executable, "-m", PROGRAMS[words[0]], *words[1:]]
    return words


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
                             Path(str(source).format(**context)) if source else None))
    return grid


def core_slots(parallel: int, threads: int) -> tuple[list[list[int]], int]:
    """Disjoint core sets for ``parallel`` cells of ``threads`` cores each, fitted to this machine's cores."""
    cores = sorted(os.sched_getaffinity(0))
    parallel = parallel if parallel > 0 else max(1, len(cores) // max(threads, 1))
    threads = threads if threads > 0 else max(1, len(cores) // parallel)
    if parallel * threads > len(cores):
        fitted = max(1, len(cores) // threads)
        logger.warning("%d cells × %d threads > %d cores: running %d at a time", parallel, threads, len(cores),
                       fitted)
        parallel = fitted
    threads = min(threads, len(cores))
    return [cores[i * threads:(i + 1) * threads] for i in range(parallel)], threads


def cell_environment(threads: int) -> dict[str, str]:
    """The environment of a cell: its thread counts and the offline model hubs."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1"}


#: Exit status of a cell another sweep is running (its lock is held): skipped, not failed.
BUSY = -1
#: Exit status of a cell not started because the sweep was stopped.
STOPPED = -2
_RUNNING: set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()
_STOPPING = threading.Event()


def stop_cells(signum: int | None = None, frame: Any = None) -> None:
    """Terminate the running cells and start no more. A killed sweep must leave no orphan: an orphan cell holds
    no lock, so a restarted sweep would run it twice into one directory. As a signal handler it then exits."""
    _STOPPING.set()
    with _RUNNING_LOCK:
        for process in _RUNNING:
            process.terminate()
    if signum is not None:
        raise SystemExit(128 + signum)


def run_cell(argv: list[str], log: str, threads: int, cores: list[int] | None = None, cwd: str | None = None) -> int:
    """Run one cell's command with its output appended to ``log``; returns the exit status (:data:`BUSY` when
    another sweep holds the cell's lock file, ``LOG`` with ``.lock``)."""
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    pin = (lambda: os.sched_setaffinity(0, cores)) if cores else None
    with open(Path(log).with_suffix(".lock"), "w") as lock, open(log, "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return BUSY
        handle.write(f"$ {shlex.join(argv)}\n")
        handle.flush()
        with _RUNNING_LOCK:
            if _STOPPING.is_set():
                return STOPPED
            process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, env=cell_environment(threads),
                                       preexec_fn=pin, cwd=cwd)
            _RUNNING.add(process)
        try:
            return process.wait()
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(process)


_SETUP_LOCK = threading.Lock()


def run_setup(steps: list[dict[str, Any]], method: str, cores: list[int] | None = None) -> int:
    """Run the setup commands ``method`` needs (a step's ``methods``, or every method) whose ``creates`` path is
    missing, one at a time across the sweep; returns the first failing exit status, else 0."""
    with _SETUP_LOCK:
        for step in steps:
            if step.get("methods") and method not in step["methods"]:
                continue
            if step.get("creates") and Path(step["creates"]).exists():
                continue
            logger.info("setup for %s: %s", method, step["run"])
            pin = (lambda: os.sched_setaffinity(0, cores)) if cores else None
            code = subprocess.run(command_argv(step["run"]), env=cell_environment(len(cores) if cores else cpu_threads()),
                                  preexec_fn=pin).returncode
            if code:
                logger.error("setup %r failed (exit %d)", step["run"], code)
                return code
    return 0


def command_line(cell: Cell) -> list[str]:
    """The cell's command, resuming when it has a checkpoint."""
    return cell.argv + (["--resume"] if cell.status == "partial" else [])


def run_local(todo: list[Cell], parallel: int, threads: int, setup: list[dict[str, Any]] = ()) -> dict[str, int]:
    """Run cells as local processes, each pinned to its own cores, after the setup its method needs;
    ``{cell out: exit status}``."""
    slots, threads = core_slots(parallel, threads)
    _STOPPING.clear()
    free: queue.Queue = queue.Queue()
    for slot in slots:
        free.put(slot)

    def work(cell: Cell) -> int:
        slot = free.get()
        if _STOPPING.is_set():
            free.put(slot)
            return STOPPED
        try:
            code = run_setup(setup, cell.method, slot)
            if code:
                return code
            logger.info("start %s (%s) on cores %s", cell.out, cell.status, slot)
            return run_cell(command_line(cell), str(cell.log), threads, slot)
        finally:
            free.put(slot)

    with ThreadPoolExecutor(max_workers=len(slots)) as pool:
        codes = dict(zip((str(cell.out) for cell in todo), pool.map(work, todo)))
    return codes


def run_sweep(spec: SweepSpec, backend: str = "local", address: str | None = None,
              methods: list[str] | None = None, run: bool = True) -> dict[str, Any]:
    """Run every unfinished cell (of ``methods`` if given; none when ``run`` is False), then the spec's
    comparison and the copy into its results folder; returns a report."""
    if methods:
        unknown = sorted(set(methods) - set(spec.methods))
        if unknown:
            raise ValueError(f"unknown methods {unknown}; the spec has {sorted(spec.methods)}")
        spec = dataclasses.replace(spec, methods={m: spec.methods[m] for m in methods})
    grid = cells(spec)
    waiting = [str(cell.out) for cell in grid if cell.status == "waiting"]
    if waiting:
        logger.warning("%d cells wait for their --init-from run to finish: %s", len(waiting), ", ".join(waiting))
    todo = [cell for cell in grid if cell.status in ("new", "partial")] if run else []
    logger.info("%d cells, %d to run (%d to resume)", len(grid), len(todo),
                sum(cell.status == "partial" for cell in todo))
    if backend == "ray":
        from ellm_core.sweep_ray import run_ray

        codes = run_ray(todo, spec.threads, address, spec.setup)
    else:
        codes = run_local(todo, spec.parallel, spec.threads, spec.setup)
    failed = [out for out, code in codes.items() if code not in (0, BUSY, STOPPED)]
    busy = [out for out, code in codes.items() if code == BUSY]
    for out in failed:
        logger.error("cell %s failed (exit %d): see %s.log", out, codes[out], out)
    for out in busy:
        logger.warning("cell %s is being run by another sweep: skipped", out)
    report = {"cells": len(grid), "ran": len(todo) - len(busy), "failed": failed, "busy": busy, "waiting": waiting,
              "done": [str(cell.out) for cell in grid if cell.status == "done"]}
    if spec.compare:
        from ellm_core.sweep_compare import run_comparison

        report["compare"] = run_comparison(spec, grid)
    if spec.results:
        from ellm_core.sweep_compare import collect

        report["results"] = collect(spec, grid)
    return report
