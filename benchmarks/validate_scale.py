"""Reward validation at scale: scoring >= 100,000 (user, item) pairs vs only encoding their unique texts.

Usage: python benchmarks/validate_scale.py [--quick] [--users 5000] [--pairs-per-user 20] [--embedder default]

Both sides use the real default embedder (all-MiniLM-L6-v2), cold (no persistent cache) and in one process:
(a) encode the unique goal and description texts once; (b) the validation path of ``recrl validate``: the
same encoding plus the user-chunked matrix products, the max over each user's goals, and the point statistics
(Spearman, Kendall, AUC, per-user NDCG@10). ``ratio`` = (b) / (a) (aim: <= 1.25). The bootstrap is timed
separately (it scales with the number of resamples, not with the texts).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pandas as pd

from ellm_core.hardware import describe, describe_line

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORDS = ("light summer dress pockets cotton linen winter boots wool coat heist thriller ensemble cast drama "
         "comedy romance paris space robots family mystery detective vintage denim leather waterproof hiking "
         "running shoes silk scarf evening gown documentary animation musical western noir").split()


def synthetic(users: int, per_user: int, items: int, goals_per_user: int, seed: int = 0):
    """Pairs, goals per user and item descriptions with realistic lengths (deterministic)."""
    rng = np.random.default_rng(seed)
    texts = {f"i{i}": f"Item {i}. " + " ".join(rng.choice(WORDS, size=18)) + "." for i in range(items)}
    goals = {f"u{u}": [f"I want {' '.join(rng.choice(WORDS, size=6))} ({u}-{k})" for k in range(goals_per_user)]
             for u in range(users)}
    pairs = pd.DataFrame({"user_id": np.repeat([f"u{u}" for u in range(users)], per_user),
                          "item_id": [f"i{i}" for i in rng.integers(items, size=users * per_user)],
                          "rating": rng.integers(1, 6, size=users * per_user).astype(float)})
    return pairs, goals, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 users (20,000 pairs) instead of 5,000")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--pairs-per-user", type=int, default=20)
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--goals-per-user", type=int, default=3)
    parser.add_argument("--embedder", default="default", help="embedder name (default: all-MiniLM-L6-v2)")
    parser.add_argument("--bootstrap", type=int, default=50, help="bootstrap resamples timed separately")
    args = parser.parse_args()
    users = args.users or (1000 if args.quick else 5000)

    from recrl.validation.metrics import EmbeddingCosine
    from recrl.validation.stats import evaluate_scores
    from recrl.validation.validate import pair_scores

    pairs, goals, texts = synthetic(users, args.pairs_per_user, args.items, args.goals_per_user)
    unique = list(dict.fromkeys([g for gs in goals.values() for g in gs] + list(texts.values())))
    EmbeddingCosine(args.embedder, cache="none").encode(unique[:64])  # load the model and warm up once

    encoder = EmbeddingCosine(args.embedder, cache="none")
    started = time.perf_counter()
    encoder.encode(unique)
    encode_s = time.perf_counter() - started

    scorer = EmbeddingCosine(args.embedder, cache="none")  # cold again: validation pays the same encoding
    started = time.perf_counter()
    scores = pair_scores(scorer, goals, pairs, texts, chunk_users=256)
    ratings, user_ids = pairs["rating"].to_numpy(), pairs["user_id"].to_numpy()
    evaluate_scores(scores, ratings, user_ids, bootstrap=0)
    validate_s = time.perf_counter() - started
    started = time.perf_counter()
    evaluate_scores(scores, ratings, user_ids, bootstrap=args.bootstrap)
    bootstrap_s = time.perf_counter() - started

    ratio = validate_s / encode_s
    print(f"{len(pairs):,} pairs of {users:,} users; {len(unique):,} unique texts; embedder {args.embedder}")
    print(describe_line())
    print(f"{'encode unique texts only':<40}{encode_s:>9.2f} s")
    print(f"{'validate (encode + score + statistics)':<40}{validate_s:>9.2f} s   ratio {ratio:.2f} (aim <= 1.25)")
    print(f"{f'bootstrap, {args.bootstrap} resamples':<40}{bootstrap_s:>9.2f} s")
    print(json.dumps({"benchmark": "validate_scale", "ratio": round(ratio, 3), "goal": "<= 1.25",
                      "pairs": len(pairs), "unique_texts": len(unique), "encode_s": round(encode_s, 2),
                      "validate_s": round(validate_s, 2), "bootstrap_s": round(bootstrap_s, 2),
                      "bootstrap": args.bootstrap, **describe()}))


if __name__ == "__main__":
    main()
