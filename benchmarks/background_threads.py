"""The loop's embedder beside a background LM on 2 cores: its threads at all cores against the cores the LM leaves.

With the LM in the background (``--lm-async``, the distilled goal source) a Crafter step embeds its caption with
CTranslate2 while the LM worker computes on another thread. Before, the embedder took every core
(``intra_threads`` = the cell's threads) while the LM held one of them; ``ellm_core.run.assembly.loop_threads`` now
gives it the cores the LM leaves. This script times one-caption embedding calls (new captions, as a run meets them)
in one process pinned to ``--cores`` cores, with and without a stand-in LM worker (a thread doing float32 matrix
products with one torch thread, as an LM forward does), at both thread counts, side by side. Ratios travel between
machines; absolute times name the CPU printed at the top.

    python benchmarks/background_threads.py              # ~1 minute
    python benchmarks/background_threads.py --seconds 2  # shorter windows
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time

import torch

from ellm_core.hardware import describe, describe_line
from ellm_core.text.embed import CTranslate2Embedder

WORDS = ("tree", "grass", "water", "stone", "cow", "zombie", "sand", "table", "path", "coal", "sapling", "lava")


def captions(count: int, salt: int) -> list[str]:
    """Distinct Crafter-like captions (each embedded once: no cache can answer)."""
    return [f"You see {WORDS[i % 12]}, {WORDS[(i // 12) % 12]} and {WORDS[(i // 144) % 12]} {i + salt} steps away. "
            f"You have {i % 7} wood and {i % 3} sapling." for i in range(count)]


class StandInLM:
    """A worker thread doing float32 matrix products with one torch thread until stopped (an LM answering)."""

    def __init__(self, size: int = 768) -> None:
        self._stop = threading.Event()
        self.products = 0
        self._thread = threading.Thread(target=self._work, args=(size,), daemon=True)

    def _work(self, size: int) -> None:
        a, b = torch.randn(size, size), torch.randn(size, size)
        while not self._stop.is_set():
            a = torch.tanh(a @ b)
            self.products += 1

    def __enter__(self) -> StandInLM:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def calls_per_s(embedder: CTranslate2Embedder, texts: list[str], seconds: float) -> float:
    """One-caption ``encode`` calls per second over a window of ``seconds``."""
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < seconds and done < len(texts):
        embedder.encode([texts[done]])
        done += 1
    return done / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2, help="cores the process is pinned to (a 2-core cell)")
    parser.add_argument("--seconds", type=float, default=8.0, help="timed window per variant")
    args = parser.parse_args(argv)
    cores = sorted(os.sched_getaffinity(0))[: args.cores]
    if len(cores) < 2:
        parser.error(f"needs 2 cores or more; this process may run on {len(cores)}")
    os.sched_setaffinity(0, cores)
    torch.set_num_threads(1)  # the learner's and the LM's torch threads, as loop_threads sets them on 2 cores
    print(describe_line(len(cores)))
    embedders = {threads: CTranslate2Embedder(threads=threads) for threads in (len(cores), max(1, len(cores) - 1))}
    texts = captions(200_000, 0)
    for embedder in embedders.values():
        embedder.encode(texts[:20])  # warm-up
    rates, lm_rates, offset = {}, {}, 20
    for background in (False, True):
        for threads, embedder in embedders.items():
            window = texts[offset:]
            if background:
                with StandInLM() as lm:
                    rates[threads, background] = calls_per_s(embedder, window, args.seconds)
                    lm_rates[threads] = lm.products / args.seconds
            else:
                rates[threads, background] = calls_per_s(embedder, window, args.seconds)
            offset += int(rates[threads, background] * args.seconds) + 1
    many, few = embedders
    print(f"process on {len(cores)} cores; one caption a call; {args.seconds:g} s a variant")
    print(f"{'embedder threads':<18}{'alone (calls/s)':>18}{'beside the LM (calls/s)':>26}{'LM products/s':>16}")
    for threads in embedders:
        print(f"{threads:<18}{rates[threads, False]:>18.0f}{rates[threads, True]:>26.0f}{lm_rates[threads]:>16.1f}")
    speedup = rates[few, True] / rates[many, True]
    print(f"beside the LM, {few} embedder thread(s) against {many}: {speedup:.2f}x the calls; the LM "
          f"{lm_rates[few] / max(lm_rates[many], 1e-9):.2f}x its products")
    print(json.dumps({"benchmark": "background_threads", "cores": len(cores), "seconds": args.seconds,
                      "calls_per_s": {f"{t} threads{' beside the LM' if b else ''}": round(r, 1)
                                      for (t, b), r in rates.items()},
                      "lm_products_per_s": {f"{t} threads": round(r, 1) for t, r in lm_rates.items()},
                      "speedup_beside_lm": round(speedup, 2), **describe(len(cores))}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
