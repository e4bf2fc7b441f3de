"""Window placement and pseudo-image assembly."""

import numpy as np
import pytest

from meflow.errors import MeflowError
from meflow.features.windows import place_window, pseudo_images


def test_window_is_centred_on_the_anchor() -> None:
    assert place_window(anchor=100, first=0, last=500, window=64) == 68


def test_window_moves_inside_the_recording_at_its_edges() -> None:
    assert place_window(anchor=5, first=1, last=500, window=64) == 1
    assert place_window(anchor=495, first=1, last=500, window=64) == 500 - 64
    # exactly window + 1 frames available
    assert place_window(anchor=40, first=10, last=74, window=64) == 10


def test_too_short_a_recording_is_refused() -> None:
    with pytest.raises(MeflowError, match="needs 65"):
        place_window(anchor=20, first=0, last=40, window=64)


def test_pseudo_images_rows_are_regions_columns_are_pairs() -> None:
    pairs, regions = 64, 42
    angle = np.zeros((pairs, regions), np.float32)
    angle[:, 3] = np.pi / 2 + 0.1  # region 4 moves up: sector 2
    angle[10, :] = np.pi + 0.2  # pair 10 all left: sector 4
    angle[:, 7] = np.nan  # region 8 has no pixels
    valid = np.ones(pairs, bool)
    valid[20] = False
    disc, cont = pseudo_images(angle, valid)
    assert disc.shape == (42, 64) and disc.dtype == np.uint8
    assert disc[3, 0] == 64 and disc[0, 0] == 1  # sector 0 (to the right) is grey 1
    assert (disc[[i for i in range(42) if i != 7], 10] == 128).all()
    # no data: an invalid pair and a region without pixels are 0, which no direction is
    assert (disc[:, 20] == 0).all() and (cont[:, 20] == 0).all()
    assert (disc[7] == 0).all() and (cont[7] == 0).all()
    assert (disc[np.arange(42) != 7][:, np.arange(64) != 20] > 0).all()
    assert (cont[np.arange(42) != 7][:, np.arange(64) != 20] > 0).all()
    assert cont[3, 0] == 1 + int(np.floor(255 * (np.pi / 2 + 0.1) / (2 * np.pi)))
    # a discrete pixel is the lowest continuous grey of its sector
    has = cont > 0
    assert (disc[has] <= cont[has]).all() and (cont[has] <= disc[has] + 32).all()


def test_motion_below_the_noise_floor_has_no_direction() -> None:
    angle = np.full((4, 42), 1.0, np.float32)
    vector = np.zeros((4, 42, 2), np.float32)
    vector[:, :, 0] = 0.3  # 0.3 px a pair everywhere ...
    vector[1, 5] = (0.03, 0.04)  # ... but 0.05 px in region 6 of pair 1
    disc, cont = pseudo_images(angle, np.ones(4, bool), vector=vector, noise_floor=0.1)
    assert disc[5, 1] == cont[5, 1] == 0
    assert (np.delete(disc.ravel(), 5 * 4 + 1) == 32).all()
    with pytest.raises(ValueError, match="vectors"):
        pseudo_images(angle, np.ones(4, bool), noise_floor=0.1)
    same, _ = pseudo_images(angle, np.ones(4, bool), vector=vector, noise_floor=0.0)
    assert (same == 32).all()  # no floor: every direction kept


def _sample(fps: float | None, onset: int = 100, apex: int = 300, offset: int = 400, **kw):
    from pathlib import Path

    from meflow.datasets.base import Sample

    return Sample("x", "s1", "c", onset, apex, offset, "happiness", Path("."), fps=fps, **kw)


def test_a_window_at_the_native_rate_is_consecutive_frames() -> None:
    from meflow.config import FeatureConfig
    from meflow.features.windows import window_frames

    frames = window_frames(_sample(30.0), 0, 1000, FeatureConfig())
    np.testing.assert_array_equal(frames, np.arange(268, 333))
    # an unknown rate is taken as the features' rate
    np.testing.assert_array_equal(window_frames(_sample(None), 0, 1000, FeatureConfig()), frames)


def test_a_200_fps_clip_is_brought_to_30_fps_by_the_nearest_frame_in_time() -> None:
    from meflow.config import FeatureConfig
    from meflow.features.windows import window_frames

    frames = window_frames(_sample(200.0), 0, 2000, FeatureConfig())
    assert frames.shape == (65,)
    steps = np.diff(frames)
    assert set(steps.tolist()) == {6, 7}  # 200 / 30 = 6.67 frames a step
    # frame k is the one nearest to k / 30 s after the first
    np.testing.assert_allclose(frames - frames[0], np.arange(65) * 200 / 30, atol=0.5 + 1e-9)
    assert abs(frames[32] - 300) <= 1  # centred on the apex: 2.13 s around it
    assert (frames[-1] - frames[0]) / 200 == pytest.approx(64 / 30, abs=0.01)
    # at the recording's edges the window moves inside it
    late = window_frames(_sample(200.0, 1800, 1900, 1950), 0, 2000, FeatureConfig())
    assert late[-1] == 2000 and late[0] == pytest.approx(2000 - 64 * 200 / 30, abs=1)


def test_a_clip_shorter_than_the_window_span_is_refused_with_the_times() -> None:
    from meflow.config import FeatureConfig
    from meflow.features.windows import window_frames

    short = _sample(200.0, 10, 40, 90, first_frame=10, last_frame=90)  # 0.4 s, CASME II-like
    with pytest.raises(MeflowError, match=r"0\.41 s at 200 fps.*spans 2\.13 s"):
        window_frames(short, 0, 500, FeatureConfig())
    fine = window_frames(short, 0, 500, FeatureConfig(fps=200.0))  # at the native rate
    np.testing.assert_array_equal(fine, np.arange(10, 75))
