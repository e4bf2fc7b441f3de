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
- short videos: fewer than 65 frames (after resampling) are refused: no window fits.
- windows start every ``stride`` frame pairs; when the last one does not reach the end of the
  video, one more window aligned with the end is added, so the whole video is covered.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meflow.config import ExtractConfig
from meflow.errors import MeflowError
from meflow.features import FEATURES_VERSION
from meflow.models import registry

DEFAULT_STRIDE = 8
DEFAULT_MIN_VALID = 0.9
# A video slower than the model's features is resampled to their rate with repeated frames, down
# to this share of it (15 fps for a 30 fps model: every other pair without motion); measured
# down to there on held-out clips of the realistic benchmark (docs/predict.md,
# benchmarks/low_fps.py). Slower videos are refused.
LOWEST_RATE_SHARE = 0.5
TRAINING_FPS_DEFAULT = 30.0  # for model files that do not record their training frame rate


@dataclass
class LoadedModel:
    """A verified model with what predict needs from its metadata."""

    model: Any  # torch.nn.Module, eval mode
    meta: dict[str, Any]
    extract: ExtractConfig
    path: Path | None = None

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.meta["classes"]]

    @property
    def input(self) -> str:
        """The model input it was trained on (files before inputs existed: a pseudo-image)."""
        return str(self.meta.get("input") or f"pseudo-{self.meta.get('angle', 'discrete')}")

    @property
    def train(self) -> Any:
        """Its training settings (the model input's own settings, e.g. train.bins)."""
        from meflow.config import TrainConfig, from_dict

        known = {f for f in TrainConfig.__dataclass_fields__}
        given = self.meta.get("train") or {}
        return from_dict(TrainConfig, {k: v for k, v in given.items() if k in known})

    @property
    def min_valid(self) -> float:
        """The valid share its training samples needed (train.min_valid): a window's too."""
        return float((self.meta.get("train") or {}).get("min_valid", DEFAULT_MIN_VALID))

    @property
    def fps(self) -> float:
        return float(self.meta.get("fps") or TRAINING_FPS_DEFAULT)


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


def load_model(path: str | Path) -> LoadedModel:
    """The model at ``path`` (digest verified) with its extraction settings."""
    from meflow.config import from_dict
    from meflow.errors import ConfigError
    from meflow.training.checkpoint import load_checkpoint

    p = Path(path)
    model, meta = load_checkpoint(p)
    extract = meta.get("extract")
    if not isinstance(extract, dict):
        raise MeflowError(
            f"{p}: the model file has no extraction settings ('extract'); retrain it with "
            "meflow train"
        )
    try:
        cfg = from_dict(ExtractConfig, extract, "extract")
    except ConfigError as exc:
        raise MeflowError(f"{p}: unusable extraction settings in the model file ({exc})") from None
    version = meta.get("features_version", 1)  # files from before it was recorded: 1
    if version != FEATURES_VERSION:
        raise MeflowError(
            f"{p}: the model was trained on features of version {version}; this meflow computes "
            f"version {FEATURES_VERSION}, which gives other pseudo-images for the same settings: "
            "re-extract its data with this meflow (meflow extract, a new --out) and retrain, "
            "or use a meflow of that version"
        )
    if cfg.flow.reference != "previous":
        raise MeflowError(
            f"{p}: the model was trained on flow against each window's first frame "
            "(flow.reference=first), which a sliding window cannot give without one flow per "
            "frame and window; train it on frame-to-frame flow for meflow predict"
        )
    classes = meta.get("classes")
    if not isinstance(classes, list) or len(classes) != getattr(model, "num_classes", len(classes)):
        raise MeflowError(f"{p}: the model file's class list does not match its network")
    from meflow.features.inputs import INPUTS

    loaded = LoadedModel(model, meta, cfg, p)
    if loaded.input not in INPUTS:
        raise MeflowError(f"{p}: unknown model input {loaded.input!r}")
    return loaded


def check_settings(loaded: LoadedModel, assignments: Sequence[str]) -> None:
    """Nothing; raises MeflowError when a 'key=value' setting contradicts the model's own.

    Settings equal to the model's are accepted (they change nothing); unknown keys are
    rejected with the closest valid key suggested.
    """
    from meflow.config import override, to_dict

    if not assignments:
        return
    asked = to_dict(override(loaded.extract, list(assignments)))
    have = to_dict(loaded.extract)
    diffs = [
        f"{key} is {have_v!r} in the model, {asked_v!r} asked"
        for key, have_v, asked_v in _diff(have, asked)
    ]
    if diffs:
        where = loaded.path or "the model"
        raise MeflowError(
            f"{where} was trained with other extraction settings ({'; '.join(diffs)}); "
            "predict always uses the model's settings: drop the option or use a model trained "
            "with it"
        )


def _diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            yield from _diff(va, vb, f"{prefix}{k}.")
        elif va != vb:
            yield f"{prefix}{k}", va, vb


Timed = tuple[int, float, "np.ndarray | None"]  # (source index, seconds, frame)


def timed_frames(source: Any, fps: float | None = None) -> Iterator[Timed]:
    """(index, seconds from the first frame, BGR frame or None) of a FrameSource.

    A video's own presentation timestamps are used (variable frame rates stay correct) unless
    ``fps`` is given; an image folder's frames are ``1 / fps`` apart. Timestamps that do not
    increase fall back to the previous one plus one nominal frame interval.
    """
    rate = float(fps or source.info.fps)
    if fps or source.path.is_dir():
        for i, frame in source:
            yield i, i / rate, frame
        return
    yield from _video_timestamps(source.path, rate, source.capture())


def _video_timestamps(path: Path, rate: float, cap: Any = None) -> Iterator[Timed]:
    """Frames with their timestamps, re-timed so the first frame is at 0 s.

    Some containers give the first frame a timestamp earlier than the regular spacing (an
    edit-list offset: -16.7 ms before a 33.3 ms grid); it is moved onto the grid that frames
    1 and 2 define, so the first interval is not longer than the rest.
    """
    raw = _raw_timestamps(path, rate, cap)
    first = next(raw, None)
    if first is None:
        raise MeflowError(f"{path}: no frame could be decoded (unreadable or truncated file)")
    # the first frame is at 0 s whatever frames 1 and 2 say (t0 below is never earlier than
    # its own time): it goes on before they are decoded, for the landmarks to start sooner
    yield first[0], 0.0, first[2]
    head = [first, *itertools.islice(raw, 2)]
    t0 = head[0][1]
    if len(head) == 3:
        t0 = max(t0, head[1][1] - (head[2][1] - head[1][1]))
    for i, t, frame in itertools.chain(head[1:], raw):
        yield i, max(t - t0, 0.0), frame


def _raw_timestamps(path: Path, rate: float, cap: Any = None) -> Iterator[Timed]:
    """``cap``: an opened capture of ``path`` at its first frame (released here), or None."""
    import cv2

    from meflow.io.frames import video_capture

    cap = cap if cap is not None else video_capture(path)
    try:
        last = -math.inf
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                return
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if not math.isfinite(t) or t <= last:
                t = last + 1.0 / rate if i else 0.0
            last = t
            yield i, t, frame
            i += 1
    finally:
        cap.release()


def resample(frames: Iterable[Timed], fps: float) -> Iterator[Timed]:
    """The frame nearest in time to each step of ``1 / fps`` seconds from the first frame.

    A source faster than ``fps`` loses frames; one slower than ``fps`` (or with a gap) gives
    the same source frame for consecutive steps: callers see it by its repeated index.
    Stops at the last source frame (no step after it is produced).
    """
    step = 1.0 / fps
    eps = 1e-6
    k = 0
    prev: Timed | None = None
    start = 0.0
    for cur in frames:
        if prev is None:
            # the first step is the first frame (any later one is further from it): it goes
            # on at once, without waiting for the next frame to be decoded
            prev, start, k = cur, cur[1], 1
            yield cur
            continue
        while start + k * step <= cur[1] + eps:
            target = start + k * step
            yield prev if target - prev[1] <= cur[1] - target + eps else cur
            k += 1
        prev = cur
    if prev is not None and start + k * step <= prev[1] + eps:
        yield prev


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


def _stem(path: Path) -> str:
    return path.name if path.is_dir() else path.stem


def unique_names(paths: Sequence[str | Path]) -> list[str]:
    """Output names of the inputs: the file stem or folder name, made unique.

    Two inputs with the same stem (``a.mp4``, ``a.mov``) keep the suffix (``a_mov``); any still
    equal get ``_2``, ``_3``, ... in input order.
    """
    stems = [_stem(Path(p)) for p in paths]
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
    Raises MeflowError for an unreadable source, a video without any face, one too short
    for a window, or one slower than the training data.
    """
    from meflow.features.sequence import SequenceExtractor
    from meflow.io import open_frames

    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    if stride < 1:
        raise MeflowError(f"stride must be at least 1 frame, got {stride}")
    if not 0.0 <= min_valid <= 1.0:
        raise MeflowError(f"the valid fraction must be in [0, 1], got {min_valid}")
    t0 = time.perf_counter()
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    timings["load_model"] = time.perf_counter() - t0
    cfg = loaded.extract
    window = cfg.features.window
    src_path = Path(path)
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
        if expected < need:
            raise MeflowError(_too_short(src_path, expected, declared, need, src_fps, rate))

    kept: list[Timed] = []
    decoded = [0]

    def frames() -> Iterator[np.ndarray | None]:
        kept.clear()

        def counted() -> Iterator[Timed]:
            for item in timed_frames(source, fps):
                decoded[0] = item[0] + 1
                yield item

        for i, t, frame in resample(counted(), rate):
            kept.append((i, t, None))
            yield frame

    ext = extractor if extractor is not None else SequenceExtractor(cfg)
    if extractor is not None and extractor.cfg != cfg:
        raise MeflowError("the extractor's settings differ from the model's")
    from meflow.errors import NoFaceError

    try:
        feats = ext.run(frames, name=str(src_path))
    except NoFaceError:
        # the extractor counts resampled frames; name the file's own count
        raise NoFaceError(f"{src_path}: no face found in any of its {decoded[0]} frames") from None
    timings.update(feats.timings)
    used = feats.frames
    src_idx = np.array([k[0] for k in kept[:used]], dtype=np.int64)
    src_time = np.array([k[1] for k in kept[:used]], dtype=np.float64)
    notes: list[str] = []
    repeated = src_idx[1:] == src_idx[:-1]
    valid = feats.valid
    feats.without_motion(repeated)
    skipped = decoded[0] - len(np.unique(src_idx))
    if skipped > 0:
        notes.append(
            f"{skipped} of {decoded[0]} frames skipped to resample "
            f"the video to {rate:g} fps (nearest timestamp)"
        )
    if repeated.any():
        notes.append(
            f"{int(repeated.sum())} of {len(repeated)} frame pairs repeat a frame (the video is "
            f"slower than the model's {model_fps:g} fps there): kept as pairs without motion, "
            f"so a window of {window} pairs spans {window / rate:.2f} s as in training "
            "(docs/predict.md: the rule and what it costs)"
        )
    if declared > 0 and decoded[0] < declared:
        notes.append(
            f"only {decoded[0]} of the {declared} frames the file declares could be decoded "
            "(truncated file?)"
        )
    if used < need:
        raise MeflowError(_too_short(src_path, used, decoded[0], need, src_fps, rate))
    t0 = time.perf_counter()
    from meflow.features.inputs import build_input
    from meflow.features.windows import pseudo_images

    f = cfg.features
    discrete, continuous = pseudo_images(feats.angle, valid, f.sectors, feats.vector, f.noise_floor)
    starts = window_starts(used - 1, window, stride)
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
    ok = frac >= min_valid - 1e-12
    timings["pseudo_images"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    probs = np.full((len(starts), len(loaded.classes)), np.nan)
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
    timings["inference"] = time.perf_counter() - t0

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
                top_class=loaded.classes[int(np.argmax(probs[j]))] if ok[j] else "",
            )
        )
    if not ok.any():
        notes.append(
            f"no window has {min_valid:.0%} valid frame pairs (face lost or frames unreadable)"
        )
    result = PredictionResult(
        source=src_path,
        name=name or _stem(src_path),
        classes=loaded.classes,
        windows=windows,
        fps=src_fps,
        model_fps=model_fps,
        analysis_fps=rate,
        frames=decoded[0],
        used_frames=used,
        valid_pairs=int(valid.sum()),
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


def _too_short(path: Path, usable: int, frames: int, need: int, fps: float, rate: float) -> str:
    after = "" if usable == frames else f", {usable} at the training rate of {rate:g} fps"
    return (
        f"{path}: too short for one window: {frames} frames at {fps:g} fps{after}; a window "
        f"needs {need} consecutive frames ({(need - 1) / rate:.2f} s at {rate:g} fps)"
    )


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
