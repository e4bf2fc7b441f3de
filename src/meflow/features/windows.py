"""Where a 64-frame window sits in a recording, and the pseudo-images made from it.

A window of W columns covers W+1 consecutive frames: column k is the flow from frame
``start + k`` to ``start + k + 1``. The pseudo-image is (regions x W): row = region, column =
frame pair, as in the paper (42 x 64).
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


def window_frames(sample: Sample, first: int, last: int, cfg: FeatureConfig) -> np.ndarray:
    """The frame numbers of ``sample``'s window, int64 (window + 1,), at ``cfg.fps``.

    A clip recorded at its native rate (``sample.fps``; unknown: taken as ``cfg.fps``) is
    brought to ``cfg.fps`` by taking, for each step of 1/fps seconds, the frame nearest in
    time: a 200 fps clip keeps every 6th or 7th frame for 30 fps. The window (``cfg.window``
    pairs) is centred on the anchor and moved inside ``first..last`` at the recording's
    edges; at the native rate these are consecutive frames, exactly as ``place_window``.
    Raises MeflowError when the recording is shorter than the window's time span.
    """
    lo = first if sample.first_frame is None else max(first, sample.first_frame)
    hi = last if sample.last_frame is None else min(last, sample.last_frame)
    anchor = anchor_frame(sample, cfg.anchor)
    native = float(sample.fps or cfg.fps)
    w = cfg.window
    if abs(native - cfg.fps) < 1e-9:
        start = place_window(anchor, lo, hi, w)
        return np.arange(start, start + w + 1, dtype=np.int64)
    step = native / cfg.fps
    if hi - lo < w * step - 1e-9:
        raise MeflowError(
            f"only {hi - lo + 1} frames ({lo}..{hi}, {(hi - lo + 1) / native:.2f} s at "
            f"{native:g} fps) but a window of {w} pairs at {cfg.fps:g} fps spans "
            f"{w / cfg.fps:.2f} s; use a shorter features.window or a higher features.fps"
        )
    # the window's first frame is a real frame; step k takes the frame nearest k / fps later
    start = max(min(math.floor(anchor - (w // 2) * step + 0.5), math.floor(hi - w * step)), lo)
    offsets = np.floor(np.arange(w + 1) * step + 0.5).astype(np.int64)
    return (start + offsets).clip(lo, hi)


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
