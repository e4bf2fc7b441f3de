"""The writer of ``meflow predict``'s outputs: a computed PredictionResult to its files.

``<name>.csv`` (one row per window), ``<name>.json`` (everything, windows and, with a
spotter, intervals), ``<name>_intervals.csv`` (with a spotter: one row per spotted interval)
and ``<name>_timeline.png`` (:mod:`meflow.inference.timeline`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from meflow.errors import MeflowError
from meflow.features import FEATURES_VERSION
from meflow.inference.model import LoadedModel
from meflow.inference.results import IntervalPrediction, PredictionResult, WindowPrediction
from meflow.models import registry

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


def write_prediction(
    result: PredictionResult, out_dir: Path, loaded: LoadedModel, figure: bool = True
) -> None:
    """Nothing; writes all outputs of ``result`` into ``out_dir`` (``result.files`` names
    them, ``result.timings`` gets "write" and "figure")."""
    import time

    t0 = time.perf_counter()
    write_outputs(result, out_dir, loaded)
    result.timings["write"] = time.perf_counter() - t0
    if figure:
        from meflow.inference.timeline import plot_timeline

        t0 = time.perf_counter()
        png = out_dir / f"{result.name}_timeline.png"
        result.files["png"] = plot_timeline(result, png, result.frame_valid, result.frame_time)
        result.timings["figure"] = time.perf_counter() - t0


def write_outputs(result: PredictionResult, out_dir: Path, loaded: LoadedModel) -> None:
    """Nothing; writes ``<name>.csv`` and ``<name>.json`` (and, with a spotter,
    ``<name>_intervals.csv``) into ``out_dir``."""
    from meflow.features.cache import atomic_write_text

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MeflowError(f"{out_dir}: cannot create the output folder ({exc.strerror})") from None
    rows = [_row(w, result.classes) for w in result.windows]
    files = {
        out_dir / f"{result.name}.csv": _windows_csv(result, rows),
        out_dir / f"{result.name}.json": json.dumps(
            _document(result, loaded, rows), indent=2, allow_nan=False
        )
        + "\n",
    }
    if result.intervals is not None:
        files[out_dir / f"{result.name}_intervals.csv"] = intervals_csv(
            result.intervals, result.classes
        )
    try:
        for path, text in files.items():
            atomic_write_text(path, text)
    except OSError as exc:
        raise MeflowError(f"{out_dir}: cannot write the outputs ({exc.strerror})") from None
    paths = list(files)
    result.files.update(csv=paths[0], json=paths[1])
    if result.intervals is not None:
        result.files["intervals"] = paths[2]


def _windows_csv(result: PredictionResult, rows: list[dict[str, Any]]) -> str:
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
    return buf.getvalue()


def _document(
    result: PredictionResult, loaded: LoadedModel, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """The JSON document of ``<name>.json``."""
    from meflow import __version__
    from meflow.config import to_dict

    doc: dict[str, Any] = {
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
        "stride": result.stride,
        "min_valid": result.min_valid,
        "input": loaded.input,
        "classifier": loaded.meta.get("classifier", registry.LEGACY_CLASSIFIER),
        "extract": to_dict(loaded.extract),
        "features_version": FEATURES_VERSION,
        "notes": result.notes,
    }
    if result.intervals is not None:  # with a spotter only: files without one stay as they were
        doc["spotter"] = result.spotter
        doc["intervals"] = [interval_row(r) for r in result.intervals]
    doc["windows"] = rows
    return doc


INTERVAL_FIXED = (
    "type",
    "onset_frame",
    "apex_frame",
    "offset_frame",
    "onset_s",
    "apex_s",
    "offset_s",
    "score",
    "emotion",
)


def interval_row(r: IntervalPrediction) -> dict[str, Any]:
    """One spotted interval as the JSON gives it (times rounded to the microsecond)."""
    return {
        "type": r.type,
        "onset_frame": r.onset_frame,
        "apex_frame": r.apex_frame,
        "offset_frame": r.offset_frame,
        "onset_s": round(r.onset_s, 6),
        "apex_s": round(r.apex_s, 6),
        "offset_s": round(r.offset_s, 6),
        "score": r.score,
        "probabilities": r.probabilities,
        "emotion": r.emotion,
    }


def intervals_csv(intervals: Sequence[IntervalPrediction], classes: Sequence[str]) -> str:
    """``<name>_intervals.csv``: the JSON's interval rows, one probability column per class
    (empty for macro-expressions and invalid windows)."""
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=[*INTERVAL_FIXED, *classes], lineterminator="\n", restval=""
    )
    writer.writeheader()
    for r in intervals:
        row = interval_row(r)
        probs = row.pop("probabilities") or {}
        row["score"] = "" if r.score is None else f"{r.score:.6f}"
        row["emotion"] = r.emotion or ""
        writer.writerow({**row, **{c: f"{probs[c]:.6f}" for c in classes if c in probs}})
    return buf.getvalue()
