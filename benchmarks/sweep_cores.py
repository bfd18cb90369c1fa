"""Two sweep cells at once: pinned to their own cores with one thread each (what ``ellm sweep`` does) against two
plain processes with torch's default threads (what a shell loop with ``&`` does).

Each contender runs the same two cells, ``ellm crafter train --reward none --preset demo`` with the real embedder
(torch threads matter there) on seeds 0 and 1, at the same time, and is timed wall-clock until both finish. The
ratio is naive ÷ pinned wall time (> 1: pinning is faster). Run it on an otherwise idle machine.

Usage: python benchmarks/sweep_cores.py [--quick] [--steps N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from ellm_core.experiments.spec import command_argv, flags
from ellm_core.hardware import describe, describe_line


def common(steps: int) -> dict[str, object]:
    """The flags both contenders give every cell."""
    return {"preset": "demo", "reward": "none", "steps": steps, "length": 400, "eval-every": 0, "eval-episodes": 1,
            "checkpoint-every": steps, "tensorboard": False}


def cell_args(steps: int, seed: int, out: Path) -> list[str]:
    """The command-line flags of one naive cell."""
    return flags({**common(steps), "seed": seed, "cache": out / f"cache{seed}.sqlite", "out": out / f"none-seed{seed}"},
                 {})


def naive(steps: int, out: Path) -> float:
    """Both cells as plain concurrent processes with default threads; wall seconds."""
    environment = {key: value for key, value in os.environ.items() if key not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    started = time.perf_counter()
    processes = [subprocess.Popen(command_argv("ellm crafter train") + cell_args(steps, seed, out), env=environment,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for seed in (0, 1)]
    codes = [process.wait() for process in processes]
    if any(codes):
        raise SystemExit(f"naive cells failed: {codes}")
    return time.perf_counter() - started


def pinned(steps: int, out: Path) -> float:
    """Both cells through ``ellm sweep`` (one core and one thread each); wall seconds."""
    spec = {"command": "ellm crafter train", "out": str(out), "seeds": [0, 1], "parallel": 2, "threads": 1,
            "args": common(steps), "methods": {"none": {"cache": str(out / "cache{seed}.sqlite")}}}
    (out / "spec.yaml").write_text(yaml.safe_dump(spec))
    started = time.perf_counter()
    subprocess.run(command_argv("ellm sweep") + [str(out / "spec.yaml"), "--no-compare"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    """Print both wall times, the ratio, and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="steps per cell")
    parser.add_argument("--quick", action="store_true", help="1,000 steps per cell")
    args = parser.parse_args()
    steps = 1000 if args.quick else args.steps
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "naive").mkdir()
        (Path(directory) / "pinned").mkdir()
        naive_s = naive(steps, Path(directory) / "naive")
        pinned_s = pinned(steps, Path(directory) / "pinned")
    print(f"two cells of {steps} steps at once on {cores} cores; {describe_line(cores)}")
    print(f"  default threads, unpinned : {naive_s:7.1f} s")
    print(f"  ellm sweep (1 thread each): {pinned_s:7.1f} s")
    print(f"  ratio unpinned / pinned   : {naive_s / pinned_s:7.2f}")
    print(json.dumps({"steps": steps, "cores": cores, "naive_s": round(naive_s, 1), "pinned_s": round(pinned_s, 1),
                      "ratio": round(naive_s / pinned_s, 2), "benchmark": "sweep_cores", **describe(cores)}))


if __name__ == "__main__":
    main()
