"""The paper's 8-sector discretisation and the shared angle -> grey-level map."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meflow.features.discretise import NO_DIRECTION, angle_to_uint8, discretise, sector_of

TWO_PI = 2 * np.pi
STEP = TWO_PI / 8
LEVELS = np.array([1, 32, 64, 96, 128, 160, 192, 224])  # 1 + floor(255 k / 8)
angles = st.floats(0.0, TWO_PI, exclude_max=True, allow_nan=False)


def test_sector_centres_map_to_their_lower_edge() -> None:
    k = np.arange(8)
    theta = STEP * k + STEP / 2
    np.testing.assert_array_equal(sector_of(theta), k)
    np.testing.assert_allclose(discretise(theta), STEP * k)
    np.testing.assert_array_equal(angle_to_uint8(discretise(theta)), LEVELS)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sector_angles_give_exact_sector_levels_and_are_fixed_points(dtype: type) -> None:
    edges = (STEP * np.arange(8)).astype(dtype)
    np.testing.assert_array_equal(sector_of(edges), np.arange(8))
    d = discretise(edges)
    assert d.dtype == dtype
    np.testing.assert_array_equal(discretise(d), d)
    np.testing.assert_array_equal(angle_to_uint8(d), LEVELS)


def test_edges_and_nan() -> None:
    assert sector_of(TWO_PI) == 0 and discretise(TWO_PI) == 0.0
    assert sector_of(np.float32(TWO_PI)) == 0  # float32(2pi) is a hair above 2pi
    assert angle_to_uint8(TWO_PI) == 1
    assert angle_to_uint8(np.nextafter(TWO_PI, 0)) == 1  # within float noise of direction 0
    assert angle_to_uint8(TWO_PI - 0.01) == 255
    x = np.array([np.nan, 1.0])
    assert np.isnan(discretise(x)[0]) and sector_of(x)[0] == -1
    assert angle_to_uint8(x)[0] == NO_DIRECTION == 0
    np.testing.assert_array_equal(
        angle_to_uint8([0, np.pi / 2, np.pi, -np.pi / 2]), [1, 64, 128, 192]
    )
    assert angle_to_uint8(1.0).dtype == np.uint8


def test_other_sector_counts() -> None:
    np.testing.assert_array_equal(sector_of([0.1, np.pi / 2 + 0.1, 3.5], sectors=4), [0, 1, 2])
    np.testing.assert_allclose(discretise(np.pi / 2 + 0.1, sectors=4), np.pi / 2)
    with pytest.raises(ValueError):
        sector_of(1.0, sectors=0)


@settings(max_examples=200, deadline=None)
@given(theta=angles)
def test_sector_bounds_the_angle(theta: float) -> None:
    s = int(sector_of(theta))
    d = float(discretise(theta))
    assert 0 <= s <= 7
    assert d == pytest.approx(s * STEP)
    # the paper's floor, up to the 1e-6-turn tolerance (and 2pi - eps wraps to sector 0)
    if theta < TWO_PI - 1e-5:
        assert d - 1e-5 <= theta < d + STEP


@settings(max_examples=200, deadline=None)
@given(theta=angles, f32=st.booleans())
def test_discrete_grey_is_the_lowest_continuous_grey_of_its_sector(theta: float, f32: bool) -> None:
    t = np.float32(theta) if f32 else np.float64(theta)
    cont = int(angle_to_uint8(t))
    disc = int(angle_to_uint8(discretise(t)))
    assert disc == LEVELS[int(sector_of(t))]
    assert 1 <= disc <= cont <= 255 and cont != NO_DIRECTION
    # the continuous grey lies between its sector's level and the next one (the grey band
    # at a sector edge holds directions of both sectors: 255 levels do not split by 8)
    assert cont <= (LEVELS[int(sector_of(t)) + 1] if int(sector_of(t)) < 7 else 255)
    want = 1 + min(int(np.floor(255 * float(t) / TWO_PI + 255e-6)), 255) % 255
    assert cont == want
