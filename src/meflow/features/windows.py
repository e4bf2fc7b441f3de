"""Where a 64-frame window and its span sit in a recording, and the pseudo-images made
from them.

A window of W columns covers W+1 consecutive frames: column k is the flow from frame
``start + k`` to ``start + k + 1``. The pseudo-image is (regions x W): row = region, column =
frame pair, as in the paper (42 x 64). A cache sample holds the window's span: ``margin``
more pairs on each side, from which windows moved around the anchor are cut.
"""

from __future__ import annotations

import math

import numpy as np

from meflow.config import FeatureConfig
from meflow.datasets.base import Sample
from meflow.errors import MeflowError
from meflow.features.discretise import angle_to_uint8, discretise


def anchor_frame(sample: Sample, anchor: str) -> int:
    """The frame the window is centred on: the apex, the onset or the middle of onset..offset."""
    if anchor == "onset":
        return sample.onset
    if anchor == "middle":
        return (sample.onset + sample.offset) // 2
    return sample.apex


def place_window(anchor: int, first: int, last: int, window: int) -> int:
    """The first frame of a window of ``window`` frame pairs centred on ``anchor``.

    The window is moved inside ``first..last`` (inclusive frame numbers) at the recording's
    edges; raises MeflowError when the recording has fewer than ``window + 1`` frames.
    """
    available = last - first + 1
    if available < window + 1:
        raise MeflowError(
            f"only {available} frames ({first}..{last}) but a window needs {window + 1}"
        )
    start = anchor - window // 2
    return int(min(max(start, first), last - window))


def _rate_step(sample: Sample, cfg: FeatureConfig) -> float:
    """Native frames per step of 1/features.fps s (1 at the native rate)."""
    native = float(sample.fps or cfg.fps)
    return 1.0 if abs(native - cfg.fps) < 1e-9 else native / cfg.fps


def span_frames(
    sample: Sample, first: int, last: int, cfg: FeatureConfig
) -> tuple[np.ndarray, int]:
    """(frame numbers of ``sample``'s span, int64 (S + 1,), first pair of the centred window).

    The span is S = window + 2 * margin pairs at ``cfg.fps``: a clip recorded at its native
    rate (``sample.fps``; unknown: taken as ``cfg.fps``) is brought to ``cfg.fps`` by taking,
    for each step of 1/fps seconds, the frame nearest in time (a 200 fps clip keeps every 6th
    or 7th frame for 30 fps). The centred window (``cfg.window`` pairs) is centred on the
    anchor and moved inside ``first..last`` at the recording's edges (at the native rate, as
    ``place_window``); the margin's pairs lie on the same time grid around it, moved inside
    the recording where it ends (the window index then differs from the margin). A recording
    shorter than the window keeps the window centred on the anchor, and one shorter than the
    span is completed by repeating its first frame before it and its last frame after it
    (pairs without motion). Raises MeflowError for fewer than 2 frames.
    """
    lo = first if sample.first_frame is None else max(first, sample.first_frame)
    hi = last if sample.last_frame is None else min(last, sample.last_frame)
    if hi - lo < 1:
        raise MeflowError(
            f"only {max(hi - lo + 1, 0)} frame ({lo}..{hi}); optical flow needs at least 2"
        )
    anchor = anchor_frame(sample, cfg.anchor)
    step = _rate_step(sample, cfg)
    w, m = cfg.window, cfg.margin
    s = w + 2 * m
    # the window's first frame is a real frame; step k takes the frame nearest k / fps later
    start = math.floor(anchor - (w // 2) * step + 0.5)
    fits = hi - lo >= w * step - 1e-9
    if fits:
        start = max(min(start, math.floor(hi - w * step)), lo)
    k = np.arange(-s, s + 1)
    grid = start + np.floor(k * step + 0.5).astype(np.int64)
    index = m
    if fits:  # the margin moved inside the recording where it ends
        before = int(((grid >= lo) & (k < 0)).sum())
        after = int(((grid <= hi) & (k > 0)).sum())
        index = min(before, max(m, s - after))
    frames = grid[s - index : 2 * s - index + 1]
    return frames.clip(lo, hi), index


def window_frames(sample: Sample, first: int, last: int, cfg: FeatureConfig) -> np.ndarray:
    """The frame numbers of ``sample``'s anchor-centred window, int64 (window + 1,), at
    ``cfg.fps``: the window of its span (``span_frames``)."""
    frames, index = span_frames(sample, first, last, cfg)
    return frames[index : index + cfg.window + 1]


def pseudo_images(
    angle: np.ndarray,
    valid: np.ndarray,
    sectors: int = 8,
    vector: np.ndarray | None = None,
    noise_floor: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The (discretised, continuous) uint8 pseudo-images (regions x pairs) of per-pair angles.

    ``angle`` is (pairs, regions) in radians (NaN: a region without pixels); ``valid`` (pairs,)
    marks the pairs with flow. Invalid pairs, regions without pixels and, when ``noise_floor``
    > 0, regions whose mean flow vector (``vector``, (pairs, regions, 2)) is shorter than
    ``noise_floor`` px get ``NO_DIRECTION`` (0), a grey level no direction takes.
    """
    a = np.where(valid[:, None], angle, np.nan)
    if noise_floor > 0:
        if vector is None:
            raise ValueError("a noise floor needs the regions' mean flow vectors")
        with np.errstate(invalid="ignore"):
            a = np.where(np.hypot(vector[..., 0], vector[..., 1]) < noise_floor, np.nan, a)
    discrete = angle_to_uint8(discretise(a, sectors)).T
    continuous = angle_to_uint8(a).T
    return np.ascontiguousarray(discrete), np.ascontiguousarray(continuous)
