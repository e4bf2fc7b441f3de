"""From per-frame class probabilities to spotted intervals (the learned spotter's last step).

The expression probability of a frame (micro + macro) is smoothed with a moving average; each
run of frames at or above ``extent`` is one candidate interval (its onset and offset: the run's
ends, widened by ``pad`` frames each side); its type is the class with the larger summed
probability over the run; it is kept when its peak reaches the type's ``detect`` threshold and
it is at least ``min_frames`` long. Runs never overlap, so no further suppression is needed;
a run longer than the type allows is kept whole (its score is its peak).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meflow.errors import MeflowError

NEITHER, MICRO, MACRO, BLINK = 0, 1, 2, 3


@dataclass(frozen=True)
class DecodeParams:
    """How probabilities become intervals (chosen on training subjects only)."""

    smooth_frames: int = 5  # moving-average width (odd, >= 1)
    extent: float = 0.5  # a frame is inside a candidate when its smoothed P(expression) >= this
    detect_micro: float = 0.5  # a candidate is kept when its peak reaches this (by its type)
    detect_macro: float = 0.5
    pad: int = 0  # frames added to each end of a kept interval (may be negative)
    min_frames: int = 5  # shortest interval kept

    def __post_init__(self) -> None:
        if self.smooth_frames < 1 or self.smooth_frames % 2 == 0:
            raise MeflowError(f"smooth_frames must be odd and >= 1, got {self.smooth_frames}")
        for name in ("extent", "detect_micro", "detect_macro"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise MeflowError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.min_frames < 1:
            raise MeflowError(f"min_frames must be >= 1, got {self.min_frames}")


def smooth(curve: np.ndarray, width: int) -> np.ndarray:
    """Moving average of odd ``width`` (the ends averaged over the frames there are)."""
    if width <= 1 or curve.size == 0:
        return curve.astype(np.float64)
    c = np.concatenate([[0.0], np.cumsum(curve, dtype=np.float64)])
    h = width // 2
    idx = np.arange(curve.size)
    lo, hi = np.clip(idx - h, 0, curve.size), np.clip(idx + h + 1, 0, curve.size)
    return (c[hi] - c[lo]) / (hi - lo)


def candidates(prob: np.ndarray, params: DecodeParams) -> list[tuple[int, int, int, float, int]]:
    """(onset, offset, type, peak, apex) of every candidate run (frames from 0), any peak."""
    expr = smooth(prob[:, MICRO] + prob[:, MACRO], params.smooth_frames)
    above = expr >= params.extent
    edges = np.flatnonzero(np.diff(np.r_[0, above.astype(np.int8), 0]))
    last = prob.shape[0] - 1
    out = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        kind = MICRO if prob[a:b, MICRO].sum() >= prob[a:b, MACRO].sum() else MACRO
        peak = int(a + np.argmax(expr[a:b]))
        lo, hi = max(0, int(a) - params.pad), min(last, int(b) - 1 + params.pad)
        if hi - lo + 1 >= params.min_frames:  # the apex: the peak, kept inside a shrunk run
            out.append((lo, hi, kind, float(expr[peak]), min(max(peak, lo), hi)))
    return out


def decode(prob: np.ndarray, params: DecodeParams) -> list[tuple[int, int, str, float, int]]:
    """(onset, offset, 'micro'/'macro', score, apex) of the kept intervals, in time order."""
    if prob.ndim != 2 or prob.shape[1] < 3:
        raise MeflowError(f"probabilities must be (frames, >= 3 classes), got {prob.shape}")
    out = []
    for lo, hi, kind, peak, apex in candidates(prob, params):
        need = params.detect_micro if kind == MICRO else params.detect_macro
        if peak >= need:
            out.append((lo, hi, "micro" if kind == MICRO else "macro", peak, apex))
    return out
