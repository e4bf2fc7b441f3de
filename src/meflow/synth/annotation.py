"""The annotation error of the synthetic labels: where a coder would write onset, apex, offset.

The label file's onset, apex and offset differ from the rendered ones as a real annotation
differs from the real motion: a shift shared by the three (the coder's placement of the whole
event) plus a small independent error per point (larger for the apex, whose intensity is flat
around its peak). Errors are drawn in seconds and rounded to frames at the clip's rate, from
each clip's own random stream. docs/synthetic.md gives the reasoning behind the sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHARED_SD_S = 0.025  # s, the shift of the three labels together
ONSET_SD_S = 0.015  # s, the onset's own error (and the offset's)
APEX_SD_S = 0.030  # s, the apex's own error
TRUNCATE = 2.5  # every error stays within this many standard deviations


@dataclass(frozen=True)
class LabelError:
    """Frames the labelled onset, apex, offset lie after the rendered ones (label - rendered)."""

    onset: int
    apex: int
    offset: int


def _normal(rng: np.random.Generator, sd: float) -> float:
    """One draw of N(0, sd) truncated at TRUNCATE sd (clipped)."""
    return float(np.clip(rng.normal(0.0, 1.0), -TRUNCATE, TRUNCATE)) * sd


def draw_error(rng: np.random.Generator, fps: float) -> LabelError:
    """One clip's annotation error in frames at ``fps``."""
    shared = _normal(rng, SHARED_SD_S)
    own = [_normal(rng, sd) for sd in (ONSET_SD_S, APEX_SD_S, ONSET_SD_S)]
    on, ap, off = (round((shared + e) * fps) for e in own)
    return LabelError(on, ap, off)


def ordered(onset: int, apex: int, offset: int, lo: int, hi: int) -> tuple[int, int, int]:
    """onset < apex < offset inside lo..hi, moving each as little as needed (hi - lo >= 2)."""
    onset = min(max(onset, lo), hi - 2)
    offset = min(max(offset, onset + 2), hi)
    apex = min(max(apex, onset + 1), offset - 1)
    return onset, apex, offset
