"""The same runs before and after a restructuring: a Crafter smoke run per method, at a fixed seed, writes exactly
the ``stats.jsonl`` committed beside this test (``tests/ellm_core/data/smoke-stats``, written by ``python -m
tests.ellm_core.test_same_runs`` before the code moved). A change of behaviour, not of layout, fails here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ellm_core.cli import main as ellm

DATA = Path(__file__).parent / "data" / "smoke-stats"
PREREQUISITES = Path(__file__).resolve().parents[2] / "results/crafter/labels/prerequisites-qwen2.5-coder-1.5b.json"
COMMON = ["--preset", "smoke", "--steps", "400", "--length", "100", "--embedder", "hashing", "--cache", "none",
          "--no-tensorboard", "--seed", "3", "--goal-source", "lm"]
#: method -> its flags: every reward, and the LM goal paths (ranked goals of a scripted LM, with the LM's chain)
METHODS = {
    "none": ["--reward", "none"],
    "oracle": ["--reward", "oracle", "--goal-conditioned"],
    "novelty": ["--reward", "novelty"],
    "rnd": ["--reward", "rnd"],
    "apt": ["--reward", "apt"],
    "ellm-ranked": ["--reward", "ellm", "--goals", "ranked", "--lm-backend", "scripted", "--rank-k", "3",
                    "--threshold", "0.8"],
    "ellm-chain": ["--reward", "ellm", "--goals", "ranked", "--lm-backend", "scripted", "--rank-k", "22",
                   "--threshold", "0.8", "--prerequisites", str(PREREQUISITES), "--materials", "--active-goals", "1",
                   "--pay-limit", "2", "--goal-conditioned"],
}


def run(method: str, out: Path) -> str:
    """The ``stats.jsonl`` text of ``method``'s smoke run in ``out``."""
    assert ellm(["crafter", "train", *COMMON, *METHODS[method], "--out", str(out)]) == 0
    return (out / "stats.jsonl").read_text(encoding="utf-8")


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_smoke_run_writes_the_committed_stats(tmp_path, method):
    expected = (DATA / f"{method}.jsonl").read_text(encoding="utf-8")
    assert expected.count("\n") >= 3  # a few episodes, each one line
    assert run(method, tmp_path / method) == expected


if __name__ == "__main__":  # write the files (only before a restructuring, from the code as it was)
    import tempfile

    DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        for name in sys.argv[1:] or METHODS:
            (DATA / f"{name}.jsonl").write_text(run(name, Path(folder) / name), encoding="utf-8")
