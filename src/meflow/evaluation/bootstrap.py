"""Subject-level (cluster) bootstrap confidence intervals of a metric, and of a difference.

Samples of one subject are not independent, so a resample draws *subjects* with
replacement and takes all samples of each drawn subject. Resamples where the metric is
undefined (it raises ValueError or gives NaN, e.g. only one class drawn) are skipped and
counted in the result's ``skipped``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Metric = Callable[[np.ndarray, np.ndarray], float]


class BootstrapResult(tuple[float, float, float]):
    """(point, low, high), plus ``skipped`` and ``n_valid`` resample counts as attributes."""

    skipped: int
    n_valid: int

    def __new__(
        cls, point: float, low: float, high: float, skipped: int = 0, n_valid: int = 0
    ) -> BootstrapResult:
        self = super().__new__(cls, (float(point), float(low), float(high)))
        self.skipped = skipped
        self.n_valid = n_valid
        return self

    @property
    def point(self) -> float:
        return self[0]

    @property
    def low(self) -> float:
        return self[1]

    @property
    def high(self) -> float:
        return self[2]

    def __repr__(self) -> str:
        return (
            f"BootstrapResult(point={self[0]:.4f}, low={self[1]:.4f}, high={self[2]:.4f}, "
            f"skipped={self.skipped}, n_valid={self.n_valid})"
        )


def _safe(metric: Metric, y: np.ndarray, probs: np.ndarray) -> float:
    try:
        v = float(metric(y, probs))
    except ValueError:
        return float("nan")
    return v


def _resamples(groups: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
    """n index arrays, each the samples of len(subjects) subjects drawn with replacement."""
    g = np.asarray(groups)
    _, codes = np.unique(g, return_inverse=True)
    codes = codes.reshape(-1)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    n_sub = counts.size
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_sub, size=(n, n_sub))
    out = []
    for d in draws:
        lens = counts[d]
        # Positions start[d_j] + 0..count[d_j]-1, for all drawn subjects at once.
        offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
        out.append(order[np.repeat(starts[d], lens) + offs])
    return out


def _interval(stats: np.ndarray, alpha: float) -> tuple[float, float]:
    if stats.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(stats, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi)


def _result(point: float, stats: np.ndarray, alpha: float) -> BootstrapResult:
    """The point value with the percentile interval of its finite resampled values."""
    valid = stats[np.isfinite(stats)]
    lo, hi = _interval(valid, alpha)
    return BootstrapResult(
        point, lo, hi, skipped=int(stats.size - valid.size), n_valid=int(valid.size)
    )


def bootstrap_ci(
    y: np.ndarray,
    probs: np.ndarray,
    groups: np.ndarray,
    metric: Metric,
    n: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> BootstrapResult:
    """(point, low, high): the metric and its percentile (1 - alpha) interval over subjects."""
    y = np.asarray(y)
    probs = np.asarray(probs)
    point = _safe(metric, y, probs)
    stats = np.array([_safe(metric, y[i], probs[i]) for i in _resamples(groups, n, seed)])
    return _result(point, stats, alpha)


def paired_bootstrap_diff(
    y: np.ndarray,
    probs_a: np.ndarray,
    probs_b: np.ndarray,
    groups: np.ndarray,
    metric: Metric,
    n: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> BootstrapResult:
    """(diff, low, high) of metric(a) - metric(b) on the same samples, resampled together.

    An interval that excludes 0 says model a and model b differ on this test population.
    """
    y = np.asarray(y)
    a = np.asarray(probs_a)
    b = np.asarray(probs_b)
    if a.shape != b.shape:
        raise ValueError(f"probs_a {a.shape} and probs_b {b.shape} differ in shape")
    point = _safe(metric, y, a) - _safe(metric, y, b)
    stats = np.array(
        [_safe(metric, y[i], a[i]) - _safe(metric, y[i], b[i]) for i in _resamples(groups, n, seed)]
    )
    return _result(point, stats, alpha)
