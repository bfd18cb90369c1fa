"""The committed run records travel: no absolute paths in results/ YAML, every run a committed comparison lists is
in the repository, and a committed ``config.yaml`` rebuilds its run's config from any working directory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
ABSOLUTE = re.compile(r"(^|[\s:\[,'\"])/(work|root|home|tmp|Users|mnt|opt)/")


def test_no_committed_yaml_under_results_holds_an_absolute_path():
    offenders = [str(path.relative_to(ROOT)) for path in RESULTS.rglob("*.y*ml")
                 if ABSOLUTE.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_every_run_of_a_committed_comparison_exists_in_the_repository():
    listed = 0
    for path in RESULTS.rglob("compare.json"):
        for method, row in json.loads(path.read_text(encoding="utf-8"))["methods"].items():
            for run in row.get("runs", []):
                listed += 1
                assert (ROOT / run).is_dir(), f"{path.relative_to(ROOT)}: {method} run {run} is not committed"
                assert (ROOT / run / "stats.jsonl").is_file()
    assert listed >= 36  # the 100k table (24 runs) and the fine-tune table (12)


@pytest.mark.parametrize("config", ["results/crafter/100k/runs/ellm-seed0/config.yaml",
                                    "results/recrl/browse-20k/runs/ellm-seed0/config.yaml"])
def test_a_committed_config_rebuilds_its_run_from_another_directory(tmp_path, monkeypatch, config):
    from ellm_core.config import load_config
    from ellm_core.prompts import PromptConfig
    from ellm_core.train_config import TrainConfig, check_config

    monkeypatch.chdir(tmp_path)  # not the repository
    loaded = load_config(TrainConfig, ROOT / config)
    check_config(loaded)
    assert loaded.prompts.startswith("data:")
    prompts = PromptConfig.load(loaded.prompts)  # the packaged file, found on this machine
    assert prompts.system and prompts.system != PromptConfig.load().system  # not the generic default


def test_every_committed_per_seed_score_recomputes_from_its_stats_with_crafters_formula():
    """Crafter's own formula, written out here from its paper (the geometric mean of 1 + success rate in percent,
    minus 1), over each committed run's stats.jsonl: the per-seed scores of every committed comparison."""
    import numpy as np

    checked = 0
    for path in RESULTS.rglob("compare.json"):
        for method, row in json.loads(path.read_text(encoding="utf-8"))["methods"].items():
            for run, reported in zip(row["runs"], row["score"]["per_seed"]):
                episodes = [json.loads(line) for line in (ROOT / run / "stats.jsonl").read_text().splitlines()
                            if line.strip()]
                names = sorted(key for key in episodes[0] if key.startswith("achievement_"))
                assert len(names) == 22
                rates = [100 * np.mean([episode[name] > 0 for episode in episodes]) for name in names]
                assert np.exp(np.mean(np.log1p(rates))) - 1 == pytest.approx(reported, abs=1e-9), (path, method, run)
                checked += 1
    assert checked >= 36
