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
    import cv2

    nbins = n_regions + 1
    lab = labels.ravel()
    if flow.dtype == np.float32 and flow.size:
        dx, dy = (c.ravel() for c in cv2.split(flow))  # contiguous copies, the same values
    else:
        dx = flow[..., 0].ravel().astype(np.float32, copy=False)
        dy = flow[..., 1].ravel().astype(np.float32, copy=False)
    mag = np.sqrt(dx * dx + dy * dy)  # np.hypot is ~5x slower and guards overflow we lack
    counts = np.bincount(lab, minlength=nbins)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        magnitude = np.bincount(lab, weights=mag, minlength=nbins)[1:] / counts
    angle = wrap_angle(average(dx, dy, mag, lab, nbins)[1:])
    empty = counts == 0
    angle[empty] = np.nan
    magnitude = magnitude.astype(np.float32)
    magnitude[empty] = np.nan
    return magnitude, angle
