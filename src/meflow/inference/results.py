"""What ``meflow predict`` computes for one video, before anything is written: the windows'
probabilities and, with a spotter, the spotted intervals (micro-expressions classified)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class WindowPrediction:
    """One window: frames start..end (inclusive, source numbering) and its probabilities."""

    index: int
    start_frame: int
    end_frame: int
    start_time: float  # seconds
    end_time: float
    valid: bool
    valid_fraction: float  # of the window's frame pairs
    probabilities: list[float]  # one per class; NaN when not valid
    top_class: str  # "" when not valid


@dataclass
class IntervalPrediction:
    """One spotted interval: frames onset..offset (inclusive, the source's 0-based numbers),
    and for a micro-expression the class probabilities of the window centred on it."""

    type: str  # "micro" or "macro"
    onset_frame: int
    apex_frame: int
    offset_frame: int
    onset_s: float  # seconds from the first frame
    apex_s: float
    offset_s: float
    score: float | None  # the spotter's score (None: it gives none)
    probabilities: dict[str, float] | None = None  # micro with a valid window only
    emotion: str | None = None  # its most probable class (micro with a valid window only)


@dataclass
class PredictionResult:
    """The windows of one video, what was done to it and where the outputs were written."""

    source: Path
    name: str
    classes: list[str]
    windows: list[WindowPrediction]
    fps: float  # the source's frame rate
    model_fps: float  # the training data's frame rate
    analysis_fps: float  # the rate windows are cut at: the model's
    duration: float  # seconds from the first to the last processed frame
    frames: int  # source frames decoded
    used_frames: int  # frames processed (after resampling)
    valid_pairs: int
    notes: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    # the spotted intervals in time order; None when no spotter was given (none found: [])
    intervals: list[IntervalPrediction] | None = None
    spotter: str | None = None  # the spotter's kind
    stride: int = 8
    min_valid: float = 0.9
    # each analysed frame: whether it has a face, and its time (the timeline's no-face band)
    frame_valid: np.ndarray | None = None
    frame_time: np.ndarray | None = None

    @property
    def probabilities(self) -> np.ndarray:
        """(windows, classes) float array, NaN rows for invalid windows."""
        return np.array([w.probabilities for w in self.windows], dtype=np.float64).reshape(
            len(self.windows), len(self.classes)
        )

    @property
    def valid(self) -> np.ndarray:
        return np.array([w.valid for w in self.windows], dtype=bool)


def default_name(path: Path) -> str:
    """The output name of a source: the file's stem or the folder's name."""
    return path.name if path.is_dir() else path.stem


def unique_names(paths: Sequence[str | Path]) -> list[str]:
    """Output names of the inputs: the file stem or folder name, made unique.

    Two inputs with the same stem (``a.mp4``, ``a.mov``) keep the suffix (``a_mov``); any still
    equal get ``_2``, ``_3``, ... in input order.
    """
    stems = [default_name(Path(p)) for p in paths]
    names = []
    for p, stem in zip(paths, stems, strict=True):
        suffix = Path(p).suffix.lstrip(".")
        names.append(f"{stem}_{suffix}" if stems.count(stem) > 1 and suffix else stem)
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out
