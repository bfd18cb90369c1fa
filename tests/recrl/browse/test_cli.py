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
    assert set(report["policies"]) == {"DQN + ellm", "DQN + none", "random policy", "popularity policy",
                                       "CF policy (MF)"}
    assert all(0 <= p["ndcg"]["mean"] <= 1 for p in report["policies"].values())
    printed = capsys.readouterr().out
    assert "| random policy | 1 |" in printed and "Paired difference from DQN + none" in printed
    assert set(report["paired_vs_none"]) == {"DQN + ellm", "random policy", "popularity policy", "CF policy (MF)"}
    # the per-session file holds every session of every policy and run, and the table recomputes from it alone
    from recrl.browse.evaluate import report_from_sessions

    sessions = pd.read_parquet(tmp_path / "eval" / "sessions.parquet")
    assert len(sessions) == 8 * 5 and set(sessions.columns) >= {"policy", "run", "session", "user", "liked_share",
                                                                "mean_rating", "ndcg"}
    recomputed = json.loads(json.dumps(report_from_sessions(sessions, bootstrap=1000, seed=0)))

    def flat(tree, path=()):
        if isinstance(tree, dict):
            return [item for key in sorted(tree) for item in flat(tree[key], (*path, key))]
        return [(path, tree)]

    assert set(report["paired_vs_anchors"]) == {"popularity policy", "CF policy (MF)"}
    assert set(report["paired_vs_anchors"]["CF policy (MF)"]) == {"DQN + ellm", "DQN + none"}  # agents only
    for key in ("policies", "paired_vs_none", "paired_vs_anchors"):
        mine, theirs = flat(recomputed[key]), flat(report[key])
        assert [path for path, _ in mine] == [path for path, _ in theirs]
        assert [value for _, value in mine] == pytest.approx([value for _, value in theirs], nan_ok=True)
    assert "sample standard deviation" in (tmp_path / "eval" / "browse_eval.md").read_text()
    ndcg = report["paired_vs_none"]["popularity policy"]["ndcg"]
    expected = report["policies"]["popularity policy"]["ndcg"]["mean"] - report["policies"]["DQN + none"]["ndcg"]["mean"]
    assert ndcg["n"] == 8 and ndcg["diff"] == pytest.approx(expected) and ndcg["ci_low"] <= ndcg["diff"] <= ndcg["ci_high"]
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


def test_oracle_and_missing_rationales_are_clear_errors(tmp_path, capsys):
    data = write_prepared(tmp_path / "p", users=3, items=9)
    assert main(["browse", "train", *FAST, "--data", str(data), "--reward", "oracle", "--out", str(tmp_path / "o")]) == 2
    assert "not available for browsing" in capsys.readouterr().err
    assert main(["browse", "train", *FAST, "--data", str(data), "--reward", "ellm", "--out", str(tmp_path / "e")]) == 2
    assert "need rationales: pass --rationale ADAPTER" in capsys.readouterr().err


def test_paired_differences_average_seeds_per_session():
    from recrl.browse.evaluate import paired_differences, session_means

    def sessions(values):
        return [{"liked_share": v, "mean_rating": v, "ndcg": v} for v in values]

    nan = float("nan")
    per_session = {"DQN + none": [sessions([0.0, 0.2, 0.4])],
                   "DQN + ellm": [sessions([0.1, 0.3, nan]), sessions([0.3, 0.5, 0.6])]}
    assert session_means(per_session["DQN + ellm"], "ndcg") == pytest.approx([0.2, 0.4, 0.6])
    result = paired_differences(per_session, "DQN + none", bootstrap=200)
    assert set(result) == {"DQN + ellm"}
    assert result["DQN + ellm"]["ndcg"]["diff"] == pytest.approx(0.2) and result["DQN + ellm"]["ndcg"]["n"] == 3
    assert paired_differences(per_session, "DQN + novelty") == {}


def test_a_browse_sweep_ends_with_the_paired_comparison(tmp_path, capsys):
    import yaml

    from ellm_core.cli import main as ellm_main

    data = write_prepared(tmp_path / "p", users=5, items=15)
    rationales = tmp_path / "r.parquet"
    pd.DataFrame([{"user_id": f"u{u}", "rank": 0, "rationale": "Film 4 (1984). Comedy."} for u in range(5)]) \
        .to_parquet(rationales)
    args = dict(zip([flag[2:] for flag in FAST[::2]], FAST[1::2]))
    spec = {"command": "recrl browse train", "out": str(tmp_path / "sweep"), "seeds": [0], "parallel": 2, "threads": 1,
            "args": {**args, "data": str(data), "rationales": str(rationales), "steps": 100},
            "methods": {"ellm": {"reward": "ellm"}, "none": {"reward": "none"}},
            "compare": {"kind": "recrl.browse.evaluate:sweep_comparison", "episodes": 6, "bootstrap": 50}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    assert ellm_main(["sweep", str(tmp_path / "spec.yaml")]) == 0
    report = json.loads((tmp_path / "sweep" / "compare" / "browse_eval.json").read_text())
    assert set(report["paired_vs_none"]) == {"DQN + ellm", "random policy", "popularity policy", "CF policy (MF)"}
    assert (tmp_path / "sweep" / "compare" / "sessions.parquet").is_file()
    assert report["paired_vs_none"]["DQN + ellm"]["ndcg"]["n"] == 6


def test_a_run_trained_on_the_envs_reward_model_is_named_by_it(tmp_path):
    import yaml

    from recrl.browse.evaluate import _reward_of

    def run(name, **config):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.yaml").write_text(yaml.safe_dump(config))
        return str(tmp_path / name)

    knn = '{"reward_model": "content-knn"}'
    assert _reward_of(run("a", reward="none", keep_extrinsic=True, env_kwargs=knn)) == "content-knn"
    assert _reward_of(run("b", reward="ellm", keep_extrinsic=True, env_kwargs=knn)) == "ellm + content-knn"
    assert _reward_of(run("c", reward="none", keep_extrinsic=False, env_kwargs=knn)) == "none"  # not trained on it
    assert _reward_of(run("d", reward="novelty", keep_extrinsic=True, env_kwargs='{"reward_model": "none"}')) == "novelty"
