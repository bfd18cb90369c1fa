"""Statistics over seeds and paired units, shared by the Crafter and the browse comparisons.

- :func:`describe`: mean, standard deviation and a bootstrap confidence interval of the mean of a few seeds.
- :func:`welch`: Welch's t-test of two methods' seed values (unequal variances; scipy).
- :func:`paired_bootstrap`: the mean of paired differences (e.g. two methods on the same held-out sessions)
  with its bootstrap confidence interval.

With 3 seeds a bootstrap interval of the mean has only 10 distinct resamples, so it is narrow and coarse;
the t-test is the sharper tool at that size. Tables report both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as scipy_stats

CONFIDENCE = 0.95


def bootstrap_ci(values: Sequence[float], confidence: float = CONFIDENCE, resamples: int = 10_000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (``scipy.stats.bootstrap``); a single value is its own CI."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return math.nan, math.nan
    if values.size == 1 or np.all(values == values[0]):
        return float(values[0]), float(values[0])
    result = scipy_stats.bootstrap((values,), np.mean, confidence_level=confidence, n_resamples=resamples,
                                   method="percentile", random_state=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def describe(values: Sequence[float], confidence: float = CONFIDENCE, resamples: int = 10_000,
             seed: int = 0) -> dict[str, float]:
    """``{"mean", "std" (ddof=1), "n", "ci_low", "ci_high"}`` of the values (e.g. one per seed)."""
    values = np.asarray(values, dtype=np.float64)
    low, high = bootstrap_ci(values, confidence, resamples, seed)
    return {"mean": float(values.mean()) if values.size else math.nan,
            "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
            "n": int(values.size), "ci_low": low, "ci_high": high}


def welch(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Welch's t-test of ``mean(a) - mean(b)``: ``{"diff", "t", "p"}`` (p is NaN below 2 values per side or
    when both sides are constant)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    diff = float(a.mean() - b.mean()) if a.size and b.size else math.nan
    if a.size < 2 or b.size < 2 or (a.std() == 0 and b.std() == 0):
        return {"diff": diff, "t": math.nan, "p": math.nan}
    result = scipy_stats.ttest_ind(a, b, equal_var=False)
    return {"diff": diff, "t": float(result.statistic), "p": float(result.pvalue)}


def paired_bootstrap(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE,
                     resamples: int = 1_000, seed: int = 0) -> dict[str, float]:
    """Mean of ``a - b`` over paired units (same sessions, same users) and its percentile bootstrap CI."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values need the same shape, got {a.shape} and {b.shape}")
    differences = a - b
    low, high = bootstrap_ci(differences, confidence, resamples, seed)
    return {"diff": float(differences.mean()) if differences.size else math.nan, "ci_low": low, "ci_high": high,
            "n": int(differences.size)}


def format_ci(summary: dict[str, float], digits: int = 2) -> str:
    """``mean ± std [low, high]`` of a :func:`describe` result; a single value has no spread to show:
    ``mean (1 value)``."""
    if summary.get("n", 2) < 2:
        return f"{format_std(summary, digits)} (1 value)"
    return f"{format_std(summary, digits)} [{summary['ci_low']:.{digits}f}, {summary['ci_high']:.{digits}f}]"


def format_std(summary: dict[str, float], digits: int = 2) -> str:
    """``mean ± std`` of a :func:`describe` result (``mean`` alone for a single value)."""
    if summary.get("n", 2) < 2:
        return f"{summary['mean']:.{digits}f}"
    return f"{summary['mean']:.{digits}f} ± {summary['std']:.{digits}f}"


def format_p(p: float) -> str:
    """A p-value for a table: ``0.003``, ``< 0.001`` or ``-`` when undefined."""
    if p is None or math.isnan(p):
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
