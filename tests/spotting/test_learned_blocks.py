"""The learned spotter's features and probabilities in blocks of frames: the same, to the bit, as
those of the whole recording at once, with memory that does not grow with the length."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from meflow.errors import MeflowError
from meflow.spotting import learned_blocks
from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.learned import LearnedSpotter, _full, unseen_as_neither
from meflow.spotting.learned_blocks import column_medians, feature_blocks, raw_blocks
from meflow.spotting.learned_decode import DecodeParams
from meflow.spotting.learned_features import (
    feature_names,
    frame_features,
    positions,
    raw_features,
)


def recording(pairs: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Region vectors with a drift, bursts, regions without flow and pairs not valid."""
    rng = np.random.default_rng(seed)
    v = rng.normal(0, 0.05, (pairs, 42, 2)) + 0.2  # noise and global motion
    for t in rng.integers(0, max(1, pairs - 20), max(1, pairs // 60)):
        v[t : t + 8, rng.integers(0, 42, 6)] += rng.normal(0, 1.5, 2)  # a local movement
    v[rng.random((pairs, 42)) < 0.02] = np.nan
    valid = rng.random(pairs) > 0.05
    valid[pairs // 3 : pairs // 3 + 40] = False  # the face lost a while
    return v.astype(np.float32), valid


@pytest.mark.parametrize(
    ("frames", "block"),
    [(80, 1), (80, 2), (300, 7), (300, 60), (300, 61), (300, 64), (300, 299), (300, 300),
     (300, 301), (300, 5000)],
)  # fmt: skip
def test_blocks_give_the_whole_recordings_features_to_the_bit(frames: int, block: int) -> None:
    v, ok = recording(frames - 1)  # the largest scale is 60 frames at 30 fps
    whole = frame_features(v, ok, 30.0)
    parts = list(feature_blocks(v, ok, 30.0, block=block))
    assert [lo for lo, _ in parts] == list(range(0, frames, block))
    assert all(x.dtype == np.float32 for _, x in parts)
    assert np.array_equal(np.vstack([x for _, x in parts]), whole)
    raw = raw_features(positions(v, ok), 30.0)
    assert np.array_equal(np.vstack([r for _, r in raw_blocks(v, ok, 30.0, block=block)]), raw)


def test_blocks_at_other_scales_and_rates() -> None:
    v, ok = recording(500, seed=3)
    scales = (0.05, 1.0, 3.0)
    for fps in (25.0, 200.0):  # at 200 fps the largest scale (600 frames) is above the length
        whole = frame_features(v, ok, fps, scales)
        got = np.vstack([x for _, x in feature_blocks(v, ok, fps, scales, block=37)])
        assert got.shape == (501, len(feature_names(scales))) and np.array_equal(got, whole)


def test_column_medians_are_numpys() -> None:
    rng = np.random.default_rng(1)
    for rows in (1, 2, 5, 400, 401):  # odd and even
        raw = np.exp(rng.normal(0, 3, (rows, 6)))
        raw[:, 1] = 0.0  # a still column
        raw[: rows // 2, 2] = 0.0  # half zeros: the middle between two bins
        raw[:, 3] = np.round(raw[:, 3])  # many ties
        raw[:, 4] -= 5.0  # negatives
        if rows > 3:
            raw[2, 5] = np.inf
        expected = np.median(raw, axis=0, keepdims=True)

        def blocks(raw: np.ndarray = raw) -> object:
            return ((lo, raw[lo : lo + 3]) for lo in range(0, raw.shape[0], 3))

        assert np.array_equal(column_medians(blocks), expected)  # type: ignore[arg-type]
    raw = rng.random((9, 3))
    raw[4, 1] = np.nan  # as np.median: NaN in, NaN out
    med = column_medians(lambda: iter([(0, raw[:4]), (4, raw[4:])]))
    assert np.isnan(med[0, 1]) and np.array_equal(med[0, [0, 2]], np.median(raw[:, [0, 2]], 0))
    with pytest.raises(MeflowError, match="no rows"):
        column_medians(lambda: iter([]))


def test_spotters_probabilities_in_blocks_are_the_whole_recordings(monkeypatch) -> None:
    rng = np.random.default_rng(2)
    n = len(feature_names())
    model = {"mean": rng.normal(0, 0.1, n), "scale": rng.uniform(0.5, 2, n),
             "coef": rng.normal(0, 0.3, (4, n)), "intercept": rng.normal(0, 1, 4),
             "classes": np.arange(4)}  # fmt: skip
    spotter = LearnedSpotter(model, DecodeParams(smooth_frames=3, extent=0.3))
    v, ok = recording(999, seed=5)
    rec = RecordingFlow("s/r", v, ok, 30.0)
    whole = unseen_as_neither(_full(spotter.model, frame_features(v, ok, 30.0)), ok)
    monkeypatch.setattr(learned_blocks, "BLOCK", 128)
    blocked = spotter.probabilities(rec)
    assert np.allclose(blocked, whole, rtol=0, atol=1e-12)
    monkeypatch.setattr(learned_blocks, "BLOCK", 5000)
    assert np.array_equal(spotter.probabilities(rec), whole)
    at_once = spotter.spot(rec)
    monkeypatch.setattr(learned_blocks, "BLOCK", 97)
    assert at_once and spotter.spot(rec) == at_once


def test_memory_of_the_features_does_not_grow_with_the_length() -> None:
    """The features of 6000 frames (whole: some 5 KB a frame at once, 30 MB) computed block by
    block hold a few blocks at a time (6.1 MB at 3000 frames, 6.7 at 6000, 7.3 at 12000)."""
    v, ok = recording(5999, seed=7)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        rows = 0
        for _, x in feature_blocks(v, ok, 30.0, block=500):
            rows += x.shape[0]
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert rows == 6000
    assert peak < 9e6, peak  # the whole recording's raw features alone: 6000 x 210 x 8 B = 10 MB
