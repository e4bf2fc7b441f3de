"""Farnebäck polynomial-expansion flow (OpenCV), parameters set for small facial motions."""

from __future__ import annotations

import cv2
import numpy as np

from meflow.flow.base import check_pair


class FarnebackFlow:
    """Gives dense flow with ``cv2.calcOpticalFlowFarneback``.

    Three pyramid levels (scale 0.5) cover motions up to ~8 px at 192 px; a 15 px averaging
    window with a Gaussian weighting (``OPTFLOW_FARNEBACK_GAUSSIAN``) and poly_n=5,
    poly_sigma=1.1 suit textured skin at that scale. The previous flow is never used as
    initial guess, so every pair is computed independently.
    """

    def __init__(
        self,
        pyr_scale: float = 0.5,
        levels: int = 3,
        winsize: int = 15,
        iterations: int = 3,
        poly_n: int = 5,
        poly_sigma: float = 1.1,
        gaussian: bool = True,
    ) -> None:
        self.pyr_scale = pyr_scale
        self.levels = levels
        self.winsize = winsize
        self.iterations = iterations
        self.poly_n = poly_n
        self.poly_sigma = poly_sigma
        self.flags = cv2.OPTFLOW_FARNEBACK_GAUSSIAN if gaussian else 0

    def __call__(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        prev, nxt = check_pair(prev, nxt)
        flow = cv2.calcOpticalFlowFarneback(  # type: ignore[call-overload]
            prev,
            nxt,
            None,
            self.pyr_scale,
            self.levels,
            self.winsize,
            self.iterations,
            self.poly_n,
            self.poly_sigma,
            self.flags,
        )
        return np.asarray(flow, dtype=np.float32)
