"""Per-step cost of the intrinsic-reward baselines (RND, APT) at a 1M-step run's steady state, side by side.

A Crafter cell calls its bonus once per environment step with one observation embedding (384 floats). This script
times, in one process and one thread:

- RND: the predictor update with PyTorch's fused Adam (what ``RNDBonus`` runs) against the per-tensor Adam loop;
- APT with a full memory of 10,000 slots: candidates by one matrix-vector product, exact distances for
  ``k + margin`` rows (what ``APTBonus`` runs), against a plain exact scan of the distinct rows (``torch.cdist`` by
  differences over a copy of the live rows, as before).

Both pairs give the same bonuses (checked here and in tests/ellm_core/agents/test_intrinsic.py). Ratios travel
between machines; absolute times name the CPU printed at the top.

    python benchmarks/intrinsic_cost.py                   # ~1 minute
    python benchmarks/intrinsic_cost.py --distinct 8000   # more distinct observations in the memory
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from ellm_core.agents.intrinsic import APTBonus, RNDBonus
from ellm_core.hardware import describe, describe_line


class ScanAPT(APTBonus):
    """APT with the earlier exact scan: every live row copied and compared by differences each step."""

    def _bonus(self, embeddings: np.ndarray) -> np.ndarray:
        rows = np.flatnonzero(self.counts[: self.used])
        counts = self.counts[rows]
        distances = torch.cdist(torch.from_numpy(embeddings), torch.from_numpy(self.vectors[rows]),
                                compute_mode="donot_use_mm_for_euclid_dist")
        k = min(self.k, self.filled)
        nearest = distances.topk(min(k, len(rows)), dim=1, largest=False)
        bonus = np.empty(len(embeddings), dtype=np.float32)
        for i, (values, index) in enumerate(zip(nearest.values.numpy(), nearest.indices.numpy())):
            taken = np.minimum(np.cumsum(counts[index]), k)
            bonus[i] = np.log1p(float(values @ np.diff(taken, prepend=0)) / k)
        return bonus


def stream(distinct: int, steps: int, dim: int, seed: int = 0) -> np.ndarray:
    """Unit embeddings drawn from ``distinct`` observations with a skewed frequency (some views recur often)."""
    pool = np.random.default_rng(0).normal(size=(distinct, dim)).astype(np.float32)  # the same observations
    rng = np.random.default_rng(seed)  # drawn in another order
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    weights = 1.0 / np.arange(1, distinct + 1) ** 0.5
    return pool[rng.choice(distinct, size=steps, p=weights / weights.sum())][:, None, :]


def per_step_ms(bonus, embeddings: np.ndarray) -> tuple[float, np.ndarray]:
    """Milliseconds per call over ``embeddings`` (one step each) and the bonuses given."""
    out = np.empty(len(embeddings), dtype=np.float32)
    start = time.perf_counter()
    for i, embedding in enumerate(embeddings):
        out[i] = bonus(embedding, [""])[0]
    return (time.perf_counter() - start) / len(embeddings) * 1e3, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distinct", type=int, default=5000, help="distinct observations the stream draws from")
    parser.add_argument("--steps", type=int, default=2000, help="timed steps per variant")
    parser.add_argument("--dim", type=int, default=384, help="embedding size (the default embedder's)")
    parser.add_argument("--memory", type=int, default=10_000, help="APT's memory slots (the runs': 10,000)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(describe_line())
    warm = stream(args.distinct, args.memory, args.dim)[:, 0, :]  # fills the memory
    timed = stream(args.distinct, args.steps, args.dim, seed=1)
    rows = []
    apts = {}
    for name, cls in (("APT scan (before)", ScanAPT), ("APT candidates (now)", APTBonus)):
        apt = cls(args.dim, memory_size=args.memory)
        apt(warm, [""] * len(warm))
        apts[name] = per_step_ms(apt, timed)
        live = len(apt.rows)
        rows.append((name, apts[name][0]))
    (_, before), (_, now) = apts.values()
    np.testing.assert_allclose(now, before, rtol=1e-5, atol=1e-6)
    rnds = {}
    for name, fused in (("RND per-tensor Adam (before)", False), ("RND fused Adam (now)", True)):
        rnd = RNDBonus(args.dim, seed=0)
        rnd.optimizer = torch.optim.Adam(rnd.predictor.parameters(), lr=1e-4, fused=fused)
        per_step_ms(rnd, timed[:200])  # warm-up
        rnds[name] = per_step_ms(rnd, timed)
        rows.append((name, rnds[name][0]))
    (_, before), (_, now) = rnds.values()
    np.testing.assert_allclose(now, before, rtol=1e-3, atol=1e-4)
    print(f"APT memory: {args.memory:,} slots holding {live} distinct embeddings (of {args.distinct}); {args.steps} timed "
          f"steps; dim {args.dim}")
    print(f"{'variant':<30}{'ms/step':>10}")
    for name, ms in rows:
        print(f"{name:<30}{ms:>10.3f}")
    print(f"APT speed-up: {rows[0][1] / rows[1][1]:.1f}x; RND speed-up: {rows[2][1] / rows[3][1]:.1f}x "
          "(same bonuses within float tolerance)")
    print(json.dumps({"benchmark": "intrinsic_cost", "distinct": args.distinct, "live_rows": live, "steps": args.steps,
                      "ms_per_step": {name: round(ms, 3) for name, ms in rows},
                      "apt_speedup": round(rows[0][1] / rows[1][1], 2), "rnd_speedup": round(rows[2][1] / rows[3][1], 2),
                      **describe(1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
