"""Ranked goals per situation, side by side in one run: the plain path (each whole prompt, then its cache repeated
for the 22 candidates) against the fast path (the shared head computed once, candidates packed as a trie, several
situations per pass), on the same Crafter situations, for each shipped LM that is installed; then the fast path in
bfloat16.

Usage: python benchmarks/ranking.py [--quick] [--models smollm2-135m qwen2.5-coder-1.5b] [--situations 8]

Prints a table and one JSON line; ``ratio`` is the plain path's seconds per situation over the fast path's for the
largest model measured (the issue's goal: the 1.5B at <= 3 s per situation on 2 cores). The calibration row (the
content-free observation) is computed before the timing, once, as in a run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time

from ellm_core.hardware import describe, describe_line

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def installed(name: str) -> bool:
    """Whether every package of the shipped model ``name`` is installed."""
    from ellm_core.lm.shipped import shipped_model

    return all(importlib.util.find_spec(part.package) for part in shipped_model(name).parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 situations and SmolLM2 + the smallest Qwen installed")
    parser.add_argument("--models", nargs="+", default=None, help="shipped model names (default: every installed one)")
    parser.add_argument("--situations", type=int, default=8, help="situations timed per path")
    args = parser.parse_args()

    import numpy as np
    import torch

    from ellm_core.crafter.caption import crafter_text
    from ellm_core.goals import RANK_CONTENT_FREE
    from ellm_core.goals.prompts import PromptConfig, open_ended_prompt
    from ellm_core.goals.quality import load_situations
    from ellm_core.lm.hf import TransformersLM
    from ellm_core.lm.shipped import shipped_models
    from ellm_core.resources import data_dir

    count = 4 if args.quick else args.situations
    names = args.models or [name for name in shipped_models() if installed(name)]
    if args.quick and not args.models:
        names = names[:2] if "smollm2-135m" in names[:1] else names[:1]
    prompts = PromptConfig.load("data:crafter/prompts.yaml")
    candidates = [" " + text for text in crafter_text()["achievements"].values()]
    situations = load_situations(data_dir().parent / "results" / "goal_quality" / "crafter_situations_seed1_n40.jsonl")
    chats = [open_ended_prompt(s.observation, s.actions, prompts) for s in situations[:count]]
    free = open_ended_prompt(RANK_CONTENT_FREE, situations[0].actions, prompts)

    rows = []
    print(describe_line())
    print(f"{'model':<22}{'path':<26}{'s / situation':>14}{'max |diff|':>12}{'same top-1':>11}")
    for name in names:
        lm = TransformersLM(model=name)
        lm.score_continuations([free], candidates, "-")  # the head, as a run's calibration row computes it
        started = time.perf_counter()
        fast = lm.score_continuations(chats, candidates, "-")
        fast_s = (time.perf_counter() - started) / len(chats)
        started = time.perf_counter()
        plain = lm.score_continuations_separately(chats, candidates, "-")
        plain_s = (time.perf_counter() - started) / len(chats)
        lm.model.to(torch.bfloat16)
        lm.scorer = None
        lm.score_continuations([free], candidates, "-")
        started = time.perf_counter()
        bf16 = lm.score_continuations(chats, candidates, "-")
        bf16_s = (time.perf_counter() - started) / len(chats)
        for path, seconds, scores in (("plain (today)", plain_s, plain), ("fast, float32", fast_s, fast),
                                      ("fast, bfloat16", bf16_s, bf16)):
            diff = float(np.abs(scores - plain).max())
            same = float((scores.argmax(1) == plain.argmax(1)).mean())
            print(f"{name:<22}{path:<26}{seconds:>14.3f}{diff:>12.2e}{same:>11.2f}")
        rows.append({"model": name, "plain_s": round(plain_s, 3), "fast_s": round(fast_s, 3),
                     "fast_bf16_s": round(bf16_s, 3), "ratio": round(plain_s / fast_s, 2),
                     "ratio_bf16": round(plain_s / bf16_s, 2), "max_abs_diff": float(np.abs(fast - plain).max())})
        del lm
    last = rows[-1] if rows else {}
    print(json.dumps({"benchmark": "ranking", "ratio": last.get("ratio"), "model": last.get("model"),
                      "goal": "the 1.5B at <= 3 s per situation on 2 cores", "situations": count,
                      "rows": rows, **describe()}))


if __name__ == "__main__":
    main()
