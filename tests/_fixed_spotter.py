"""A spotter that finds given intervals, as predict's tests use it (helper module, not a test)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.model import SPOTTER_VERSION
from meflow.spotting.scoring import Interval


@dataclass(frozen=True)
class FixedSpotter:
    """A spotter that finds the given (type, onset, apex, offset) analysed frames (numbered
    as the recording numbers its frames): where the intervals are is then known exactly."""

    spans: tuple[tuple[str, int, int, int], ...]
    name: str = "fixed"

    def spot(self, rec: RecordingFlow) -> list[Interval]:
        return [
            Interval(rec.name, rec.number(a), rec.number(c), t, score=0.5, apex=rec.number(b))
            for t, a, b, c in self.spans
        ]

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {}, {"spotter": self.name, "version": SPOTTER_VERSION}
