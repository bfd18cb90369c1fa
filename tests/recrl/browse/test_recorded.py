"""A browse comparison keeps the sessions it recorded when a replay of their first ones confirms them."""

import json
import logging

import pandas as pd
import yaml

from ellm_core.cli import main as ellm_main
from recrl.browse.recorded import load_recorded, same_sessions
from recrl.data.synthetic import write_prepared

FAST = {"preset": "smoke", "embedder": "hashing", "catalog-embedder": "hashing", "cache": "none", "slate-size": "3",
        "mix": "1,1,1", "session-steps": "5", "eval-sessions": "4", "steps": 100}


def _sweep(tmp_path, methods, **extra):
    data = write_prepared(tmp_path / "p", users=5, items=15)
    spec = {"command": "recrl browse train", "out": str(tmp_path / "sweep"), "seeds": [0], "parallel": 1,
            "threads": 1, "args": {**FAST, "data": str(data)}, "methods": methods,
            "compare": {"kind": "recrl.browse.evaluate:sweep_comparison", "episodes": 6, "bootstrap": 50, "check": 2},
            **extra}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    assert ellm_main(["sweep", str(tmp_path / "spec.yaml")]) == 0
    return tmp_path / "sweep" / "compare"


def test_adding_a_reward_replays_only_the_new_run_and_a_record_that_differs_is_replayed(tmp_path, caplog):
    compare = _sweep(tmp_path, {"none": {"reward": "none"}, "novelty": {"reward": "novelty"}})
    first = pd.read_parquet(compare / "sessions.parquet")
    recorded = load_recorded(compare, 6, 0)
    assert len(recorded) == 2 + 3 and all(len(sessions) == 6 for sessions in recorded.values())
    assert load_recorded(compare, 7, 0) == {} and load_recorded(compare, 6, 1) == {}  # other sessions: nothing kept

    tampered = first.copy()  # a record this machine would not reproduce: replayed in full, and put right
    row = (tampered["policy"] == "DQN + none") & (tampered["session"] == 0)
    tampered.loc[row, "ndcg"] = 0.123456
    tampered.to_parquet(compare / "sessions.parquet", index=False)
    with caplog.at_level(logging.INFO, logger="recrl.browse.recorded"):
        _sweep(tmp_path, {"none": {"reward": "none"}, "novelty": {"reward": "novelty"}, "rnd": {"reward": "rnd"}})
    messages = [record.getMessage() for record in caplog.records]
    kept = [m for m in messages if "the record is kept" in m]
    assert len(kept) == 1 + 3  # novelty's run and the three anchor policies
    assert any("none-seed0: its first 2 recorded sessions replay differently" in m for m in messages)
    report = json.loads((compare / "browse_eval.json").read_text())
    assert set(report["policies"]) >= {"DQN + none", "DQN + novelty", "DQN + rnd"}
    again = pd.read_parquet(compare / "sessions.parquet")
    old = first.sort_values(["policy", "run", "session"]).reset_index(drop=True)
    new = again[again["policy"] != "DQN + rnd"].sort_values(["policy", "run", "session"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(new, old)  # the reused and the replayed rows are the first comparison's
    assert (again["policy"] == "DQN + rnd").sum() == 6


def test_a_spec_with_a_results_folder_reuses_the_comparison_kept_there(tmp_path, caplog):
    """As in results/recrl/sweep-browse.yaml: on a new machine the scratch comparison is gone, and the committed
    copy in the results folder is the record."""
    import shutil

    kept = {"results": str(tmp_path / "results"), "keep": ["config.yaml", "summary.json", "browse.yaml", "qnet.pt"],
            "record": ["summary.json", "qnet.pt"]}
    _sweep(tmp_path, {"none": {"reward": "none"}}, **kept)
    assert (tmp_path / "results" / "sessions.parquet").is_file()
    shutil.rmtree(tmp_path / "sweep")  # runs/ is scratch: only the kept copy is left
    with caplog.at_level(logging.INFO, logger="recrl.browse.recorded"):
        _sweep(tmp_path, {"none": {"reward": "none"}, "novelty": {"reward": "novelty"}}, **kept)
    messages = [record.getMessage() for record in caplog.records if "the record is kept" in record.getMessage()]
    assert len(messages) == 1 + 3 and any("none-seed0" in m for m in messages)
    report = json.loads((tmp_path / "results" / "browse_eval.json").read_text())
    assert {"DQN + none", "DQN + novelty"} <= set(report["policies"])


def test_same_sessions_compares_users_and_metrics_with_nan_equal():
    old = [{"user_id": "7", "liked_share": 0.5, "mean_rating": float("nan"), "ndcg": 0.25}]
    assert same_sessions([{"user_id": 7, "liked_share": 0.5, "mean_rating": float("nan"), "ndcg": 0.25}], old)
    assert not same_sessions([{"user_id": 8, "liked_share": 0.5, "mean_rating": float("nan"), "ndcg": 0.25}], old)
    assert not same_sessions([{"user_id": 7, "liked_share": 0.5, "mean_rating": 4.0, "ndcg": 0.25}], old)
    assert not same_sessions([], old)


def test_the_committed_full_scale_comparison_is_a_record_of_every_run_and_policy():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[3] / "results" / "recrl" / "browse-20k"
    recorded = load_recorded(folder, 1000, 0)
    assert {"random policy", "popularity policy", "CF policy (MF)",
            "results/recrl/browse-20k/runs/none-seed0"} <= set(recorded)
    assert len(recorded) >= 15 and all(len(sessions) == 1000 for sessions in recorded.values())
