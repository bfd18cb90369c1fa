"""The Ray backend of ``ellm sweep``: each cell a Ray task reserving ``threads`` CPUs (optional extra ``ray``)."""

from __future__ import annotations

import os
from typing import Any

from ellm_core.experiments.local import run_cell, run_setup
from ellm_core.experiments.spec import Cell


def run_ray(todo: list[Cell], threads: int, address: str | None = None,
            setup: list[dict[str, Any]] = ()) -> dict[str, int]:
    """Run cells as Ray tasks of ``threads`` CPUs each (a local instance when ``address`` is None), after the
    setup their methods need (run here, on the driver)."""
    try:
        import ray
    except ImportError as error:
        raise SystemExit("ellm sweep --backend ray needs Ray: pip install 'ellm-recrl[ray]'") from error
    threads = threads if threads > 0 else 1
    for method in dict.fromkeys(cell.method for cell in todo):
        if run_setup(setup, method):
            raise SystemExit(f"ellm sweep: the setup of {method} failed")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=len(os.sched_getaffinity(0)), include_dashboard=False, log_to_driver=False)
    try:
        task = ray.remote(num_cpus=threads)(run_cell)
        cwd = os.getcwd()
        futures = [task.remote(cell, threads, None, cwd) for cell in todo]
        return dict(zip((str(cell.out) for cell in todo), ray.get(futures)))
    finally:
        ray.shutdown()
