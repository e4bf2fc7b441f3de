"""The direct pairs of features.spot_lags: the flow between frames t - k and t is the very pair
flow extraction computes for those two frames, and the setting reads and refuses as others."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from meflow.config import ExtractConfig, FeatureConfig
from meflow.errors import ConfigError
from meflow.features.pooling import AVERAGES
from meflow.features.sequence import STAGES
from meflow.features.streaming import SequencePass


@pytest.fixture(scope="module")
def frames_and_landmarks(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, list]:
    """20 frames of a synthetic recording and their landmarks."""
    import cv2

    from meflow.face.landmarks import LandmarkTracker
    from meflow.synth.long import generate_long

    out = tmp_path_factory.mktemp("lags")
    generate_long(out, subjects=1, seed=3, recordings_per_subject=1, seconds=4.0,
                  progress=False)  # fmt: skip
    color = next(out.glob("spNO.*/*/color"))
    frames = [cv2.imread(str(color / f"{i}.jpg")) for i in range(20)]
    tracker = LandmarkTracker(ExtractConfig().face)
    try:
        points = [tracker(f) for f in frames]
    finally:
        tracker.close()
    assert all(p is not None for p in points)
    return frames, points


def _pass(cfg: ExtractConfig, frames: list, points: list, **kw: object) -> SequencePass:
    from meflow.flow import get_flow

    seq = SequencePass(cfg, AVERAGES[cfg.features.angle_average], get_flow(cfg.flow.backend),
                       lambda: get_flow(cfg.flow.backend), dict.fromkeys(STAGES, 0.0), False,
                       **kw)  # type: ignore[arg-type]  # fmt: skip
    seq.consume([(p, f, None) for p, f in zip(points, frames, strict=True)], [], "test")
    return seq


def test_a_direct_pair_is_extractions_own_pair_of_those_frames(frames_and_landmarks) -> None:
    frames, points = frames_and_landmarks
    cfg = ExtractConfig()
    seq = _pass(cfg, frames, points, spot_lags=(3, 6), lag_stride=2)
    lv = seq.lag_vector()
    assert lv is not None and lv.shape == (19, 2, 42, 2)
    plain = _pass(cfg, frames, points)
    assert plain.lag_vector() is None
    for a, b in zip(seq.rows, plain.rows, strict=True):  # the consecutive pairs: unchanged
        assert a[0].vector.tobytes() == b[0].vector.tobytes()
    for u in range(1, 20):
        for j, k in enumerate((3, 6)):
            if u % 2 or u < k:
                assert np.isnan(lv[u - 1, j]).all()
                continue
            # the two frames alone, as one consecutive pair
            two = _pass(cfg, [frames[u - k], frames[u]], [points[u - k], points[u]])
            assert two.rows[0][1]
            np.testing.assert_array_equal(lv[u - 1, j], two.rows[0][0].vector)
    assert np.abs(lv[11, 1]).max() > 0  # real flow, not a placeholder


def test_the_setting_reads_and_refuses_in_one_line() -> None:
    assert FeatureConfig(spot_lags="9, 6,6").spot_lag_list == (6, 9)
    assert FeatureConfig(spot_lags="").spot_lag_list == ()
    for bad in ("6,x", "0", "65"):
        with pytest.raises(ConfigError, match=r"features\.spot_lags"):
            FeatureConfig(spot_lags=bad)


def test_extraction_without_lags_stores_none(tmp_path: Path, frames_and_landmarks) -> None:
    import cv2

    from meflow.features.cache import load_npz
    from meflow.features.extract import extract_video

    frames = frames_and_landmarks[0][:8]
    folder = tmp_path / "clip"
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i}.jpg"), f)
    cfg = ExtractConfig(features=FeatureConfig(spot_lags=""))
    target, _ = extract_video(folder, tmp_path / "out", cfg)
    arrays, _ = load_npz(target)
    assert "lag_vector" not in arrays and "spot_lags" not in arrays
    target, _ = extract_video(folder, tmp_path / "out2", ExtractConfig())
    arrays, _ = load_npz(target)
    assert arrays["lag_vector"].shape == (7, 2, 42, 2)  # default 6,9: frame 6 only
    assert np.isfinite(arrays["lag_vector"][5, 0]).all()
    assert np.isnan(arrays["lag_vector"][:5]).all() and np.isnan(arrays["lag_vector"][6]).all()
