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


def test_onset_apex_input_zeroes_invalid_samples_and_needs_the_cache_arrays() -> None:
    from meflow.features.inputs import onset_apex_note

    b = _batch(n=3)
    assert onset_apex_note(b) is not None
    with pytest.raises(MeflowError, match="onset-apex needs the labelled onset and apex"):
        build_input("onset-apex", b)
    oa = np.random.default_rng(1).normal(size=(3, 42, 2)).astype(np.float32)
    b.update(onset_apex=oa, onset_apex_valid=np.array([True, False, True]))
    x = build_input("onset-apex", b)
    np.testing.assert_array_equal(x[[0, 2]], oa[[0, 2]])
    assert not x[1].any() and onset_apex_note(b) is None
    both = build_input("vector-bins+onset-apex", b, _Cfg())
    assert both.shape == (3, 5, 42, 2)
    np.testing.assert_array_equal(both[:, :4], vector_bins(b, _Cfg()))
    np.testing.assert_array_equal(both[:, 4], x)
    b["onset_apex_valid"] = np.array([True, False, False])
    assert "only 1 of 3" in str(onset_apex_note(b))


def test_vector_peak_is_the_apex_displacement_wherever_the_expression_sits() -> None:
    from _span_features import make_span_features

    feats = make_span_features(subjects=1, per_class=1, noise=0.0)
    peaks = [build_input("vector-peak", feats.batch(s)) for s in (-4, 0, 4)]
    bins = [build_input("vector-bins", feats.batch(s), _Cfg()) for s in (-4, 4)]
    assert not np.allclose(bins[0], bins[1])  # the bins see where the motion is ...
    for p in peaks[1:]:
        np.testing.assert_allclose(p, peaks[0], atol=1e-6)  # ... the peak does not
    np.testing.assert_allclose(peaks[1], feats.onset_apex, atol=1e-5)  # onset to apex: out


def test_displacement_bins_keep_motion_that_goes_out_and_back_inside_one_stretch() -> None:
    b = _batch(n=1, w=16)
    b["vector"][:] = 0.0
    b["vector"][0, 8:10, 5] = (1.0, 0.5)  # out on pairs 8, 9 ...
    b["vector"][0, 10:12, 5] = (-1.0, -0.5)  # ... back on 10, 11: inside stretch 2 of 4
    sums = vector_bins(b, _Cfg())
    assert not sums.any()  # the motion summed over the stretch cancels ...
    x = build_input("displacement-bins", b, _Cfg())
    assert x.shape == (1, 4, 42, 2) and x.dtype == np.float32
    # ... its mean displacement does not: after pairs 8..11 the region is 1, 2, 1, 0 units
    # from rest (the median around: 0), a mean of 1 unit (1.0, 0.5) px
    np.testing.assert_allclose(x[0, 2, 5], (1.0, 0.5), atol=1e-6)
    assert not np.delete(x[0], 2, axis=0).any() and not np.delete(x[0, 2], 5, axis=0).any()
