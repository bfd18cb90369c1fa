"""Episode videos: the overlay is a pure function of (frame, text); videos decode with the expected frames."""

from __future__ import annotations

import dataclasses
import json

import imageio.v2 as imageio
import numpy as np

from ellm_core.cli import main
from ellm_core.crafter.cli import crafter_train_defaults
from ellm_core.crafter.video import (
    PANEL_COLOR,
    REWARD_COLOR,
    FrameText,
    overlay,
    record_episodes,
    write_video,
)
from ellm_core.run.config import updated

FRAME = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)


def _band(image: np.ndarray) -> int:
    return int((image[:, 256:] == np.array(REWARD_COLOR, np.uint8)).all(-1).sum())


def test_overlay_keeps_the_frame_and_writes_the_panel():
    text = FrameText(3, "You see a tree.", ["collect wood"], unlocked=["collect sapling"])
    image = overlay(FRAME, text)
    assert image.shape == (320, 640, 3) and image.dtype == np.uint8
    assert np.array_equal(image[:256, :256], FRAME.repeat(4, 0).repeat(4, 1))  # the frame, upscaled
    panel = image[:, 256:]
    assert (panel != np.array(PANEL_COLOR, np.uint8)).any(-1).sum() > 500  # text was drawn
    assert not np.array_equal(overlay(FRAME, dataclasses.replace(text, goals=["drink water"])), image)


def test_a_reward_that_fires_is_shown_and_only_then():
    quiet = overlay(FRAME, FrameText(5, "You see a tree.", ["collect wood"], caption=""))
    fired = overlay(FRAME, FrameText(6, "You see a tree.", ["collect wood"], caption="collect wood",
                                     achieved_goal="collect wood", reward=0.93, intrinsic_return=0.93))
    assert _band(quiet) == 0 and _band(fired) > 1000


def test_a_recorded_scripted_episode_decodes_with_its_frames(tmp_path):
    config = updated(crafter_train_defaults(None), reward="oracle", cache="none", embedder="hashing:64",
                                 env_kwargs=json.dumps({"length": 400}))
    frames = record_episodes(config, episodes=1, seed=0, policy="scripted", max_steps=40)[0]
    assert len(frames) == 40 and any(_band(frame) for frame in frames)  # the scripted player collects wood early
    path = write_video(frames, tmp_path / "episode.mp4", fps=10)
    assert path.suffix == ".mp4"
    decoded = [frame for frame in imageio.get_reader(path)]
    assert len(decoded) == 40 and decoded[0].shape == (320, 640, 3)


def test_eval_video_records_a_trained_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["crafter", "train", "--preset", "smoke", "--reward", "oracle", "--steps", "120", "--length", "30",
                 "--embedder", "hashing:32", "--cache", "none", "--no-tensorboard", "--eval-episodes", "1",
                 "--out", str(out)]) == 0
    assert main(["crafter", "eval", str(out), "--video", "1"]) == 0
    videos = list((out / "videos").glob("agent-seed0-episode0.*"))
    assert len(videos) == 1 and sum(1 for _ in imageio.get_reader(videos[0])) == 30
    assert "wrote" in capsys.readouterr().out


def test_video_every_records_learning_as_it_goes(tmp_path):
    out = tmp_path / "run"
    assert main(["crafter", "train", "--preset", "smoke", "--reward", "oracle", "--steps", "120", "--length", "20",
                 "--embedder", "hashing:32", "--cache", "none", "--no-tensorboard", "--eval-episodes", "1",
                 "--video-every", "50", "--out", str(out)]) == 0
    assert sorted(path.stem for path in (out / "videos").iterdir()) == ["step00000050", "step00000100"]


def test_a_distilled_run_is_recorded_with_its_lms_own_goals():
    from ellm_core.lm.base import LMConfig

    config = updated(crafter_train_defaults(None), reward="ellm", goal_source="distilled", cache="none",
                                 embedder="hashing:64", lm=LMConfig(backend="scripted"),
                                 env_kwargs=json.dumps({"length": 400}))
    frames = record_episodes(config, episodes=1, seed=0, policy="scripted", max_steps=10)[0]
    assert len(frames) == 10
