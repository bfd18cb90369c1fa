import json

from ellm_core.crafter.analysis.goal_table import format_table, load_results, main


def test_table_puts_bounds_first_then_best_in_view_precision(tmp_path, capsys):
    rows = {"a.json": {"name": "lm open", "generator": "lm", "precision": 0.5, "recall": 0.2,
                       "precision_in_view": 0.3, "empty_share": 0.0, "seconds_per_situation": 12.5},
            "b.json": {"name": "lm closed", "generator": "lm", "precision": 0.6, "recall": 0.5,
                       "precision_in_view": 0.45, "empty_share": 0.1, "tokens_per_s": 80.24},
            "c.json": {"name": "random", "generator": "random", "precision": 0.54, "recall": 0.21},
            "metrics.json": {"steps": 3}}  # not a result: ignored
    for name, row in rows.items():
        (tmp_path / name).write_text(json.dumps(row))
    results = load_results(tmp_path)
    assert [r["name"] for r in results] == ["lm open", "lm closed", "random"]
    table = format_table(results).splitlines()
    assert [line.split(" | ")[0] for line in table[2:]] == ["| random", "| lm closed", "| lm open"]
    assert "| 0.45 |" in table[3] and "80.2" in table[3] and "12.5" in table[4] and "| - |" in table[2]
    assert main([str(tmp_path)]) == 0 and capsys.readouterr().out.startswith("| generator |")
