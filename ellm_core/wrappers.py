"""Gymnasium wrappers that add the ELLM intrinsic reward.

The wrapped environment describes itself in text through its step/reset ``info``:

- ``info["observation_text"]``: a caption of the current observation;
- ``info["valid_actions"]``: the valid actions as text;
- ``info["caption"]`` (step only): what the last transition achieved, ``""`` when nothing happened.

The wrapper reads only those keys, so any environment that provides them gets ELLM for free.
"""

from __future__ import annotations

import logging
from typing import Any, SupportsFloat

import gymnasium as gym

from ellm_core.goals import GoalGenerator
from ellm_core.reward import DEFAULT_THRESHOLD, EpisodeReward
from ellm_core.text.embed import Embedder

logger = logging.getLogger(__name__)

TEXT_INFO_KEYS = ("observation_text", "valid_actions")


def require_text_info(info: dict[str, Any], keys: tuple[str, ...] = TEXT_INFO_KEYS) -> None:
    """Raise a clear ``KeyError`` when the environment does not provide the text keys ELLM needs."""
    missing = [key for key in keys if key not in info]
    if missing:
        raise KeyError(
            f"the wrapped environment must put {missing} in its info dict (found keys: {sorted(info)}); "
            "see ellm_core.wrappers for the text interface"
        )


class ELLMReward(gym.Wrapper):
    """Adds ``scale`` × the ELLM reward of the goals suggested for the pre-action state.

    After ``reset`` and every non-final ``step`` the goals for the *new* observation are suggested (and
    filtered by the achieved-goal filter) and reported as ``info["goals"]``, so a goal-conditioned agent can
    read them before acting. The next step's transition caption is rewarded against those goals.

    Args:
        env: an environment providing the text info keys.
        goal_generator: suggests goals for ``(observation_text, valid_actions)``.
        embedder: embeds goals and captions (wrap it in ``CachedEmbedder`` to embed each text once).
        threshold: similarity above which a goal counts as achieved.
        metric: similarity name (see :mod:`ellm_core.text.similarity`).
        scale: multiplier of the intrinsic reward.
        keep_extrinsic: keep the environment's own reward in the total (else only the intrinsic reward).
        filter_achieved: remove goals achieved earlier in the episode (turn off for the ablation).

    Step info gains ``goals``, ``achieved_goal`` (``""`` if none), ``intrinsic_reward`` and
    ``extrinsic_reward``.
    """

    def __init__(
        self,
        env: gym.Env,
        goal_generator: GoalGenerator,
        embedder: Embedder,
        threshold: float = DEFAULT_THRESHOLD,
        metric: str = "cosine",
        scale: float = 1.0,
        keep_extrinsic: bool = True,
        filter_achieved: bool = True,
    ) -> None:
        super().__init__(env)
        self.goal_generator = goal_generator
        self.episode = EpisodeReward(embedder, threshold, metric, filter_achieved)
        self.scale, self.keep_extrinsic = scale, keep_extrinsic
        self.goals: list[str] = []

    def _suggest(self, info: dict[str, Any]) -> list[str]:
        require_text_info(info)
        suggested = self.goal_generator.suggest(info["observation_text"], list(info["valid_actions"]))
        return self.episode.active_goals(suggested)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Reset the env and the episode's achieved goals; ``info["goals"]`` holds the first suggestions."""
        observation, info = self.env.reset(seed=seed, options=options)
        self.episode.reset()
        self.goals = self._suggest(info)
        info.update(goals=list(self.goals), achieved_goal="", intrinsic_reward=0.0, extrinsic_reward=0.0)
        return observation, info

    def step(self, action):
        """Step, reward the transition caption against the current goals, then suggest the next goals."""
        observation, reward, terminated, truncated, info = self.env.step(action)
        intrinsic, achieved, _ = self.episode.step(self.goals, str(info.get("caption", "")))
        extrinsic = float(reward)
        total: SupportsFloat = (extrinsic if self.keep_extrinsic else 0.0) + self.scale * intrinsic
        self.goals = [] if (terminated or truncated) else self._suggest(info)
        info.update(
            goals=list(self.goals), achieved_goal=achieved or "", intrinsic_reward=intrinsic,
            extrinsic_reward=extrinsic,
        )
        return observation, total, terminated, truncated, info
