"""The onset-to-apex and apex-to-offset flows of a sample (features.sample.expression_flows),
their frame averaging, and the onset-apex-offset input."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from meflow.datasets.base import Sample
from meflow.errors import MeflowError
from meflow.features.inputs import build_input
from meflow.features.pair import PairFeatures
from meflow.features.pooling import AVERAGES, pool_stats
from meflow.features.sample import expression_flows, labelled_frames


def _sample(onset: int = 10, apex: int = 14, offset: int = 20, **kw: object) -> Sample:
    return Sample("casme3", "s1", "c1", onset, apex, offset, "happiness", Path("/nowhere"), **kw)


class _Extractor:
    """Stands in for SequenceExtractor (with ``_pairs`` for features.sample.labelled_pairs): a
    pair's flow at every pixel of every region is the second frame's mean grey minus the
    first's, so a test reads which (averaged) frames were paired."""

    def __init__(self, k: int, face: bool = True) -> None:
        self.cfg = SimpleNamespace(features=SimpleNamespace(onset_apex_average=k))
        self.face = face
        self.runs: list[int] = []

    def pairs(self, frames: list[np.ndarray]) -> list[PairFeatures | None]:
        imgs = [f.astype(np.float64).mean() for f in frames]
        self.runs.append(len(imgs))
        if not self.face:
            return [None] * (len(imgs) - 1)
        labels = np.repeat(np.arange(1, 43, dtype=np.uint8), 2)[None].repeat(4, axis=0)
        out: list[PairFeatures | None] = []
        for d in np.diff(imgs):
            flow = np.full((*labels.shape, 2), d, np.float32)
            stats = pool_stats(flow, labels.astype(np.intp), 42, AVERAGES["circular"])
            out.append(PairFeatures(stats.magnitude, stats.angle, labels, flow, labels, stats))
        return out


@pytest.fixture(autouse=True)
def _fake_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    import meflow.features.sample as sample_module

    monkeypatch.setattr(sample_module, "labelled_pairs", lambda ex, frames: ex.pairs(frames))


def _frames(n: int = 40) -> dict[int, np.ndarray | None]:
    return {i: np.full((4, 4, 3), i, np.uint8) for i in range(n)}


def test_labelled_frames_average_away_from_the_expression_and_stay_in_the_recording() -> None:
    assert labelled_frames(_sample(), 0) == ([10], [14], [20])
    on, ap, off = labelled_frames(_sample(), 2)
    assert on == [10, 9, 8] and off == [20, 21, 22]
    assert ap[0] == 14 and sorted(ap) == [12, 13, 14, 15, 16]
    # the recording's first and last frames bound them; the apex's stay inside onset..offset
    on, ap, off = labelled_frames(_sample(1, 2, 4, first_frame=0, last_frame=5), 3)
    assert on == [1, 0] and ap == [2, 3] and off == [4, 5]


def test_flows_pair_the_averaged_onset_apex_and_offset_frames() -> None:
    images = _frames()
    out, processed = expression_flows(_Extractor(0), _sample(), images)
    assert processed == 3
    assert np.allclose(out["onset_apex"], 14 - 10) and np.allclose(out["apex_offset"], 20 - 14)
    assert out["onset_apex_valid"].tolist() == out["apex_offset_valid"].tolist() == [True]
    # a uniform flow: every part of a region moved as the region, nothing stretched
    assert out["onset_apex_parts"].shape == (42, 4, 2) and np.allclose(out["onset_apex_parts"], 4)
    assert out["apex_offset_strain"].shape == (42,) and not out["apex_offset_strain"].any()
    images[9] = None  # an unreadable neighbour is left out of the mean
    out, _ = expression_flows(_Extractor(2), _sample(), images)
    # onset mean(10, 8) = 9, apex mean(12..16) = 14, offset mean(20..22) = 21
    assert np.allclose(out["onset_apex"], 14 - 9) and np.allclose(out["apex_offset"], 21 - 14)


def test_flows_without_a_pair_are_nan_and_invalid() -> None:
    images = _frames()
    ex = _Extractor(2)
    out, _ = expression_flows(ex, _sample(14, 14, 20), images)  # onset == apex
    assert not out["onset_apex_valid"][0] and np.isnan(out["onset_apex"]).all()
    # apex mean(14, 15, 16): its neighbours stay after the onset; offset mean(20..22)
    assert out["apex_offset_valid"][0] and np.allclose(out["apex_offset"], 21 - 15)
    assert ex.runs == [2]
    images[20] = None  # the labelled offset frame unreadable: no apex-to-offset flow
    out, _ = expression_flows(_Extractor(1), _sample(), images)
    assert out["onset_apex_valid"][0] and not out["apex_offset_valid"][0]
    out, _ = expression_flows(_Extractor(1, face=False), _sample(), _frames())
    assert not out["onset_apex_valid"][0] and not out["apex_offset_valid"][0]
    assert np.isnan(out["onset_apex_parts"]).all() and np.isnan(out["apex_offset_strain"]).all()


def test_onset_apex_offset_input_averages_the_two_sides() -> None:
    oa = np.zeros((3, 42, 2), np.float32)
    ao = np.zeros((3, 42, 2), np.float32)
    oa[:, :, 0], ao[:, :, 0] = 2.0, -4.0  # apex 2 px from the onset, 4 px from the offset
    b = {"onset_apex": oa, "onset_apex_valid": np.array([True, True, False])}
    with pytest.raises(MeflowError, match="onset-apex-offset needs the apex-to-offset flow"):
        build_input("onset-apex-offset", b)
    b |= {"apex_offset": ao, "apex_offset_valid": np.array([True, False, True])}
    x = build_input("onset-apex-offset", b)
    assert x.shape == (3, 42, 2) and not x[..., 1].any()
    assert x[0, :, 0].tolist() == [3.0] * 42  # both: the mean
    assert x[1, :, 0].tolist() == [2.0] * 42  # the onset side alone
    assert x[2, :, 0].tolist() == [4.0] * 42  # the offset side alone
    b["apex_offset_valid"] = np.zeros(3, bool)  # a cache made before it: refused
    with pytest.raises(MeflowError, match="re-extract"):
        build_input("onset-apex-offset", b)


def test_bilateral_averages_each_region_with_its_mirrored_twin() -> None:
    from meflow.face.regions import REGIONS, region

    v = np.zeros((1, 42, 2), np.float32)
    r, l_ = region("lip_corner_r").id - 1, region("lip_corner_l").id - 1
    v[0, r] = (-2.0, -1.0)  # the right corner out (image left) and up
    v[0, l_] = (4.0, -3.0)  # the left corner out (image right) and up, more
    b = {"onset_apex": v, "apex_offset": -v}
    b |= {"onset_apex_valid": np.ones(1, bool), "apex_offset_valid": np.ones(1, bool)}
    x = build_input("onset-apex-offset-bilateral", b)
    keep = [q.id - 1 for q in REGIONS if q.side in ("R", "C")]
    assert x.shape == (1, len(keep), 2) == (1, 23, 2)
    # the right corner's entry: the mean of (-2, -1) and the left's mirrored (-4, -3)
    assert x[0, keep.index(r)].tolist() == [-3.0, -2.0]
    assert np.count_nonzero(x) == 2  # nothing else moved
