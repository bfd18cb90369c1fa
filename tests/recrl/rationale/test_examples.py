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
