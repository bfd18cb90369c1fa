"""The benchmark scripts: each names its hardware; the crafting-chain probe computes its table and runs end to end."""

import importlib.util
import json
import os
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.py")), ids=lambda path: path.name)
def test_every_benchmark_prints_and_records_its_hardware(path):
    source = path.read_text(encoding="utf-8")
    assert "describe_line(" in source and "**describe(" in source  # the table's header and the JSON line


def test_steps_to_share_finds_the_first_window_with_half_the_episodes():
    probe = load("crafting_chain")
    episodes = [{"step": 100 * (i + 1), "achievement_make_wood_pickaxe": int(i in (3, 5, 6, 7))} for i in range(10)]
    assert probe.steps_to_share(episodes, "make_wood_pickaxe", 0.5, window=4) == 600  # episodes 3..6 hold two of four
    assert probe.steps_to_share(episodes, "make_wood_pickaxe", 1.0, window=4) is None
    assert probe.last_rates(episodes, window=4) == {"place_table": 0.0, "make_wood_pickaxe": 0.5,
                                                    "make_wood_sword": 0.0}


def test_the_probe_runs_its_variants_and_writes_a_table_that_recomputes_from_the_runs(tmp_path, capsys):
    probe = load("crafting_chain")
    out, runs = tmp_path / "out", tmp_path / "runs"
    assert probe.main(["--quick", "--runs", str(runs), "--out", str(out)]) == 0
    result = json.loads((out / "probe.json").read_text())
    rows = ["wood in hand: reward only (today)", "wood in hand: goal-conditioned"]
    assert list(result["rows"]) == rows
    assert result["isa"] and result["cpu"] and result["steps"] == 600
    config = (runs / "goal-conditioned-wood5-seed0" / "config.yaml").read_text()
    assert "goal_conditioned: true" in config and "start_inventory" in config and "threshold: 0.99" in config
    first = json.loads((runs / "reward-only-wood5-seed0" / "stats.jsonl").read_text().splitlines()[0])
    assert first["achievement_place_table"] in (0, 1)
    summary = probe.summarize(dict(zip(rows, ({0: runs / "reward-only-wood5-seed0"},
                                             {0: runs / "goal-conditioned-wood5-seed0"}))), window=4)
    assert json.loads(json.dumps(summary)) == result["rows"]  # the committed numbers recompute from the runs
    assert (out / "probe.md").read_text().count("\n| ") == 4  # header, rule, two variants
    capsys.readouterr()
    assert probe.main(["--quick", "--runs", str(runs)]) == 0  # finished runs are read, not run again
    assert "reward only (today)" in capsys.readouterr().out


def test_the_intrinsic_cost_benchmark_times_both_pairs_and_checks_they_agree(capsys):
    cost = load("intrinsic_cost")
    assert cost.main(["--steps", "40", "--distinct", "300", "--memory", "200", "--dim", "32"]) == 0
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert line["benchmark"] == "intrinsic_cost" and line["live_rows"] > 28  # more rows than k + margin
    assert set(line["ms_per_step"]) == {"APT scan (before)", "APT candidates (now)", "RND per-tensor Adam (before)",
                                        "RND fused Adam (now)"}
    assert line["apt_speedup"] > 0 and line["rnd_speedup"] > 0 and line["isa"]


def test_the_background_threads_benchmark_times_both_thread_counts_alone_and_beside_the_lm(capsys):
    bench = load("background_threads")
    if len(os.sched_getaffinity(0)) < 2:  # pytest pinned to one core (taskset -c 1): the benchmark refuses in one line
        with pytest.raises(SystemExit) as refused:
            bench.main(["--seconds", "0.2", "--cores", "2"])
        assert refused.value.code == 2 and "needs 2 cores or more" in capsys.readouterr().err
        return
    assert bench.main(["--seconds", "0.2", "--cores", "2"]) == 0
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert line["benchmark"] == "background_threads" and line["isa"]
    assert len(line["calls_per_s"]) == 4 and all(rate > 0 for rate in line["calls_per_s"].values())
    assert line["speedup_beside_lm"] > 0 and all(rate > 0 for rate in line["lm_products_per_s"].values())


def test_the_stand_in_captions_are_distinct():
    texts = load("background_threads").captions(5000, 0)
    assert len(set(texts)) == 5000


@pytest.mark.parametrize("path", sorted((BENCHMARKS.parent / "results" / "speed").glob("*.txt")), ids=lambda p: p.name)
def test_every_committed_benchmark_output_says_which_hardware_it_came_from(path):
    text = path.read_text(encoding="utf-8")
    assert '"isa": ' in text or text.startswith("# hardware: ")


def test_the_paper_game_benchmark_plays_both_games_side_by_side(capsys):
    bench = load("paper_game")
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    line = json.loads(out.splitlines()[-1])
    assert line["benchmark"] == "paper_game" and line["crafter_steps"] == line["paper_steps"] == 500
    assert line["crafter_success_share"] == 0.0 and 0.0 < line["paper_success_share"] < 0.5  # most verb-noun pairs fail
    assert "paper/crafter" in out and "collect_wood" in out
