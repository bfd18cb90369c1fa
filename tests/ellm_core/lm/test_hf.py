"""The default local LM (SmolLM2-135M-Instruct GGUF shipped in a PyPI package), for real."""

import numpy as np
import pytest

from ellm_core.goals import OpenEndedGoals
from ellm_core.goals.prompts import PromptConfig, closed_form_prompt

pytestmark = pytest.mark.real_model

CRAFTER_ACTIONS = ["noop", "move left", "move right", "move up", "move down", "do", "sleep", "place table",
                   "make wood pickaxe"]


@pytest.fixture(scope="module")
def lm():
    from ellm_core.lm.hf import TransformersLM

    return TransformersLM(batch_size=4)


def test_default_lm_suggests_at_least_one_goal_for_a_crafter_like_prompt(lm):
    goals = OpenEndedGoals(lm).suggest("You see grass and a tree. You have nothing.", CRAFTER_ACTIONS)
    assert len(goals) >= 1 and all(isinstance(goal, str) and goal for goal in goals)


def test_batched_greedy_generation_equals_one_at_a_time(lm):
    prompts = ["Name one fruit.", "You see water. What would you do? Answer in three words."]
    batched = lm.generate(prompts)
    single = [lm.generate([prompt])[0] for prompt in prompts]
    assert batched == single and all(batched)
    assert lm.tokens_generated > 0


def test_yes_probability_is_a_probability(lm):
    chats = [closed_form_prompt("You see a tree.", CRAFTER_ACTIONS, goal, PromptConfig.load())
             for goal in ("collect wood", "drink water")]
    probabilities = lm.yes_probability(chats)
    assert probabilities.shape == (2,) and np.all((probabilities > 0) & (probabilities < 1))


def test_sampling_is_seeded_and_reproducible():
    from ellm_core.lm.hf import TransformersLM

    def sample(seed: int) -> list[str]:
        lm = TransformersLM(temperature=1.0, top_p=0.95, max_new_tokens=12, seed=seed)
        return lm.generate(["Name three animals."] * 3)

    first = sample(seed=1)
    assert first == sample(seed=1)
    assert len(set(first)) > 1  # the three samples in one batch differ


def test_ranked_goals_on_the_real_model_are_repeatable_and_stable(lm):
    """Likelihood ranking: the scores are exact log-probabilities (the same as one full forward pass), repeat (to
    float rounding: the second call reuses a shorter prompt head than the first), and the top candidate of a fixed
    Crafter situation stays the same."""
    import torch

    from ellm_core.crafter.caption import crafter_text
    from ellm_core.goals import RankedGoals
    from ellm_core.goals.prompts import open_ended_prompt

    prompts = PromptConfig.load("data:crafter/prompts.yaml")
    candidates = list(crafter_text()["achievements"].values())
    observation = "You see water nearby to the south. You face water. You have nothing. You are thirsty."
    ranked = RankedGoals(lm, candidates, prompts=prompts, k=1, calibrate=True)
    first = ranked.scores([observation], [CRAFTER_ACTIONS])
    assert first.shape == (1, 22) and np.isfinite(first).all()
    np.testing.assert_allclose(first, ranked.scores([observation], [CRAFTER_ACTIONS]), atol=1e-4, rtol=0)
    assert ranked.suggest(observation, CRAFTER_ACTIONS) == ["drink water"]  # ahead of "eat cow" by 1.2 nats
    chat = open_ended_prompt(observation, CRAFTER_ACTIONS, prompts)
    text = lm._render([chat])[0] + "-"
    head = len(lm.tokenizer(text, add_special_tokens=False)["input_ids"])
    ids = lm.tokenizer(text + " collect wood", return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        log_probs = torch.log_softmax(lm.model(input_ids=ids).logits[0].float(), dim=-1)
    naive = sum(log_probs[i - 1, ids[0, i]].item() for i in range(head, ids.shape[1]))
    assert lm.score_continuations([chat], [" collect wood"], "-")[0, 0] == pytest.approx(naive, abs=1e-3)


def test_constrained_generation_writes_only_lines_of_the_vocabulary():
    from ellm_core.crafter.caption import crafter_text
    from ellm_core.goals.prompts import open_ended_prompt
    from ellm_core.lm.hf import TransformersLM

    vocabulary = list(crafter_text()["achievements"].values())
    lm = TransformersLM(batch_size=2, vocabulary=vocabulary)
    prompts = PromptConfig.load("data:crafter/prompts.yaml")
    situations = ["You see water nearby to the south. You face water. You have 1 wood.",
                  "You see a cow nearby to the west. You face grass. You have nothing. You are hungry."]
    answers = lm.generate([open_ended_prompt(s, CRAFTER_ACTIONS, prompts) for s in situations])
    for answer in answers:
        lines = answer.splitlines()
        assert 1 <= len(lines) <= 3 and all(line.startswith("- ") and line[2:] in vocabulary for line in lines)
    assert ":vocab=" in lm.identity  # constrained answers are cached apart from free ones
    assert lm.generate([open_ended_prompt(situations[0], CRAFTER_ACTIONS, prompts)]) == answers[:1]
