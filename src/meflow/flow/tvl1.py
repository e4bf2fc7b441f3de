"""Dual TV-L1 flow (OpenCV contrib), with fewer scales and warps than the defaults."""

from __future__ import annotations

import cv2
import numpy as np

from meflow.flow.base import check_pair


class TVL1Flow:
    """Gives dense flow with ``cv2.optflow.DualTVL1OpticalFlow``.

    OpenCV's defaults (5 scales of factor 0.8, 5 warps, 10 outer x 30 inner iterations) are
    made for large motions on big frames; facial micro-motions are a few pixels at most on a
    192 px crop, so 3 scales of factor 0.5 (up to ~8 px), 3 warps and 3 outer x 10 inner
    iterations keep the accuracy of the defaults on the synthetic translation tests
    (docs/flow.md) at a fraction of the time. tau=0.25, lambda=0.15, theta=0.3, epsilon=0.01
    and a 5x5 median filter are OpenCV's defaults (Zach et al.); no initial flow.
    """

    def __init__(
        self,
        scales: int = 3,
        scale_step: float = 0.5,
        warps: int = 3,
        epsilon: float = 0.01,
        inner_iterations: int = 10,
        outer_iterations: int = 3,
    ) -> None:
        self._tvl1 = cv2.optflow.DualTVL1OpticalFlow_create(  # type: ignore[attr-defined]
            tau=0.25,
            lambda_=0.15,
            theta=0.3,
            nscales=scales,
            warps=warps,
            epsilon=epsilon,
            innnerIterations=inner_iterations,
            outerIterations=outer_iterations,
            scaleStep=scale_step,
            gamma=0.0,
            medianFiltering=5,
            useInitialFlow=False,
        )

    def __call__(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        prev, nxt = check_pair(prev, nxt)
        return np.asarray(self._tvl1.calc(prev, nxt, None), dtype=np.float32)
