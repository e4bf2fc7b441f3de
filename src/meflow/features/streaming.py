"""The streaming pass over one sequence (see features.sequence): the producer's thread, and the
pairs computed as soon as their landmarks' gap filling is final."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import cast

import numpy as np

from meflow.config import ExtractConfig
from meflow.errors import NoFaceError
from meflow.face.landmarks import N_LANDMARKS, fill_gaps
from meflow.face.regions import N_REGIONS
from meflow.features.pair import FlowFn, pair_stats
from meflow.features.pooling import AngleAverage, RegionStats
from meflow.preprocess import preprocess

_END = object()
# a video's direct pairs (features.spot_lags) are computed on every LAG_STRIDE-th analysed
# frame: the learned spotter trains on every 2nd frame and smooths over 5 and more
LAG_STRIDE = 2
# what the producer gives per frame: (landmarks or None, the frame or None, its preprocessed
# image or None when the consumer is to make it)
Produced = tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]


def timed(
    frames: Iterable[np.ndarray | None], timings: dict[str, float]
) -> Iterator[np.ndarray | None]:
    """The frames, with the time spent getting each one added to ``timings['decode']``."""
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


def in_thread(
    items: Iterator[object], depth: int, q: queue.Queue[object] | None = None
) -> Iterator[object]:
    """The items of the generator ``items``, run in a thread ``depth`` items ahead of the caller.

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


class SequencePass:
    """One sequence's frames as they arrive -> the region statistics of each consecutive pair.

    Pair ``u`` joins frames ``u - 1`` and ``u`` (or ``0`` and ``u`` with flow.reference
    'first'). It is computed once both frames hold a detected face, or once ``max_gap + 1``
    frames of look-ahead make its gap filling final; the pairs left at the end are shared
    with a second thread when the producer runs in a thread of its own (``threaded``).

    ``spot_lags`` (frames): with pair u, the region mean flow vectors of the direct pair
    from frame u - k to frame u are computed for each lag k (``lag_rows``: (lags, 42, 2) per
    pair, NaN where either frame has no face, u - k < 0 or the frame is not a multiple of
    ``lag_stride``; the same ``pair_stats`` as any pair). ``offset`` is the number of the
    first frame in the whole recording (for the stride); pairs before ``first_pair`` are
    placeholders without flow (a chunk's frames before its own pairs).
    """

    def __init__(
        self,
        cfg: ExtractConfig,
        average: AngleAverage,
        flow: FlowFn,
        second_flow: Callable[[], FlowFn],
        timings: dict[str, float],
        threaded: bool,
        spot_lags: tuple[int, ...] = (),
        lag_stride: int = 1,
        offset: int = 0,
        first_pair: int = 1,
    ) -> None:
        self.cfg = cfg
        self.spot_lags = tuple(int(k) for k in spot_lags)
        self.lag_stride = max(1, int(lag_stride))
        self.offset = offset
        self.first_pair = first_pair
        self.keep = max(self.spot_lags, default=1)  # frames back that a later pair still reads
        self.lag_rows: list[np.ndarray] = []  # per pair: (lags, 42, 2) direct-pair vectors
        self.average = average
        self.flow = flow
        self.second_flow = second_flow  # a backend of its own for the second thread
        self.timings = timings
        self.threaded = threaded
        self.max_gap = cfg.face.max_gap
        self.lag = self.max_gap + 1  # frames of look-ahead that make a pair's gap filling final
        self.ref_first = cfg.flow.reference == "first"
        self.raw: list[np.ndarray] = []  # landmarks per frame, NaN where none was found
        self.found: list[bool] = []
        self.grays: dict[int, np.ndarray | None] = {}  # the frames some pair still needs
        self.rows: list[tuple[RegionStats, bool]] = []  # per pair: statistics, valid
        self.next_u = 1  # the next pair to compute
        self._missing = np.full((N_LANDMARKS, 2), np.nan, dtype=np.float32)
        nan_row = np.full(N_REGIONS, np.nan, dtype=np.float32)
        nan_vec = np.full((N_REGIONS, 2), np.nan, dtype=np.float32)
        self._nan_stats = RegionStats(nan_row, nan_row, nan_vec, nan_vec)
        self._nan_lags = np.full((len(self.spot_lags), N_REGIONS, 2), np.nan, dtype=np.float32)

    def consume(self, items: Iterable[object], ended: list[int], name: str) -> None:
        """Takes every produced frame of ``items`` and computes every pair; raises NoFaceError
        when no frame holds a face. ``ended`` gets the number of frames from the producer
        once its last frame is done."""
        for item in items:
            self._add(cast(Produced, item))
            if self.threaded and ended:
                # the landmarks are done and the frames left wait in the queue: take them
                # all, then share their pairs between two threads (the graph's reset comes
                # after the last frame)
                if len(self.raw) < ended[0]:
                    continue
                break
            self._ready_pairs()
        n = len(self.raw)
        if n == 0 or not any(self.found):
            raise NoFaceError(f"{name}: no face found in any of {n} frames")
        if self.threaded and n - self.next_u >= 2:
            self._last_pairs(self.next_u, n)
            self.next_u = n
        while self.next_u < n:
            self._pair_at(self.next_u)
            self.next_u += 1

    def lag_vector(self) -> np.ndarray | None:
        """(pairs, lags, 42, 2) float32 the direct pairs' vectors; None without lags."""
        if not self.spot_lags:
            return None
        if not self.lag_rows:
            return np.zeros((0, len(self.spot_lags), N_REGIONS, 2), np.float32)
        return np.stack(self.lag_rows)

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(angle, magnitude, vector, main, valid, frame_valid) of the finished pass."""
        _, frame_valid = fill_gaps(np.stack(self.raw), self.max_gap)
        if self.rows:
            angle, magnitude, vector, main = (
                np.stack([getattr(r[0], k) for r in self.rows])
                for k in ("angle", "magnitude", "vector", "main")
            )
        else:
            angle = np.zeros((0, N_REGIONS), np.float32)
            magnitude = np.zeros((0, N_REGIONS), np.float32)
            vector = main = np.zeros((0, N_REGIONS, 2), np.float32)
        valid = np.array([r[1] for r in self.rows], dtype=bool)
        return angle, magnitude, vector, main, valid, frame_valid

    def _add(self, item: Produced) -> None:
        """Keeps a produced frame's landmarks and preprocessed image (made here if need be)."""
        pts, frame, gray = item
        self.raw.append(self._missing if pts is None else np.asarray(pts, dtype=np.float32))
        self.found.append(pts is not None)
        if gray is None and frame is not None:
            t0 = time.perf_counter()
            gray = preprocess(frame, self.cfg.preprocess)
            self.timings["preprocess"] += time.perf_counter() - t0
        self.grays[len(self.raw) - 1] = gray

    def _ready_pairs(self) -> None:
        """Computes the pairs whose landmarks are final with the frames in so far."""
        found, n = self.found, len(self.raw)
        while self.next_u < n and (
            (found[self.next_u - 1] and found[self.next_u]) or self.next_u + self.lag < n
        ):
            self._pair_at(self.next_u)
            self.next_u += 1

    def _landmarks(self, i: int) -> tuple[np.ndarray, bool]:
        """Frame i's landmarks and whether it has any: its own when detected (fill_gaps keeps
        detected frames as they are); otherwise filled from raw[i-lag .. i+lag], which holds
        every detection the gap filling of frame i can use."""
        if self.found[i]:
            return self.raw[i], True
        lo = max(0, i - self.lag)
        pts, oks = fill_gaps(np.stack(self.raw[lo : i + self.lag + 1]), self.max_gap)
        return pts[i - lo], bool(oks[i - lo])

    def _stats(self, u: int, flow: FlowFn, tm: dict[str, float]) -> tuple[RegionStats, bool]:
        """Pair u's statistics and whether it is valid, computed with ``flow``."""
        if u < self.first_pair:
            return self._nan_stats, False
        a = 0 if self.ref_first else u - 1
        stats = self._between(a, u, flow, tm)
        return (self._nan_stats, False) if stats is None else (stats, True)

    def _between(self, a: int, b: int, flow: FlowFn, tm: dict[str, float]) -> RegionStats | None:
        """The statistics of the flow from frame a to frame b; None without both faces."""
        (pa, ok_a), (pb, ok_b) = self._landmarks(a), self._landmarks(b)
        g0, g1 = self.grays.get(a), self.grays.get(b)
        if ok_a and ok_b and g0 is not None and g1 is not None:
            return pair_stats(self.cfg, flow, self.average, g0, g1, pa, pb, tm)
        return None

    def _lagged(self, u: int, flow: FlowFn, tm: dict[str, float]) -> np.ndarray:
        """(lags, 42, 2) the region mean vectors of the direct pairs (u - k, u)."""
        if u < self.first_pair or (self.offset + u) % self.lag_stride:
            return self._nan_lags
        out = self._nan_lags.copy()
        for j, k in enumerate(self.spot_lags):
            if u - k >= 0 and (stats := self._between(u - k, u, flow, tm)) is not None:
                out[j] = stats.vector
        return out

    def _row(self, u: int, flow: FlowFn, tm: dict[str, float]) -> tuple[RegionStats, bool]:
        """Pair u's statistics and validity; its direct pairs go into ``lag_rows``."""
        row = self._stats(u, flow, tm)
        if self.spot_lags:
            self.lag_rows.append(self._lagged(u, flow, tm))
        return row

    def _pair_at(self, u: int) -> None:
        """Computes pair u here, then lets go of the frame no later pair needs."""
        self.rows.append(self._row(u, self.flow, self.timings))
        drop = u - self.keep
        if drop >= 0 and not (self.ref_first and drop == 0):  # the reference frame stays
            self.grays.pop(drop, None)

    def _last_pairs(self, lo: int, hi: int) -> None:
        """Pairs lo..hi-1 once every frame is in: the landmark thread is done, so a second
        thread takes the upper half (DIS objects are not thread-safe: its own backend)."""
        mid = (lo + hi + 1) // 2
        upper: list[tuple[RegionStats, bool]] = []
        upper_lags: list[np.ndarray] = []
        failure: list[BaseException] = []
        flow2, tm2 = self.second_flow(), dict.fromkeys(self.timings, 0.0)

        def helper() -> None:
            try:
                for u in range(mid, hi):
                    upper.append(self._stats(u, flow2, tm2))
                    if self.spot_lags:
                        upper_lags.append(self._lagged(u, flow2, tm2))
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=helper, name="meflow-pairs", daemon=True)
        worker.start()
        try:
            self.rows.extend(self._row(u, self.flow, self.timings) for u in range(lo, mid))
        finally:
            worker.join()
        if failure:
            raise failure[0]
        self.rows.extend(upper)
        self.lag_rows.extend(upper_lags)
        for k, v in tm2.items():
            self.timings[k] += v
