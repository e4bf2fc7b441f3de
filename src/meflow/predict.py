"""Micro-expression probabilities over a whole video: a 64-frame window slid along it.

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
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from meflow.errors import MeflowError
from meflow.io.timebase import Timed, resample, timed_frames
from meflow.predict_model import (
    DEFAULT_MIN_VALID,
    TRAINING_FPS_DEFAULT,
    LoadedModel,
    check_settings,
    load_model,
)
from meflow.predict_outputs import (
    CSV_FIXED,
    PredictionResult,
    WindowPrediction,
    default_name,
    plot_timeline,
    unique_names,
    write_outputs,
)

if TYPE_CHECKING:
    from meflow.config import ExtractConfig
    from meflow.features.sequence import SequenceFeatures
    from meflow.io import FrameSource

__all__ = [
    "CSV_FIXED",
    "DEFAULT_MIN_VALID",
    "DEFAULT_STRIDE",
    "LOWEST_RATE_SHARE",
    "TRAINING_FPS_DEFAULT",
    "LoadedModel",
    "PredictionResult",
    "Timed",
    "WindowPrediction",
    "analysis_rate",
    "check_settings",
    "load_model",
    "plot_timeline",
    "predict_video",
    "resample",
    "timed_frames",
    "unique_names",
    "window_starts",
    "write_outputs",
]

DEFAULT_STRIDE = 8
# A video slower than the model's features is resampled to their rate with repeated frames, down
# to this share of it (15 fps for a 30 fps model: every other pair without motion); measured
# down to there on held-out clips of the realistic benchmark (docs/predict.md,
# benchmarks/low_fps.py). Slower videos are refused.
LOWEST_RATE_SHARE = 0.5


def analysis_rate(src_fps: float, model_fps: float) -> float:
    """The frame rate a video is analysed at: always the model's (its windows then span the
    training window's time). MeflowError for a video slower than ``LOWEST_RATE_SHARE`` of it."""
    lowest = LOWEST_RATE_SHARE * model_fps
    if src_fps < lowest - 1e-6:
        raise MeflowError(
            f"{src_fps:g} fps is below {lowest:g} fps, the slowest rate a model trained at "
            f"{model_fps:g} fps is applied at (more than every other frame pair would repeat a "
            f"frame); record at {lowest:g} fps or more, or give --fps if the file's rate is wrong"
        )
    return model_fps


def window_starts(pairs: int, window: int, stride: int) -> list[int]:
    """First pair of every window: every ``stride`` pairs, plus one aligned with the end."""
    if pairs < window:
        return []
    starts = list(range(0, pairs - window + 1, stride))
    if starts[-1] != pairs - window:
        starts.append(pairs - window)
    return starts


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
) -> PredictionResult:
    """Per-window class probabilities of one video or frame folder; writes CSV, JSON and PNG.

    ``out_dir`` receives ``<name>.csv``, ``<name>.json`` and ``<name>_timeline.png``
    (``name`` defaults to the file's stem or the folder's name); None writes nothing.
    ``fps`` overrides the source's frame rate (a frame folder is taken as 30 fps otherwise).
    ``extractor`` is a SequenceExtractor with the model's settings, to reuse across videos.
    Raises MeflowError for an unreadable source, a video without any face, one of fewer than
    2 frames, or one slower than the training data.
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    if stride < 1:
        raise MeflowError(f"stride must be at least 1 frame, got {stride}")
    if not 0.0 <= min_valid <= 1.0:
        raise MeflowError(f"the valid fraction must be in [0, 1], got {min_valid}")
    t0 = time.perf_counter()
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    timings["load_model"] = time.perf_counter() - t0
    video = _open_video(Path(path), fps, loaded)
    feats, src_idx, src_time, notes = _features(video, loaded.extract, extractor)
    timings.update(feats.timings)
    t0 = time.perf_counter()
    starts, X, frac = _window_inputs(loaded, feats, stride)
    ok = frac >= min_valid - 1e-12
    timings["pseudo_images"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    probs = _probabilities(loaded, X, ok)
    timings["inference"] = time.perf_counter() - t0
    window = loaded.extract.features.window
    windows = _windows(starts, window, probs, ok, frac, src_idx, src_time, loaded.classes)
    if not ok.any():
        notes.append(
            f"no window has {min_valid:.0%} valid frame pairs (face lost or frames unreadable)"
        )
    result = PredictionResult(
        source=video.path,
        name=name or default_name(video.path),
        classes=loaded.classes,
        windows=windows,
        fps=video.src_fps,
        model_fps=video.model_fps,
        analysis_fps=video.rate,
        frames=video.decoded,
        used_frames=feats.frames,
        valid_pairs=int(feats.valid.sum()),
        duration=float(src_time[-1]),
        notes=notes,
        timings=timings,
    )
    if out_dir is not None:
        t0 = time.perf_counter()
        write_outputs(result, Path(out_dir), loaded, stride, min_valid)
        timings["write"] = time.perf_counter() - t0
        if figure:
            t0 = time.perf_counter()
            png = Path(out_dir) / f"{result.name}_timeline.png"
            result.files["png"] = plot_timeline(result, png, feats.frame_valid, src_time)
            timings["figure"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    return result


@dataclass
class _Video:
    """An opened source and the rates it is read at."""

    path: Path
    source: FrameSource
    fps: float | None  # the caller's override of the source's rate
    src_fps: float
    model_fps: float
    rate: float  # the analysis rate
    declared: int  # frames the container declares (0: unknown)
    need: int  # frames one window needs
    decoded: int = 0  # source frames decoded so far


def _open_video(src_path: Path, fps: float | None, loaded: LoadedModel) -> _Video:
    """The opened source; MeflowError when it is too slow or declares too few frames."""
    from meflow.io import open_frames

    window = loaded.extract.features.window
    source = open_frames(src_path, fps)
    src_fps = float(source.info.fps)
    model_fps = loaded.fps
    try:
        rate = analysis_rate(src_fps, model_fps)
    except MeflowError as exc:
        raise MeflowError(f"{src_path}: {exc}") from None
    need = window + 1
    declared = source.info.frame_count
    if declared > 0:
        # the container's count and mean rate: exact for constant-rate files, and a failure
        # here saves the whole landmark and flow pass
        expected = math.floor((declared - 1) / src_fps * rate + 1e-6) + 1
        if expected < 2:
            raise MeflowError(_too_short(src_path, expected, declared, src_fps, rate))
    return _Video(src_path, source, fps, src_fps, model_fps, rate, declared, need)


def _features(
    video: _Video, cfg: ExtractConfig, extractor: Any
) -> tuple[SequenceFeatures, np.ndarray, np.ndarray, list[str]]:
    """(features, source index and time of each processed frame, notes) of the resampled
    video; repeated frames' pairs made pairs without motion."""
    feats, kept = _extract(video, cfg, extractor)
    window = cfg.features.window
    rate, decoded, declared = video.rate, video.decoded, video.declared
    used = feats.frames
    src_idx = np.array([k[0] for k in kept[:used]], dtype=np.int64)
    src_time = np.array([k[1] for k in kept[:used]], dtype=np.float64)
    notes: list[str] = []
    repeated = src_idx[1:] == src_idx[:-1]
    feats.without_motion(repeated)
    skipped = decoded - len(np.unique(src_idx))
    if skipped > 0:
        notes.append(
            f"{skipped} of {decoded} frames skipped to resample "
            f"the video to {rate:g} fps (nearest timestamp)"
        )
    if repeated.any():
        notes.append(
            f"{int(repeated.sum())} of {len(repeated)} frame pairs repeat a frame (the video is "
            f"slower than the model's {video.model_fps:g} fps there): kept as pairs without "
            f"motion, so a window of {window} pairs spans {window / rate:.2f} s as in training "
            "(docs/predict.md: the rule and what it costs)"
        )
    if declared > 0 and decoded < declared:
        notes.append(
            f"only {decoded} of the {declared} frames the file declares could be decoded "
            "(truncated file?)"
        )
    if used < 2:
        raise MeflowError(_too_short(video.path, used, decoded, video.src_fps, rate))
    if used < video.need:  # one window: the first and last frames repeated around the video
        before = (video.need - used) // 2
        after = video.need - used - before
        order = np.r_[np.zeros(before, np.int64), np.arange(used), np.full(after, used - 1)]
        from meflow.features.sequence import on_span  # imports cv2: deferred

        feats = on_span(feats, order)
        src_idx, src_time = src_idx[order], src_time[order]
        notes.append(
            f"{used} frames at {rate:g} fps are fewer than a window's {video.need}: its first "
            f"frame is repeated {before} times before them and its last "
            f"{after} times after them (pairs without motion)"
        )
    return feats, src_idx, src_time, notes


def _extract(
    video: _Video, cfg: ExtractConfig, extractor: Any
) -> tuple[SequenceFeatures, list[Timed]]:
    """(features, (source index, time, None) of each frame given) of the resampled video;
    counts the source frames decoded into ``video.decoded``."""
    from meflow.errors import NoFaceError
    from meflow.features.sequence import SequenceExtractor

    kept: list[Timed] = []

    def frames() -> Iterator[np.ndarray | None]:
        kept.clear()

        def counted() -> Iterator[Timed]:
            for item in timed_frames(video.source, video.fps):
                video.decoded = item[0] + 1
                yield item

        for i, t, frame in resample(counted(), video.rate):
            kept.append((i, t, None))
            yield frame

    ext = extractor if extractor is not None else SequenceExtractor(cfg)
    if extractor is not None and extractor.cfg != cfg:
        raise MeflowError("the extractor's settings differ from the model's")
    try:
        feats = ext.run(frames, name=str(video.path))
    except NoFaceError:
        # the extractor counts resampled frames; name the file's own count
        raise NoFaceError(
            f"{video.path}: no face found in any of its {video.decoded} frames"
        ) from None
    return feats, kept


def _window_inputs(
    loaded: LoadedModel, feats: SequenceFeatures, stride: int
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(first pair of each window, the model's input per window, each window's valid share)."""
    from meflow.features.inputs import build_input
    from meflow.features.windows import pseudo_images

    f = loaded.extract.features
    window = f.window
    valid = feats.valid
    discrete, continuous = pseudo_images(feats.angle, valid, f.sectors, feats.vector, f.noise_floor)
    starts = window_starts(feats.frames - 1, window, stride)
    batch = {
        "pseudo_discrete": np.stack([discrete[:, s : s + window] for s in starts]),
        "pseudo_continuous": np.stack([continuous[:, s : s + window] for s in starts]),
        **{
            k: np.stack([a[s : s + window] for s in starts])
            for k, a in (("vector", feats.vector), ("main", feats.main), ("valid", valid))
        },
    }
    X = build_input(loaded.input, batch, loaded.train)
    frac = np.array([valid[s : s + window].mean() for s in starts])
    return starts, X, frac


def _probabilities(loaded: LoadedModel, X: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """(windows, classes) probabilities of the windows where ``ok``, NaN rows elsewhere."""
    probs = np.full((len(ok), len(loaded.classes)), np.nan)
    if ok.any():
        import torch

        from meflow.training.inference import predict_proba

        # One intra-op thread: the batch is small, and on shared cores 2 threads measured
        # 5-40x slower for it than 1 (benchmarks/predict.py).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                probs[ok] = predict_proba(loaded.model, X[ok])
        finally:
            torch.set_num_threads(threads)
    return probs


def _windows(
    starts: list[int],
    window: int,
    probs: np.ndarray,
    ok: np.ndarray,
    frac: np.ndarray,
    src_idx: np.ndarray,
    src_time: np.ndarray,
    classes: list[str],
) -> list[WindowPrediction]:
    """One WindowPrediction per window start."""
    windows = []
    for j, s in enumerate(starts):
        a, b = s, s + window
        p = [float(v) for v in probs[j]]
        windows.append(
            WindowPrediction(
                index=j,
                start_frame=int(src_idx[a]),
                end_frame=int(src_idx[b]),
                start_time=float(src_time[a]),
                end_time=float(src_time[b]),
                valid=bool(ok[j]),
                valid_fraction=float(frac[j]),
                probabilities=p,
                top_class=classes[int(np.argmax(probs[j]))] if ok[j] else "",
            )
        )
    return windows


def _too_short(path: Path, usable: int, frames: int, fps: float, rate: float) -> str:
    after = "" if usable == frames else f", {usable} at the training rate of {rate:g} fps"
    return (
        f"{path}: too short: {frames} frames at {fps:g} fps{after}; optical flow needs at least 2"
    )
