import itertools

import pandas as pd

from ellm_core.cache import SQLiteCache
from ellm_core.lm.base import ScriptedLM
from recrl.data.prepared import load_prepared
from recrl.rationale.generate import (
    clean_rationale,
    generate_rationales,
    is_degenerate,
    read_rationales,
    samples_table,
    write_rationales,
)

HISTORIES = {"a": (("Film 1 (1981)",), "Drama"), "b": ((), "")}


def test_clean_rationale_strips_markers_and_keeps_leading_sentences():
    assert clean_rationale('1. "I want a quiet drama."\nSecond line') == "I want a quiet drama."
    assert clean_rationale("- Answer: I need a warm coat. And boots. " + "x" * 200, 40) == "I need a warm coat. And boots."
    assert clean_rationale("   \n  ") == ""


def test_degenerate_text_is_recognised():
    assert is_degenerate("1. 1. 1.")
    assert is_degenerate("film film film film drama")
    assert is_degenerate("a drama")
    assert not is_degenerate("I want a quiet family drama")


def test_k_clean_distinct_rationales_per_user_and_counts():
    answers = itertools.cycle(["I want a funny comedy.", "I want a funny comedy.", "film film film film", "",
                               "A tense thriller at night.", "Something with robots in space.",
                               "A tense thriller at night.", "Something with robots in space."])
    lm = ScriptedLM(lambda text: next(answers))
    frame, counts = generate_rationales(lm, HISTORIES, num=2)
    assert list(frame.groupby("user_id").size()) == [2, 2]
    assert frame.groupby("user_id")["rationale"].nunique().tolist() == [2, 2]
    assert frame[frame["user_id"] == "a"]["rationale"].tolist() == ["I want a funny comedy.", "A tense thriller at night."]
    assert (counts.kept, counts.empty, counts.degenerate, counts.duplicate, counts.surplus) == (4, 1, 1, 1, 1)
    assert counts.generated == 8


def test_users_short_of_k_are_counted_not_fatal():
    frame, counts = generate_rationales(ScriptedLM(["", "1 1 1"]), HISTORIES, num=2)
    assert frame.empty and counts.users_short == ["a", "b"] and counts.generated == 8  # two rounds of 2 per user


def test_cached_rationales_are_not_generated_again(tmp_path):
    cache = SQLiteCache(tmp_path / "cache.sqlite")
    lm = ScriptedLM(["I want a slow romance.", "I want a loud action film."])
    first, _ = generate_rationales(lm, HISTORIES, num=2, cache=cache)
    calls = len(lm.calls)
    second, counts = generate_rationales(lm, HISTORIES, num=2, cache=cache)
    assert len(lm.calls) == calls and counts.generated == 0
    pd.testing.assert_frame_equal(first, second)


def test_write_read_and_samples_table(tmp_path, tiny_prepared):
    frame, _ = generate_rationales(ScriptedLM(lambda t: "I want a good drama tonight."), {"u0": ((), "")}, 1)
    for name in ("r.parquet", "r.jsonl"):
        assert read_rationales(write_rationales(frame, tmp_path / name)) == {"u0": ["I want a good drama tonight."]}
    table = samples_table(frame, load_prepared(tiny_prepared), ["u0"])
    assert "I want a good drama tonight." in table and "Film 7 (1987)" in table  # u0 rated i7 = 5 (test)
