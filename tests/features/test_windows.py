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


def test_a_clip_shorter_than_the_span_is_completed_with_its_first_and_last_frames() -> None:
    from meflow.config import FeatureConfig
    from meflow.features.windows import span_frames, window_frames

    # 24 frames at 200 fps (CASME II's shortest clips): 0.12 s, the span 3.2 s at 30 fps
    short = _sample(200.0, 10, 20, 33, first_frame=10, last_frame=33)
    frames, index = span_frames(short, 0, 500, FeatureConfig())
    assert frames.shape == (97,) and index == 16  # the window stays centred on the apex
    assert frames[index + 32] == 20
    distinct = np.unique(frames)
    assert distinct[0] == 10 and distinct[-1] == 33  # first and last frames, repeated
    np.testing.assert_array_equal(distinct, [10, 14, 20, 27, 33])  # every 6.67 frames
    assert (frames[: index + 31] == 10).all() and (frames[index + 35 :] == 33).all()
    # at the native rate: every frame, the rest repeats
    frames, index = span_frames(short, 0, 500, FeatureConfig(fps=200.0))
    np.testing.assert_array_equal(np.unique(frames), np.arange(10, 34))
    assert frames[index + 32] == 20 and (np.diff(frames) >= 0).all()
    assert window_frames(short, 0, 500, FeatureConfig(fps=200.0))[32] == 20
    two = _sample(200.0, 10, 10, 11, first_frame=10, last_frame=11)
    assert set(span_frames(two, 0, 500, FeatureConfig())[0].tolist()) == {10, 11}
    one = _sample(200.0, 10, 10, 10, first_frame=10, last_frame=10)
    with pytest.raises(MeflowError, match=r"only 1 frame .*at least 2"):
        span_frames(one, 0, 500, FeatureConfig())


def test_the_span_holds_the_centred_window_and_margins_on_its_time_grid() -> None:
    from meflow.config import FeatureConfig
    from meflow.features.windows import span_frames

    for fps, apex, last in ((30.0, 600, 1000), (200.0, 1500, 3000)):
        cfg = FeatureConfig()
        frames, index = span_frames(_sample(fps, 500, apex, 1600), 0, last, cfg)
        assert index == 16 and frames.shape == (97,)
        step = fps / 30.0
        # step k from the window's first frame takes the frame nearest k / 30 s from it
        np.testing.assert_allclose(
            frames - frames[16], (np.arange(97) - 16) * step, atol=0.5 + 1e-9
        )
        # the window inside it is the window without a margin
        alone = span_frames(_sample(fps, 500, apex, 1600), 0, last, FeatureConfig(margin=0))
        assert alone[1] == 0
        np.testing.assert_array_equal(frames[16:81], alone[0])
    # at a recording's edges the span moves inside it and the window does not move with it
    cfg = FeatureConfig()
    early, i = span_frames(_sample(30.0, 0, 40, 60), 0, 1000, cfg)
    np.testing.assert_array_equal(early, np.arange(97))
    assert i == 8  # the window 8..72 centred on 40: only 8 pairs before it
    late, i = span_frames(_sample(30.0, 900, 980, 990), 0, 1000, cfg)
    np.testing.assert_array_equal(late, np.arange(904, 1001))
    assert i == 32 and late[i] == 1000 - 64  # the window at the end, as without a margin
