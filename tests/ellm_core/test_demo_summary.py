import json

from ellm_core.run.demo_summary import main, summary_lines


def test_summary_names_the_numbers_and_files(tmp_path, capsys):
    (tmp_path / "demo-crafter" / "videos").mkdir(parents=True)
    (tmp_path / "demo-crafter" / "crafter_eval.json").write_text(json.dumps({"score": {"mean": 0.42}, "episodes": 3}))
    (tmp_path / "demo-crafter" / "videos" / "agent-seed0-episode0.mp4").write_bytes(b"x")
    (tmp_path / "demo-rationale").mkdir()
    (tmp_path / "demo-rationale" / "metrics.json").write_text(
        json.dumps({"steps": 6, "perplexity_base": 27.7, "perplexity_tuned": 20.1}))
    text = "\n".join(summary_lines(tmp_path))
    assert "Crafter score 0.42 over 3 episodes" in text and "agent-seed0-episode0.mp4" in text
    assert "27.7 -> 20.1" in text and "results/recrl/rationale/samples.md" in text
    assert main(["--runs", str(tmp_path / "nothing")]) == 0
    assert "no demo runs" in capsys.readouterr().out
