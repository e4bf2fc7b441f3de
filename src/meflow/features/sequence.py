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
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from meflow.config import ExtractConfig
from meflow.errors import NoFaceError
from meflow.features.pooling import RegionStats

N_REGIONS = 42
N_LANDMARKS = 478
STAGES = ("decode", "preprocess", "landmarks", "flow", "pooling")

FrameIterable = Callable[[], Iterable[np.ndarray | None]]
_END = object()


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
        }

    def without_motion(self, repeated: np.ndarray) -> None:
        """Makes the pairs that repeat a frame (``repeated``, per pair) pairs without motion, in
        place: zero region vectors and magnitudes, no direction (NaN angle); regions without
        pixels stay NaN. They stay valid."""
        if repeated.any():
            for a in (self.vector, self.main, self.magnitude):
                a[repeated] = np.where(np.isnan(a[repeated]), np.nan, 0.0)
            self.angle[repeated] = np.nan


def _timed(
    frames: Iterable[np.ndarray | None], timings: dict[str, float]
) -> Iterator[np.ndarray | None]:
    it = iter(frames)
    while True:
        t0 = time.perf_counter()
        try:
            frame = next(it)
        except StopIteration:
            timings["decode"] += time.perf_counter() - t0
            return
        timings["decode"] += time.perf_counter() - t0
        yield frame


def _in_thread(
    items: Iterator[object], depth: int, q: queue.Queue[object] | None = None
) -> Iterator[object]:
    """Runs the generator ``items`` in a thread, ``depth`` items ahead of the caller.

    ``q`` (maxsize ``depth``) may be given, for the generator to see how many items wait.
    """
    q = q if q is not None else queue.Queue(maxsize=depth)
    failure: list[BaseException] = []
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # handed to the consumer's thread
            failure.append(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # stopped early: release what the generator holds now
                close()
            q.put(_END)

    worker = threading.Thread(target=produce, name="meflow-landmarks", daemon=True)
    worker.start()
    try:
        while (item := q.get()) is not _END:
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)
        worker.join()
    if failure:
        raise failure[0]


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
        from meflow.features.pooling import AVERAGES
        from meflow.flow import get_flow

        self.cfg = cfg or ExtractConfig()
        self.flow = get_flow(self.cfg.flow.backend)
        self._average = AVERAGES[self.cfg.features.angle_average]  # checked by FeatureConfig
        self.threaded = threaded
        self.keep_warm = keep_warm
        self._tracker: Any = None  # keep_warm: the reset graph for the next sequence
        self._flow2: Any = None  # a second flow backend, for the last pairs (see run)
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
    ) -> Iterator[tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]]:
        """(landmarks or None, the frame or None, its preprocessed image or None) of every
        decoded frame. The producer preprocesses a frame itself only while ``backlog()`` says
        that the consumer is 2 or more items behind (else the consumer does it): the two
        threads stay balanced whichever side is slower on a machine, with the same result.
        After the last frame the number of frames goes into ``ended``."""
        from meflow.face.landmarks import LandmarkTracker, quiet_native_stderr
        from meflow.preprocess import preprocess

        # A new or reset tracker per sequence: results do not depend on what came before.
        # MediaPipe's native threads log start-up chatter at unpredictable moments of the pass.
        with quiet_native_stderr():
            tracker, self._tracker = self._tracker, None
            tracker = tracker or LandmarkTracker(self.cfg.face)
            keep = False
            count = 0
            try:
                for frame in frames:
                    t0 = time.perf_counter()
                    pts = tracker(frame) if frame is not None else None
                    t1 = time.perf_counter()
                    timings["landmarks"] += t1 - t0
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

    def run(self, frames: FrameIterable, name: str = "sequence") -> SequenceFeatures:
        """Features of every consecutive pair of the frames that ``frames()`` yields."""
        from meflow.face.landmarks import fill_gaps
        from meflow.preprocess import preprocess

        cfg = self.cfg
        max_gap = cfg.face.max_gap
        lag = max_gap + 1  # frames of look-ahead that make a pair's gap filling final
        timings = dict.fromkeys(STAGES, 0.0)
        missing = np.full((N_LANDMARKS, 2), np.nan, dtype=np.float32)
        raw: list[np.ndarray] = []
        found: list[bool] = []
        grays: dict[int, np.ndarray | None] = {}
        rows: list[tuple[RegionStats, bool]] = []
        nan_row = np.full(N_REGIONS, np.nan, dtype=np.float32)
        nan_vec = np.full((N_REGIONS, 2), np.nan, dtype=np.float32)
        nan_stats = RegionStats(nan_row, nan_row, nan_vec, nan_vec)

        ref_first = cfg.flow.reference == "first"

        def landmarks_at(i: int) -> tuple[np.ndarray, bool]:
            # frame i's landmarks: its own when detected (fill_gaps keeps detected frames as
            # they are); otherwise raw[i-lag .. i+lag] holds every detection the gap filling
            # of frame i can use
            if found[i]:
                return raw[i], True
            lo = max(0, i - lag)
            pts, oks = fill_gaps(np.stack(raw[lo : i + lag + 1]), max_gap)
            return pts[i - lo], bool(oks[i - lo])

        def features_of(
            u: int, flow: Callable[..., np.ndarray], tm: dict[str, float]
        ) -> tuple[RegionStats, bool]:
            # pair (u-1, u), or (0, u) against the sequence's first frame (flow.reference)
            a = 0 if ref_first else u - 1
            (pa, ok_a), (pb, ok_b) = landmarks_at(a), landmarks_at(u)
            g0, g1 = grays.get(a), grays.get(u)
            if ok_a and ok_b and g0 is not None and g1 is not None:
                return cast(RegionStats, self._pair(g0, g1, pa, pb, tm, False, flow)), True
            return nan_stats, False

        def pair_at(u: int) -> None:
            rows.append(features_of(u, self.flow, timings))
            if not (ref_first and u == 1):  # the reference frame stays for every pair
                grays.pop(u - 1, None)

        def last_pairs(lo: int, hi: int) -> None:
            # pairs lo..hi-1 once every frame is in: the landmark thread is done, so a second
            # thread takes the upper half (DIS objects are not thread-safe: its own backend)
            mid = (lo + hi + 1) // 2
            upper: list[tuple[RegionStats, bool]] = []
            failure: list[BaseException] = []
            if self._flow2 is None:
                from meflow.flow import get_flow

                self._flow2 = get_flow(cfg.flow.backend)
            flow2, tm2 = self._flow2, dict.fromkeys(STAGES, 0.0)

            def helper() -> None:
                try:
                    upper.extend(features_of(u, flow2, tm2) for u in range(mid, hi))
                except BaseException as exc:  # re-raised in the caller's thread
                    failure.append(exc)

            worker = threading.Thread(target=helper, name="meflow-pairs", daemon=True)
            worker.start()
            try:
                rows.extend(features_of(u, self.flow, timings) for u in range(lo, mid))
            finally:
                worker.join()
            if failure:
                raise failure[0]
            rows.extend(upper)
            for k, v in tm2.items():
                timings[k] += v

        # Two threads, not three: a decoding thread of its own measured 7-10% slower on 2
        # cores (more switching for the same work), so decoding runs with the landmarks;
        # preprocessing goes to whichever side has time for it (see _produce).
        timings["preprocess_producer"] = 0.0  # the producer's share, added in at the end
        q: queue.Queue[object] = queue.Queue(maxsize=lag + 4)
        backlog = q.qsize if self.threaded else None
        ended: list[int] = []  # the producer puts the number of frames here after the last
        items: Iterator[object] = self._produce(_timed(frames(), timings), timings, backlog, ended)
        if self.threaded:
            items = _in_thread(items, lag + 4, q)
        next_u = 1
        try:
            for item in items:
                pts, frame, gray = cast(tuple[np.ndarray | None, ...], item)
                raw.append(missing if pts is None else np.asarray(pts, dtype=np.float32))
                found.append(pts is not None)
                if gray is None and frame is not None:
                    t0 = time.perf_counter()
                    gray = preprocess(frame, cfg.preprocess)
                    timings["preprocess"] += time.perf_counter() - t0
                grays[len(raw) - 1] = gray
                if self.threaded and ended:
                    # the landmarks are done and the frames left wait in the queue: take them
                    # all, then share their pairs between two threads (the graph's reset
                    # comes after the last frame)
                    if len(raw) < ended[0]:
                        continue
                    break
                while next_u < len(raw) and (
                    (found[next_u - 1] and found[next_u]) or next_u + lag < len(raw)
                ):
                    pair_at(next_u)
                    next_u += 1
            n = len(raw)
            if n == 0 or not any(found):
                raise NoFaceError(f"{name}: no face found in any of {n} frames")
            if self.threaded and n - next_u >= 2:
                last_pairs(next_u, n)
                next_u = n
            while next_u < n:
                pair_at(next_u)
                next_u += 1
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # waits for the landmark thread
                close()
        _, frame_valid = fill_gaps(np.stack(raw), max_gap)
        pairs = max(n - 1, 0)
        if pairs:
            angle, magnitude, vector, main = (
                np.stack([getattr(r[0], k) for r in rows])
                for k in ("angle", "magnitude", "vector", "main")
            )
        else:
            angle = np.zeros((0, N_REGIONS), np.float32)
            magnitude = np.zeros((0, N_REGIONS), np.float32)
            vector = main = np.zeros((0, N_REGIONS, 2), np.float32)
        valid = np.array([r[1] for r in rows], dtype=bool)
        timings["preprocess"] += timings.pop("preprocess_producer")
        return SequenceFeatures(angle, magnitude, valid, frame_valid, timings, vector, main)

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
        return cast(PairFeatures, self._pair(gray0, gray1, points0, points1, timings, True))

    def _pair(
        self,
        gray0: np.ndarray,
        gray1: np.ndarray,
        points0: np.ndarray,
        points1: np.ndarray,
        timings: dict[str, float] | None,
        images: bool,
        flow_backend: Callable[..., np.ndarray] | None = None,
    ) -> PairFeatures | RegionStats:
        import cv2

        from meflow.face.landmarks import crop_transform, face_box, to_crop
        from meflow.face.regions import rasterise
        from meflow.features.pooling import pool_stats
        from meflow.flow.motion import compensate

        cfg = self.cfg
        size = cfg.face.crop_size
        t0 = time.perf_counter()
        # One crop for both frames (the first frame's face box), so the crop adds no motion.
        box = face_box(points0, gray0.shape, cfg.face.crop_margin)
        m = crop_transform(box, size)
        g0 = cv2.warpAffine(gray0, m, (size, size), flags=cv2.INTER_LINEAR)
        g1 = cv2.warpAffine(gray1, m, (size, size), flags=cv2.INTER_LINEAR)
        p0, p1 = to_crop(points0, m), to_crop(points1, m)
        # Rasterise, compensate and pool only inside the landmarks' bounding box (about 60% of
        # the crop): the regions never reach outside it, so the means are the same, for less
        # work. The head motion is still fitted on the whole crop's flow.
        x0, y0 = (max(0, math.floor(v) - 1) for v in p0.min(axis=0).tolist())
        x1, y1 = (min(size, math.ceil(v) + 2) for v in p0.max(axis=0).tolist())
        raw = (flow_backend or self.flow)(g0, g1)
        mode = cfg.flow.motion_compensation
        flow = compensate(raw, p0, p1, mode, None if images else (x0, y0, x1, y1))
        inner_flow = flow[y0:y1, x0:x1] if images else flow
        t1 = time.perf_counter()
        inner = rasterise(p0 - np.array([x0, y0], np.float32), (y1 - y0, x1 - x0))
        stats = pool_stats(inner_flow, inner.astype(np.intp), N_REGIONS, self._average)
        if timings is not None:
            timings["flow"] += t1 - t0
            timings["pooling"] += time.perf_counter() - t1
        if not images:
            return stats
        labels = np.zeros((size, size), np.uint8)
        labels[y0:y1, x0:x1] = inner
        return PairFeatures(stats.magnitude, stats.angle, g0, flow, labels, stats)


@dataclass
class PairFeatures:
    """One pair's region features and the intermediate images (for figures)."""

    magnitude: np.ndarray  # (42,)
    angle: np.ndarray  # (42,)
    crop: np.ndarray  # first frame's face crop, uint8 (size, size)
    flow: np.ndarray  # (size, size, 2) after motion compensation
    labels: np.ndarray  # (size, size) uint8 region label map
    stats: RegionStats | None = None  # every region statistic of the pair
