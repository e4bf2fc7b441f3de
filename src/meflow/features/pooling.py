"""Per-region mean flow magnitude and mean flow angle over a label map (numpy only).

Angle convention (image y grows downward, hence the minus)::

                 pi/2 (up on screen)
                    ^
                    |
      pi  <---------+--------->  0 (right on screen)
                    |
                    v
                 3pi/2 (down on screen)

theta = atan2(-dy, dx) mod 2pi, in [0, 2pi), growing counter-clockwise as seen on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

TWO_PI = 2.0 * np.pi
_TWO_PI_F32 = np.float32(TWO_PI)  # rounds above 2pi: a float32 angle equal to it is 2pi


def wrap_angle(theta: np.ndarray) -> np.ndarray:
    """Gives ``theta mod 2pi`` as float32 in [0, 2pi) (NaN stays NaN).

    Guards the float edges: ``np.mod(-1e-20, 2pi)`` is exactly 2pi, and float64 values just
    below 2pi round up to float32(2pi); both mean the direction 0 and become 0.
    """
    t = np.mod(np.asarray(theta, dtype=np.float64), TWO_PI).astype(np.float32)
    t[t >= _TWO_PI_F32] = 0.0
    return t


def flow_angle(flow: np.ndarray) -> np.ndarray:
    """Gives the per-pixel flow direction theta = atan2(-dy, dx) mod 2pi, float32 (H, W)."""
    flow = np.asarray(flow)
    return wrap_angle(np.arctan2(-flow[..., 1], flow[..., 0]))


# An average maps (dx, dy, magnitude, flat labels, number of bins) to the raw mean angle of
# every bin (radians, any range; wrapped by the caller); empty bins may give anything.
AngleAverage = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]


def _arithmetic(
    dx: np.ndarray, dy: np.ndarray, mag: np.ndarray, lab: np.ndarray, nbins: int
) -> np.ndarray:
    # The paper's literal formula: the mean of per-pixel angles in [0, 2pi). Wrong for
    # directions near 0 (0.1 and 2pi-0.1 average to pi), kept to reproduce the paper.
    theta = wrap_angle(np.arctan2(-dy, dx))
    sums = np.bincount(lab, weights=theta, minlength=nbins)
    counts = np.bincount(lab, minlength=nbins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def _circular(
    dx: np.ndarray, dy: np.ndarray, mag: np.ndarray, lab: np.ndarray, nbins: int
) -> np.ndarray:
    # Mean of the unit direction vectors (cos, sin) = (dx, -dy) / |flow|, without any trig
    # per pixel; a zero vector counts as direction 0, as atan2(0, 0) = 0 would.
    zero = mag == 0
    any_zero = bool(zero.any())
    inv = np.float32(1.0) / (np.where(zero, np.float32(1.0), mag) if any_zero else mag)
    cos = dx * inv
    if any_zero:
        cos[zero] = 1.0
    sin = dy * inv
    np.negative(sin, out=sin)
    return np.arctan2(
        np.bincount(lab, weights=sin, minlength=nbins),
        np.bincount(lab, weights=cos, minlength=nbins),
    )


def _vector(
    dx: np.ndarray, dy: np.ndarray, mag: np.ndarray, lab: np.ndarray, nbins: int
) -> np.ndarray:
    # Direction of the mean flow vector: pixels weigh by their magnitude.
    return np.arctan2(
        -np.bincount(lab, weights=dy, minlength=nbins),
        np.bincount(lab, weights=dx, minlength=nbins),
    )


AVERAGES: dict[str, AngleAverage] = {
    "arithmetic": _arithmetic,
    "circular": _circular,
    "vector": _vector,
}


def pool_regions(
    flow: np.ndarray, labels: np.ndarray, n_regions: int = 42, average: str = "circular"
) -> tuple[np.ndarray, np.ndarray]:
    """Gives per region (mean flow magnitude, mean flow angle), each float32 (n_regions,).

    ``flow``: (H, W, 2) of (dx, dy) in px/frame, image axes; ``labels``: (H, W) integers,
    0 = background, region r in 1..n_regions goes to output index r - 1. Magnitude is the
    mean of per-pixel |flow| (px/frame). Angle is in [0, 2pi), theta = atan2(-dy, dx)
    (0 = right on screen, pi/2 = up on screen, counter-clockwise as seen), averaged by
    ``average`` (a key of ``AVERAGES``): 'arithmetic' = mean of per-pixel angles (the
    paper's formula), 'circular' = atan2(mean sin, mean cos), 'vector' = direction of the
    mean flow vector. A region without pixels gives NaN for both.
    """
    flow = np.asarray(flow)
    labels = np.asarray(labels)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must be (H, W, 2), got {flow.shape}")
    if labels.shape != flow.shape[:2]:
        raise ValueError(f"labels {labels.shape} do not match flow {flow.shape[:2]}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {labels.dtype}")
    try:
        fn = AVERAGES[average]
    except KeyError:
        raise ValueError(
            f"unknown angle average {average!r} (valid: {', '.join(AVERAGES)})"
        ) from None
    lab = labels.ravel()
    if lab.size and (int(lab.max()) > n_regions or int(lab.min()) < 0):
        raise ValueError(f"labels must lie in 0..{n_regions}, got {lab.min()}..{lab.max()}")
    return pool_checked(flow, lab.astype(np.intp), n_regions, fn)


def pool_checked(
    flow: np.ndarray, labels: np.ndarray, n_regions: int, average: AngleAverage
) -> tuple[np.ndarray, np.ndarray]:
    """``pool_regions`` without its checks, for inputs known to be right: ``flow`` (H, W, 2),
    ``labels`` intp in 0..n_regions of any shape with H*W elements, ``average`` a function
    of ``AVERAGES``."""
    stats = pool_stats(flow, labels, n_regions, average)
    return stats.magnitude, stats.angle


@dataclass
class RegionStats:
    """Per-region statistics of one flow field, each float32 with one row per region; NaN for
    a region without pixels. Vectors are (dx, dy) in image axes (y down), px per frame."""

    magnitude: np.ndarray  # (R,) mean of per-pixel |flow|
    angle: np.ndarray  # (R,) mean direction by the chosen average, [0, 2pi)
    vector: np.ndarray  # (R, 2) the mean flow vector
    main: np.ndarray  # (R, 2) the mean vector of the main direction's pixels (MDMO)


MAIN_BINS = 8  # direction bins of the main-direction statistic (MDMO: Liu et al. 2016)


def _direction_table() -> np.ndarray:
    """The sector of every sign pattern: index 9 sign(s) + 3 sign(c) + sign(|s| - |c|) + 13
    (signs -1, 0, 1) of s = -dy, c = dx; a pattern no finite vector has gives sector 0."""
    table = np.zeros(27, np.int64)
    for s in (-1.0, -0.5, 0.0, 0.5, 1.0):
        for c in (-1.0, -0.5, 0.0, 0.5, 1.0):
            code = 9 * np.sign(s) + 3 * np.sign(c) + np.sign(abs(s) - abs(c)) + 13
            # theta = atan2(s, c) in [k pi/4, (k+1) pi/4): s == c (> 0) is pi/4, sector 1
            theta = np.arctan2(s, c) % TWO_PI
            table[int(code)] = 0 if s == c == 0 else int(np.floor(theta / (np.pi / 4) + 1e-9))
    return table


_SECTOR = _direction_table()


def direction_bin(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """The 45-degree sector k of theta = atan2(-dy, dx): theta in [k pi/4, (k+1) pi/4), without
    trigonometry (a zero vector is direction 0, as atan2(0, 0) = 0). int64, same shape.

    Within one quadrant the sector is known from the signs of s = -dy and c = dx and which of
    |s| and |c| is the larger (equal: the diagonal, the upper sector), so it is one look-up
    of those three signs (_SECTOR)."""
    s = np.negative(dy)
    code = (s > 0).view(np.int8) * np.int8(9)
    code -= (s < 0).view(np.int8) * np.int8(9)
    code += (dx > 0).view(np.int8) * np.int8(3)
    code -= (dx < 0).view(np.int8) * np.int8(3)
    a, b = np.abs(s), np.abs(dx)
    code += (a > b).view(np.int8)
    code -= (a < b).view(np.int8)
    code += np.int8(13)
    return _SECTOR[code]


def pool_stats(
    flow: np.ndarray, labels: np.ndarray, n_regions: int, average: AngleAverage
) -> RegionStats:
    """Every per-region statistic of ``flow`` over ``labels`` (as ``pool_checked``) at once:
    one split of the field, shared bincounts."""
    import cv2

    nbins = n_regions + 1
    lab = labels.ravel()
    if flow.dtype == np.float32 and flow.size:
        dx, dy = (c.ravel() for c in cv2.split(flow))  # contiguous copies, the same values
    else:
        dx = flow[..., 0].ravel().astype(np.float32, copy=False)
        dy = flow[..., 1].ravel().astype(np.float32, copy=False)
    mag = np.sqrt(dx * dx + dy * dy)  # np.hypot is ~5x slower and guards overflow we lack
    # per label and direction sector: pixels and sums of dx, dy (the region's count and
    # mean vector are their sums over the sectors: three bincounts fewer)
    n, sx, sy = _sector_sums(dx, dy, lab, nbins)
    counts = n.sum(axis=1)[1:]
    empty = counts == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        magnitude = np.bincount(lab, weights=mag, minlength=nbins)[1:] / counts
        vector = np.stack([sx.sum(axis=1)[1:] / counts, sy.sum(axis=1)[1:] / counts], axis=1)
        main = _main_direction(n, sx, sy)[1:]
    angle = wrap_angle(average(dx, dy, mag, lab, nbins)[1:])
    angle[empty] = np.nan
    out = [a.astype(np.float32) for a in (magnitude, vector, main)]
    for a in out:
        a[empty] = np.nan
    return RegionStats(out[0], angle, out[1], out[2])


def _sector_sums(
    dx: np.ndarray, dy: np.ndarray, lab: np.ndarray, nbins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pixels, sum of dx, sum of dy), each (nbins, MAIN_BINS): per label and direction
    sector (direction_bin)."""
    key = lab * MAIN_BINS + direction_bin(dx, dy)
    size = nbins * MAIN_BINS
    n = np.bincount(key, minlength=size).reshape(nbins, MAIN_BINS)
    sx = np.bincount(key, weights=dx, minlength=size).reshape(nbins, MAIN_BINS)
    sy = np.bincount(key, weights=dy, minlength=size).reshape(nbins, MAIN_BINS)
    return n, sx, sy


def _main_direction(n: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """(nbins, 2): per label, the mean vector of its pixels in its most populated 45-degree
    direction bin (the lowest bin on ties), from ``_sector_sums``."""
    best = n.argmax(axis=1)
    rows = np.arange(n.shape[0])
    cnt = n[rows, best]
    return np.stack([sx[rows, best] / cnt, sy[rows, best] / cnt], axis=1)
