import pytest

from recrl.data.prepared import load_prepared
from recrl.data.synthetic import write_prepared
from recrl.rationale.examples import build_examples, first_sentences, proxy_rationale, user_histories
from recrl.rationale.train import RationaleConfig, select_examples


def test_examples_use_only_earlier_liked_train_items(tiny_prepared):
    data = load_prepared(tiny_prepared)
    examples = build_examples(data, "train", max_history=10)
    titles = dict(zip(data.items["item_id"], data.items["title"]))
    frame = data.interactions.set_index(["user_id", "item_id"])
    assert examples
    for example in examples:
        assert titles[example.item_id] not in example.history  # the target never leaks into the input
        when = frame.loc[(example.user_id, example.item_id), "timestamp"]
        for title in example.history:
            item = next(i for i, t in titles.items() if t == title)
            row = frame.loc[(example.user_id, item)]
            assert row["timestamp"] < when and row["rating"] >= 4 and row["split"] == "train"
    # liked train interactions of user u0: ratings are 5 unless (u + i) % 3 == 0, train days 0..4
    assert [e.item_id for e in examples if e.user_id == "u0"] == ["i1", "i2", "i4"]
    assert examples[0].target == "I loved the drama of film 1. More text here."


def test_history_is_capped_to_the_latest_items(tiny_prepared):
    example = build_examples(load_prepared(tiny_prepared), "train", max_history=1)[-1]
    assert len(example.history) == 1


def test_held_out_examples_come_from_the_test_split(tiny_prepared):
    data = load_prepared(tiny_prepared)
    held_out = build_examples(data, "test", history_splits=("train", "valid", "test"))
    test_pairs = set(map(tuple, data.part("test")[["user_id", "item_id"]].values))
    assert held_out and all((e.user_id, e.item_id) in test_pairs for e in held_out)


def test_proxy_rationale_from_metadata_when_there_is_no_review(tmp_path):
    data = load_prepared(write_prepared(tmp_path / "p", with_reviews=False))
    example = build_examples(data, "train")[0]
    assert example.target == "I want a 1980s drama film directed by Person 1, starring Actor 1."
    item = {"description": "X (1994). Crime. Director: Quentin Tarantino. Cast: Samuel L. Jackson, Uma Thurman. "
                           "Country: United States.", "categories": ["Crime", "Thriller"], "extra": '{"year": 1994}'}
    assert proxy_rationale(item) == "I want a 1990s crime, thriller film directed by Quentin Tarantino, starring Samuel L. Jackson."


def test_first_sentences_respects_the_cap():
    assert first_sentences("One two. Three four five. Six.", 20) == "One two."
    assert first_sentences("A very long first sentence without end", 12) == "A very long"


def test_no_liked_interactions_is_a_clear_error(tmp_path):
    directory = write_prepared(tmp_path / "p", rating=lambda u, i: 2.0)
    with pytest.raises(ValueError, match="no usable training examples.*rated >= 4"):
        select_examples(RationaleConfig(data=str(directory)), load_prepared(directory))


def test_user_without_liked_items_gets_an_empty_history(tmp_path):
    directory = write_prepared(tmp_path / "p", rating=lambda u, i: 5.0 if u else 1.0)
    histories = user_histories(load_prepared(directory), ["u0", "u1"])
    assert histories["u0"] == ((), "")
    assert len(histories["u1"][0]) == 5 and histories["u1"][1] in {"Comedy", "Drama", "Horror"}


def test_metadata_history_grounds_the_prompt_without_the_target(tiny_prepared):
    from recrl.rationale.examples import history_entry, user_message

    data = load_prepared(tiny_prepared)
    item = data.items.to_dict("records")[4]
    assert history_entry(item) == "Film 4 (1984)"
    assert history_entry(item, "metadata") == "Film 4 (1984) (drama; directed by Person 4; with Actor 4)"
    with pytest.raises(ValueError, match="history must be"):
        history_entry(item, "reviews")
    titles = [e.history for e in build_examples(data, "train", max_history=10)]
    grounded = build_examples(data, "train", max_history=10, history="metadata")
    assert [len(h) for h in titles] == [len(e.history) for e in grounded]  # the same items, more said of each
    for example in grounded:
        assert not any(entry.startswith(f"Film {example.item_id[1:]} (") for entry in example.history)
        assert "Director: Person" not in user_message(example.history, example.category)  # rewritten, not pasted
    assert user_histories(data, ["u0"], history="metadata")["u0"][0][0].endswith("with Actor 1)")


def test_hallucination_report_counts_made_up_and_outside_history_people(tiny_prepared):
    import pandas as pd

    from recrl.rationale.people import hallucination_report, item_people, named_people

    assert named_people("I want a film directed by Anna Lee, starring Bo Ek and Jean de Florette.") == \
        ["Anna Lee", "Bo Ek", "Jean de Florette"]
    assert item_people("Film 1 (1981). Drama. Director: Ann Lee. Writer: Bo Ek, Cy Do. Cast: Di Fa.") == \
        {"Ann Lee", "Bo Ek", "Cy Do", "Di Fa"}
    data = load_prepared(tiny_prepared)
    data.items["description"] = [f"Film {i}. Drama. Director: Dir {chr(65 + i)}. Cast: Star {chr(65 + i)}."
                                 for i in range(len(data.items))]
    rationales = pd.DataFrame({"user_id": ["u0", "u0", "u0", "u1"],
                               "rationale": ["I want a drama directed by Dir B.",  # u0's train item i1: grounded
                                             "I want a drama starring Star H.",  # i7 is in the catalogue, not u0's train
                                             "I want a drama directed by Nobody Known.",  # made up
                                             "I want a good drama."]})  # names nobody
    report = hallucination_report(rationales, data)
    assert report["naming_a_person"] == 3 and report["made_up"] == 1 and report["outside_history"] == 2
    assert report["made_up_rate"] == 0.25 and report["people_named"] == 3


def test_grounded_table_reads_the_results_folder(tmp_path):
    import json

    from recrl.rationale.grounded import main

    cell = {"value": 0.1, "low": 0.05, "high": 0.15}
    for history, made_up in (("titles", 0.9), ("metadata", 0.2)):
        folder = tmp_path / f"rationale-{history}"
        folder.mkdir()
        (folder / "metrics.json").write_text(json.dumps({"perplexity_base": 27.7, "perplexity_tuned": 4.0}))
        (folder / "people.json").write_text(json.dumps({"x.parquet": {"naming_rate": 1.0, "made_up_rate": made_up,
                                                                      "outside_history_rate": 0.95}}))
    (tmp_path / "validate-full").mkdir()
    rows = [{"metric": "bm25", "goals": goals, **{s: cell for s in ("own_minus_shuffled_spearman", "own_minus_shuffled_auc",
                                                                      "partial_spearman", "incremental_auc")}}
            for goals in ("rationales", "grounded rationales", "own liked reviews")]
    (tmp_path / "validate-full" / "report.json").write_text(json.dumps({"personal": rows}))
    assert main([str(tmp_path)]) == 0
    table = (tmp_path / "grounded.md").read_text()
    assert "| titles | 27.7 → 4.0 | 100.0% | 90.0% | 95.0% |" in table and "| metadata | 27.7 → 4.0 | 100.0% | 20.0% |" in table
    assert "| bm25 | metadata | 0.100 [0.050, 0.150] |" in table and "own liked reviews" not in table
