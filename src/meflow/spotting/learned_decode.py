"""From per-frame class probabilities to spotted intervals (the learned spotter's last step).

The expression probability of a frame (micro + macro) is smoothed with a moving average; each
run of frames at or above an extent threshold is one candidate interval (its onset and offset:
the run's ends, widened by a padding each side); its type is the class with the larger summed
probability over the run; it is kept when its peak reaches the type's detection threshold and
it is at least ``min_frames`` long. Smoothing, extent and padding are the type's own: micro-
expressions are read off the curve with the micro settings, macro-expressions with the macro
ones (the two types' lengths differ tenfold, so one setting cannot place both ends well). The
runs of one type never overlap; a micro and a macro interval may (each is scored against its
own type's ground truth); a run longer than its type allows is kept whole (its score is its
peak).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meflow.errors import MeflowError

NEITHER, MICRO, MACRO, BLINK = 0, 1, 2, 3
TYPES = ((MICRO, "micro"), (MACRO, "macro"))


@dataclass(frozen=True)
class DecodeParams:
    """How probabilities become intervals, per type (chosen on training subjects only)."""

    smooth_micro: int = 5  # moving-average width (odd, >= 1)
    smooth_macro: int = 5
    extent_micro: float = 0.5  # a frame is inside a candidate when its smoothed P(expr) >= this
    extent_macro: float = 0.5
    detect_micro: float = 0.5  # a candidate is kept when its peak reaches this
    detect_macro: float = 0.5
    pad_micro: int = 0  # frames added to each end of a kept interval (may be negative)
    pad_macro: int = 0
    min_frames: int = 5  # shortest interval kept

    def __post_init__(self) -> None:
        for kind in ("micro", "macro"):
            width = getattr(self, f"smooth_{kind}")
            if width < 1 or width % 2 == 0:
                raise MeflowError(f"smooth_{kind} must be odd and >= 1, got {width}")
            for name in (f"extent_{kind}", f"detect_{kind}"):
                if not 0.0 <= getattr(self, name) <= 1.0:
                    raise MeflowError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.min_frames < 1:
            raise MeflowError(f"min_frames must be >= 1, got {self.min_frames}")

    def of(self, kind: int) -> tuple[int, float, int]:
        """(smoothing, extent, padding) of type ``kind`` (MICRO or MACRO)."""
        name = "micro" if kind == MICRO else "macro"
        return (getattr(self, f"smooth_{name}"), getattr(self, f"extent_{name}"),
                getattr(self, f"pad_{name}"))  # fmt: skip


def smooth(curve: np.ndarray, width: int) -> np.ndarray:
    """Moving average of odd ``width`` (the ends averaged over the frames there are)."""
    if width <= 1 or curve.size == 0:
        return curve.astype(np.float64)
    c = np.concatenate([[0.0], np.cumsum(curve, dtype=np.float64)])
    h = width // 2
    idx = np.arange(curve.size)
    lo, hi = np.clip(idx - h, 0, curve.size), np.clip(idx + h + 1, 0, curve.size)
    return (c[hi] - c[lo]) / (hi - lo)


def candidates(
    prob: np.ndarray, width: int, extent: float, pad: int, min_frames: int = 5
) -> list[tuple[int, int, int, float, int]]:
    """(onset, offset, type, peak, apex) of every candidate run (frames from 0), any peak, of
    the curve smoothed over ``width`` frames, cut at ``extent``, widened by ``pad``."""
    expr = smooth(prob[:, MICRO] + prob[:, MACRO], width)
    above = expr >= extent
    edges = np.flatnonzero(np.diff(np.r_[0, above.astype(np.int8), 0]))
    last = prob.shape[0] - 1
    out = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        kind = MICRO if prob[a:b, MICRO].sum() >= prob[a:b, MACRO].sum() else MACRO
        peak = int(a + np.argmax(expr[a:b]))
        lo, hi = max(0, int(a) - pad), min(last, int(b) - 1 + pad)
        if hi - lo + 1 >= min_frames:  # the apex: the peak, kept inside a shrunk run
            out.append((lo, hi, kind, float(expr[peak]), min(max(peak, lo), hi)))
    return out


def decode(prob: np.ndarray, params: DecodeParams) -> list[tuple[int, int, str, float, int]]:
    """(onset, offset, 'micro'/'macro', score, apex) of the kept intervals, in time order."""
    if prob.ndim != 2 or prob.shape[1] < 3:
        raise MeflowError(f"probabilities must be (frames, >= 3 classes), got {prob.shape}")
    out = []
    for kind, name in TYPES:
        need = params.detect_micro if kind == MICRO else params.detect_macro
        for lo, hi, k, peak, apex in candidates(prob, *params.of(kind), params.min_frames):
            if k == kind and peak >= need:
                out.append((lo, hi, name, peak, apex))
    return sorted(out)
