"""Every ``recrl`` stage on a planted-taste Amazon-2023 category at growing sizes: time, peak memory, growth exponent.

For each size (reviews) the benchmark writes a category with :mod:`recrl.data.planted` (users' tastes expressed in
their liked reviews and in the matching items' descriptions; popularity independent of taste) and runs the user's
commands on it, each in its own process:

1. ``recrl data prepare --source amazon2023``;
2. ``recrl rationale train`` at its ``demo`` preset (a seeded sample of training examples);
3. ``recrl rationale generate --sample-test-users U`` (CTranslate2);
4. ``recrl validate --sample-users U`` (default metrics; rationales, own liked reviews, shuffled, popularity, CF);
5. ``recrl browse train`` + ``recrl browse eval`` at a small budget over the full catalogue.

Each stage prints its wall time, peak resident memory (``ru_maxrss`` of its process), the rows it handled, and the
growth exponent of its time between consecutive sizes (log time ratio / log size ratio: 1 is linear; a stage whose
work is a fixed budget, such as training steps or sampled users, is near 0). The validation's planted-taste figures
follow: own − shuffled Spearman with its 95 % interval and the Spearman against popularity's.

Usage: python benchmarks/product_scale.py [--sizes 10000 100000 1000000] [--users 500] [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ellm_core.hardware import describe, describe_line

#: A wrapper process that runs one command and reports its wall time and the command's peak memory.
WRAPPER = ("import json, resource, subprocess, sys, time\nstart = time.perf_counter()\n"
           "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
           "print(json.dumps({'code': code, 'seconds': time.perf_counter() - start, "
           "'peak_mib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))")


def measure(argv: list[str], log: Path) -> dict[str, float]:
    """Run ``argv`` in a fresh process (stderr to ``log``); its seconds and peak RSS in MiB. A failure stops here."""
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(argv)}\n")
        handle.flush()
        result = subprocess.run([sys.executable, "-c", WRAPPER, *argv], stdout=subprocess.PIPE, stderr=handle,
                                text=True)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    if figures["code"] != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed (exit {figures['code']}); its log: {log}")
    return figures


def recrl(*args: str) -> list[str]:
    return [sys.executable, "-m", "recrl.cli", *args]


def stages(folder: Path, reviews: int, users: int, browse_steps: int, seed: int,
           train_preset: str = "demo") -> tuple[dict, dict]:
    """Run every stage on a category of ``reviews`` reviews in ``folder``; per stage its figures and rows, and the
    validation's report."""
    folder.mkdir(parents=True, exist_ok=True)
    log, prepared, rationale = folder / "stages.log", folder / "prepared", folder / "rationale"
    figures: dict[str, dict] = {}
    generate = f"from recrl.data.planted import write_category; write_category({str(folder / 'raw')!r}, {reviews})"
    figures["generate category"] = {**measure([sys.executable, "-c", generate], log), "rows": reviews}
    figures["data prepare"] = {**measure(recrl("data", "prepare", "--source", "amazon2023", "--input",
                                               str(folder / "raw" / "Planted.jsonl.gz"), "--out", str(prepared)), log),
                               "rows": reviews}
    report = json.loads((prepared / "report.json").read_text())
    figures["rationale train"] = {**measure(recrl("rationale", "train", "--preset", train_preset, "--data", str(prepared),
                                                  "--out", str(rationale), "--samples", "0", "--seed", str(seed)), log),
                                  "rows": 2000 if train_preset == "demo" else 48}
    figures["rationale generate"] = {**measure(recrl(
        "rationale", "generate", "--adapter", str(rationale), "--data", str(prepared), "--backend", "ctranslate2",
        "--sample-test-users", str(users), "--seed", str(seed), "--num", "3",
        "--out", str(rationale / "rationales.parquet")), log), "rows": users}
    figures["validate"] = measure(recrl("validate", "--data", str(prepared), "--rationales",
                                        str(rationale / "rationales.parquet"), "--sample-users", str(users),
                                        "--seed", str(seed), "--out", str(folder / "validate")), log)
    validation = json.loads((folder / "validate" / "report.json").read_text())
    figures["validate"]["rows"] = validation["pairs"]
    figures["browse train"] = {**measure(recrl(
        "browse", "train", "--preset", "demo", "--data", str(prepared), "--rationales",
        str(rationale / "rationales.parquet"), "--reward", "ellm", "--steps", str(browse_steps), "--eval-sessions",
        "0", "--seed", str(seed), "--out", str(folder / "browse"), "--overwrite"), log), "rows": browse_steps}
    figures["browse eval"] = {**measure(recrl("browse", "eval", str(folder / "browse"), "--episodes", "100",
                                              "--seed", str(seed)), log), "rows": 100}
    figures["data prepare"]["kept"] = report.get("counts", {})
    return figures, validation


def taste_lines(validation: dict) -> list[str]:
    """own − shuffled Spearman [95 % CI] and the Spearman of each goal source against popularity's (sbert-cosine)."""
    table = {(row["metric"], row["goals"]): row["spearman"]["value"] for row in validation["table"]}
    popularity = table[("popularity", "no goals")]
    lines = []
    for row in validation["personal"]:
        if row["metric"] != "sbert-cosine":
            continue
        gap = row["own_minus_shuffled_spearman"]
        lines.append(f"  {row['goals']:<20} own − shuffled {gap['value']:+.3f} [{gap['low']:+.3f}, {gap['high']:+.3f}]"
                     f"   Spearman {table[(row['metric'], row['goals'])]:.3f} (popularity {popularity:.3f})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="reviews per size")
    parser.add_argument("--users", type=int, default=500, help="sampled test users for rationales and validation")
    parser.add_argument("--browse-steps", type=int, default=5000, help="browse training steps")
    parser.add_argument("--train-preset", default="demo", choices=["smoke", "demo"], help="rationale training budget")
    parser.add_argument("--quick", action="store_true",
                        help="sizes 3,000 and 6,000, 30 users, 300 browse steps, the smoke training preset")
    parser.add_argument("--out", help="keep each size's files here (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.users, args.browse_steps, args.train_preset = [3_000, 6_000], 30, 300, "smoke"
    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="product-scale-"))
    print(describe_line())
    results = {}
    for size in args.sizes:
        started = time.perf_counter()
        figures, validation = stages(root / f"reviews-{size}", size, args.users, args.browse_steps, args.seed,
                                     args.train_preset)
        results[size] = figures
        print(f"\n{size:,} reviews ({time.perf_counter() - started:.0f} s in all); {validation['users']} of "
              f"{validation['test_users']} test users sampled, {validation['pairs']} held-out ratings")
        print(f"  {'stage':<20}{'seconds':>9}{'peak MiB':>10}{'rows':>10}{'exponent':>10}")
        index = args.sizes.index(size)
        before = args.sizes[index - 1] if index else None
        for stage, row in figures.items():
            exponent = (math.log(row["seconds"] / results[before][stage]["seconds"]) / math.log(size / before)
                        if before else None)
            row["exponent"] = None if exponent is None else round(exponent, 2)
            print(f"  {stage:<20}{row['seconds']:>9.1f}{row['peak_mib']:>10.0f}{row['rows']:>10,}"
                  + (f"{exponent:>10.2f}" if exponent is not None else f"{'-':>10}"))
        print("  planted taste (sbert-cosine):")
        print("\n".join(taste_lines(validation)))
        figures["taste"] = {"personal": validation["personal"], "table": validation["table"],
                            "users": validation["users"], "test_users": validation["test_users"]}
    largest = results[args.sizes[-1]]
    print(json.dumps({"benchmark": "product_scale", "sizes": args.sizes, "users": args.users,
                      "max_seconds": round(max(r["seconds"] for k, r in largest.items() if k != "taste")),
                      "max_peak_mib": round(max(r["peak_mib"] for k, r in largest.items() if k != "taste")),
                      "max_exponent": max((r["exponent"] or 0) for k, r in largest.items() if k != "taste"),
                      "goal": "every stage <= 900 s, <= 4096 MiB at the largest size, exponent <= 1.2",
                      **describe()}))
    (root / "product_scale.json").write_text(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
