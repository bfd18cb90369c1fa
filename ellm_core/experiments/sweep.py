"""``ellm sweep SPEC.yaml``: a grid of methods × seeds of one training command, run to completion.

A spec is one YAML file (:class:`SweepSpec`)::

    command: ellm crafter train        # an `ellm …` / `recrl …` train command taking --seed/--out/--resume (another
                                       # program only with --allow-any-command)
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
    finish:    # run after the comparison once every cell of `methods` (of the grid when absent) is done and `needs`
               # exists (skipped when the cells ran on another machine: runs/ is scratch)
      - {run: "ellm cache export runs/c/cache.sqlite results/c/llm_cache.jsonl.gz", needs: runs/c/cache.sqlite,
         methods: [ellm]}
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

import logging
import subprocess
from pathlib import Path
from typing import Any

from ellm_core.experiments.compare import collect, keep_comparison, run_comparison
from ellm_core.experiments.local import BUSY, FINISHED, STOPPED, run_local
from ellm_core.experiments.spec import SweepSpec, cells, command_argv

logger = logging.getLogger(__name__)


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
        from ellm_core.experiments.ray_runner import run_ray

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
    if spec.results:  # first, so that the comparison reads (and lists) the kept copies
        report["results"] = collect(spec, grid)
    if spec.compare:
        report["compare"] = run_comparison(spec, grid)
        if spec.results:
            keep_comparison(spec)
    report["finish_ran"] = run_finish(spec.finish, grid)
    return report


def run_finish(steps: list[dict[str, Any]], grid: list) -> list[str]:
    """Run each finish step whose methods' cells (every cell when it names none) are all done and whose ``needs`` path
    exists; returns the commands run. A failing step is logged, not raised: the cells and the comparison are already
    safe on disk."""
    ran = []
    for step in steps:
        mine = [cell for cell in grid if not step.get("methods") or cell.method in step["methods"]]
        if not mine or any(cell.status != "done" for cell in mine):
            continue
        if step.get("needs") and not Path(step["needs"]).exists():
            logger.info("finish: skipped %r: %s is not on this machine", step["run"], step["needs"])
            continue
        logger.info("finish: %s", step["run"])
        code = subprocess.run(command_argv(step["run"])).returncode
        if code:
            logger.error("finish step %r failed (exit %d)", step["run"], code)
        else:
            ran.append(step["run"])
    return ran
