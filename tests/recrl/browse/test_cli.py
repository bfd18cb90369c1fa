import json

import pandas as pd
import pytest

from recrl.cli import main
from recrl.data.synthetic import write_prepared

FAST = ["--preset", "smoke", "--embedder", "hashing", "--catalog-embedder", "hashing", "--cache", "none",
        "--slate-size", "3", "--mix", "1,1,1", "--session-steps", "5", "--eval-sessions", "6"]


def test_train_then_eval_through_the_cli(tmp_path, capsys):
    data = write_prepared(tmp_path / "p", users=5, items=15)
    rationales = tmp_path / "r.parquet"
    pd.DataFrame([{"user_id": f"u{u}", "rank": 0, "rationale": "Film 4 (1984). Comedy. Director: Person 4."}
                  for u in range(5)]).to_parquet(rationales)
    runs = []
    for reward in ("ellm", "none"):
        run = tmp_path / reward
        assert main(["browse", "train", *FAST, "--data", str(data), "--rationales", str(rationales),
                     "--reward", reward, "--steps", "200", "--out", str(run)]) == 0
        assert (run / "browse_eval.png").stat().st_size > 0 and (run / "curves.png").is_file()
        runs.append(str(run))
    episodes = pd.read_csv(tmp_path / "ellm" / "episodes.csv")
    assert episodes["intrinsic_return"].sum() > 0  # the rationale goal was reached at least once
    assert pd.read_csv(tmp_path / "none" / "episodes.csv")["intrinsic_return"].sum() == 0
    assert main(["browse", "eval", *runs, "--episodes", "8", "--out", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval" / "browse_eval.json").read_text())
    assert set(report["policies"]) == {"DQN + ellm", "DQN + none", "random policy", "popularity policy"}
    assert all(0 <= p["ndcg"]["mean"] <= 1 for p in report["policies"].values())
    assert "| random policy | 1 |" in capsys.readouterr().out
    assert main(["browse", "eval", runs[0], "--episodes", "2", "--trace", "2", "--out", str(tmp_path / "t")]) == 0
    traces = json.loads((tmp_path / "t" / "traces" / "traces.json").read_text())
    assert len(traces) == 2 and all(len(trace["steps"]) == 5 for trace in traces)
    for trace in traces:
        assert trace["goals"]  # the session user's rationale
        for step in trace["steps"]:
            assert len(step["slate"]) == 3 and len(set(step["slate"])) == 3  # distinct items in every slate
    markdown = (tmp_path / "t" / "traces" / "traces.md").read_text()
    assert markdown.count("## Session") == 2 and "| step | slate |" in markdown
    assert (tmp_path / "t" / "traces" / "trace.png").stat().st_size > 0


def test_oracle_and_missing_rationales_are_clear_errors(tmp_path):
    data = write_prepared(tmp_path / "p", users=3, items=9)
    with pytest.raises(ValueError, match="not available for browsing"):
        main(["browse", "train", *FAST, "--data", str(data), "--reward", "oracle", "--out", str(tmp_path / "o")])
    with pytest.raises(ValueError, match="need rationales: pass --rationale ADAPTER"):
        main(["browse", "train", *FAST, "--data", str(data), "--reward", "ellm", "--out", str(tmp_path / "e")])
