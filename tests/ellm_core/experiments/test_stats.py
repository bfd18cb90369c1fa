"""Statistics over seeds: known answers for the mean, CI, Welch and paired bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from ellm_core.experiments.stats import (
    bootstrap_ci,
    describe,
    format_ci,
    format_p,
    format_std,
    paired_bootstrap,
    welch,
)


def test_describe_mean_std_and_a_ci_that_brackets_the_mean():
    summary = describe([1.0, 2.0, 3.0])
    assert summary["mean"] == pytest.approx(2.0) and summary["std"] == pytest.approx(1.0) and summary["n"] == 3
    # the percentile bootstrap of 3 values lies within their range and around the mean
    assert 1.0 <= summary["ci_low"] < 2.0 < summary["ci_high"] <= 3.0
    assert format_ci(summary) == f"2.00 ± 1.00 [{summary['ci_low']:.2f}, {summary['ci_high']:.2f}]"


def test_degenerate_inputs_give_their_value_not_an_error():
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert bootstrap_ci([0.5, 0.5, 0.5]) == (0.5, 0.5)
    assert describe([4.0])["std"] == 0.0
    # one seed has no spread: the tables say so instead of "± 0.00 [4.00, 4.00]"
    assert format_ci(describe([4.0])) == "4.00 (1 value)" and format_std(describe([4.0])) == "4.00"
    assert format_std(describe([1.0, 3.0])) == "2.00 ± 1.41"
    assert all(math.isnan(v) for v in bootstrap_ci([]))


def test_bootstrap_ci_covers_the_true_mean_of_a_large_sample():
    values = np.random.default_rng(0).normal(5.0, 1.0, size=400)
    low, high = bootstrap_ci(values, resamples=2_000)
    assert low < 5.0 < high and high - low < 0.3  # about 2 × 1.96 / sqrt(400) = 0.196 wide


def test_welch_matches_scipy_and_separates_clear_differences():
    a, b = [1.0, 1.1, 0.9], [2.0, 2.2, 1.9]
    result = welch(b, a)
    expected = scipy_stats.ttest_ind(b, a, equal_var=False)
    assert result["diff"] == pytest.approx(np.mean(b) - np.mean(a))
    assert result["p"] == pytest.approx(expected.pvalue) and result["p"] < 0.01
    assert welch([1.0, 2.0, 3.0], [1.5, 2.5, 2.0])["p"] > 0.5
    assert math.isnan(welch([1.0], [2.0, 3.0])["p"]) and math.isnan(welch([1.0, 1.0], [1.0, 1.0])["p"])


def test_paired_bootstrap_detects_a_shift_and_not_noise():
    rng = np.random.default_rng(1)
    base = rng.normal(size=300)
    shifted = paired_bootstrap(base + 0.5 + rng.normal(0, 0.1, 300), base)
    assert shifted["diff"] == pytest.approx(0.5, abs=0.03) and shifted["ci_low"] > 0.4
    noise = paired_bootstrap(base + rng.normal(0, 0.1, 300), base)
    assert noise["ci_low"] < 0 < noise["ci_high"]
    with pytest.raises(ValueError, match="same shape"):
        paired_bootstrap([1, 2], [1, 2, 3])


def test_format_p():
    assert format_p(0.0004) == "< 0.001" and format_p(0.0312) == "0.031" and format_p(float("nan")) == "-"
