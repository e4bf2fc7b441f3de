"""Where a 64-frame window sits in a recording, and the pseudo-images made from it.

A window of W columns covers W+1 consecutive frames: column k is the flow from frame
``start + k`` to ``start + k + 1``. The pseudo-image is (regions x W): row = region, column =
frame pair, as in the paper (42 x 64).
"""

from __future__ import annotations

import numpy as np

from meflow.config import FeatureConfig
from meflow.datasets.base import Sample
from meflow.errors import MeflowError


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


def sample_window(sample: Sample, first: int, last: int, cfg: FeatureConfig) -> int:
    """The first frame of ``sample``'s window inside the frames ``first..last`` that exist."""
    lo = first if sample.first_frame is None else max(first, sample.first_frame)
    hi = last if sample.last_frame is None else min(last, sample.last_frame)
    return place_window(anchor_frame(sample, cfg.anchor), lo, hi, cfg.window)


def pseudo_images(
    angle: np.ndarray, valid: np.ndarray, sectors: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """The (discretised, continuous) uint8 pseudo-images (regions x pairs) of per-pair angles.

    ``angle`` is (pairs, regions) in radians; invalid pairs and regions without pixels (NaN)
    become 0.
    """
    from meflow.features.discretise import angle_to_uint8, discretise

    a = np.where(valid[:, None], angle, np.nan)
    discrete = angle_to_uint8(discretise(a, sectors)).T
    continuous = angle_to_uint8(a).T
    return np.ascontiguousarray(discrete), np.ascontiguousarray(continuous)
