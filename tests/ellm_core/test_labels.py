"""Label files of ranked goals: written from a cached LM, read back, imported as the cache entries a run reads."""

import gzip
import json
import re

import numpy as np
import pytest

from ellm_core.cache import SQLiteCache
from ellm_core.cache.files import import_cache
from ellm_core.cli import main
from ellm_core.goals import RankedGoals
from ellm_core.goals.labels import (
    LABELS_FORMAT,
    goal_rank,
    is_label_file,
    read_labels,
    summarize_labels,
    write_labels,
)
from ellm_core.goals.labels import main as labels_main
from ellm_core.goals.prompts import PromptConfig
from ellm_core.lm.base import CachedLM, ScriptedLM

CANDIDATES = ["collect wood", "drink water", "eat cow"]
ACTIONS = ("move left", "do", "noop")
SITUATIONS = [("You see a tree.", ACTIONS), ("You see water.", ACTIONS), ("You see a cow and a tree.", ACTIONS)]


def scores(text: str, continuation: str) -> float:
    """A log-probability that favours the goal whose last word is in view (plus a prior the calibration removes)."""
    word = continuation.split()[-1]
    return (2.0 if word in text else 0.0) - 0.1 * len(continuation) - (0.5 if "nothing" in text else 0.0)


def ranked(cache: SQLiteCache, lm: ScriptedLM | None = None) -> RankedGoals:
    lm = lm or ScriptedLM(scores=scores)
    return RankedGoals(CachedLM(lm, cache), CANDIDATES, prompts=PromptConfig.load(), k=1, calibrate=True)


@pytest.mark.parametrize("name", ["labels.jsonl", "labels.jsonl.gz"])
def test_a_label_file_round_trips_into_a_fresh_cache_without_asking_the_lm(tmp_path, name):
    labels = tmp_path / name
    first = ranked(SQLiteCache(tmp_path / "a.sqlite"))
    assert write_labels(labels, first, SITUATIONS, "scripted-lm", "data:prompts.yaml", {SITUATIONS[0]: 5}) == 3
    header, lines = read_labels(labels)
    rows = list(lines)
    assert header["format"] == LABELS_FORMAT and header["candidates"] == CANDIDATES and header["k"] == 1
    assert [row["goals"] for row in rows] == [["collect wood"], ["drink water"], ["eat cow"]]
    assert rows[0]["visits"] == 5 and rows[0]["model"] == "scripted-lm" and len(rows[0]["scores"]) == 3
    np.testing.assert_allclose([row["scores"] for row in rows],
                               first.scores([s for s, _ in SITUATIONS], [list(a) for _, a in SITUATIONS]), atol=1e-4)

    fresh = SQLiteCache(tmp_path / "b.sqlite")
    assert import_cache(fresh, labels) == (4, 0)  # three situations and the content-free baseline
    assert import_cache(fresh, labels) == (0, 4)
    asked = ScriptedLM(scores=scores)
    again = ranked(fresh, asked)
    assert again.cached_batch([s for s, _ in SITUATIONS], [list(a) for _, a in SITUATIONS]) == \
        [row["goals"] for row in rows]
    assert again.suggest_batch(["You see a tree."], [list(ACTIONS)]) == [["collect wood"]]
    assert asked.calls == []  # every score, the baseline's included, came from the imported entries


def test_summary_recomputes_from_the_file_alone(tmp_path):
    labels = tmp_path / "labels.jsonl"
    write_labels(labels, ranked(SQLiteCache(":memory:")), SITUATIONS, "scripted-lm", "data:prompts.yaml")
    summary = summarize_labels(labels)
    assert summary["situations"] == 3 and summary["models"] == {"scripted-lm": 3}
    assert summary["first_goal_share"] == {"collect wood": pytest.approx(1 / 3, abs=1e-3),
                                           "drink water": pytest.approx(1 / 3, abs=1e-3),
                                           "eat cow": pytest.approx(1 / 3, abs=1e-3)}
    assert summary["goals_never_first"] == []


def test_goal_rank_reads_calibrated_and_raw_ranks_from_the_file(tmp_path, capsys):
    """A goal's rank among the candidates, calibrated (the file's scores) and raw (the prior added back), over the
    situations whose inventory names an item."""
    labels = tmp_path / "labels.jsonl"
    situations = [*SITUATIONS, ("You see a tree. You have 1 wood.", ACTIONS)]
    write_labels(labels, ranked(SQLiteCache(":memory:")), situations, "scripted-lm", "data:prompts.yaml")
    every = goal_rank(labels, "collect wood")
    assert every["situations"] == 4 and every["median_rank_calibrated"] == 1.5  # first where a tree is in view
    assert every["first_calibrated"] == {"collect wood": 2, "drink water": 1, "eat cow": 1}
    assert every["share_in_top_calibrated"] == {"1": 0.5, "3": 1.0, "5": 1.0}
    # raw: the prior (shorter continuations score higher) is back, and "eat cow" outranks the rest
    assert goal_rank(labels, "eat cow")["median_rank_raw"] <= goal_rank(labels, "eat cow")["median_rank_calibrated"]
    holding = goal_rank(labels, "collect wood", having="wood")
    assert holding["situations"] == 1 and holding["median_rank_calibrated"] == 1.0  # "a tree" alone is not inventory
    with pytest.raises(ValueError, match="not one of its candidates"):
        goal_rank(labels, "make a cake")
    # `select` keeps those situations, header and all, so another prompt can be asked about them alone
    assert labels_main(["select", str(labels), str(tmp_path / "wood.jsonl.gz"), "--having", "wood"]) == 0
    header, rows = read_labels(tmp_path / "wood.jsonl.gz")
    assert header == read_labels(labels)[0] and [row["observation"] for row in rows] == [situations[-1][0]]
    capsys.readouterr()
    assert labels_main(["rank", str(labels), "collect wood", "--having", "wood"]) == 0
    assert json.loads(capsys.readouterr().out)["situations"] == 1


def test_a_malformed_label_line_names_the_file_and_line(tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    write_labels(labels, ranked(SQLiteCache(":memory:")), SITUATIONS, "scripted-lm", "data:prompts.yaml")
    lines = labels.read_text().splitlines()
    lines[2] = json.dumps({**json.loads(lines[2]), "scores": [0.1]})
    labels.write_text("\n".join(lines) + "\n")
    assert is_label_file(labels) and not is_label_file(tmp_path / "missing.jsonl")
    with pytest.raises(ValueError, match=r"labels\.jsonl:3: not a label line \(1 scores for 3 candidates\)"):
        import_cache(SQLiteCache(":memory:"), labels)
    assert main(["cache", "import", str(labels), str(tmp_path / "c.sqlite")]) == 2
    assert re.search(r"ellm cache import: .*labels\.jsonl:3: not a label line.*nothing was imported",
                     capsys.readouterr().err)


def test_an_export_is_not_taken_for_a_label_file(tmp_path):
    export = tmp_path / "export.jsonl.gz"
    with gzip.open(export, "wt") as handle:
        handle.write(json.dumps({"namespace": "llm", "key": "k", "value": ["collect wood"]}) + "\n")
    assert not is_label_file(export)
    assert import_cache(SQLiteCache(":memory:"), export) == (1, 0)


def test_the_goal_models_are_measured_against_another_label_file_without_an_lm(tmp_path):
    from ellm_core.crafter.analysis.distill_quality import measure_label_files
    from ellm_core.text.embed import make_embedder

    generator = ranked(SQLiteCache(":memory:"))
    labels, heldout = tmp_path / "labels.jsonl", tmp_path / "heldout.jsonl"
    write_labels(labels, generator, SITUATIONS, "scripted-lm", "data:prompts.yaml")
    held = [("You see a tree.", ACTIONS), ("You see a tree and grass.", ACTIONS), ("You see water here.", ACTIONS)]
    write_labels(heldout, generator, held, "scripted-lm", "data:prompts.yaml")
    result = measure_label_files(labels, heldout, [2, 3], [0.5, 0.99], floor=0.3, embedder=make_embedder("hashing:64"))
    rows = {(row["model"], row["labels"]): row for row in result["rows"]}
    assert set(rows) == {("nearest", 2), ("classifier", 2), ("nearest", 3), ("classifier", 3),
                         ("the LM's most frequent answer", 3)}
    assert all(row["heldout"] == 2 for row in rows.values())  # the labelled "You see a tree." is left out
    assert rows[("nearest", 2)]["precision@0.99"] == 1.0  # from the tree and the water: both held-out goals right


def test_parts_merge_into_one_file_each_situation_once(tmp_path, capsys):
    generator = ranked(SQLiteCache(":memory:"))
    write_labels(tmp_path / "a.jsonl", generator, SITUATIONS[:2], "m", "data:prompts.yaml", {SITUATIONS[0]: 2})
    write_labels(tmp_path / "b.jsonl.gz", generator, SITUATIONS[1:], "m", "data:prompts.yaml", {SITUATIONS[1]: 3})
    assert labels_main(["merge", str(tmp_path / "all.jsonl.gz"), str(tmp_path / "a.jsonl"),
                        str(tmp_path / "b.jsonl.gz")]) == 0
    _, lines = read_labels(tmp_path / "all.jsonl.gz")
    rows = list(lines)
    assert [row["observation"] for row in rows] == [s for s, _ in SITUATIONS]
    assert [row.get("visits") for row in rows] == [2, 3, 0]
    capsys.readouterr()
    assert labels_main(["summary", str(tmp_path / "all.jsonl.gz"), "--out", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text())["situations"] == 3
    other = RankedGoals(CachedLM(ScriptedLM(scores=scores), SQLiteCache(":memory:")), CANDIDATES[:2],
                        prompts=PromptConfig.load(), k=1, calibrate=True)
    write_labels(tmp_path / "c.jsonl", other, SITUATIONS[:1], "m", "data:prompts.yaml")
    with pytest.raises(SystemExit):
        labels_main(["merge", str(tmp_path / "x.jsonl"), str(tmp_path / "a.jsonl"), str(tmp_path / "c.jsonl")])
    assert "other settings" in capsys.readouterr().err


def test_labels_of_the_same_model_at_another_precision_answer_for_it_when_rekeyed(tmp_path):
    """Shipped labels come from the 1.5B in bfloat16; a float32 run of the same model (a CPU without native
    bfloat16) imports them under its own identity, so they are cache hits, not questions."""
    from ellm_core.lm.shipped import same_model

    assert same_model("transformers:qwen2.5-coder-1.5b:bfloat16", "transformers:qwen2.5-coder-1.5b")
    assert not same_model("transformers:qwen2.5-coder-1.5b:bfloat16", "transformers:qwen2.5-coder-0.5b")
    assert not same_model("transformers:m:bfloat16", "transformers:m:adapter=ab12")
    labels = tmp_path / "labels.jsonl"
    write_labels(labels, ranked(SQLiteCache(":memory:")), SITUATIONS, "scripted-lm", "data:prompts.yaml")
    lines = labels.read_text().splitlines()
    lines[0] = json.dumps({**json.loads(lines[0]), "lm_identity": "scripted:bfloat16"})  # as if made in bfloat16
    labels.write_text("\n".join(lines) + "\n")
    observations, actions = [s for s, _ in SITUATIONS], [list(a) for _, a in SITUATIONS]

    as_written = SQLiteCache(tmp_path / "a.sqlite")
    import_cache(as_written, labels)
    assert ranked(as_written).cached_batch(observations, actions) == [None, None, None]  # keyed for bfloat16
    rekeyed = SQLiteCache(tmp_path / "b.sqlite")
    assert import_cache(rekeyed, labels, identity="scripted") == (4, 0)
    asked = ScriptedLM(scores=scores)
    assert ranked(rekeyed, asked).cached_batch(observations, actions) == [["collect wood"], ["drink water"],
                                                                           ["eat cow"]]
    assert asked.calls == []
