"""The flow-backend contract shared by every backend: input checks and the call signature."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class FlowBackend(Protocol):
    """A dense optical flow method: ``flow = backend(prev, nxt)``.

    ``prev`` and ``nxt`` are uint8 grayscale images of the same shape (H, W); the result is
    float32 (H, W, 2) holding (dx, dy) in pixels per frame in image axes (x right, y down),
    defined on ``prev``'s pixel grid: ``prev(x, y) ~ nxt(x + dx, y + dy)``. A backend may
    reuse internal objects between calls but never the previous result, so the same pair
    always gives the same flow.
    """

    def __call__(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray: ...


def check_pair(prev: np.ndarray, nxt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gives the two frames as C-contiguous uint8 (H, W) arrays, or raises ValueError."""
    prev = np.asarray(prev)
    nxt = np.asarray(nxt)
    if prev.ndim != 2 or nxt.ndim != 2:
        raise ValueError(f"flow needs grayscale (H, W) frames, got {prev.shape} and {nxt.shape}")
    if prev.shape != nxt.shape:
        raise ValueError(f"flow frames differ in shape: {prev.shape} and {nxt.shape}")
    if prev.dtype != np.uint8 or nxt.dtype != np.uint8:
        raise ValueError(f"flow needs uint8 frames, got {prev.dtype} and {nxt.dtype}")
    if min(prev.shape) < 8:
        raise ValueError(f"flow frames are too small: {prev.shape}")
    return np.ascontiguousarray(prev), np.ascontiguousarray(nxt)
