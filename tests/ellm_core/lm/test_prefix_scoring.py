"""The fast path of ranking (a shared head computed once, candidates packed as a trie) against the plain path."""

import importlib.util

import numpy as np
import pytest

from ellm_core.lm.prefix_scoring import CandidateTrie, common_prefix_length


def test_the_trie_shares_common_first_tokens_and_keeps_each_candidate_path():
    trie = CandidateTrie.build([[5, 6], [5, 7], [8], [5, 6, 9]])
    assert trie.tokens == [5, 6, 7, 8, 9]
    assert trie.parents == [-1, 0, 0, -1, 1]
    assert trie.depths == [1, 2, 2, 1, 3]
    assert trie.paths == [[0, 1], [0, 2], [3], [0, 1, 4]]
    ancestry = trie.ancestry().numpy()
    assert ancestry[4].tolist() == [True, True, False, False, True]  # 9 sees 5, 6 and itself
    assert not ancestry[2, 1] and not ancestry[3, 0]  # siblings and other branches are hidden


def test_an_empty_candidate_is_refused():
    with pytest.raises(ValueError, match="no tokens"):
        CandidateTrie.build([[1], []])


def test_common_prefix_length():
    assert common_prefix_length([1, 2, 3], [1, 2, 4, 5]) == 2
    assert common_prefix_length([1, 2], [1, 2]) == 2
    assert common_prefix_length([], [1]) == 0


def _situations(count: int):
    from ellm_core.goals.quality import load_situations
    from ellm_core.resources import data_dir

    return load_situations(data_dir().parent / "results" / "goal_quality" / "crafter_situations_seed1_n40.jsonl")[:count]


def _fast_equals_separate(lm, count: int, situations_per_pass: int) -> None:
    from ellm_core.crafter.caption import crafter_text
    from ellm_core.goals import RANK_CONTENT_FREE
    from ellm_core.goals.prompts import PromptConfig, open_ended_prompt

    prompts = PromptConfig.load("data:crafter/prompts.yaml")
    candidates = [" " + text for text in crafter_text()["achievements"].values()]
    situations = _situations(count)
    chats = [open_ended_prompt(RANK_CONTENT_FREE, situations[0].actions, prompts)]
    chats += [open_ended_prompt(s.observation, s.actions, prompts) for s in situations]
    chats.append([{"role": "user", "content": "Name a tool."}])  # another head: the scorer computes it again
    lm.scorer, lm.situations_per_pass = None, situations_per_pass
    fast = lm.score_continuations(chats, candidates, "-")
    again = lm.score_continuations(chats[1:2], candidates, "-")  # the head now shorter than the first call's
    separate = lm.score_continuations_separately(chats, candidates, "-")
    assert fast.shape == separate.shape == (len(chats), 22)
    np.testing.assert_allclose(fast, separate, atol=2e-4, rtol=0)
    np.testing.assert_allclose(again[0], separate[1], atol=2e-4, rtol=0)
    assert (fast.argmax(axis=1) == separate.argmax(axis=1)).all()
    assert lm.scorer.head_tokens_computed > 0


@pytest.mark.real_model
def test_fast_ranking_equals_separate_ranking_on_the_shipped_smollm2():
    from ellm_core.lm.hf import TransformersLM

    _fast_equals_separate(TransformersLM(), count=3, situations_per_pass=2)


def _installed_qwen() -> str | None:
    from ellm_core.lm.shipped import shipped_model

    for name in ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"):
        if all(importlib.util.find_spec(part.package) for part in shipped_model(name).parts):
            return name
    return None


@pytest.mark.real_model
@pytest.mark.skipif(_installed_qwen() is None, reason="no Qwen model installed: pip install '.[qwen-small]'")
def test_fast_ranking_equals_separate_ranking_on_a_shipped_qwen():
    from ellm_core.lm.hf import TransformersLM

    _fast_equals_separate(TransformersLM(model=_installed_qwen()), count=1, situations_per_pass=2)
