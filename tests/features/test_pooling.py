"""Region pooling: the angle convention, the three averages, empty regions, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meflow.features.pooling import AVERAGES, flow_angle, pool_regions, wrap_angle

AVG = sorted(AVERAGES)
TWO_PI = 2 * np.pi


def _grid(h: int = 24, w: int = 28, rows: int = 6, cols: int = 7) -> np.ndarray:
    r = np.arange(h) * rows // h
    c = np.arange(w) * cols // w
    return (r[:, None] * cols + c[None, :] + 1).astype(np.uint8)


def _circ_dist(a: np.ndarray, b: float) -> np.ndarray:
    d = np.abs(np.asarray(a, np.float64) - b) % TWO_PI
    return np.minimum(d, TWO_PI - d)


@pytest.mark.parametrize("average", AVG)
@pytest.mark.parametrize(
    ("dxdy", "theta"),
    [((1.0, 0.0), 0.0), ((0.0, -1.0), np.pi / 2), ((-1.0, 0.0), np.pi),
     ((0.0, 1.0), 3 * np.pi / 2), ((1.0, -1.0), np.pi / 4), ((-2.0, 2.0), 5 * np.pi / 4)],
)  # fmt: skip
def test_angle_convention_zero_is_right_and_up_is_half_pi(
    average: str, dxdy: tuple[float, float], theta: float
) -> None:
    # Image y grows downward: dy = -1 is a motion up the screen, theta = pi/2.
    flow = np.broadcast_to(np.float32(dxdy), (24, 28, 2)).copy()
    mag, ang = pool_regions(flow, _grid(), average=average)
    assert mag.shape == ang.shape == (42,) and mag.dtype == ang.dtype == np.float32
    np.testing.assert_allclose(mag, np.hypot(*dxdy), rtol=1e-6)
    np.testing.assert_allclose(ang, theta, atol=1e-6)


def test_angles_straddling_zero_average_to_zero_except_arithmetic() -> None:
    labels = np.ones((2, 10), np.uint8)
    flow = np.zeros((2, 10, 2), np.float32)
    for row, theta in enumerate([0.1, TWO_PI - 0.1]):
        flow[row, :, 0] = np.cos(theta)
        flow[row, :, 1] = -np.sin(theta)
    for average in ("circular", "vector"):
        _, ang = pool_regions(flow, labels, n_regions=1, average=average)
        assert _circ_dist(ang, 0.0)[0] < 1e-6
    _, ang = pool_regions(flow, labels, n_regions=1, average="arithmetic")
    assert abs(ang[0] - np.pi) < 1e-5  # the paper's literal mean: the known wrap-around error


def test_magnitude_is_the_mean_of_pixel_magnitudes_and_vector_weighs_by_it() -> None:
    labels = np.ones((1, 4), np.uint8)
    # three slow pixels to the right, one fast pixel up
    flow = np.array([[[0.1, 0.0], [0.1, 0.0], [0.1, 0.0], [0.0, -3.0]]], np.float32)
    mag, circ = pool_regions(flow, labels, n_regions=1, average="circular")
    _, vec = pool_regions(flow, labels, n_regions=1, average="vector")
    assert mag[0] == pytest.approx(0.825)
    assert circ[0] == pytest.approx(np.arctan2(1, 3), abs=1e-6)  # direction count: 3 right, 1 up
    assert vec[0] == pytest.approx(np.arctan2(3, 0.3), abs=1e-6)  # mean vector: mostly up


def test_background_is_ignored_and_empty_regions_are_nan() -> None:
    labels = np.zeros((10, 10), np.uint8)
    labels[:5] = 1
    labels[5:, :5] = 3
    flow = np.zeros((10, 10, 2), np.float32)
    flow[..., 0] = 1.0
    flow[5:, 5:] = [0.0, 9.0]  # background: must not count
    mag, ang = pool_regions(flow, labels, n_regions=4)
    np.testing.assert_array_equal(np.isnan(mag), [False, True, False, True])
    np.testing.assert_array_equal(np.isnan(ang), [False, True, False, True])
    assert mag[0] == mag[2] == 1.0 and ang[0] == ang[2] == 0.0


def test_angle_just_below_two_pi_stays_below_two_pi_in_float32() -> None:
    flow = np.array([[[1.0, 1e-9]]], np.float32)  # atan2(-1e-9, 1) mod 2pi rounds to 2pi
    for average in AVG:
        _, ang = pool_regions(flow, np.ones((1, 1), np.uint8), n_regions=1, average=average)
        assert 0.0 <= ang[0] < TWO_PI
    assert wrap_angle(np.array([-1e-20, TWO_PI, -np.pi / 2]))[0] == 0.0
    np.testing.assert_allclose(wrap_angle(np.array([TWO_PI, -np.pi / 2])), [0, 1.5 * np.pi])
    np.testing.assert_allclose(flow_angle(np.array([[0.0, -2.0]])), [np.pi / 2])


def test_bad_inputs_are_refused() -> None:
    flow = np.zeros((4, 4, 2), np.float32)
    with pytest.raises(ValueError, match=r"0\.\.42"):
        pool_regions(flow, np.full((4, 4), 43, np.uint8))
    with pytest.raises(ValueError, match="do not match"):
        pool_regions(flow, np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError, match="integers"):
        pool_regions(flow, np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="valid: arithmetic, circular, vector"):
        pool_regions(flow, np.zeros((4, 4), np.uint8), average="median")


finite = st.floats(-20, 20, allow_nan=False, width=32)


@settings(max_examples=60, deadline=None)
@given(dx=finite, dy=finite, average=st.sampled_from(AVG))
def test_constant_flow_gives_its_own_angle_and_magnitude_everywhere(
    dx: float, dy: float, average: str
) -> None:
    if np.hypot(dx, dy) < 1e-3:
        dx, dy = 1e-3, 0.0
    flow = np.broadcast_to(np.float32([dx, dy]), (24, 28, 2)).copy()
    mag, ang = pool_regions(flow, _grid(), average=average)
    theta = np.arctan2(-np.float32(dy), np.float32(dx)) % TWO_PI
    np.testing.assert_allclose(mag, np.hypot(np.float32(dx), np.float32(dy)), rtol=1e-5)
    assert np.all((ang >= 0) & (ang < TWO_PI))
    assert np.all(_circ_dist(ang, theta) < 1e-5)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), average=st.sampled_from(AVG))
def test_permuting_region_ids_permutes_the_outputs(seed: int, average: str) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 43, size=(20, 20)).astype(np.uint8)
    flow = rng.normal(0, 2, size=(20, 20, 2)).astype(np.float32)
    perm = rng.permutation(42) + 1  # region r becomes perm[r - 1]
    relabelled = np.concatenate([[0], perm])[labels].astype(np.uint8)
    mag, ang = pool_regions(flow, labels, average=average)
    mag_p, ang_p = pool_regions(flow, relabelled, average=average)
    np.testing.assert_array_equal(mag_p[perm - 1], mag)
    np.testing.assert_array_equal(ang_p[perm - 1], ang)
