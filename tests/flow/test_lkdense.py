"""The dense Lucas–Kanade backend: coarse-to-fine reach, flat regions, parameters."""

from __future__ import annotations

import numpy as np
import pytest

from meflow.flow.lkdense import LKDenseFlow

from .conftest import BORDER, PairMaker


def test_coarse_to_fine_recovers_five_pixels(make_pair: PairMaker) -> None:
    # One level alone cannot see 5 px through a ~7 px window; the pyramid can.
    prev, nxt = make_pair(5.0, -3.0)
    inner = LKDenseFlow()(prev, nxt)[BORDER:-BORDER, BORDER:-BORDER]
    np.testing.assert_allclose(np.median(inner.reshape(-1, 2), axis=0), [5.0, -3.0], atol=0.1)
    single = LKDenseFlow(levels=1)(prev, nxt)[BORDER:-BORDER, BORDER:-BORDER]
    assert abs(np.median(single[..., 0]) - 5.0) > 1.0


def test_flat_image_gives_zero_flow_not_nan() -> None:
    flat = np.full((64, 64), 128, np.uint8)
    out = LKDenseFlow()(flat, flat)
    assert np.isfinite(out).all() and np.abs(out).max() == 0.0
    # A horizontal ramp moved right by 1 px: the vertical component is unobservable (the
    # aperture problem); the Tikhonov term keeps it at 0 instead of noise.
    x = np.tile(np.arange(64) * 3, (64, 1))
    out = LKDenseFlow()(x.astype(np.uint8), np.clip(x - 3, 0, 255).astype(np.uint8))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[16:-16, 16:-16, 0], 1.0, atol=0.05)
    assert np.abs(out[..., 1]).max() < 1e-3


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        LKDenseFlow(levels=0)
