"""Comparing methods over seeds from stats.jsonl files with known contents."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ellm_core.cli import main
from ellm_core.crafter.analysis.compare import achievement_curve, compare, discover_runs, format_markdown
from ellm_core.crafter.score import ACHIEVEMENTS, crafter_score


def write_run(path, episodes):
    """A run directory whose stats.jsonl holds ``episodes`` (dicts of achievement -> count, plus step)."""
    path.mkdir(parents=True)
    (path / "summary.json").write_text("{}")
    with (path / "stats.jsonl").open("w") as handle:
        for step, unlocked in episodes:
            line = {"length": 100, "reward": float(len(unlocked)), "step": step,
                    **{f"achievement_{name}": int(name in unlocked) for name in ACHIEVEMENTS}}
            handle.write(json.dumps(line) + "\n")
    return path


@pytest.fixture
def sweep_dir(tmp_path):
    # "none": nothing ever; "wood": wood in every episode, and more achievements late in training (seed-dependent)
    for seed in range(3):
        write_run(tmp_path / f"none-seed{seed}", [(step, ()) for step in range(100, 1001, 100)])
        late = ("collect_wood", "place_table") + (("collect_sapling",) if seed == 2 else ())
        write_run(tmp_path / f"wood-seed{seed}",
                  [(step, ("collect_wood",) if step <= 500 else late) for step in range(100, 1001, 100)])
    (tmp_path / "wood-seed3").mkdir()  # no stats.jsonl yet: left out
    write_run(tmp_path / "wood-seed4", [(100, ())]).joinpath("summary.json").unlink()  # still training: left out
    (tmp_path / "notes").mkdir()
    return tmp_path


def test_discover_runs_groups_by_method_in_seed_order(sweep_dir):
    runs = discover_runs(sweep_dir)
    assert sorted(runs) == ["none", "wood"]
    assert [path.name for path in runs["wood"]] == ["wood-seed0", "wood-seed1", "wood-seed2"]
    assert [path.name for path in discover_runs(sweep_dir, finished_only=False)["wood"]][-1] == "wood-seed4"


def test_compare_numbers(sweep_dir):
    result = compare(discover_runs(sweep_dir), baselines=["none"], bins=2)
    none, wood = result["methods"]["none"], result["methods"]["wood"]
    assert none["score"]["mean"] == 0.0 and none["achievements"]["mean"] == 0.0
    # seed 0: wood 100 %, place_table 50 % -> the Crafter score of those rates
    rates = {name: 0.0 for name in ACHIEVEMENTS} | {"collect_wood": 100.0, "place_table": 50.0}
    assert wood["score"]["per_seed"][0] == pytest.approx(crafter_score(rates))
    assert wood["achievements"]["per_seed"] == pytest.approx([1.5, 1.5, 2.0])
    assert wood["achievements"]["std"] == pytest.approx(np.std([1.5, 1.5, 2.0], ddof=1))
    assert wood["success_rates"]["collect_wood"] == 100.0 and wood["success_rates"]["place_table"] == 50.0
    assert wood["success_rates"]["collect_sapling"] == pytest.approx(50 / 3)
    assert wood["reward"]["mean"] == pytest.approx(5 / 3)
    test = result["tests"]["none"]["wood"]
    assert test["score"]["diff"] > 0 and test["score"]["p"] < 0.05  # every seed above a constant none
    assert "none" not in result["tests"]["none"]
    # curves: 1 achievement per episode in the first half of training, 2 or 3 in the second
    assert result["curves"]["wood"]["mean"] == pytest.approx([1.0, 7 / 3])
    assert result["curves"]["none"]["std"] == pytest.approx([0.0, 0.0])
    table = format_markdown(result)
    assert "| wood | 3 |" in table and "against **none**" in table and "| collect_wood | 0.0 | 100.0 |" in table


def test_achievement_curve_marks_empty_bins(tmp_path):
    run = write_run(tmp_path / "a-seed0", [(100, ("collect_wood",)), (150, ())])
    curve = achievement_curve(run, np.array([0, 200, 400]))
    assert curve[0] == pytest.approx(0.5) and np.isnan(curve[1])


def test_compare_command_writes_table_and_figures(sweep_dir, capsys):
    assert main(["crafter", "compare", str(sweep_dir), "--baseline", "none", "--bins", "4"]) == 0
    out = sweep_dir / "compare"
    assert {p.name for p in out.iterdir()} == {"compare.json", "compare.md", "curves.png", "success.png"}
    assert "Crafter score" in capsys.readouterr().out
    assert main(["crafter", "compare", str(sweep_dir), "--methods", "ellm"]) == 2
    assert "ellm crafter compare: no runs of ['ellm']" in capsys.readouterr().err


def test_published_anchors_and_false_pay_appear_beside_the_table(sweep_dir):
    from ellm_core.crafter.analysis.compare import format_markdown

    (sweep_dir / "wood-seed0" / "summary.json").write_text(json.dumps({"step": 1, "false_pay_share": 0.25}))
    for seed in (1, 2):
        (sweep_dir / f"wood-seed{seed}" / "summary.json").write_text(json.dumps({"step": 1, "false_pay_share": 0.5}))
    published = [{"agent": "random", "score": 1.6, "task_reward": False, "source": "Hafner 2022, Table 1"}]
    result = compare(discover_runs(sweep_dir), baselines=["none"], bins=2, published=published)
    assert result["methods"]["wood"]["false_pay_share"] == pytest.approx(5 / 12)
    assert result["methods"]["none"]["false_pay_share"] is None  # runs without the tally
    text = format_markdown(result)
    assert "| wood | 3 |" in text and "| 42% |" in text
    assert "| random | 1.6 | no | Hafner 2022, Table 1 |" in text and "privileged information" in text
