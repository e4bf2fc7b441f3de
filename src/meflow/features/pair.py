"""One frame pair -> its region features: one face crop for both frames (the first frame's
face box, so that the crop adds no motion), dense optical flow, head-motion compensation, the
42-region label map and the per-region statistics.

``pair_stats`` gives the statistics alone (what extraction stores); ``pair_images`` gives them
with the intermediate images (for figures). Both compute the same statistics.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from meflow.config import ExtractConfig
from meflow.face.landmarks import crop_transform, face_box, to_crop
from meflow.face.regions import N_REGIONS, rasterise
from meflow.features.pooling import AngleAverage, RegionStats, pool_stats

FlowFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class PairFeatures:
    """One pair's region features and the intermediate images (for figures)."""

    magnitude: np.ndarray  # (42,)
    angle: np.ndarray  # (42,)
    crop: np.ndarray  # first frame's face crop, uint8 (size, size)
    flow: np.ndarray  # (size, size, 2) after motion compensation
    labels: np.ndarray  # (size, size) uint8 region label map
    stats: RegionStats | None = None  # every region statistic of the pair


@dataclass(frozen=True)
class _Crop:
    """Both frames in the first frame's face crop, with their landmarks there."""

    g0: np.ndarray
    g1: np.ndarray
    p0: np.ndarray
    p1: np.ndarray
    # the landmarks' bounding box in the crop (x0, y0, x1, y1), about 60% of it: the regions
    # never reach outside it, so rasterising and pooling there give the same means for less work
    box: tuple[int, int, int, int]


def _crop(
    cfg: ExtractConfig,
    gray0: np.ndarray,
    gray1: np.ndarray,
    points0: np.ndarray,
    points1: np.ndarray,
) -> _Crop:
    """The pair in the face crop of its first frame."""
    import cv2

    size = cfg.face.crop_size
    box = face_box(points0, gray0.shape, cfg.face.crop_margin)
    m = crop_transform(box, size)
    g0 = cv2.warpAffine(gray0, m, (size, size), flags=cv2.INTER_LINEAR)
    g1 = cv2.warpAffine(gray1, m, (size, size), flags=cv2.INTER_LINEAR)
    p0, p1 = to_crop(points0, m), to_crop(points1, m)
    x0, y0 = (max(0, math.floor(v) - 1) for v in p0.min(axis=0).tolist())
    x1, y1 = (min(size, math.ceil(v) + 2) for v in p0.max(axis=0).tolist())
    return _Crop(g0, g1, p0, p1, (x0, y0, x1, y1))


def _inner_labels(c: _Crop) -> np.ndarray:
    """The region label map inside the landmarks' bounding box."""
    x0, y0, x1, y1 = c.box
    return rasterise(c.p0 - np.array([x0, y0], np.float32), (y1 - y0, x1 - x0))


def _add_times(timings: dict[str, float] | None, t0: float, t1: float) -> None:
    if timings is not None:
        timings["flow"] += t1 - t0
        timings["pooling"] += time.perf_counter() - t1


def pair_stats(
    cfg: ExtractConfig,
    flow_backend: FlowFn,
    average: AngleAverage,
    gray0: np.ndarray,
    gray1: np.ndarray,
    points0: np.ndarray,
    points1: np.ndarray,
    timings: dict[str, float] | None = None,
) -> RegionStats:
    """The region statistics of one pair of preprocessed frames with their landmarks."""
    from meflow.flow.motion import compensate  # meflow.flow imports cv2: deferred

    t0 = time.perf_counter()
    c = _crop(cfg, gray0, gray1, points0, points1)
    raw = flow_backend(c.g0, c.g1)
    # the head motion is fitted on the whole crop's flow; only the box's part is compensated
    flow = compensate(raw, c.p0, c.p1, cfg.flow.motion_compensation, c.box)
    t1 = time.perf_counter()
    stats = pool_stats(flow, _inner_labels(c).astype(np.intp), N_REGIONS, average)
    _add_times(timings, t0, t1)
    return stats


def pair_images(
    cfg: ExtractConfig,
    flow_backend: FlowFn,
    average: AngleAverage,
    gray0: np.ndarray,
    gray1: np.ndarray,
    points0: np.ndarray,
    points1: np.ndarray,
    timings: dict[str, float] | None = None,
) -> PairFeatures:
    """One pair's region features with the face crop, the compensated flow of the whole crop
    and its label map (the statistics are those of ``pair_stats``)."""
    from meflow.flow.motion import compensate  # meflow.flow imports cv2: deferred

    t0 = time.perf_counter()
    c = _crop(cfg, gray0, gray1, points0, points1)
    raw = flow_backend(c.g0, c.g1)
    flow = compensate(raw, c.p0, c.p1, cfg.flow.motion_compensation, None)
    x0, y0, x1, y1 = c.box
    t1 = time.perf_counter()
    inner = _inner_labels(c)
    stats = pool_stats(flow[y0:y1, x0:x1], inner.astype(np.intp), N_REGIONS, average)
    _add_times(timings, t0, t1)
    size = cfg.face.crop_size
    labels = np.zeros((size, size), np.uint8)
    labels[y0:y1, x0:x1] = inner
    return PairFeatures(stats.magnitude, stats.angle, c.g0, flow, labels, stats)
