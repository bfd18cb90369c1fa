"""Evaluation on held-out ratings: trained agents against a random and a popularity policy.

Every policy browses the same sessions: episode ``e`` resets a test-user environment (``eval_mode=True``)
with seed ``seed + e``, so the users drawn are paired across policies. The metrics per session come from
:mod:`recrl.browse.metrics`; a policy's score is their mean (``mean_rating`` over sessions that opened a
rated item). Several runs of one reward (seeds) are aggregated as mean ± std.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from recrl.browse.env import ProductBrowseEnv
from recrl.browse.metrics import ANCHORS, METRICS, REFERENCE
from recrl.browse.options import BrowseOptions, load_options
from recrl.browse.recorded import confirmed, load_recorded
from recrl.browse.report import write_report

Policy = Callable[[ProductBrowseEnv, dict], int]
#: How test sessions draw their slates: the training mix, or a held-out item among sampled negatives.
SLATES = ("mix", "held-out")


def random_policy(rng: np.random.Generator) -> Policy:
    """Uniform over the actions (candidates and "show other candidates")."""
    return lambda env, info: int(rng.integers(env.action_space.n))


def popularity_policy(env: ProductBrowseEnv, info: dict) -> int:
    """Open the candidate with the most train interactions."""
    return int(np.argmax(env.catalog.popularity[env.slate]))


def content_policy(env: ProductBrowseEnv, info: dict) -> int:
    """Open the candidate whose content-kNN rating prediction (from the user's rated train items' descriptions) is
    highest: the description-based anchor of a browsing agent, beside the CF one."""
    return int(np.argmax([env.content_score(int(item)) for item in env.slate]))


def cf_policy(options: BrowseOptions, seed: int = 0) -> Policy:
    """Open the candidate whose rating the MF anchor (:mod:`recrl.validation.anchors`, fitted on the train ratings) predicts
    highest for the session's user: the collaborative-filtering upper anchor of a browsing agent."""
    from recrl.data.prepared import load_prepared
    from recrl.validation.anchors import Anchor

    model = Anchor("MF", load_prepared(options.data).part("train"), seed=seed)

    def act(env: ProductBrowseEnv, info: dict) -> int:
        items = [env.catalog.item_ids[i] for i in env.slate]
        return int(np.argmax(model.score([env.user] * len(items), items)))

    return act


def agent_policy(run_dir: str | Path, device: str = "cpu") -> Policy:
    """The greedy policy of a trained run (its ``qnet.pt``, else its last checkpoint's network), acting on the
    embedded observation text."""
    from ellm_core.agents.state import StateEncoder
    from ellm_core.cache import open_cache
    from ellm_core.run.assembly import load_agent
    from ellm_core.text.embed import CachedEmbedder, make_embedder

    loaded = load_agent(run_dir, device)
    config, agent = loaded.config, loaded.agent
    if config.goal_conditioned:
        raise ValueError(f"{run_dir}: evaluating goal-conditioned browse agents is not supported")
    encoder = StateEncoder(CachedEmbedder(make_embedder(config.embedder, device), open_cache(config.cache)), 1,
                           config.frame_stack, False)
    rng = np.random.default_rng(0)
    current: dict[str, Any] = {"states": None}

    def act(env: ProductBrowseEnv, info: dict) -> int:
        text = info["observation_text"]
        if env.t == 0:
            current["states"] = encoder.reset([0], [text], [[]])
        else:
            current["states"] = encoder.step([text], [[]], advance=np.ones(1, dtype=bool))
        return int(agent.act(current["states"], 0.0, rng, info["action_mask"][None])[0])

    return act


def run_sessions(policy: Policy, options: BrowseOptions, episodes: int, seed: int = 0,
                 label: str = "policy", slates: str = "mix") -> list[dict]:
    """The session summaries of ``episodes`` test-user sessions browsed by ``policy``; ``slates="held-out"``
    shows each a held-out item among popularity-sampled negatives (:mod:`recrl.browse.env`)."""
    if slates not in SLATES:
        raise ValueError(f"unknown slates {slates!r}; known: {', '.join(SLATES)}")
    env = ProductBrowseEnv(**options.env_kwargs(split="test", eval_mode=True, max_users=0,
                                                held_out_slates=slates == "held-out"))
    sessions = []
    for episode in tqdm(range(episodes), desc=f"sessions of {label}", unit="session", leave=False):
        _, info = env.reset(seed=seed + episode)
        truncated = False
        while not truncated:
            _, _, _, truncated, info = env.step(policy(env, info))
        sessions.append(info["session"])
    return sessions


def score(sessions: list[dict]) -> dict[str, float]:
    """Mean of each metric over sessions (NaN-aware for ``mean_rating``)."""
    result = {}
    for metric in METRICS:
        values = [s[metric] for s in sessions if not (isinstance(s[metric], float) and math.isnan(s[metric]))]
        result[metric] = float(np.mean(values)) if values else math.nan
    result["sessions"] = len(sessions)
    return result


def evaluate_runs(runs: list[str], episodes: int = 100, seed: int = 0, device: str = "cpu",
                  bootstrap: int = 1000, recorded: dict[str, list[dict]] | None = None,
                  check: int = 20, slates: str = "mix") -> dict[str, Any]:
    """Scores of each run and of the random/popularity/CF policies on the same sessions, grouped by reward, and
    each group's paired difference from ``DQN + none`` (when among the runs) over those sessions. ``recorded``
    (:func:`recrl.browse.recorded.load_recorded`): sessions of earlier replays, kept for a run or policy whose
    first ``check`` sessions replay the same. ``slates``: see :func:`run_sessions`."""
    if not runs:
        raise ValueError("give at least one run directory")
    options = load_options(runs[0])
    groups: dict[str, list[dict]] = {}
    per_session: dict[str, list[list[dict]]] = {}
    players = [(f"DQN + {_reward_of(run)}", str(run), lambda run=run: agent_policy(run, device), load_options(run))
               for run in runs]
    players += [("random policy", "random policy", lambda: random_policy(np.random.default_rng(seed)), options),
                ("popularity policy", "popularity policy", lambda: popularity_policy, options),
                ("CF policy (MF)", "CF policy (MF)", lambda: cf_policy(options, seed), options)]
    for name, label, policy, run_options in players:
        def replay(count: int, policy=policy, run_options=run_options, label=label) -> list[dict]:
            return run_sessions(policy(), run_options, count, seed, label=label, slates=slates)

        sessions = confirmed(label, recorded or {}, episodes, check, replay) or replay(episodes)
        groups.setdefault(name, []).append({"run": label, **score(sessions)})
        per_session.setdefault(name, []).append(sessions)
    return {"episodes": episodes, "seed": seed, "slates": slates, **tables(per_session, groups, bootstrap, seed), "runs": groups,
            "sessions": session_rows(per_session, groups)}


def session_rows(per_session: dict[str, list[list[dict]]], groups: dict[str, list[dict]]) -> list[dict]:
    """One row per (policy, run, session): what ``sessions.parquet`` holds, from which the table recomputes."""
    rows = []
    for name, runs in per_session.items():
        for run, sessions in zip(groups[name], runs):
            for index, session in enumerate(sessions):
                rows.append({"policy": name, "run": run["run"], "session": index, "user": str(session.get("user_id", "")),
                             **{metric: float(session[metric]) for metric in METRICS}})
    return rows


def report_from_sessions(frame, bootstrap: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The policy table and the paired differences, recomputed from a ``sessions.parquet`` frame alone."""
    per_session: dict[str, list[list[dict]]] = {}
    groups: dict[str, list[dict]] = {}
    for (name, run), part in frame.sort_values("session").groupby(["policy", "run"], sort=False):
        sessions = part[list(METRICS)].to_dict("records")
        per_session.setdefault(name, []).append(sessions)
        groups.setdefault(name, []).append({"run": run, **score(sessions)})
    return tables(per_session, groups, bootstrap, seed)


def tables(per_session: dict[str, list[list[dict]]], groups: dict[str, list[dict]], bootstrap: int = 1000,
           seed: int = 0) -> dict[str, Any]:
    """The report's tables: each group's mean ± std over runs (``policies``), its paired difference from DQN + none
    (``paired_vs_none``) and each agent's from the anchor policies (``paired_vs_anchors``)."""
    return {"policies": {name: {metric: _mean_std([r[metric] for r in rows]) for metric in METRICS}
                         for name, rows in groups.items()},
            "paired_vs_none": paired_differences(per_session, REFERENCE, bootstrap, seed),
            "paired_vs_anchors": anchor_differences(per_session, bootstrap, seed)}


def session_means(runs: list[list[dict]], metric: str) -> np.ndarray:
    """Per session, the metric averaged over a group's runs (seeds), NaN where no run has a value."""
    values = np.array([[s[metric] for s in sessions] for sessions in runs], dtype=float)
    with np.errstate(all="ignore"):
        counts = np.sum(~np.isnan(values), axis=0)
        return np.where(counts > 0, np.nansum(values, axis=0) / np.maximum(counts, 1), np.nan)


def paired_differences(per_session: dict[str, list[list[dict]]], reference: str, bootstrap: int = 1000,
                       seed: int = 0) -> dict[str, dict[str, dict[str, float]]]:
    """``{group: {metric: {diff, ci_low, ci_high, n}}}``: the mean over the same sessions of the group's value
    minus the reference's (both averaged over seeds), with a paired bootstrap CI over sessions."""
    from ellm_core.experiments.stats import paired_bootstrap

    if reference not in per_session:
        return {}
    result = {}
    for name, runs in per_session.items():
        if name == reference:
            continue
        result[name] = {}
        for metric in METRICS:
            mine, theirs = session_means(runs, metric), session_means(per_session[reference], metric)
            both = ~(np.isnan(mine) | np.isnan(theirs))
            result[name][metric] = paired_bootstrap(mine[both], theirs[both], resamples=bootstrap, seed=seed)
    return result


def anchor_differences(per_session: dict[str, list[list[dict]]], bootstrap: int = 1000,
                       seed: int = 0) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """``{anchor: {agent group: {metric: ...}}}``: every trained agent (``DQN + …``) minus each anchor policy of
    :data:`ANCHORS` over the same sessions, as :func:`paired_differences`."""
    return {anchor: {name: row for name, row in paired_differences(per_session, anchor, bootstrap, seed).items()
                     if name.startswith("DQN + ")}
            for anchor in ANCHORS if anchor in per_session}


def _mean_std(values: list[float]) -> dict[str, float]:
    """Mean and sample standard deviation (ddof=1; 0 for a single run) over runs (seeds)."""
    finite = [v for v in values if not math.isnan(v)]
    return {"mean": float(np.mean(finite)) if finite else math.nan,
            "std": float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0 if finite else math.nan,
            "runs": len(values)}


def _reward_of(run: str) -> str:
    """The name of a run's reward: its intrinsic reward, or the env's own reward model when training adds that
    (``--keep-extrinsic --reward-model content-knn`` is "content-knn", with an intrinsic reward "ellm + content-knn")."""
    import yaml

    config = yaml.safe_load((Path(run) / "config.yaml").read_text(encoding="utf-8"))
    reward = str(config["reward"])
    model = str(json.loads(config.get("env_kwargs") or "{}").get("reward_model", "none"))
    if not config.get("keep_extrinsic") or model == "none":
        return reward
    return model if reward == "none" else f"{reward} + {model}"


def sweep_comparison(methods: dict[str, list[Path]], options: dict[str, Any], out: Path) -> dict[str, Any]:
    """The end of an ``ellm sweep`` of ``recrl browse train`` (``compare: {kind:
    "recrl.browse.evaluate:sweep_comparison", episodes: N}``): every finished run on the same test sessions. Runs
    and policies that the kept comparison (the spec's ``results`` folder, else ``out``) already recorded are kept
    when their first ``check`` sessions (default 20) replay the same (``check: 0`` replays everything)."""
    runs = [str(run) for paths in methods.values() for run in paths if (run / "summary.json").is_file()]
    if not runs:
        return {"skipped": "no finished run yet"}
    episodes, seed, check = options.get("episodes", 200), options.get("seed", 0), options.get("check", 20)
    report = evaluate_runs(runs, episodes, seed, bootstrap=options.get("bootstrap", 1000),
                           recorded=load_recorded(options.get("results", out), episodes, seed) if check else None, check=check)
    write_report(report, out)
    return {"out": str(out), "ndcg": {name: row["ndcg"]["mean"] for name, row in report["policies"].items()}}
