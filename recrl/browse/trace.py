"""Browse-session traces: what a trained agent saw, chose and got, step by step, on held-out test sessions.

For each of the first N test sessions (the sessions ``recrl browse eval`` scores, same seeds; when the run has
rationales for some users only, sessions of users without any are skipped): the user's liked
history, the rationale goals, and per step the slate shown, the action, the product opened, the ELLM reward of
its description against the goals (the run's embedder, threshold and achieved-goal filter) and the user's
held-out rating of it. Written as Markdown (``traces.md``) and as a PNG of the first session (``trace.png``).
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from recrl.browse.env import ProductBrowseEnv
from recrl.browse.evaluate import agent_policy
from recrl.browse.options import load_options


def trace_sessions(run_dir: str | Path, episodes: int = 3, seed: int = 0) -> list[dict[str, Any]]:
    """The step-by-step traces of the first ``episodes`` test sessions browsed by ``run_dir``'s agent."""
    from ellm_core.cache import open_cache
    from ellm_core.reward import EpisodeReward
    from ellm_core.run.assembly import load_train_config
    from ellm_core.text.embed import CachedEmbedder, make_embedder

    config = load_train_config(run_dir)
    rationales = json.loads(config.env_kwargs).get("rationales")
    env = ProductBrowseEnv(**load_options(run_dir).env_kwargs(split="test", eval_mode=True, max_users=0,
                                                              rationales=rationales))
    policy = agent_policy(run_dir)
    embedder = CachedEmbedder(make_embedder(config.embedder, config.device), open_cache(config.cache))
    titles, traces = env.catalog.titles, []
    episode = seed - 1
    while len(traces) < episodes and episode < seed + 50 * episodes:
        episode += 1
        _, info = env.reset(seed=episode)
        goals = env.suggested_goals()
        if env.rationales and not goals and episode < seed + 50 * episodes - 1:
            continue  # prefer sessions of users with rationales (a run may have them for a few users only)
        reward = EpisodeReward(embedder, config.threshold, config.metric, config.filter_achieved)
        history, _ = env.catalog.histories.get(env.user, ((), ""))
        steps, truncated = [], False
        while not truncated:
            slate, actions = [titles[item] for item in env.slate], env.valid_actions()
            action = policy(env, info)
            _, _, _, truncated, info = env.step(action)
            value, achieved, _ = reward.step(goals, info["caption"])
            opened = titles[env.current] if info["caption"] else ""
            steps.append({"step": env.t, "slate": slate, "action": actions[action], "opened": opened,
                          "reward": round(float(value), 3), "achieved_goal": achieved or "",
                          "held_out_rating": info.get("held_out_rating", math.nan)})
        traces.append({"session": episode, "user_id": env.user, "history": list(history), "goals": goals,
                       "steps": steps, "summary": info.get("session", {})})
    return traces


def _rating(value: float) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:g}"


def traces_markdown(traces: list[dict[str, Any]]) -> str:
    """The traces as Markdown: one section per session, one table row per step."""
    lines = ["# Browse-session traces", ""]
    for trace in traces:
        summary = trace["summary"]
        lines += [f"## Session {trace['session']}: user {trace['user_id']}", "",
                  f"- liked before: {'; '.join(trace['history']) or 'nothing yet'}",
                  f"- goals (rationales): {'; '.join(trace['goals']) or '(none)'}",
                  f"- liked share {summary.get('liked_share', math.nan):.2f}, NDCG {summary.get('ndcg', math.nan):.3f}",
                  "", "| step | slate | action | opened | reward | held-out rating |", "| --- | --- | --- | --- | --- | --- |"]
        for step in trace["steps"]:
            slate = "<br>".join(f"{i + 1}. {title}" for i, title in enumerate(step["slate"]))
            reward = f"{step['reward']:.2f} ({step['achieved_goal']})" if step["achieved_goal"] else "0"
            lines.append(f"| {step['step']} | {slate} | {step['action']} | {step['opened'] or '-'} | {reward} | "
                         f"{_rating(step['held_out_rating'])} |")
        lines.append("")
    return "\n".join(lines)


def trace_image(trace: dict[str, Any], path: str | Path, width: int = 1100) -> Path:
    """One session's trace as a PNG: header, then a line per step (slate, choice, reward, rating)."""
    try:
        font = ImageFont.load_default(size=13)
    except TypeError:
        font = ImageFont.load_default()
    lines = [(f"user {trace['user_id']}", (255, 220, 120)),
             *[(line, (200, 200, 200)) for line in textwrap.wrap(f"liked before: {'; '.join(trace['history'])}", 150)],
             *[(line, (150, 200, 255)) for line in textwrap.wrap(f"goals: {'; '.join(trace['goals'])}", 150)], ("", None)]
    for step in trace["steps"]:
        lines.append((f"step {step['step']}: slate " + " | ".join(step["slate"]), (230, 230, 230)))
        fired = f"reward {step['reward']:.2f} ('{step['achieved_goal']}')" if step["achieved_goal"] else "reward 0"
        lines.append((f"   -> {step['action']}   opened: {step['opened'] or '-'}   {fired}   held-out rating "
                      f"{_rating(step['held_out_rating'])}", (120, 220, 140) if step["achieved_goal"] else (170, 170, 170)))
    image = Image.new("RGB", (width, 16 * len(lines) + 16), (24, 24, 28))
    draw = ImageDraw.Draw(image)
    for row, (text, color) in enumerate(lines):
        if color is not None:
            draw.text((8, 8 + 16 * row), text[:170], fill=color, font=font)
    image.save(path)
    return Path(path)


def write_traces(run_dir: str | Path, episodes: int, out: str | Path, seed: int = 0) -> list[Path]:
    """``traces.md`` (every session) and ``trace.png`` (the first) under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    traces = trace_sessions(run_dir, episodes, seed)
    (out / "traces.md").write_text(traces_markdown(traces), encoding="utf-8")
    (out / "traces.json").write_text(json.dumps(traces, indent=2, default=float), encoding="utf-8")
    return [out / "traces.md", trace_image(traces[0], out / "trace.png")]
