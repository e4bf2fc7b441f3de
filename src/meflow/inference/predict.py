"""``meflow predict`` on one video: spot-then-recognise, and a 64-frame window slid along it.

The video is processed exactly as the model's training data were: the model file carries
the extraction settings of its feature cache (``meta["extract"]``), the pseudo-image kind
(``meta["angle"]``) and the frame rate of the training data (``meta["fps"]``). Per-pair
region features are computed once for the whole video (one streamed pass of
:class:`~meflow.features.sequence.SequenceExtractor`) and every window is cut from them, so
the cost of the optical flow does not depend on the stride.

Rules (see docs/predict.md):

- frame rate: windows are cut at the training data's rate, so a window spans the time it
  spanned in training (2.13 s for 64 pairs at 30 fps). Every video is resampled to it by its
  frames' own timestamps: for each step of 1/fps seconds the frame nearest in time is taken (a
  60 fps video loses every other frame; a 30 fps one is unchanged; a variable-rate one is
  evened out). Where the video is slower, a step repeats the previous frame: such a pair is
  kept as a pair without motion (its region vectors are zero, its pseudo-image pixels "no
  direction"), so the next pair carries the motion of the skipped step. Measured on held-out
  clips (benchmarks/low_fps.py) this keeps the recommended model's micro AUC at 0.93 from 30
  down to 20 fps and 0.92 at 15 (analysing a 25 fps video at its own rate instead: 0.90, at
  15 fps 0.76). Videos slower than ``LOWEST_RATE_SHARE`` of the model's rate are refused.
- validity: a window is valid when at least ``min_valid`` (the model's train.min_valid, 0.9)
  of its 64 frame pairs are valid (both frames read, a face in both). An invalid window still
  gets a row, with empty (NaN) probabilities and no top class.
- short videos: fewer than 65 frames (after resampling) make one window, completed by repeating
  the first frame before them and the last after them (pairs without motion, as a slow video's
  repeated frames); only a video of fewer than 2 frames is refused.
- windows start every ``stride`` frame pairs; when the last one does not reach the end of the
  video, one more window aligned with the end is added, so the whole video is covered.
- spotting: with a spotter (the model file's own, or one given), the video's intervals are
  spotted and each micro-expression classified with its window centred on it
  (:mod:`meflow.inference.spotting`); the windows stay as a secondary output. A model whose
  input is the onset-to-apex flow classifies each spotted micro-expression by the flows
  between its spotted onset, apex and offset frames (:mod:`meflow.inference.expression`),
  needs a spotter, and gives its windows no probabilities.

The result is computed first (:func:`compute_prediction`, a PredictionResult) and written by
:func:`meflow.inference.writer.write_prediction`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from meflow.errors import MeflowError
from meflow.features.video import VideoFeatures, check_declared_length, video_features
from meflow.inference.expression import reads_expression_flows
from meflow.inference.model import DEFAULT_MIN_VALID, LoadedModel, load_model
from meflow.inference.results import PredictionResult, WindowPrediction, default_name
from meflow.inference.windows import (
    DEFAULT_STRIDE,
    analysis_rate,
    features_on,
    probabilities,
    short_video_order,
    window_inputs,
    window_starts,
)
from meflow.inference.writer import write_prediction

if TYPE_CHECKING:
    from meflow.features.sequence import SequenceFeatures
    from meflow.spotting.model import Spotter


def predict_video(
    path: str | Path,
    model: str | Path | LoadedModel,
    out_dir: str | Path | None,
    stride: int = DEFAULT_STRIDE,
    *,
    min_valid: float = DEFAULT_MIN_VALID,
    fps: float | None = None,
    name: str | None = None,
    figure: bool = True,
    extractor: Any = None,
    spotter: Spotter | None = None,
) -> PredictionResult:
    """Spotted intervals and per-window class probabilities of one video or frame folder.

    ``out_dir`` receives ``<name>.csv``, ``<name>.json``, ``<name>_timeline.png`` and, with a
    spotter, ``<name>_intervals.csv`` (``name`` defaults to the file's stem or the folder's
    name); None writes nothing. ``fps`` overrides the source's frame rate (a frame folder is
    taken as 30 fps otherwise). ``extractor`` is a SequenceExtractor with the model's
    settings, to reuse across videos. ``spotter`` replaces the model file's own (None: the
    file's; a model without one gives no intervals: ``result.intervals`` is None).
    Raises MeflowError for an unreadable source, a video without any face, one of fewer than
    2 frames, or one slower than the training data.
    """
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    load_time = time.perf_counter() - t0
    result = compute_prediction(
        path,
        loaded,
        stride,
        min_valid=min_valid,
        fps=fps,
        name=name,
        extractor=extractor,
        spotter=spotter,
    )
    result.timings = {"load_model": load_time, **result.timings}
    if out_dir is not None:
        write_prediction(result, Path(out_dir), loaded, figure)
    result.timings["total"] = time.perf_counter() - t_start
    return result


def compute_prediction(
    path: str | Path,
    loaded: LoadedModel,
    stride: int = DEFAULT_STRIDE,
    *,
    min_valid: float = DEFAULT_MIN_VALID,
    fps: float | None = None,
    name: str | None = None,
    extractor: Any = None,
    spotter: Spotter | None = None,
) -> PredictionResult:
    """The PredictionResult of one video (nothing written); arguments as predict_video's."""
    if stride < 1:
        raise MeflowError(f"stride must be at least 1 frame, got {stride}")
    if not 0.0 <= min_valid <= 1.0:
        raise MeflowError(f"the valid fraction must be in [0, 1], got {min_valid}")
    spotter = spotter if spotter is not None else loaded.spotter
    if spotter is None and reads_expression_flows(loaded):
        raise MeflowError(
            f"the model's input {loaded.input} is the flow from an expression's onset to its "
            "apex: it needs a spotter to find them (--spotter SPOTTER.json, or a model file "
            "with one attached)"
        )
    vf = open_features(Path(path), loaded, fps, extractor)
    timings = dict(vf.features.timings)
    feats, src_idx, src_time, notes = _windowed(vf, loaded.extract.features.window)
    result = PredictionResult(
        source=vf.path,
        name=name or default_name(vf.path),
        classes=loaded.classes,
        windows=[],
        fps=vf.src_fps,
        model_fps=loaded.fps,
        analysis_fps=vf.rate,
        frames=vf.decoded,
        used_frames=feats.frames,
        valid_pairs=int(feats.valid.sum()),
        duration=float(src_time[-1]),
        notes=notes,
        timings=timings,
        stride=stride,
        min_valid=min_valid,
        frame_valid=feats.frame_valid,
        frame_time=src_time,
    )
    result.windows = _sliding_windows(loaded, feats, src_idx, src_time, result)
    if spotter is not None:
        from meflow.inference.spotting import spot_and_recognise

        t0 = time.perf_counter()
        result.intervals = spot_and_recognise(loaded, spotter, vf, result.name, min_valid, fps)
        result.spotter = spotter.name
        timings["spotting"] = time.perf_counter() - t0
    return result


def open_features(
    path: Path, loaded: LoadedModel, fps: float | None, extractor: Any
) -> VideoFeatures:
    """The video's features at the model's rate; MeflowError when it is too slow or too short."""
    from meflow.io import open_frames

    source = open_frames(path, fps)
    try:
        rate = analysis_rate(float(source.info.fps), loaded.fps)
    except MeflowError as exc:
        raise MeflowError(f"{path}: {exc}") from None
    check_declared_length(source, path, rate)
    return video_features(
        path, loaded.extract, rate=rate, fps=fps, extractor=extractor, source=source
    )


def _windowed(
    vf: VideoFeatures, window: int
) -> tuple[SequenceFeatures, np.ndarray, np.ndarray, list[str]]:
    """(features, source index and time of each frame, notes) windows are cut from: the
    video's, or for a video shorter than one window its frames completed to one."""
    feats, src_idx, src_time = vf.features, vf.frame_index, vf.frame_time
    notes = list(vf.notes)
    used, need = vf.frames, window + 1
    if used < need:  # one window: the first and last frames repeated around the video
        order, before, after = short_video_order(used, window)
        feats = features_on(feats, order)
        src_idx, src_time = src_idx[order], src_time[order]
        notes.append(
            f"{used} frames at {vf.rate:g} fps are fewer than a window's {need}: its first "
            f"frame is repeated {before} times before them and its last "
            f"{after} times after them (pairs without motion)"
        )
    return feats, src_idx, src_time, notes


def _sliding_windows(
    loaded: LoadedModel,
    feats: SequenceFeatures,
    src_idx: np.ndarray,
    src_time: np.ndarray,
    result: PredictionResult,
) -> list[WindowPrediction]:
    """One WindowPrediction per window start (timings and notes into ``result``)."""
    t0 = time.perf_counter()
    window = loaded.extract.features.window
    starts = window_starts(feats.frames - 1, window, result.stride)
    if reads_expression_flows(loaded):  # no onset and apex in a window: no probabilities
        frac = np.array([feats.valid[s : s + window].mean() for s in starts])
        ok = np.zeros(len(starts), bool)
        probs = np.full((len(starts), len(loaded.classes)), np.nan)
        result.notes.append(
            f"the model's input {loaded.input} is the flow from an expression's onset to its "
            "apex: it classifies the spotted micro-expressions only; its windows carry no "
            "probabilities"
        )
    else:
        X, frac = window_inputs(loaded, feats, starts)
        ok = frac >= result.min_valid - 1e-12
        result.timings["pseudo_images"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        probs = probabilities(loaded, X, ok)
        result.timings["inference"] = time.perf_counter() - t0
    if not ok.any() and not reads_expression_flows(loaded):
        result.notes.append(
            f"no window has {result.min_valid:.0%} valid frame pairs (face lost or frames "
            "unreadable)"
        )
    classes = loaded.classes
    windows = []
    for j, s in enumerate(starts):
        a, b = s, s + window
        windows.append(
            WindowPrediction(
                index=j,
                start_frame=int(src_idx[a]),
                end_frame=int(src_idx[b]),
                start_time=float(src_time[a]),
                end_time=float(src_time[b]),
                valid=bool(ok[j]),
                valid_fraction=float(frac[j]),
                probabilities=[float(v) for v in probs[j]],
                top_class=classes[int(np.argmax(probs[j]))] if ok[j] else "",
            )
        )
    return windows
