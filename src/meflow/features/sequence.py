"""One sequence of frames -> per-pair region features (angle, magnitude, validity).

The path every frame takes, in order: landmarks (MediaPipe, on the colour frame) ->
grayscale + equalisation -> face crop (the box of the first frame of each pair, applied to
both frames) -> dense optical flow -> head-motion compensation -> 42-region label map ->
per-region mean magnitude and angle.

Frames are decoded once and streamed: a producer (decoding and landmarks, in a thread by
default, since FFmpeg, MediaPipe and OpenCV release the GIL) feeds the consumer (crop, flow
and pooling); preprocessing is done by whichever side is ahead, so that both cores stay busy
(about 9 ms a frame on each side here). A pair whose two frames both hold a detected face is
computed as soon as the second frame arrives (gap filling never changes a detected frame); a
pair touching a frame without a face waits until ``max_gap + 1`` frames of look-ahead have
arrived, so that its landmarks are gap-filled exactly as ``face.landmarks.fill_gaps`` would
on the whole sequence. Once the last frame's landmarks are found, the frames still queued
are taken at once and the pairs left are shared between two threads (the landmark thread's
core is free by then). At most ``max_gap + 3`` frames are held in memory during the pass, and
the queue's ``max_gap + 4`` more at its end. Threaded or not, the results are the same.
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from meflow.config import ExtractConfig
from meflow.errors import MeflowError
from meflow.face.landmarks import LandmarkTracker, quiet_native_stderr
from meflow.face.regions import N_REGIONS
from meflow.features.pair import FlowFn, PairFeatures, pair_images
from meflow.features.pooling import AVERAGES
from meflow.features.streaming import Produced, SequencePass, in_thread, timed
from meflow.preprocess import preprocess

STAGES = ("decode", "preprocess", "landmarks", "flow", "pooling")

FrameIterable = Callable[[], Iterable[np.ndarray | None]]
T = TypeVar("T")


@dataclass
class SequenceFeatures:
    """Region features of consecutive frame pairs of one sequence."""

    angle: np.ndarray  # (pairs, 42) float32, radians in [0, 2pi); NaN where invalid
    magnitude: np.ndarray  # (pairs, 42) float32, pixels per frame in the face crop
    valid: np.ndarray  # (pairs,) bool: both frames readable and with a face
    frame_valid: np.ndarray  # (frames,) bool
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    # (pairs, 42, 2) float32 (dx, dy) px per frame in the crop, image axes: the mean flow
    # vector of each region, and the mean vector of its main direction (MDMO); NaN as angle
    vector: np.ndarray = field(default_factory=lambda: np.zeros((0, N_REGIONS, 2), np.float32))
    main: np.ndarray = field(default_factory=lambda: np.zeros((0, N_REGIONS, 2), np.float32))
    # a video's extraction with features.spot_lags: (pairs, lags, 42, 2) float32, row u - 1
    # the region mean vectors of the direct pair (u - k, u) for each lag k of ``spot_lags``
    lag_vector: np.ndarray | None = None
    spot_lags: tuple[int, ...] = ()

    @property
    def frames(self) -> int:
        return int(self.frame_valid.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The per-pair and per-frame arrays a cache or video file stores, by name."""
        return {
            "angle": self.angle,
            "magnitude": self.magnitude,
            "vector": self.vector,
            "main": self.main,
            "valid": self.valid,
            "frame_valid": self.frame_valid,
            **self.lag_arrays(),
        }

    def lag_arrays(self) -> dict[str, np.ndarray]:
        """{lag_vector, spot_lags} of the direct pairs; empty without them."""
        if self.lag_vector is None:
            return {}
        return {
            "lag_vector": self.lag_vector,
            "spot_lags": np.array(self.spot_lags, dtype=np.int32),
        }

    def without_motion(self, repeated: np.ndarray) -> None:
        """Makes the pairs that repeat a frame (``repeated``, per pair) pairs without motion, in
        place: zero region vectors and magnitudes, no direction (NaN angle); regions without
        pixels stay NaN. They stay valid."""
        if repeated.any():
            for a in (self.vector, self.main, self.magnitude):
                a[repeated] = np.where(np.isnan(a[repeated]), np.nan, 0.0)
            self.angle[repeated] = np.nan

    def lags_without_motion(self, index: np.ndarray) -> None:
        """Makes each direct pair (t - k, t) whose two frames are one source frame (``index``:
        each analysed frame's source index) a pair without motion, in place, as
        ``without_motion`` does for consecutive pairs; those not computed stay NaN."""
        lv = self.lag_vector
        if lv is None:
            return
        for j, k in enumerate(self.spot_lags):
            same = np.zeros(lv.shape[0], dtype=bool)  # row u - 1: frames u - k and u
            if k < len(index):
                same[k - 1 :] = index[k:] == index[:-k]
            part = lv[same, j]
            lv[same, j] = np.where(np.isnan(part), np.nan, 0.0)


def on_span(
    feats: SequenceFeatures, taken: np.ndarray, reference_first: bool = False
) -> SequenceFeatures:
    """The features of the frames ``taken`` (non-decreasing frame numbers) from ``feats``,
    those of its distinct frames in order: a pair that repeats a frame is a valid pair without
    motion where the frame has a face (as a video slower than features.fps gives them). With
    ``reference_first`` (flow.reference 'first': pair u is the flow from frame 0 to frame u)
    a pair is that of its second frame, without motion while that is still the first frame."""
    repeated = taken[1:] == taken[:-1]
    frame = np.cumsum(np.r_[True, ~repeated]) - 1  # each span frame's distinct frame
    pairs = max(feats.valid.shape[0], 1)
    if reference_first:
        still = frame[1:] == 0
        pair = np.maximum(frame[1:] - 1, 0)
        valid = np.where(still, feats.frame_valid[0], feats.valid[pair])
    else:
        still = repeated
        # a repeated frame's pair takes its regions (pixels or none) from the next or last pair
        pair = np.minimum(frame[:-1], pairs - 1)
        valid = np.where(still, feats.frame_valid[frame[:-1]], feats.valid[pair])
    out = SequenceFeatures(
        feats.angle[pair].copy(),
        feats.magnitude[pair].copy(),
        valid,
        feats.frame_valid[frame],
        feats.timings,
        feats.vector[pair].copy(),
        feats.main[pair].copy(),
    )
    out.without_motion(still)
    return out


def looked_at(frames: Iterable[T], stride: int) -> Iterator[tuple[T, bool]]:
    """Each frame with whether its landmarks are looked for: frames 0, stride, 2 * stride, ...
    and the last one (so that no frame after the last looked at is left unfilled). One frame
    is read ahead to know the last (none with ``stride`` 1)."""
    if stride == 1:
        yield from ((f, True) for f in frames)
        return
    it = iter(frames)
    try:
        held = next(it)
    except StopIteration:
        return
    for i, frame in enumerate(it):
        yield held, i % stride == 0
        held = frame
    yield held, True


def strided(
    items: Iterable[T], stride: int, look: Callable[[T], np.ndarray | None]
) -> Iterator[tuple[T, np.ndarray | None]]:
    """Each item with its landmarks: ``look(item)`` on the items ``looked_at`` marks, None on
    the others, except between two looked at of which one has a face and the other not (a
    face lost or found there): then each item between is looked at too, in order, after the
    second (so a face is lost or found to the frame, never extrapolated). Items between are
    held until the second's landmarks are known (at most ``stride - 1``)."""
    held: list[T] = []
    before: bool | None = None  # whether the last item looked at had a face
    for item, key in looked_at(items, stride):
        if not key:
            held.append(item)
            continue
        pts = look(item)
        found = pts is not None
        changed = before is not None and before != found
        yield from ((h, look(h) if changed else None) for h in held)
        yield item, pts
        held.clear()
        before = found


class SequenceExtractor:
    """Computes SequenceFeatures with one flow backend, reused across sequences.

    ``threaded`` runs decoding and landmarks in a thread of their own (about 1.8x for
    one stream on 2 cores); dataset extraction with several worker processes turns it off.
    ``keep_warm`` (for an extractor that runs many sequences): the MediaPipe graph is kept
    from one sequence to the next instead of a new one started for each (40-50 ms of start-up
    and first-image work). After a sequence's last frame the graph is reset by one blank image
    (:meth:`LandmarkTracker.reset`, about 5 ms), after which it gives exactly the landmarks of
    a new graph (tested). ``close`` releases it.
    """

    def __init__(
        self, cfg: ExtractConfig | None = None, threaded: bool = True, keep_warm: bool = False
    ) -> None:
        from meflow.flow import get_flow  # meflow.flow imports cv2: deferred

        self.cfg = cfg or ExtractConfig()
        self.flow = get_flow(self.cfg.flow.backend)
        self._average = AVERAGES[self.cfg.features.angle_average]  # checked by FeatureConfig
        self.threaded = threaded
        self.keep_warm = keep_warm
        self._tracker: Any = None  # keep_warm: the reset graph for the next sequence
        self._flow2: Any = None  # a second flow backend, for the last pairs (_second_flow)
        if threaded:
            import cv2

            # our two threads already take two cores; OpenCV's own pool would oversubscribe
            cv2.setNumThreads(1)

    def _produce(
        self,
        frames: Iterable[np.ndarray | None],
        timings: dict[str, float],
        backlog: Callable[[], int] | None = None,
        ended: list[int] | None = None,
        stride: int = 1,
    ) -> Iterator[Produced]:
        """(landmarks or None, the frame or None, its preprocessed image or None) of every
        decoded frame, the landmarks looked for on the frames ``strided`` marks (``stride``).
        The producer preprocesses a frame itself only while ``backlog()`` says
        that the consumer is 2 or more items behind (else the consumer does it): the two
        threads stay balanced whichever side is slower on a machine, with the same result.
        After the last frame the number of frames goes into ``ended``."""
        # A new or reset tracker per sequence: results do not depend on what came before.
        # MediaPipe's native threads log start-up chatter at unpredictable moments of the pass.
        with quiet_native_stderr():
            tracker, self._tracker = self._tracker, None
            tracker = tracker or LandmarkTracker(self.cfg.face)
            keep = False
            count = 0
            try:

                def look(frame: np.ndarray | None) -> np.ndarray | None:
                    t0 = time.perf_counter()
                    pts = tracker(frame) if frame is not None else None
                    timings["landmarks"] += time.perf_counter() - t0
                    return pts

                for frame, pts in strided(frames, stride, look):
                    t1 = time.perf_counter()
                    gray = None
                    if frame is not None and backlog is not None and backlog() >= 2:
                        gray = preprocess(frame, self.cfg.preprocess)
                        timings["preprocess_producer"] += time.perf_counter() - t1
                    yield pts, frame, gray
                    count += 1
                if ended is not None:
                    ended.append(count)
                if self.keep_warm:  # while the consumer computes the last pairs
                    with contextlib.suppress(Exception):  # else the next one gets a new graph
                        keep = tracker.reset()
            finally:
                if keep:
                    self._tracker = tracker
                else:
                    tracker.close()

    def close(self) -> None:
        """Releases the MediaPipe graph kept for the next sequence (``keep_warm``), if any."""
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            tracker.close()

    def __enter__(self) -> SequenceExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(
        self,
        frames: FrameIterable,
        name: str = "sequence",
        landmark_stride: int = 1,
        spot_lags: tuple[int, ...] = (),
        lag_stride: int = 1,
    ) -> SequenceFeatures:
        """Features of every consecutive pair of the frames that ``frames()`` yields, the
        landmarks looked for on every ``landmark_stride``-th frame and the last (the others
        filled as gaps are: at most ``face.max_gap + 1``; a video's, face.landmark_stride).
        ``spot_lags``: the direct pairs (t - k, t) too, on every ``lag_stride``-th frame
        (``SequencePass``; the result's ``lag_vector``)."""
        if not 1 <= landmark_stride <= self.cfg.face.max_gap + 1:
            raise MeflowError(
                f"landmark stride {landmark_stride} is not in 1..face.max_gap + 1 "
                f"({self.cfg.face.max_gap + 1})"
            )
        timings = dict.fromkeys(STAGES, 0.0)
        # Two threads, not three: a decoding thread of its own measured 7-10% slower on 2
        # cores (more switching for the same work), so decoding runs with the landmarks;
        # preprocessing goes to whichever side has time for it (see _produce).
        timings["preprocess_producer"] = 0.0  # the producer's share, added in at the end
        lag = self.cfg.face.max_gap + 1  # frames of look-ahead that make gap filling final
        depth = lag + 4
        q: queue.Queue[object] = queue.Queue(maxsize=depth)
        backlog = q.qsize if self.threaded else None
        ended: list[int] = []  # the producer puts the number of frames here after the last
        produced = self._produce(timed(frames(), timings), timings, backlog, ended, landmark_stride)
        items: Iterator[object] = produced
        if self.threaded:
            items = in_thread(items, depth, q)
        sequence = SequencePass(
            self.cfg,
            self._average,
            self.flow,
            self._second_flow,
            timings,
            self.threaded,
            spot_lags=spot_lags,
            lag_stride=lag_stride,
        )
        try:
            sequence.consume(items, ended, name)
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # waits for the landmark thread
                close()
        angle, magnitude, vector, main, valid, frame_valid = sequence.arrays()
        timings["preprocess"] += timings.pop("preprocess_producer")
        out = SequenceFeatures(angle, magnitude, valid, frame_valid, timings, vector, main)
        out.lag_vector, out.spot_lags = sequence.lag_vector(), tuple(spot_lags)
        return out

    def _second_flow(self) -> FlowFn:
        """The flow backend of the thread that shares a sequence's last pairs (made once)."""
        if self._flow2 is None:
            from meflow.flow import get_flow  # meflow.flow imports cv2: deferred

            self._flow2 = get_flow(self.cfg.flow.backend)
        flow: FlowFn = self._flow2
        return flow

    def pair(
        self,
        gray0: np.ndarray,
        gray1: np.ndarray,
        points0: np.ndarray,
        points1: np.ndarray,
        timings: dict[str, float] | None = None,
    ) -> PairFeatures:
        """Region features of one pair of preprocessed frames with their landmarks, with the
        face crop, the compensated flow and the label map of the whole crop (for figures)."""
        return pair_images(
            self.cfg, self.flow, self._average, gray0, gray1, points0, points1, timings
        )
