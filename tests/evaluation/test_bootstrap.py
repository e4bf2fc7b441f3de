"""Cluster bootstrap: whole subjects are resampled, undefined resamples skipped, and the fast
path (vectorised resampling, rank-based AUC) gives the plain bootstrap's intervals."""

from __future__ import annotations

import numpy as np
import pytest

from meflow.evaluation import bootstrap_ci, macro_roc_auc, micro_roc_auc, paired_bootstrap_diff
from meflow.evaluation.bootstrap import _resamples


def _problem(n: int = 700, subjects: int = 26, signal: float = 0.3, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 6, n)
    p = rng.dirichlet(np.ones(6), n)
    p[np.arange(n), y] += signal
    return y, p / p.sum(1, keepdims=True), rng.integers(0, subjects, n)


def test_resamples_take_whole_subjects() -> None:
    groups = np.array(["a", "a", "a", "b", "c", "c"])
    for idx in _resamples(groups, 50, seed=1):
        assert len(set(groups[idx])) <= 3
        for s in set(groups[idx]):
            # a drawn subject contributes all its samples, possibly several times
            assert np.sum(groups[idx] == s) % np.sum(groups == s) == 0


def test_ci_brackets_point_and_is_reproducible() -> None:
    y, p, g = _problem()
    sizes: list[int] = []

    def counted(yy: np.ndarray, pp: np.ndarray) -> float:
        sizes.append(yy.size)
        return micro_roc_auc(yy, pp)

    res = bootstrap_ci(y, p, g, counted, n=1000, seed=0)
    point, lo, hi = res
    assert point == pytest.approx(micro_roc_auc(y, p))
    assert lo < point < hi and hi - lo < 0.05
    assert res.skipped == 0 and res.n_valid == 1000
    # the work is the point and one evaluation per resample, nothing more
    assert len(sizes) == 1001 and sizes[0] == y.size
    assert tuple(bootstrap_ci(y, p, g, micro_roc_auc, n=1000, seed=0)) == tuple(res)


def _plain_bootstrap(
    y: np.ndarray, p: np.ndarray, groups: np.ndarray, n: int, seed: int, alpha: float = 0.05
) -> tuple[float, float, float, list[int]]:
    """(point, low, high, resample sizes) of the cluster bootstrap written plainly: each
    resample draws len(subjects) subject codes (as ``_resamples`` draws them) and takes each
    drawn subject's samples, one subject after another; scikit-learn's micro AUC."""
    from sklearn.metrics import roc_auc_score

    def auc(yy: np.ndarray, pp: np.ndarray) -> float:
        onehot = np.zeros_like(pp)
        onehot[np.arange(yy.size), yy] = 1
        return float(roc_auc_score(onehot, pp, average="micro"))

    subjects, codes = np.unique(groups, return_inverse=True)
    draws = np.random.default_rng(seed).integers(0, subjects.size, size=(n, subjects.size))
    stats, sizes = [], []
    for d in draws:
        idx = np.concatenate([np.flatnonzero(codes == s) for s in d])
        stats.append(auc(y[idx], p[idx]))
        sizes.append(idx.size)
    lo, hi = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return auc(y, p), float(lo), float(hi), sizes


def test_the_fast_path_gives_the_plain_bootstraps_interval() -> None:
    # subjects of unequal sizes, their samples interleaved: the vectorised index arithmetic
    # must pick each drawn subject's own samples
    y, p, g = _problem(n=300, subjects=9, seed=3)
    point, lo, hi, plain_sizes = _plain_bootstrap(y, p, g, n=200, seed=5)
    sizes: list[int] = []

    def counted(yy: np.ndarray, pp: np.ndarray) -> float:
        sizes.append(yy.size)
        return micro_roc_auc(yy, pp)

    res = bootstrap_ci(y, p, g, counted, n=200, seed=5)
    assert sizes[1:] == plain_sizes and len(set(plain_sizes)) > 1
    assert tuple(res) == pytest.approx((point, lo, hi), abs=1e-12)


def test_undefined_resamples_are_skipped() -> None:
    # Subject a has only class 0, subject b only class 1: a resample drawing one subject twice
    # holds one class, and the macro AUC (per present class) is undefined there.
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.4, 0.6]])
    res = bootstrap_ci(y, p, np.array(["a", "a", "b", "b"]), macro_roc_auc, n=200, seed=0)
    assert 50 < res.skipped < 150 and res.skipped + res.n_valid == 200
    assert res.point == 1.0 and res.low == res.high == 1.0


def test_paired_difference() -> None:
    y, good, g = _problem(signal=0.5, seed=1)
    _, bad, _ = _problem(signal=0.05, seed=2)
    diff, lo, hi = paired_bootstrap_diff(y, good, bad[: y.size], g, micro_roc_auc, n=300)
    assert diff == pytest.approx(micro_roc_auc(y, good) - micro_roc_auc(y, bad))
    assert 0 < lo < diff < hi
    same = paired_bootstrap_diff(y, good, good, g, micro_roc_auc, n=100)
    assert tuple(same) == (0.0, 0.0, 0.0)
