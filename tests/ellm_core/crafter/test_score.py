"""Crafter's score on a stats file with known counts, and the eval CLI."""

from __future__ import annotations

import json
import math

import pytest

from ellm_core.cli import main
from ellm_core.crafter.score import (
    ACHIEVEMENTS,
    aggregate,
    crafter_score,
    read_stats,
    score_run,
    success_rates,
)


def write_stats(path, episodes):
    path.mkdir(parents=True, exist_ok=True)
    lines = []
    for unlocked in episodes:
        line = {"length": 100, "reward": float(len(unlocked))}
        line.update({f"achievement_{name}": (2 if name in unlocked else 0) for name in ACHIEVEMENTS})
        lines.append(json.dumps(line))
    (path / "stats.jsonl").write_text("\n".join(lines) + "\n")
    return path


def test_score_with_known_counts(tmp_path):
    # 4 episodes: collect_wood in all 4 (100 %), place_table in 1 (25 %), nothing else
    run = write_stats(tmp_path / "run", [{"collect_wood", "place_table"}, {"collect_wood"}, {"collect_wood"},
                                         {"collect_wood"}])
    rates = success_rates(read_stats(run))
    assert rates["collect_wood"] == 100.0 and rates["place_table"] == 25.0 and rates["eat_cow"] == 0.0
    expected = math.exp((math.log(101) + math.log(26)) / 22) - 1
    assert crafter_score(rates) == pytest.approx(expected)
    assert score_run(run).achievements_mean == pytest.approx(1.25)


def test_all_or_nothing():
    assert crafter_score(dict.fromkeys(ACHIEVEMENTS, 0.0)) == 0.0
    assert crafter_score(dict.fromkeys(ACHIEVEMENTS, 100.0)) == pytest.approx(100.0)


def test_aggregate_over_seeds_and_cli(tmp_path, capsys):
    first = write_stats(tmp_path / "seed0", [{"collect_wood"}] * 2)
    second = write_stats(tmp_path / "seed1", [{"collect_wood"}, set()])
    summary = aggregate([score_run(first), score_run(second)])
    assert summary["success_rates"]["collect_wood"]["mean"] == 75.0
    assert summary["success_rates"]["collect_wood"]["std"] == pytest.approx(math.sqrt(2 * 25.0**2))
    assert main(["crafter", "eval", str(first), str(second), "--out", str(tmp_path / "eval")]) == 0
    out = capsys.readouterr().out
    assert "collect_wood" in out and "Crafter score" in out and "(2 runs, 4 episodes)" in out
    assert {"crafter_eval.json", "crafter_success.png", "crafter_episodes.png"} <= {
        p.name for p in (tmp_path / "eval").iterdir()}


def test_bad_stats_line_is_named(tmp_path):
    run = write_stats(tmp_path / "run", [set()])
    with (run / "stats.jsonl").open("a") as handle:
        handle.write("{oops\n")
    with pytest.raises(ValueError, match="stats.jsonl, line 2"):
        read_stats(run)
    assert main(["crafter", "eval", str(tmp_path / "missing")]) == 2
