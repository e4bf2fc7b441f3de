"""The streaming extractor gives what the plain two-pass definition gives, in every mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_file
from meflow.config import ExtractConfig
from meflow.errors import MeflowError
from meflow.face.landmarks import LandmarkTracker, fill_gaps
from meflow.features.sequence import SequenceExtractor, SequenceFeatures, looked_at
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


def _two_pass(
    frames: list[np.ndarray], cfg: ExtractConfig, stride: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The definition: landmarks of all frames (with ``stride``: of frames 0, stride, ... and
    the last, the others taken as frames without a face), gaps filled on the whole sequence,
    then pairs."""
    missing = np.full((478, 2), np.nan, np.float32)
    n = len(frames)
    raw: list[np.ndarray | None] = [None] * n
    keys = [i for i in range(n) if i % stride == 0 or i == n - 1]
    with LandmarkTracker(cfg.face) as tracker:
        for a, b in zip([None, *keys], keys, strict=False):
            raw[b] = tracker(frames[b])
            if a is not None and (raw[a] is None) != (raw[b] is None):  # lost or found
                for i in range(a + 1, b):  # between: each frame looked at, after b
                    raw[i] = tracker(frames[i])
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


def _run(ex: SequenceExtractor, frames: list[np.ndarray], stride: int = 1) -> SequenceFeatures:
    def gen() -> Iterator[np.ndarray]:
        yield from frames

    return ex.run(gen, landmark_stride=stride)


def test_frames_looked_at_are_every_strideth_and_the_last() -> None:
    for n, stride, want in [
        (7, 3, [0, 3, 6]),
        (8, 3, [0, 3, 6, 7]),
        (1, 3, [0]),
        (0, 3, []),
        (5, 1, [0, 1, 2, 3, 4]),
        (6, 4, [0, 4, 5]),
    ]:
        got = list(looked_at(iter(range(n)), stride))  # type: ignore[arg-type]
        assert [f for f, _ in got] == list(range(n))  # every frame, in order
        assert [f for f, look in got if look] == want


@pytest.mark.parametrize("threaded", [False, True])
def test_a_landmark_stride_equals_its_definition(frames: list[np.ndarray], threaded: bool) -> None:
    # stride 3: frames 0, 3, ... 69 and the last (71) looked at; 5 (blank, between 3 and 6
    # which have the face) is filled; where a frame looked at is blank after one with a face
    # (21 after 18, 42 after 39, 71 after 69) or the reverse (24, 45), the frames between are
    # looked at too: the gaps are those of every frame (1 and 3 frames filled, 5 and the end not)
    cfg = ExtractConfig()
    want_angle, want_valid = _two_pass(frames, cfg, stride=3)
    got = _run(SequenceExtractor(cfg, threaded=threaded), frames, stride=3)
    np.testing.assert_array_equal(got.valid, want_valid)
    np.testing.assert_array_equal(got.angle, want_angle)
    assert want_valid[4] and want_valid[5] and want_valid[19] and want_valid[22]
    assert not want_valid[39:45].any() and want_valid[45] and want_valid[69]
    assert not want_valid[70]
    every = _run(SequenceExtractor(cfg, threaded=threaded), frames)
    np.testing.assert_array_equal(every.valid, want_valid)
    both = want_valid & every.valid
    # the same regions, moved by the interpolated landmarks: close but not the same angles
    assert not np.array_equal(got.angle[both], every.angle[both])
    with pytest.raises(MeflowError, match="landmark stride 5"):
        _run(SequenceExtractor(cfg, threaded=threaded), frames[:8], stride=5)


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
        _run(warm, frames[:30])  # ends while a face is tracked
        kept = warm._tracker
        assert kept is not None  # the graph is kept, reset, for the next sequence ...
        runs.append(_run(warm, frames))
        assert warm._tracker is kept  # ... and used by it
        runs.append(_run(warm, frames))
    assert warm._tracker is None  # closed
    with SequenceExtractor(cfg, threaded=False, keep_warm=True) as warm:
        _run(warm, frames[:30])
        runs.append(_run(warm, frames))
    for got in runs:
        np.testing.assert_array_equal(got.valid, want_valid)
        np.testing.assert_array_equal(got.angle, want_angle)  # NaN where invalid, both
    assert not runs[0].frame_valid[40:45].any() and runs[0].frame_valid[20:23].all()


@pytest.mark.parametrize("outcome", ["face on the blank", "error"])
def test_a_graph_whose_reset_fails_is_not_kept(
    frames: list[np.ndarray], monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    def reset(self: LandmarkTracker) -> bool:
        if outcome == "error":
            raise RuntimeError("no reset today")
        return False

    monkeypatch.setattr(LandmarkTracker, "reset", reset)
    with SequenceExtractor(ExtractConfig(), keep_warm=True) as ex:
        first = _run(ex, frames[:12])
        assert ex._tracker is None  # the next sequence starts a new graph
        again = _run(ex, frames[:12])
    np.testing.assert_array_equal(first.angle, again.angle)
    assert first.valid[:4].all()


def _lagging_flow(monkeypatch: pytest.MonkeyPatch, fail_in_helper: bool = False) -> dict:
    """DIS patched so that the main thread computes a pair only once the landmark thread
    has filled the queue or finished: the consumer stays behind the producer on any machine,
    so the last pairs are shared with the helper thread (no timing involved)."""
    import queue
    import threading

    from meflow.features import sequence
    from meflow.flow import dis

    made: list[queue.Queue] = []

    class Queue(queue.Queue):  # type: ignore[type-arg]
        def __init__(self, maxsize: int = 0) -> None:
            super().__init__(maxsize)
            made.append(self)

    monkeypatch.setattr(sequence.queue, "Queue", Queue)
    callers: dict[int, set[str]] = {}
    real = dis.DISFlow.__call__

    def lagging(self: dis.DISFlow, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        name = threading.current_thread().name
        callers.setdefault(id(self), set()).add(name)
        if name == "meflow-pairs" and fail_in_helper:
            raise RuntimeError("helper broke")
        if name != "meflow-pairs":
            producer = [t for t in threading.enumerate() if t.name == "meflow-landmarks"]
            while producer and producer[0].is_alive() and not made[-1].full():
                producer[0].join(0.005)
        return real(self, a, b)

    monkeypatch.setattr(dis.DISFlow, "__call__", lagging)
    return callers


def test_the_last_pairs_on_two_threads_equal_the_definition(
    frames: list[np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The consumer is kept behind the landmarks, so that the last pairs (with gaps to fill
    # among them) are computed once every frame is in, half of them by a second thread with
    # a flow backend of its own.
    from meflow.config import FlowConfig

    # frames 20-22 are blank, a filled 3-frame gap; the last one too, which is not filled
    clip = [*frames[:24], frames[71]]
    cfg = ExtractConfig(flow=FlowConfig(backend="dis"))
    want_angle, want_valid = _two_pass(clip, cfg)
    callers = _lagging_flow(monkeypatch)
    ex = SequenceExtractor(cfg, threaded=True)
    got = _run(ex, clip)
    np.testing.assert_array_equal(got.valid, want_valid)
    np.testing.assert_array_equal(got.angle, want_angle)
    assert want_valid[:23].all() and not want_valid[23]
    # two backends: the main one, and the second one used only by the helper thread
    assert ex._flow2 is not None and callers[id(ex._flow2)] == {"meflow-pairs"}
    assert "meflow-pairs" not in callers[id(ex.flow)]


def test_a_failure_in_the_last_pairs_helper_reaches_the_caller(
    frames: list[np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    from meflow.config import FlowConfig

    _lagging_flow(monkeypatch, fail_in_helper=True)
    cfg = ExtractConfig(flow=FlowConfig(backend="dis"))
    with pytest.raises(RuntimeError, match="helper broke"):
        _run(SequenceExtractor(cfg, threaded=True), frames[:16])
