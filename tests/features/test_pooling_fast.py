"""The pooling's faster paths (the sector look-up, counts and mean vectors from the sector
sums) give what the plain per-region bincounts gave: this file keeps that earlier code as the
reference."""

from __future__ import annotations

import numpy as np
import pytest

from meflow.features.pooling import AVERAGES, MAIN_BINS, direction_bin, pool_stats, wrap_angle


def _reference_bin(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    c, s = dx, -dy
    lower = (s < 0) | ((s == 0) & (c < 0))
    c, s = np.where(lower, -c, c), np.where(lower, -s, s)
    left = (c < 0) | ((c == 0) & (s > 0))
    c, s = np.where(left, s, c), np.where(left, -c, s)
    upper = (s >= c) & (s > 0)
    return 4 * lower.astype(np.int64) + 2 * left + upper


def _reference_stats(flow: np.ndarray, lab: np.ndarray, n_regions: int, average: str) -> list:
    nbins = n_regions + 1
    dx = flow[..., 0].ravel().astype(np.float32)
    dy = flow[..., 1].ravel().astype(np.float32)
    mag = np.sqrt(dx * dx + dy * dy)
    counts = np.bincount(lab, minlength=nbins)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        magnitude = np.bincount(lab, weights=mag, minlength=nbins)[1:] / counts
        vector = np.stack(
            [np.bincount(lab, weights=c, minlength=nbins)[1:] / counts for c in (dx, dy)], axis=1
        )
        key = lab * MAIN_BINS + _reference_bin(dx, dy)
        size = nbins * MAIN_BINS
        n = np.bincount(key, minlength=size).reshape(nbins, MAIN_BINS)
        sx = np.bincount(key, weights=dx, minlength=size).reshape(nbins, MAIN_BINS)
        sy = np.bincount(key, weights=dy, minlength=size).reshape(nbins, MAIN_BINS)
        best, rows = n.argmax(axis=1), np.arange(nbins)
        cnt = n[rows, best]
        main = np.stack([sx[rows, best] / cnt, sy[rows, best] / cnt], axis=1)[1:]
    angle = wrap_angle(AVERAGES[average](dx, dy, mag, lab, nbins)[1:])
    angle[counts == 0] = np.nan
    out = [a.astype(np.float32) for a in (magnitude, vector, main)]
    for a in out:
        a[counts == 0] = np.nan
    return [out[0], angle, out[1], out[2]]


EDGES = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-30, -1e-30, 3e38], np.float32)


def test_the_sector_lookup_is_the_sector_on_every_sign_pattern_and_diagonal() -> None:
    rng = np.random.default_rng(0)
    dx, dy = (rng.choice(EDGES, 20000) for _ in range(2))  # axes, diagonals, zeros, -0
    np.testing.assert_array_equal(direction_bin(dx, dy), _reference_bin(dx, dy))
    dx, dy = (rng.normal(size=20000).astype(np.float32) for _ in range(2))
    np.testing.assert_array_equal(direction_bin(dx, dy), _reference_bin(dx, dy))
    # the eight sector boundaries themselves, and the zero vector
    c = np.array([1, 1, 0, -1, -1, -1, 0, 1, 0], np.float32)
    s = np.array([0, 1, 1, 1, 0, -1, -1, -1, 0], np.float32)
    assert direction_bin(c, -s).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 0]


@pytest.mark.parametrize("average", sorted(AVERAGES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pool_stats_equal_the_per_region_bincounts(average: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = 150, 130
    flow = (rng.normal(size=(h, w, 2)) * rng.uniform(0.01, 3.0)).astype(np.float32)
    flow[rng.random((h, w)) < 0.05] = 0.0  # still pixels
    labels = rng.integers(0, 43, (h, w))
    labels[labels == 17] = 0  # an empty region
    lab = labels.ravel().astype(np.intp)
    got = pool_stats(flow, lab, 42, AVERAGES[average])
    want = _reference_stats(flow, lab, 42, average)
    for name, g, r in zip(("magnitude", "angle", "vector", "main"), (got.magnitude, got.angle,
                          got.vector, got.main), want, strict=True):  # fmt: skip
        assert g.dtype == np.float32 and np.isnan(g[16]).all(), name
        # the region means as before, within float32 rounding (sums over the sectors)
        np.testing.assert_allclose(g, r, rtol=1e-6, atol=1e-7, equal_nan=True, err_msg=name)
