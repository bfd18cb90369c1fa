"""The committed run records travel: no absolute paths in results/ YAML, every run a committed comparison lists is
in the repository, a committed ``config.yaml`` rebuilds its run's config from any working directory, and the README's
headline tables quote the committed comparisons."""

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
    from ellm_core.goals.prompts import PromptConfig
    from ellm_core.run.config import TrainConfig, check_config

    monkeypatch.chdir(tmp_path)  # not the repository
    loaded = load_config(TrainConfig, ROOT / config)
    check_config(loaded)
    assert loaded.goal.prompts.startswith("data:")
    prompts = PromptConfig.load(loaded.goal.prompts)  # the packaged file, found on this machine
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


def test_the_committed_browse_table_recomputes_from_its_per_session_file():
    """results/recrl/browse-20k: every policy's mean ± std and every paired difference (from DQN + none and from
    the popularity and CF policies) recomputes from ``sessions.parquet`` alone, and every run has its network."""
    import pandas as pd

    from recrl.browse.evaluate import report_from_sessions

    folder = RESULTS / "recrl" / "browse-20k"
    report = json.loads((folder / "browse_eval.json").read_text(encoding="utf-8"))
    sessions = pd.read_parquet(folder / "sessions.parquet")
    assert len(sessions) == report["episodes"] * sum(p["ndcg"]["runs"] for p in report["policies"].values())
    recomputed = json.loads(json.dumps(report_from_sessions(sessions, bootstrap=1000, seed=report["seed"])))
    for key in ("policies", "paired_vs_none", "paired_vs_anchors"):
        mine, theirs = _flat(recomputed[key]), _flat(report[key])
        assert [path for path, _ in mine] == [path for path, _ in theirs]
        assert [value for _, value in mine] == pytest.approx([value for _, value in theirs], nan_ok=True), key
    agents = sessions.loc[sessions["policy"].str.startswith("DQN + "), "run"].unique()
    assert len(agents) >= 12 and all((ROOT / run / "qnet.pt").is_file() for run in agents)  # committed networks


def _flat(tree, path=()):
    """``[(path, leaf)]`` of a nested dict, keys sorted."""
    if isinstance(tree, dict):
        return [item for key in sorted(tree) for item in _flat(tree[key], (*path, key))]
    return [(path, tree)]


@pytest.mark.parametrize("folder, header, rows", [
    ("crafter/1m", "| method (1M steps, no task reward) |",
     {"none": "none", "novelty": "novelty", "oracle": "oracle", "ELLM, distilled goals": "ellm",
      "ELLM at 0.99, Qwen 1.5B ranked": "qwen-ranked"}),
    ("crafter/finetune-1m", "| start (100k steps with task reward) |",
     {"scratch": "scratch", "none at 1M": "from-none", "novelty at 1M": "from-novelty", "ELLM at 1M": "from-ellm",
      "ELLM at 0.99 (Qwen) at 1M": "from-qwen-ranked"}),
])
def test_the_docs_tables_quote_the_committed_comparisons(folder, header, rows):
    """Each row of the 1M and fine-tune tables of the Crafter page (docs/crafter.md) states its method's score and
    achievements per episode (mean ± std) and seed count as ``results/<folder>/compare.json`` has them, so the text
    cannot go stale; every row has its 3 seeds."""
    methods = json.loads((RESULTS / folder / "compare.json").read_text(encoding="utf-8"))["methods"]
    readme = (ROOT / "docs" / "crafter.md").read_text(encoding="utf-8").splitlines()
    start = next(number for number, line in enumerate(readme) if line.startswith(header))
    table = readme[start:start + 2 + len(rows)]
    for label, method in rows.items():
        row = methods[method]
        seeds = len(row["runs"])
        assert seeds == 3, (folder, method, seeds)
        line = next(line for line in table if line.startswith(f"| {label} | {seeds} |"))
        for column in ("score", "achievements"):
            assert f"{row[column]['mean']:.2f} ± {row[column]['std']:.2f}" in line, (folder, label, column)


def test_the_readme_headline_quotes_the_committed_1m_scores():
    methods = json.loads((RESULTS / "crafter" / "1m" / "compare.json").read_text(encoding="utf-8"))["methods"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for method in ("none", "novelty", "oracle", "ellm", "qwen-ranked"):
        score = methods[method]["score"]
        assert f"{score['mean']:.2f} ± {score['std']:.2f}" in readme, method


def test_the_speed_page_quotes_the_committed_loop_benchmark():
    """Each row of the one-core loop table in docs/speed.md states its contender's steps/s and ratio as the committed
    ``results/speed/ellm_loop_speedups.txt`` (the benchmark's JSON line) has them; the README quotes no bonus's."""
    text = (RESULTS / "speed" / "ellm_loop_speedups.txt").read_text(encoding="utf-8")
    result = json.loads(next(line for line in text.splitlines() if line.startswith('{"benchmark"')))
    rows = result["rows"]
    none = rows["none"]["steps_per_s"]
    page = (ROOT / "docs" / "speed.md").read_text(encoding="utf-8").split("**The loop on one core")[1]
    labels = {"none": "| none |", "none, crafter worldgen": "| none, crafter's own world generation",
              "none, minilm-int8": "| none, `--embedder minilm-int8` |", "none, minilm-static":
              "| none, `--embedder minilm-static` |", "none, 4 envs": "| none, 4 environments in one process |",
              "novelty": "| novelty |", "oracle": "| oracle |", "ellm default": "| ELLM default (distilled;"}
    for name, label in labels.items():
        line = next(line for line in page.splitlines() if line.startswith(label))
        speed = rows[name]["steps_per_s"]
        assert f"| {speed:.1f} | {speed / none:.2f} |" in line, name
        assert f"| {result['hours_per_1m_cell'][name]:.2f} |" in line, name
    assert f"{result['none_vs_raw_crafter']:.2f} of a raw crafter random agent" in (ROOT / "README.md").read_text()


def test_the_paper_page_quotes_the_committed_100k_rows():
    """Each row of the paper-threshold table in docs/paper.md (a line starting "| `METHOD`") states its method's
    achievements per episode (mean ± std) and score as ``results/crafter/100k/compare.json`` has them."""
    methods = json.loads((RESULTS / "crafter" / "100k" / "compare.json").read_text(encoding="utf-8"))["methods"]
    page = (ROOT / "docs" / "paper.md").read_text(encoding="utf-8").split("**The 100k table at the paper's threshold**")[1]
    table = page.split("\n\n")[1].splitlines()
    quoted = 0
    for line in table:
        if not line.startswith("| `"):
            continue
        method = line.split("`")[1]
        row = methods[method]
        assert f"| {row['achievements']['mean']:.2f} ± {row['achievements']['std']:.2f} |" in line, method
        assert f"| {row['score']['mean']:.2f} |" in line, method
        quoted += 1
    assert quoted >= 8


@pytest.mark.parametrize("budget, method", [("100k", "qwen-ranked-paper"), ("1m", "qwen-ranked")])
def test_the_committed_goal_sources_table_recomputes_from_the_kept_runs(budget, method):
    from ellm_core.crafter.analysis.goal_sources import format_table, method_cells, summarize

    committed = (RESULTS / "crafter" / budget / "goal_sources.md").read_text(encoding="utf-8")
    methods = [line.split(" | ")[0].lstrip("| ") for line in committed.splitlines()[2:]]
    cells = method_cells(RESULTS / "crafter" / budget / "runs")
    assert method in methods
    assert format_table({method: summarize(cells[method]) for method in methods}) == committed


def test_the_readme_quotes_the_committed_100k_paper_threshold_rows():
    methods = json.loads((RESULTS / "crafter" / "100k" / "compare.json").read_text(encoding="utf-8"))["methods"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    mean = {method: f"{methods[method]['achievements']['mean']:.2f}" for method in
            ("qwen-ranked", "none", "qwen-ranked-paper", "health")}
    assert f"{mean['qwen-ranked']} achievements per episode against no bonus's {mean['none']}" in readme
    assert f"{mean['qwen-ranked-paper']} against {mean['health']} with the paper's health reward" in readme


@pytest.mark.parametrize("summary, rank", [("summary.json", "rank-place-table-having-wood.json"),
                                           ("summary-smollm2.json", "rank-place-table-having-wood-smollm2.json")])
def test_the_committed_label_summaries_recompute_from_the_label_files(summary, rank):
    """The shipped label files' summaries, and where each LM ranks "place crafting table" once the agent holds wood
    (the docs' reason the 1M qwen-ranked row never builds the tool chain), recompute from the label files alone."""
    from ellm_core.goals.labels import goal_rank, summarize_labels

    folder = RESULTS / "crafter" / "labels"
    committed = json.loads((folder / summary).read_text(encoding="utf-8"))
    assert summarize_labels(folder / committed["file"]) == committed
    committed = json.loads((folder / rank).read_text(encoding="utf-8"))
    assert goal_rank(folder / committed["file"], committed["goal"], committed["having"]) == committed
    if "qwen" in committed["file"]:
        assert committed["situations"] == 950 and committed["median_rank_calibrated"] == 21.0
        assert "place crafting table" not in committed["first_calibrated"]


def test_the_prompt_probe_ranks_recompute_and_no_prompt_puts_the_table_first():
    """The prompt probe (results/crafter/labels/prompt-probe/run.sh) asked the 1.5B again about the 950 situations in
    which the player holds wood, without few-shot examples and with one example's goals swapped: each committed rank
    recomputes from its label file, and under no prompt is "place crafting table" ranked first."""
    from ellm_core.goals.labels import goal_rank

    folder = RESULTS / "crafter" / "labels" / "prompt-probe"
    for variant in ("shipped", "no-few-shot", "table-first"):
        committed = json.loads((folder / f"rank-{variant}.json").read_text(encoding="utf-8"))
        assert goal_rank(folder / committed["file"], committed["goal"], committed["having"]) == committed, variant
        assert committed["situations"] == 950
        assert committed["share_in_top_calibrated"]["1"] == committed["share_in_top_raw"]["1"] == 0.0, variant


def test_the_readme_and_the_site_home_page_quote_one_generated_headline():
    """``results/headline.py`` builds the "Results at a glance" table from the committed result files; the README's
    section and ``docs/_glance.md`` must be exactly what it builds now (regenerate with ``python
    results/headline.py``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("headline", RESULTS / "headline.py")
    headline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(headline)
    assert headline.main(["--check"]) == 0
    table = headline.table("")
    assert table in (ROOT / "docs" / "_glance.md").read_text(encoding="utf-8")
    assert headline.table("docs/") in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "achievements per episode" in table and "score" in table and headline.PAPER_ELLM_PER_EPISODE in table


def test_the_committed_crafting_chain_probe_recomputes_from_its_runs():
    """``results/crafter/chain-probe/probe.json`` (and its table) from the kept ``stats.jsonl`` of its 30 runs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("crafting_chain", ROOT / "benchmarks" / "crafting_chain.py")
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    folder = RESULTS / "crafter" / "chain-probe"
    committed = json.loads((folder / "probe.json").read_text(encoding="utf-8"))
    starts = {name: tuple(value) for name, value in committed["starts"].items()}
    variants = list(dict.fromkeys(row.split(": ", 1)[1] for row in committed["rows"]))
    seeds = sorted({int(seed) for row in committed["rows"].values() for seed in row["seeds"]})
    assert len(variants) >= 3 and seeds == [0, 1, 2]
    summary = probe.summarize(probe.plan(starts, variants, seeds, folder / "runs"), committed["window"])
    assert json.loads(json.dumps(summary)) == committed["rows"]
    assert probe.table(summary, committed["steps"], committed["window"]) in (folder / "probe.md").read_text()
