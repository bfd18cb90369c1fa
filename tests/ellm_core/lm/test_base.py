import numpy as np
import pytest

from ellm_core.cache import SQLiteCache
from ellm_core.lm.base import CachedLM, LanguageModel, LMConfig, ScriptedLM
from ellm_core.lm.registry import make_language_model


def test_scripted_lm_mapping_sequence_and_callable():
    assert isinstance(ScriptedLM(), LanguageModel)
    assert ScriptedLM({"tree": "- chop"}, default="?").generate(["a tree", "a cow"]) == ["- chop", "?"]
    assert ScriptedLM(["a", "b"]).generate(["x", "y", "z"]) == ["a", "b", "a"]
    assert ScriptedLM(lambda text: text.upper()).generate([[{"role": "user", "content": "hi"}]]) == ["HI"]
    np.testing.assert_allclose(ScriptedLM(yes=0.3).yes_probability(["q", "r"]), [0.3, 0.3])


def test_cached_lm_answers_each_prompt_once_across_runs(tmp_path):
    inner = ScriptedLM(lambda text: f"- {text}", yes=lambda text: 0.25)
    cached = CachedLM(inner, SQLiteCache(tmp_path / "c.sqlite"))
    assert cached.generate(["a", "b", "a"]) == ["- a", "- b", "- a"]
    assert cached.generate(["b"]) == ["- b"]
    assert len(inner.calls) == 2
    np.testing.assert_allclose(cached.yes_probability(["a", "a"]), [0.25, 0.25])
    assert len(inner.calls) == 3  # yes/no answers are cached apart from generations
    again = CachedLM(ScriptedLM(lambda text: "different"), SQLiteCache(tmp_path / "c.sqlite"))
    again.identity = cached.identity
    assert again.generate(["a"]) == ["- a"]


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown LM backend 'gpt'"):
        make_language_model(LMConfig(backend="gpt"))


def test_missing_local_model_path_is_a_clear_error():
    from ellm_core.lm.weights import resolve_model_location

    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_model_location("./no/such/model", None)
    with pytest.raises(FileNotFoundError, match="GGUF file"):
        resolve_model_location("/no/such/model.gguf", None)


def test_llamacpp_backend_without_the_extra_is_a_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if the extra were not installed
    with pytest.raises(ImportError, match=r"pip install '\.\[llamacpp\]'"):
        make_language_model(LMConfig(backend="llamacpp"))


def test_a_grammar_needs_the_llamacpp_backend():
    with pytest.raises(ValueError, match="--lm-grammar needs --lm-backend llamacpp"):
        make_language_model(LMConfig(backend="scripted", grammar="goal-lines"))


def test_a_backend_takes_its_config_whole_or_its_fields_as_keywords():
    config = LMConfig.for_backend(None, "transformers", {"batch_size": 4}, compute_type="float32")
    assert (config.backend, config.batch_size, config.compute_type) == ("transformers", 4, "float32")
    given = LMConfig(backend="openai", model="served", temperature=0.7)
    assert LMConfig.for_backend(given, "openai", {"seed": 3}) == LMConfig(backend="openai", model="served",
                                                                          temperature=0.7, seed=3)
    with pytest.raises(TypeError, match="unknown LM config field.*concurrency.*known: backend, model"):
        LMConfig.for_backend(None, "openai", {"concurrency": 4})


def test_the_transformers_backend_is_the_same_model_from_a_config_or_from_keywords():
    from ellm_core.lm.hf import TransformersLM

    from_keywords = TransformersLM(max_new_tokens=12, seed=2)
    from_config = make_language_model(LMConfig(backend="transformers", compute_type="float32", max_new_tokens=12,
                                               seed=2))
    assert from_config.identity == from_keywords.identity
    assert from_config.generate(["Name one tool."]) == from_keywords.generate(["Name one tool."])
