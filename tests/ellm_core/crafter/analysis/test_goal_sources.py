"""The goal-sources table: answer shares averaged over seeds, pay summed over seeds."""

import json

from ellm_core.crafter.analysis.goal_sources import main, method_cells, summarize


def cell(folder, by_lm, by_model, rows, labels=100, false_pay=0.0):
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({
        "goals_by_lm": by_lm, "goals_by_model": by_model, "goals_by_none": round(1 - by_lm - by_model, 4),
        "labels": labels, "labels_preloaded": 50, "false_pay_share": false_pay}))
    (folder / "goals.csv").write_text("goal,active_steps,rewarded\n" + "".join(f"{g},{a},{r}\n" for g, a, r in rows))


def test_shares_average_over_seeds_and_pay_sums(tmp_path, capsys):
    cell(tmp_path / "qwen-seed0", 0.1, 0.5, [("eat cow", 300, 3), ("collect wood", 100, 1)], false_pay=0.0)
    cell(tmp_path / "qwen-seed1", 0.3, 0.5, [("eat cow", 100, 0), ("collect wood", 500, 4)], false_pay=0.5)
    (tmp_path / "none-seed0").mkdir()  # unfinished: no summary
    cells = method_cells(tmp_path)
    assert list(cells) == ["qwen"]
    row = summarize(cells["qwen"])
    assert row["seeds"] == 2 and row["rewards"] == 8
    assert abs(row["goals_by_lm"] - 0.2) < 1e-9 and abs(row["goals_by_none"] - 0.3) < 1e-9
    assert row["paid_for"] == "collect wood 62%, eat cow 38%"
    assert row["active"] == "collect wood 60%, eat cow 40%"
    assert main([str(tmp_path), "--out", str(tmp_path / "table.md")]) == 0
    table = (tmp_path / "table.md").read_text()
    assert "| qwen | 2 | 50 / 100 | 20% / 50% / 30% | 8 | collect wood 62%, eat cow 38% | 25% |" in table
    assert table == capsys.readouterr().out
