"""The outputs of ``meflow predict``: per-window results, their CSV and JSON, the timeline."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meflow.errors import MeflowError
from meflow.features import FEATURES_VERSION
from meflow.models import registry
from meflow.predict_model import LoadedModel


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


CSV_FIXED = (
    "window",
    "start_frame",
    "end_frame",
    "start_time",
    "end_time",
    "valid",
    "valid_fraction",
    "top_class",
)


def _row(w: WindowPrediction, classes: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "window": w.index,
        "start_frame": w.start_frame,
        "end_frame": w.end_frame,
        "start_time": round(w.start_time, 6),
        "end_time": round(w.end_time, 6),
        "valid": w.valid,
        "valid_fraction": round(w.valid_fraction, 6),
        "top_class": w.top_class,
    }
    for c, p in zip(classes, w.probabilities, strict=True):
        row[c] = None if math.isnan(p) else p
    return row


def write_outputs(
    result: PredictionResult,
    out_dir: Path,
    loaded: LoadedModel,
    stride: int,
    min_valid: float,
) -> None:
    """Nothing; writes ``<name>.csv`` and ``<name>.json`` into ``out_dir``."""
    from meflow import __version__
    from meflow.config import to_dict
    from meflow.features.cache import atomic_write_text

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MeflowError(f"{out_dir}: cannot create the output folder ({exc.strerror})") from None
    rows = [_row(w, result.classes) for w in result.windows]
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=[*CSV_FIXED, *result.classes], lineterminator="\n", restval=""
    )
    writer.writeheader()
    for r in rows:
        writer.writerow(
            {
                **r,
                "valid": "true" if r["valid"] else "false",
                **{c: "" if r[c] is None else f"{r[c]:.6f}" for c in result.classes},
            }
        )
    csv_path = out_dir / f"{result.name}.csv"
    json_path = out_dir / f"{result.name}.json"
    doc = {
        "source": str(result.source),
        "model": str(loaded.path) if loaded.path else None,
        "meflow": __version__,
        "classes": result.classes,
        "fps": result.fps,
        "model_fps": loaded.fps,
        "analysis_fps": result.analysis_fps,
        "window_seconds": loaded.extract.features.window / result.analysis_fps,
        "frames": result.frames,
        "used_frames": result.used_frames,
        "valid_pairs": result.valid_pairs,
        "window": loaded.extract.features.window,
        "stride": stride,
        "min_valid": min_valid,
        "input": loaded.input,
        "classifier": loaded.meta.get("classifier", registry.LEGACY_CLASSIFIER),
        "extract": to_dict(loaded.extract),
        "features_version": FEATURES_VERSION,
        "notes": result.notes,
        "windows": rows,
    }
    try:
        atomic_write_text(csv_path, buf.getvalue())
        atomic_write_text(json_path, json.dumps(doc, indent=2, allow_nan=False) + "\n")
    except OSError as exc:
        raise MeflowError(f"{out_dir}: cannot write the outputs ({exc.strerror})") from None
    result.files.update(csv=csv_path, json=json_path)


def plot_timeline(
    result: PredictionResult,
    path: Path,
    frame_valid: np.ndarray | None = None,
    frame_time: np.ndarray | None = None,
) -> Path:
    """The PNG at ``path``: class probabilities per window centre over time.

    Invalid windows break the lines and their stretch of the timeline (the window's centre
    +- half the distance to its neighbours) is shaded grey; frames without a face are marked
    by a red band under the axis. Drawn by :mod:`meflow.timeline` (OpenCV, ~10 ms).
    """
    from meflow.timeline import draw_timeline, write_png

    wins = result.windows
    centres = np.array([(w.start_time + w.end_time) / 2 for w in wins])
    edges = np.concatenate(
        [
            [wins[0].start_time],
            (centres[1:] + centres[:-1]) / 2 if len(wins) > 1 else [],
            [wins[-1].end_time],
        ]
    )
    invalid = [(float(edges[j]), float(edges[j + 1])) for j, w in enumerate(wins) if not w.valid]
    no_face: list[tuple[float, float]] = []
    if frame_valid is not None and frame_time is not None and (~frame_valid).any():
        t = frame_time[: len(frame_valid)]
        half = 0.5 / result.analysis_fps
        bad = ~frame_valid[: len(t)]
        # runs of frames without a face, one band each
        change = np.flatnonzero(np.diff(np.concatenate([[0], bad.astype(np.int8), [0]])))
        no_face = [
            (float(t[a] - half), float(t[b - 1] + half))
            for a, b in zip(change[::2], change[1::2], strict=True)
        ]
    title = f"{result.source.name}: {len(wins)} windows, {int(result.valid.sum())} valid"
    img = draw_timeline(
        centres, result.probabilities, result.classes, result.duration, title, invalid, no_face
    )
    return write_png(path, img)
