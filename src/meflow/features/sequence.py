"""One sequence of frames -> per-pair region features (angle, magnitude, validity).

The path every frame takes, in order: landmarks (MediaPipe, on the colour frame) ->
grayscale + equalisation -> face crop (the box of the first frame of each pair, applied to
both frames) -> dense optical flow -> head-motion compensation -> 42-region label map ->
per-region mean magnitude and angle. Frames are read twice (landmarks first, so that short
gaps can be interpolated before any flow is computed); only two frames are held at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from meflow.config import ExtractConfig
from meflow.errors import NoFaceError

N_REGIONS = 42
N_LANDMARKS = 478
STAGES = ("decode", "preprocess", "landmarks", "flow", "pooling")

FrameIterable = Callable[[], Iterable[np.ndarray | None]]


@dataclass
class SequenceFeatures:
    """Region features of consecutive frame pairs of one sequence."""

    angle: np.ndarray  # (pairs, 42) float32, radians in [0, 2pi); NaN where invalid
    magnitude: np.ndarray  # (pairs, 42) float32, pixels per frame in the face crop
    valid: np.ndarray  # (pairs,) bool: both frames readable and with a face
    frame_valid: np.ndarray  # (frames,) bool
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    @property
    def frames(self) -> int:
        return int(self.frame_valid.shape[0])


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


class SequenceExtractor:
    """Computes SequenceFeatures with one flow backend, reused across sequences."""

    def __init__(self, cfg: ExtractConfig | None = None) -> None:
        from meflow.flow import get_flow

        self.cfg = cfg or ExtractConfig()
        self.flow = get_flow(self.cfg.flow.backend)

    def landmarks(
        self, frames: Iterable[np.ndarray | None], timings: dict[str, float]
    ) -> np.ndarray:
        """(frames, 478, 2) float32 landmark pixels, NaN where no face or no frame."""
        from meflow.face.landmarks import LandmarkTracker, quiet_native_stderr

        rows: list[np.ndarray] = []
        missing = np.full((N_LANDMARKS, 2), np.nan, dtype=np.float32)
        # A fresh tracker per sequence: results do not depend on what was processed before.
        # MediaPipe's native threads log start-up chatter at unpredictable moments of the pass.
        with quiet_native_stderr(), LandmarkTracker(self.cfg.face) as tracker:
            for frame in _timed(frames, timings):
                t0 = time.perf_counter()
                pts = tracker(frame) if frame is not None else None
                rows.append(missing if pts is None else np.asarray(pts, dtype=np.float32))
                timings["landmarks"] += time.perf_counter() - t0
        return np.stack(rows) if rows else np.zeros((0, N_LANDMARKS, 2), np.float32)

    def run(self, frames: FrameIterable, name: str = "sequence") -> SequenceFeatures:
        """Features of every consecutive pair of the frames that ``frames()`` yields."""
        from meflow.face.landmarks import fill_gaps
        from meflow.preprocess import preprocess

        cfg = self.cfg
        timings = dict.fromkeys(STAGES, 0.0)
        raw = self.landmarks(frames(), timings)
        n = raw.shape[0]
        if n == 0 or not np.isfinite(raw[:, 0, 0]).any():
            raise NoFaceError(f"{name}: no face found in any of {n} frames")
        points, frame_valid = fill_gaps(raw, cfg.face.max_gap)
        pairs = max(n - 1, 0)
        angle = np.full((pairs, N_REGIONS), np.nan, dtype=np.float32)
        magnitude = np.full((pairs, N_REGIONS), np.nan, dtype=np.float32)
        valid = np.zeros(pairs, dtype=bool)
        prev_gray: np.ndarray | None = None
        for t, frame in enumerate(_timed(frames(), timings)):
            if t >= n:
                break
            t0 = time.perf_counter()
            gray = preprocess(frame, cfg.preprocess) if frame is not None else None
            timings["preprocess"] += time.perf_counter() - t0
            if (
                t > 0
                and gray is not None
                and prev_gray is not None
                and frame_valid[t - 1]
                and frame_valid[t]
            ):
                pair = self.pair(prev_gray, gray, points[t - 1], points[t], timings)
                magnitude[t - 1], angle[t - 1] = pair.magnitude, pair.angle
                valid[t - 1] = True
            prev_gray = gray
        return SequenceFeatures(angle, magnitude, valid, frame_valid, timings)

    def pair(
        self,
        gray0: np.ndarray,
        gray1: np.ndarray,
        points0: np.ndarray,
        points1: np.ndarray,
        timings: dict[str, float] | None = None,
    ) -> PairFeatures:
        """Region features of one pair of preprocessed frames with their landmarks."""
        import cv2

        from meflow.face.landmarks import crop_transform, face_box
        from meflow.face.regions import rasterise
        from meflow.features.pooling import pool_regions
        from meflow.flow.motion import compensate

        cfg = self.cfg
        size = cfg.face.crop_size
        t0 = time.perf_counter()
        # One crop for both frames (the first frame's face box), so the crop adds no motion.
        box = face_box(points0, gray0.shape, cfg.face.crop_margin)
        m = crop_transform(box, size)
        g0 = cv2.warpAffine(gray0, m, (size, size), flags=cv2.INTER_LINEAR)
        g1 = cv2.warpAffine(gray1, m, (size, size), flags=cv2.INTER_LINEAR)
        p0 = (points0 @ m[:, :2].T + m[:, 2]).astype(np.float32)
        p1 = (points1 @ m[:, :2].T + m[:, 2]).astype(np.float32)
        flow = compensate(self.flow(g0, g1), p0, p1, cfg.flow.motion_compensation)
        t1 = time.perf_counter()
        labels = rasterise(p0, (size, size))
        mag, ang = pool_regions(flow, labels, N_REGIONS, cfg.features.angle_average)
        if timings is not None:
            timings["flow"] += t1 - t0
            timings["pooling"] += time.perf_counter() - t1
        return PairFeatures(mag, ang, g0, flow, labels)


@dataclass
class PairFeatures:
    """One pair's region features and the intermediate images (for figures)."""

    magnitude: np.ndarray  # (42,)
    angle: np.ndarray  # (42,)
    crop: np.ndarray  # first frame's face crop, uint8 (size, size)
    flow: np.ndarray  # (size, size, 2) after motion compensation
    labels: np.ndarray  # (size, size) uint8 region label map
