"""``prepare`` vs ``pandas.read_json(lines=True)`` on one generated Amazon-2023 reviews file: rows/s and peak memory.

The generated file has realistic fields (rating, title, text, images, asin, parent_asin, user_id, timestamp in
ms, helpful_vote, verified_purchase) with Zipf-distributed users and items, and a meta file beside it. Each
contender runs in its own fresh Python process, which reports its wall time and peak resident memory
(``ru_maxrss``); a process that only does the imports gives the baseline memory subtracted from both.
``prepare`` does more than reading (validation, row accounting, dedup, k-core, split, parquet output), so a
ratio near 1 means the extra work costs little.

Usage: python benchmarks/data_prepare.py [--quick] [--rows N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ellm_core.hardware import describe, describe_line

WORDS = ("soft comfortable light warm fits true size fabric color pockets quality cheap returned love great "
         "small large dress shirt coat boots summer winter washes well stitching zipper runs bright").split()

CONTENDERS = {
    "imports only": "import pandas, recrl.data.prepare",
    "recrl data prepare": (
        "from recrl.data import PrepareConfig, prepare\n"
        "prepare(PrepareConfig(source='amazon2023', input=REVIEWS, out=OUT, min_user=1, min_item=1, overwrite=True))"),
    "pandas.read_json(lines=True)": "import pandas\nframe = pandas.read_json(REVIEWS, lines=True)",
}


def generate(folder: Path, rows: int, seed: int = 0) -> Path:
    """Write ``Bench.jsonl`` (``rows`` reviews) and ``meta_Bench.jsonl`` into ``folder``; returns the reviews."""
    rng = np.random.default_rng(seed)
    n_items, n_users = max(rows // 20, 10), max(rows // 5, 10)
    items = np.minimum(rng.zipf(1.3, rows), n_items) - 1
    users = np.minimum(rng.zipf(1.2, rows), n_users) - 1
    users = (users + rng.integers(0, n_users, rows)) % n_users  # spread the tail over many users
    ratings = rng.choice([1, 2, 3, 4, 5], rows, p=[0.07, 0.06, 0.1, 0.2, 0.57])
    word_ids = rng.integers(0, len(WORDS), (rows, 24))
    reviews = folder / "Bench.jsonl"
    with reviews.open("w") as handle:
        for i in range(rows):
            words = [WORDS[w] for w in word_ids[i]]
            handle.write(json.dumps({
                "rating": float(ratings[i]), "title": " ".join(words[:4]).capitalize(),
                "text": " ".join(words).capitalize() + ".", "images": [], "asin": f"B{items[i]:09d}",
                "parent_asin": f"B{items[i]:09d}", "user_id": f"U{users[i]:027d}",
                "timestamp": 1_500_000_000_000 + int(i) * 60_000, "helpful_vote": int(i % 7),
                "verified_purchase": bool(i % 3)}) + "\n")
    with (folder / "meta_Bench.jsonl").open("w") as handle:
        for item in range(n_items):
            handle.write(json.dumps({
                "main_category": "AMAZON FASHION", "title": f"Product {item}", "average_rating": 4.1,
                "rating_number": 10, "features": ["Machine wash", "Imported"], "description": ["A nice product."],
                "price": 19.99, "images": [], "videos": [], "store": "Acme", "categories": ["Clothing", "Women"],
                "details": {"Material": "Cotton"}, "parent_asin": f"B{item:09d}", "bought_together": None}) + "\n")
    return reviews


def measure(code: str, reviews: Path, out: Path) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter; its wall seconds and peak RSS in MiB."""
    script = (f"import resource, time\nREVIEWS, OUT = {str(reviews)!r}, {str(out)!r}\nstart = time.perf_counter()\n"
              f"{code}\nimport json\nprint(json.dumps({{'seconds': time.perf_counter() - start, "
              "'peak_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="reviews in the generated file")
    parser.add_argument("--quick", action="store_true", help="100,000 reviews instead")
    args = parser.parse_args()
    rows = 100_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory() as folder:
        reviews = generate(Path(folder), rows)
        size_mib = reviews.stat().st_size / 2**20
        results = {name: measure(code, reviews, Path(folder) / "prepared") for name, code in CONTENDERS.items()}
    base = results.pop("imports only")
    print(f"{rows:,} Amazon-2023 reviews ({size_mib:.0f} MiB); memory is peak RSS above the imports "
          f"({base['peak_mib']:.0f} MiB)")
    print(describe_line())
    print(f"{'contender':<32}{'rows/s':>12}{'seconds':>10}{'peak MiB':>10}")
    for name, result in results.items():
        print(f"{name:<32}{rows / result['seconds']:>12,.0f}{result['seconds']:>10.1f}"
              f"{result['peak_mib'] - base['peak_mib']:>10.0f}")
    ours, theirs = results["recrl data prepare"], results["pandas.read_json(lines=True)"]
    print(json.dumps({
        "benchmark": "data_prepare", "ratio": round(theirs["seconds"] / ours["seconds"], 2),
        "goal": "rows/s ratio (ours / pandas) >= 0.5 with less memory",
        "memory_ratio": round((ours["peak_mib"] - base["peak_mib"]) / (theirs["peak_mib"] - base["peak_mib"]), 2),
        "rows": rows, "ours_rows_per_s": round(rows / ours["seconds"]),
        "pandas_rows_per_s": round(rows / theirs["seconds"]), **describe()}))


if __name__ == "__main__":
    main()
