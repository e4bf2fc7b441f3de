"""Frame preprocessing of the method: grayscale, then histogram equalisation."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from meflow.config import PreprocessConfig


@lru_cache(maxsize=8)
def _clahe(clip: float, tile: int) -> Any:
    import cv2

    return cv2.createCLAHE(clipLimit=clip, tileGridSize=(tile, tile))


def to_gray(frame: np.ndarray) -> np.ndarray:
    """The frame as uint8 grayscale (BGR, BGRA or already grey input)."""
    import cv2

    if frame.ndim == 2:
        return frame if frame.dtype == np.uint8 else np.clip(frame, 0, 255).astype(np.uint8)
    code = cv2.COLOR_BGRA2GRAY if frame.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(frame, code)


def preprocess(frame: np.ndarray, cfg: PreprocessConfig | None = None) -> np.ndarray:
    """The grayscale, equalised uint8 frame ('global' histogram equalisation by default)."""
    import cv2

    cfg = cfg or PreprocessConfig()
    gray = to_gray(frame)
    if cfg.equalization == "global":
        return cv2.equalizeHist(gray)
    if cfg.equalization == "clahe":
        return _clahe(cfg.clahe_clip, cfg.clahe_tile).apply(gray)
    return gray
