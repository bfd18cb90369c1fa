"""Episode videos of Crafter with what ELLM saw, wanted and got drawn beside every frame.

:func:`overlay` is a pure function, (frame, :class:`FrameText`) -> frame: the crafter image upscaled, and a panel
with the step, the intrinsic return so far, the observation caption, the current goals, what the step achieved,
the reward when a goal fires (on a green band) and the achievements unlocked so far. :func:`record_episodes`
plays episodes of a trained run (or a random or scripted policy) through the same rollout as training and
evaluation; :func:`write_video` writes MP4 (imageio with the ffmpeg binary of the imageio-ffmpeg wheel) and falls
back to GIF.
"""

from __future__ import annotations

import json
import logging
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

logger = logging.getLogger(__name__)

PANEL_WIDTH = 384  # 256 + 384 = 640: a width video codecs take as is
REWARD_COLOR = (40, 160, 70)  # the band behind a reward that fired
PANEL_COLOR = (24, 24, 28)
POLICIES = ("agent", "random", "scripted")


@dataclass
class FrameText:
    """What is written beside one frame."""

    step: int
    observation: str
    goals: list[str] = field(default_factory=list)
    caption: str = ""  # what the step achieved ("" when nothing)
    achieved_goal: str = ""  # the goal that fired ("" when none)
    reward: float = 0.0  # the intrinsic reward of the step
    intrinsic_return: float = 0.0  # so far in the episode, this step included
    unlocked: list[str] = field(default_factory=list)


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def overlay(frame: np.ndarray, text: FrameText, scale: int = 4) -> np.ndarray:
    """The frame upscaled ``scale`` times (nearest), with the text panel on its right; uint8 RGB."""
    image = np.asarray(frame, dtype=np.uint8).repeat(scale, axis=0).repeat(scale, axis=1)
    height = max(image.shape[0], 320)
    canvas = Image.new("RGB", (image.shape[1] + PANEL_WIDTH, height), PANEL_COLOR)
    canvas.paste(Image.fromarray(image), (0, 0))
    draw, font = ImageDraw.Draw(canvas), _font(13)
    x, y, width = image.shape[1] + 10, 8, 50

    def write(label: str, value: str, color=(230, 230, 230), lines: int = 3) -> None:
        nonlocal y
        wrapped = textwrap.wrap(f"{label}{value}", width) or [label]
        for line in wrapped[:lines]:
            draw.text((x, y), line, fill=color, font=font)
            y += 16
        y += 4

    write("", f"step {text.step}   intrinsic return {text.intrinsic_return:.2f}", (255, 220, 120), 1)
    write("sees: ", text.observation, lines=5)
    write("goals: ", "; ".join(text.goals) or "(none)", (150, 200, 255))
    write("did: ", text.caption or "-")
    if text.achieved_goal:
        draw.rectangle((x - 6, y - 2, canvas.width - 4, y + 16), fill=REWARD_COLOR)
        write("", f"reward +{text.reward:.2f} for '{text.achieved_goal}'", (255, 255, 255), 1)
    write("unlocked: ", ", ".join(text.unlocked) or "-", (200, 200, 200), 4)
    return np.asarray(canvas)


def write_video(frames: list[np.ndarray], path: str | Path, fps: int = 10) -> Path:
    """Write ``frames`` as MP4 at ``path``; as GIF (same name, .gif) when MP4 cannot be written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import imageio.v2 as imageio

        with imageio.get_writer(path.with_suffix(".mp4"), fps=fps, codec="libx264", quality=7,
                                macro_block_size=8) as writer:
            for frame in frames:
                writer.append_data(frame)
        return path.with_suffix(".mp4")
    except (ImportError, OSError, RuntimeError, ValueError) as error:
        logger.warning("MP4 not written (%s): writing a GIF instead", error)
        gif = path.with_suffix(".gif")
        images = [Image.fromarray(frame) for frame in frames]
        images[0].save(gif, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
        return gif


def record_episodes(config, episodes: int = 1, seed: int = 0, policy: str = "agent", run_dir: str | Path | None = None,
                    max_steps: int | None = None, agent=None) -> list[list[np.ndarray]]:
    """Frames with overlays of ``episodes`` episodes played by ``policy`` under ``config`` (a TrainConfig).

    ``agent`` plays a given ``DQNAgent``, or the last checkpoint of ``run_dir`` (ε = ``config.eval_epsilon``);
    ``random`` and ``scripted``
    (the purposeful hand-written policy of :mod:`ellm_core.crafter.situations`) need none. Goals and rewards are
    those of ``config.reward`` (ellm: the configured LM; oracle: crafter's rules).
    """
    from ellm_core.cache import open_cache
    from ellm_core.crafter.situations import scripted_action
    from ellm_core.run.assembly import CANDIDATE_MODES, build_rollout, load_agent, make_envs, make_goal_source
    from ellm_core.run.config import updated
    from ellm_core.text.embed import CachedEmbedder, make_embedder

    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
    env_kwargs = {**config.env_arguments(), "pixels": False, "render_mode": "rgb_array"}
    config = updated(config, env_kwargs=json.dumps(env_kwargs), num_envs=1, async_envs=False,
                     lm_async=False,  # a recording asks the LM itself (distilled runs: the LM they learnt)
                     goal_source="lm" if config.goal.source == "distilled" else config.goal.source)
    cache = open_cache(config.cache)
    envs = make_envs(config, num_envs=1)
    env = envs.envs[0]
    embedder = CachedEmbedder(make_embedder(config.embedder, config.device), cache)
    uses_lm = config.reward == "ellm" and config.goal.source == "lm"
    candidates = env.unwrapped.goal_candidates() if uses_lm and config.goal.mode in CANDIDATE_MODES else None
    rollout = build_rollout(config, envs, embedder, make_goal_source(config, cache, candidates) if uses_lm else None)
    rollout.intrinsic = None  # baselines' bonuses are learnt online: not meaningful in a recording
    if policy == "agent" and agent is None:
        if run_dir is None:
            raise ValueError("--policy agent records a trained run: pass its folder (or use --policy random)")
        agent = load_agent(run_dir, config.device).agent
    rng = np.random.default_rng(seed)
    states, masks, infos = rollout.reset(seed=seed)
    info, videos = infos[0], []
    for _ in range(episodes):
        frames, total, step = [], 0.0, 0
        while True:
            goals = list(rollout.goal_reward.goals[0]) if rollout.goal_reward else []
            frame = env.render()
            if policy == "agent":
                action = int(agent.act(states, config.eval_epsilon, rng, masks)[0])
            elif policy == "scripted":
                action = scripted_action(info["observation_text"], info["inventory"], rng)
            else:
                action = int(rng.integers(rollout.num_actions))
            result = rollout.step(np.array([action]))
            step += 1
            total += float(result.intrinsic[0])
            done_info = result.transition_infos[0]
            unlocked = [name.replace("_", " ") for name, count in done_info.get("achievements", {}).items() if count]
            frames.append(overlay(frame, FrameText(step, info["observation_text"], goals,
                                                   str(done_info.get("caption", "")), result.achieved_goals[0],
                                                   float(result.intrinsic[0]), total, unlocked)))
            states, masks = result.states, result.masks
            info = result.transition_infos[0] if not (result.terminated[0] or result.truncated[0]) else \
                {**done_info, "observation_text": rollout_text(rollout), "inventory": {}}
            if result.terminated[0] or result.truncated[0] or (max_steps and step >= max_steps):
                break
        videos.append(frames)
    envs.close()
    return videos


def rollout_text(rollout) -> str:
    """The observation text the rollout's single env starts its new episode from."""
    return rollout.envs.envs[0].unwrapped.observation_text()


def periodic_videos(config, every: int):
    """A ``train`` step hook recording one evaluation episode of the current agent every ``every`` steps."""
    state = {"next": every}

    def hook(step: int, agent) -> None:
        if step < state["next"]:
            return
        state["next"] = (step // every + 1) * every
        frames = record_episodes(config, 1, seed=step, policy="agent", agent=agent)[0]
        write_video(frames, Path(config.out) / "videos" / f"step{step:08d}.mp4")

    return hook
