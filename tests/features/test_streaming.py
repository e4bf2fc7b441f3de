"""The streaming extractor gives what the plain two-pass definition gives, in every mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_file
from meflow.config import ExtractConfig
from meflow.face.landmarks import LandmarkTracker, fill_gaps
from meflow.features.sequence import SequenceExtractor, SequenceFeatures
from meflow.io import open_frames
from meflow.preprocess import preprocess

# frames made blank (no face): a 1-frame gap, a 3-frame gap (filled with max_gap 3), a
# 5-frame gap (not filled) and the last frame
BLANK = {5, 20, 21, 22, 40, 41, 42, 43, 44, 71}


@pytest.fixture(scope="module")
def frames(shared_data: Path) -> list[np.ndarray]:
    src = open_frames(shared_file(shared_data, "videos/single_face.mp4"))
    out = [f for _, f in src]
    return [np.zeros_like(f) if i in BLANK else f for i, f in enumerate(out)]


def _two_pass(frames: list[np.ndarray], cfg: ExtractConfig) -> tuple[np.ndarray, np.ndarray]:
    """The definition: landmarks of all frames, gaps filled on the whole sequence, then pairs."""
    missing = np.full((478, 2), np.nan, np.float32)
    with LandmarkTracker(cfg.face) as tracker:
        raw = [tracker(f) for f in frames]
    pts, ok = fill_gaps(np.stack([missing if p is None else p for p in raw]), cfg.face.max_gap)
    ex = SequenceExtractor(cfg, threaded=False)
    grays = [preprocess(f, cfg.preprocess) for f in frames]
    angle = np.full((len(frames) - 1, 42), np.nan, np.float32)
    valid = np.zeros(len(frames) - 1, bool)
    for u in range(1, len(frames)):
        if ok[u - 1] and ok[u]:
            angle[u - 1] = ex.pair(grays[u - 1], grays[u], pts[u - 1], pts[u]).angle
            valid[u - 1] = True
    return angle, valid


def _run(ex: SequenceExtractor, frames: list[np.ndarray]) -> SequenceFeatures:
    def gen() -> Iterator[np.ndarray]:
        yield from frames

    return ex.run(gen)


def test_threaded_unthreaded_and_warm_runs_equal_the_two_pass_definition(
    frames: list[np.ndarray],
) -> None:
    cfg = ExtractConfig()
    want_angle, want_valid = _two_pass(frames, cfg)
    # the gaps behave as specified: 1 and 3 frames filled, 5 frames and the end not
    assert want_valid[4] and want_valid[5] and want_valid[19] and want_valid[22]
    assert not want_valid[39:45].any() and not want_valid[70]
    runs = [_run(SequenceExtractor(cfg, threaded=False), frames)]
    with SequenceExtractor(cfg, threaded=True, keep_warm=True) as warm:
        runs.append(_run(warm, frames))
        assert warm._spare is not None  # a graph is ready for the next sequence
        runs.append(_run(warm, frames))  # ... and used by it
    assert warm._spare is None  # closed
    for got in runs:
        np.testing.assert_array_equal(got.valid, want_valid)
        np.testing.assert_array_equal(got.angle, want_angle)  # NaN where invalid, both
    assert not runs[0].frame_valid[40:45].any() and runs[0].frame_valid[20:23].all()


def test_a_spare_graph_that_fails_to_start_leaves_the_next_sequence_a_fresh_one(
    frames: list[np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    import meflow.features.sequence as sequence

    def broken(cfg: object) -> object:
        raise RuntimeError("no graph today")

    monkeypatch.setattr(sequence, "warmed_tracker", broken)
    with SequenceExtractor(ExtractConfig(), keep_warm=True) as ex:
        first = _run(ex, frames[:12])
        again = _run(ex, frames[:12])  # the spare is None: a graph of its own
    np.testing.assert_array_equal(first.angle, again.angle)
    assert first.valid[:4].all()
