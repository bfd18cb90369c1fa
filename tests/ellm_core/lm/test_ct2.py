"""The CTranslate2 backend: shared-prefix bookkeeping (fast), then the real shipped model."""

import numpy as np
import pytest

from ellm_core.goals.prompts import PromptConfig, closed_form_prompt, open_ended_prompt
from ellm_core.lm.base import CachedLM, LMConfig
from ellm_core.lm.ct2 import CTranslate2LM, SharedPrefix, common_prefix_length
from ellm_core.lm.registry import make_language_model
from ellm_core.resources import data_dir

CRAFTER_PROMPTS = PromptConfig.load(data_dir() / "crafter" / "prompts.yaml")
ACTIONS = ["noop", "move left", "move right", "move up", "move down", "do", "sleep", "place table"]
OBSERVATIONS = ["You see a tree nearby to the west. You have nothing.", "You see water to the south. You are thirsty.",
                "You see a cow nearby to the north. You have 2 wood.", "You see grass. You have 1 sapling."]


def test_common_prefix_length():
    assert common_prefix_length([list("abcd"), list("abxy"), list("ab")]) == 2
    assert common_prefix_length([list("abc")]) == 3 and common_prefix_length([]) == 0


def test_shared_prefix_needs_two_prompts_ends_at_a_line_and_settles():
    shared = SharedPrefix(lambda token: token.endswith("\n"), min_tokens=2)
    head = ["sys\n", "few\n", "shot\n", "Valid:", " a,", " b\n"]
    shared.update("k", [head + ["You", " see", " a", " tree"]])
    assert shared.prefix("k") == []  # one prompt: its whole text would look static
    shared.update("k", [head + ["You", " see", " water"]])
    assert shared.prefix("k") == head  # "You see" is shared too, but cut back to the end of the line
    shared.update("k", [head + ["It", " is", " dark"]])
    assert shared.prefix("k") == head
    shared.update("other", [["x\n", "y"], ["x\n", "z"]])
    assert shared.prefix("other") == []  # shorter than min_tokens


@pytest.fixture(scope="module")
def lm():
    return CTranslate2LM(max_new_tokens=24)


@pytest.mark.real_model
class TestRealModel:
    def test_greedy_answers_repeat_and_match_without_the_static_prefix(self, lm):
        chats = [open_ended_prompt(obs, ACTIONS, CRAFTER_PROMPTS) for obs in OBSERVATIONS]
        first = lm.generate(chats[:1]) + lm.generate(chats[1:])  # the prefix is learnt from the second call on
        assert len(lm.shared.prefix(str(chats[0][0]))) > 300  # system + few-shot turns + the actions line
        again = lm.generate(chats)
        plain = CTranslate2LM(max_new_tokens=24, static_prefix=False).generate(chats)
        assert first == again == plain and all(first)
        assert lm.tokens_generated > 0

    def test_yes_probability_matches_the_transformers_backend(self, lm):
        from ellm_core.lm.hf import TransformersLM

        chats = [closed_form_prompt(obs, ACTIONS, goal, CRAFTER_PROMPTS)
                 for obs in OBSERVATIONS[:2] for goal in ("collect wood", "drink water", "place table")]
        ours = lm.yes_probability(chats)
        reference = TransformersLM().yes_probability(chats)
        assert ours.shape == (6,) and np.all((ours > 0) & (ours < 1))
        np.testing.assert_allclose(ours, reference, atol=0.02)

    def test_sampling_is_seeded(self):
        chats = [open_ended_prompt(obs, ACTIONS, CRAFTER_PROMPTS) for obs in OBSERVATIONS[:2]]
        one = CTranslate2LM(temperature=1.0, seed=3, max_new_tokens=16).generate(chats)
        two = CTranslate2LM(temperature=1.0, seed=3, max_new_tokens=16).generate(chats)
        assert one == two and all(isinstance(answer, str) for answer in one)

    def test_two_adapters_of_the_same_folder_name_get_different_cache_keys(self, tmp_path, monkeypatch):
        import ellm_core.lm.ct2 as llm_ct2

        base = llm_ct2.converted_model()  # the adapters' merge is not what this tests: serve the base model
        monkeypatch.setattr(llm_ct2, "converted_model", lambda model, gguf_file, adapter: base)
        identities = []
        for run, weights in (("one", b"first"), ("two", b"second")):
            adapter = tmp_path / run / "adapter"
            adapter.mkdir(parents=True)
            (adapter / "adapter_model.safetensors").write_bytes(weights)
            identities.append(CTranslate2LM(max_new_tokens=8, adapter=str(adapter)).identity)
        assert identities[0] != identities[1]  # else one adapter's cached answers would serve the other

    def test_cache_keys_name_the_backend_and_compute_type(self, tmp_path):
        from ellm_core.cache import SQLiteCache

        cache = SQLiteCache(tmp_path / "c.sqlite")
        lm = make_language_model(LMConfig(backend="ctranslate2", max_new_tokens=8), cache)
        assert isinstance(lm, CachedLM) and lm.identity.startswith("ctranslate2:") and ":float32:" in lm.identity
        lm.generate(["Name one fruit."])
        assert lm.cached(["Name one fruit."])[0] is not None and lm.misses == 1


def test_a_missing_model_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no/such/model"):
        CTranslate2LM(model="./no/such/model")
    with pytest.raises(ValueError, match="unknown compute type"):
        CTranslate2LM(compute_type="int3")


def test_a_broken_model_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")  # a directory that is no model
    with pytest.raises(ValueError, match="could not convert language model"):
        CTranslate2LM(model=str(tmp_path))
