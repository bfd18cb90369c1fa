"""The ``ellm sweep`` command (the sweep itself is :mod:`ellm_core.experiments.sweep`)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import signal

from ellm_core.experiments import sweep as sweep_module
from ellm_core.experiments.local import command_line, stop_cells
from ellm_core.experiments.spec import SweepSpec, cells
from ellm_core.experiments.sweep import run_sweep


def add_sweep_command(commands) -> None:
    """Add ``ellm sweep SPEC.yaml`` to the ``ellm`` subcommands."""
    sweep = commands.add_parser("sweep", help="run a grid of methods × seeds from a YAML spec (local processes "
                                "or Ray), resuming unfinished cells, then compare", description=sweep_module.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sweep.add_argument("spec", nargs="+", help="the sweep's YAML file; several run one after the other (e.g. "
                       "pretraining, then the fine-tuning that starts from it)")
    sweep.add_argument("--backend", choices=("local", "ray"), default="local",
                       help="local processes pinned to disjoint cores, or Ray tasks")
    sweep.add_argument("--address", default=None, help="ray: a cluster's address (default: a local instance)")
    sweep.add_argument("--methods", nargs="+", default=None,
                       help="only these methods of the spec (of each spec that has them; the comparison still "
                       "covers the whole grid)")
    sweep.add_argument("--seeds", nargs="+", type=int, default=None,
                       help="only these seeds (the comparison still covers the whole grid)")
    sweep.add_argument("--parallel", type=int, default=None, help="override the spec's cells at once")
    sweep.add_argument("--threads", type=int, default=None, help="override the spec's threads per cell")
    sweep.add_argument("--dry-run", action="store_true", help="list the cells, their status, step and command; run nothing")
    sweep.add_argument("--no-compare", action="store_true", help="skip the comparison at the end")
    sweep.add_argument("--compare-only", action="store_true",
                       help="run no cell: compare the finished ones and copy them into the spec's results folder")
    sweep.add_argument("--allow-any-command", action="store_true",
                       help="let the spec's command and setup lines run programs other than ellm and recrl")
    sweep.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sweep.set_defaults(handler=cmd_sweep)


def cmd_sweep(args) -> int:
    """Run the sweeps in order (a fine-tuning spec after its pretraining one); exit status 1 when a cell failed
    (the others still ran and were compared)."""
    specs = [SweepSpec.load(path, allow_any_command=args.allow_any_command) for path in args.spec]
    unknown = sorted(set(args.methods or ()) - {m for spec in specs for m in spec.methods}) + sorted(
        set(args.seeds or ()) - {seed for spec in specs for seed in spec.seeds})
    if unknown:
        raise ValueError(f"{unknown} are in no spec's methods or seeds")
    overrides = {key: getattr(args, key) for key in ("parallel", "threads") if getattr(args, key) is not None}
    specs = [dataclasses.replace(spec, **overrides, compare=None if args.no_compare else spec.compare)
             for spec in specs]
    if args.dry_run:
        for cell in (cell for spec in specs for cell in cells(spec)):
            if (not args.methods or cell.method in args.methods) and (not args.seeds or cell.seed in args.seeds):
                print(f"{cell.status:<8} {cell.progress:>15}  {cell.out}  $ {shlex.join(command_line(cell))}")
        return 0
    previous = signal.signal(signal.SIGTERM, stop_cells)  # `kill SWEEP` stops its cells too
    failed = False
    try:
        for spec in specs:
            methods = args.methods
            if methods and len(specs) > 1:
                methods = [method for method in methods if method in spec.methods]
                if not methods:
                    continue
            seeds = [seed for seed in args.seeds if seed in spec.seeds] if args.seeds else None
            if args.seeds and not seeds:
                continue
            report = run_sweep(spec, args.backend, args.address, methods, run=not args.compare_only, seeds=seeds)
            print(json.dumps(report, indent=2))
            failed = failed or bool(report["failed"])
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 1 if failed else 0
