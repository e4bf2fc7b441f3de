"""The classifiers' inputs, built from a window's per-pair series."""

from __future__ import annotations

import numpy as np
import pytest

from meflow.errors import MeflowError
from meflow.features.inputs import build_input, encode_directions, mdmo, vector_bins


class _Cfg:
    bins = 4


def _batch(n: int = 2, w: int = 8) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    vec = rng.normal(size=(n, w, 42, 2)).astype(np.float32)
    return {
        "vector": vec,
        "main": vec.copy(),
        "valid": np.ones((n, w), bool),
        "pseudo_discrete": np.zeros((n, 42, w), np.uint8),
        "pseudo_continuous": np.ones((n, 42, w), np.uint8),
    }


def test_vector_bins_sum_each_stretch_and_skip_pairs_without_flow() -> None:
    b = _batch()
    b["valid"][0, 1] = False  # its vector must not count ...
    b["vector"][1, 5, 3] = np.nan  # ... nor a region without pixels
    x = vector_bins(b, _Cfg())
    assert x.shape == (2, 4, 42, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, 0], b["vector"][0, 0], rtol=1e-6)  # pair 1 left out
    np.testing.assert_allclose(x[1, 1], b["vector"][1, 2] + b["vector"][1, 3], rtol=1e-5)
    np.testing.assert_allclose(x[1, 2, 3], b["vector"][1, 4, 3], rtol=1e-6)
    with pytest.raises(MeflowError, match="does not divide"):
        vector_bins(_batch(w=10), _Cfg())


def test_mdmo_averages_lengths_and_angles_of_the_expression_pairs() -> None:
    b = _batch(n=1, w=4)
    b["main"][:] = 0.0
    b["main"][0, :2, 0] = (1.0, 0.0)  # region 1: rightward during the expression ...
    b["main"][0, 2:, 0] = (0.0, -4.0)  # ... upward (and longer) after it
    b["main"][0, :2, 1] = (0.0, 0.5)  # region 2: downward, half as long
    b["expression"] = np.array([[True, True, False, False]])
    x = mdmo(b, None)
    assert x.shape == (1, 84)
    rho, theta = x[0, :42], x[0, 42:]
    assert rho[0] == pytest.approx(1.0) and rho[1] == pytest.approx(0.5)  # / the largest
    assert theta[0] == pytest.approx(0.0) and theta[1] == pytest.approx(3 * np.pi / 2)


def test_pseudo_images_become_unit_vectors_for_linear_models() -> None:
    img = np.array([[[0, 1, 64, 128, 192]]], np.uint8)
    enc = encode_directions(img)
    cos, sin = enc[0, :5], enc[0, 5:]
    np.testing.assert_allclose(cos, [0, 1, 0, -1, 0], atol=0.02)  # 0: no direction
    np.testing.assert_allclose(sin, [0, 0, 1, 0, -1], atol=0.03)
    assert build_input("pseudo-continuous", _batch()).dtype == np.uint8
    with pytest.raises(MeflowError, match="unknown model input 'pixels'"):
        build_input("pixels", _batch())
