"""Dataset extraction into a resumable feature cache, and single-video extraction.

Cache layout (``CACHE/``):
  cache.json         settings and versions the cache was made with (a rerun must match them)
  samples/<id>.npz   one file per finished sample, written atomically (see features.cache)
  samples/<id>.failed.json   the reason a sample could not be extracted
  samples.csv        the table of all samples with their status, rewritten at the end of a run
  subjects.csv       the dataset's subjects table (gender), copied when the dataset has one

A rerun skips samples that already have a file, so a killed run loses at most the samples
in flight; each sample's result depends only on its own frames, so a resumed cache is
byte-identical to an uninterrupted one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meflow import __version__
from meflow.config import ExtractConfig, from_dict, to_dict
from meflow.datasets.base import EMOTIONS, Sample
from meflow.errors import MeflowError
from meflow.execution.base import Executor
from meflow.features import FEATURES_VERSION
from meflow.features.cache import atomic_write_text, ensure_writable, load_npz, save_npz

CACHE_FORMAT = 1
TABLE_COLUMNS = (
    "sample_id",
    "dataset",
    "subject",
    "clip",
    "onset",
    "apex",
    "offset",
    "emotion",
    "label",
    "status",
    "reason",
    "window_start",
    "valid_pairs",
)


@dataclass
class SampleResult:
    """How one sample's extraction ended."""

    sample_id: str
    status: str  # 'ok', 'failed'
    reason: str = ""
    window_start: int | None = None
    valid_pairs: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    frames: int = 0


@dataclass
class ExtractSummary:
    """What a dataset extraction did."""

    total: int
    done_before: int
    extracted: int
    failed: list[tuple[str, str]]
    seconds: float
    frames: int
    timings: dict[str, float]


def _frame_numbers(folder: Path) -> list[int]:
    nums = []
    with os.scandir(folder) as it:
        for e in it:
            m = re.search(r"(\d+)\.(?:jpe?g|png|bmp)$", e.name, re.IGNORECASE)
            if m:
                nums.append(int(m.group(1)))
    return sorted(nums)


def _read_window(
    sample: Sample, numbers: Sequence[int]
) -> tuple[list[np.ndarray | None], list[int]]:
    from meflow.io import read_image

    frames: list[np.ndarray | None] = []
    missing = []
    for n in numbers:
        img = None if n in sample.bad_frames else read_image(sample.frame_path(n))
        if img is None:
            missing.append(n)
        frames.append(img)
    return frames, missing


def _check_anchor(sample: Sample, first: int, last: int, anchor: str) -> None:
    """Raises MeflowError when the frame the window centres on is not in the recording.

    Without this check the window would be slid to the recording's edge and made of frames
    that do not show the labelled expression (e.g. an onset beyond the last frame file).
    """
    from meflow.features.windows import anchor_frame

    lo = first if sample.first_frame is None else max(first, sample.first_frame)
    hi = last if sample.last_frame is None else min(last, sample.last_frame)
    n = anchor_frame(sample, anchor)
    if not lo <= n <= hi:
        raise MeflowError(
            f"{anchor} frame {n} (onset {sample.onset}, offset {sample.offset}) is outside "
            f"the frames {lo}..{hi} of {sample.frames_dir}"
        )


_EXTRACTOR: Any = None


def _init_worker(cfg_dict: dict[str, Any], threaded: bool = True) -> None:
    import cv2

    from meflow.features.sequence import SequenceExtractor

    cv2.setNumThreads(1)
    global _EXTRACTOR
    _EXTRACTOR = SequenceExtractor(from_dict(ExtractConfig, cfg_dict), threaded=threaded)


@dataclass
class SampleOutput:
    """What a worker computed for one sample: the cache file's arrays and meta, or none
    (``result.reason`` says why). The driver writes it (``write_sample``)."""

    result: SampleResult
    arrays: dict[str, np.ndarray] | None = None
    meta: dict[str, Any] | None = None


def compute_sample(sample: Sample) -> SampleOutput:
    """One sample's arrays and meta, computed in a worker; never raises for a bad sample."""
    from meflow.features.windows import pseudo_images, window_frames

    assert _EXTRACTOR is not None, "call _init_worker first"
    cfg: ExtractConfig = _EXTRACTOR.cfg
    sid = sample.sample_id
    try:
        if not sample.frames_dir.is_dir():
            raise MeflowError(f"frames folder {sample.frames_dir} does not exist")
        numbers = _frame_numbers(sample.frames_dir)
        if not numbers:
            raise MeflowError(f"frames folder {sample.frames_dir} holds no frame images")
        _check_anchor(sample, numbers[0], numbers[-1], cfg.features.anchor)
        taken = window_frames(sample, numbers[0], numbers[-1], cfg.features)
        start = int(taken[0])
        t0 = time.perf_counter()
        frames, missing = _read_window(sample, taken.tolist())
        decode = time.perf_counter() - t0
        if len(missing) == len(frames):
            raise MeflowError(
                f"none of the frames {start}..{int(taken[-1])} in {sample.frames_dir} could be "
                "read (missing, empty, corrupt or on the damaged-frame list)"
            )
        feats = _EXTRACTOR.run(lambda: frames, name=sid)
        feats.timings["decode"] += decode
        # a clip slower than features.fps repeats a frame: such a pair carries no motion
        feats.valid &= taken[1:] != taken[:-1]
        if not feats.valid.any():
            raise MeflowError(
                "no valid frame pair in the window (face not found or frames unreadable)"
            )
        f = cfg.features
        discrete, continuous = pseudo_images(
            feats.angle, feats.valid, f.sectors, feats.vector, f.noise_floor
        )
        label = EMOTIONS.index(sample.emotion) if sample.emotion in EMOTIONS else -1
        meta = {
            "sample_id": sid,
            "dataset": sample.dataset,
            "subject": sample.subject,
            "clip": sample.clip,
            "onset": sample.onset,
            "apex": sample.apex,
            "offset": sample.offset,
            "emotion": sample.emotion,
            "label": label,
            "window_start": start,
            "missing_frames": missing,
            "fps": sample.fps,  # the recording's rate; frames were taken at features.fps
            "features_fps": f.fps,
        }
        arrays = {
            **feats.arrays(),
            "frames": taken.astype(np.int32),
            "pseudo_discrete": discrete,
            "pseudo_continuous": continuous,
        }
        result = SampleResult(
            sid, "ok", "", start, int(feats.valid.sum()), feats.timings, feats.frames
        )
        return SampleOutput(result, arrays, meta)
    except MeflowError as exc:
        reason = str(exc)
    except Exception as exc:  # one bad sample never aborts a long extraction
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        reason = (
            f"internal error {type(exc).__name__}: {exc} ({Path(tb.filename).name}:{tb.lineno})"
        )
    return SampleOutput(SampleResult(sid, "failed", reason))


def write_sample(out_dir: Path, output: SampleOutput) -> SampleResult:
    """Writes a computed sample into ``out_dir/samples`` (its .npz, or its .failed.json)."""
    r = output.result
    samples_dir = out_dir / "samples"
    if output.arrays is not None:
        save_npz(samples_dir / f"{r.sample_id}.npz", output.arrays, output.meta)
    else:
        atomic_write_text(
            samples_dir / f"{r.sample_id}.failed.json",
            json.dumps({"sample_id": r.sample_id, "reason": r.reason}),
        )
    return r


def extract_sample(sample: Sample, out_dir: Path) -> SampleResult:
    """Extracts one sample into ``out_dir/samples``; never raises for a bad sample."""
    return write_sample(out_dir, compute_sample(sample))


def _setup_task(cfg_dict: dict[str, Any], alone: bool) -> None:
    # With several workers each one already has a core: no landmark thread.
    _init_worker(cfg_dict, threaded=alone)


def _compute_task(_cfg_dict: dict[str, Any], sample: Sample) -> SampleOutput:
    return compute_sample(sample)


def _lost_sample(sample: Sample, reason: str) -> SampleOutput:
    return SampleOutput(SampleResult(sample.sample_id, "failed", f"worker {reason}"))


def _check_manifest(out: Path, cfg: ExtractConfig, dataset: str) -> None:
    manifest = {
        "format": CACHE_FORMAT,
        "dataset": dataset,
        "extract": to_dict(cfg),
        "features_version": FEATURES_VERSION,
    }
    path = out / "cache.json"
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            raise MeflowError(
                f"{path}: unreadable cache manifest; use a new --out folder"
            ) from None
        if old.get("format") != CACHE_FORMAT:
            raise MeflowError(
                f"{path}: cache format {old.get('format')} is not {CACHE_FORMAT}; use a new --out"
            )
        if old.get("features_version", 1) != FEATURES_VERSION:
            raise MeflowError(
                f"{path}: the cache holds features of version {old.get('features_version', 1)}; "
                f"this meflow computes version {FEATURES_VERSION}; use a new --out folder"
            )
        if old.get("extract") != manifest["extract"] or old.get("dataset") != dataset:
            diff = [f"{k}" for k in ("dataset", "extract") if old.get(k) != manifest[k]]
            raise MeflowError(
                f"{out} holds a cache made with other settings ({', '.join(diff)} differ); "
                "use a new --out folder or the same settings"
            )
        return
    ensure_writable(out)
    atomic_write_text(
        path, json.dumps({**manifest, "meflow": __version__}, indent=2, sort_keys=True) + "\n"
    )


def write_table(out: Path, samples: Sequence[Sample]) -> list[dict[str, Any]]:
    """Rewrites ``samples.csv`` from the files present; returns its rows."""
    rows = []
    for s in samples:
        sid = s.sample_id
        row: dict[str, Any] = {
            "sample_id": sid,
            "dataset": s.dataset,
            "subject": s.subject,
            "clip": s.clip,
            "onset": s.onset,
            "apex": s.apex,
            "offset": s.offset,
            "emotion": s.emotion,
            "label": EMOTIONS.index(s.emotion) if s.emotion in EMOTIONS else -1,
            "status": "pending",
            "reason": "",
            "window_start": "",
            "valid_pairs": "",
        }
        npz = out / "samples" / f"{sid}.npz"
        failed = out / "samples" / f"{sid}.failed.json"
        if npz.exists():
            arrays, meta = load_npz(npz)
            missing = meta.get("missing_frames") or []
            row.update(
                status="ok",
                # a frame that is absent, empty, corrupt or on the damaged list is named here
                reason=f"frames missing or unreadable: {', '.join(map(str, missing))}"
                if missing
                else "",
                window_start=meta.get("window_start", ""),
                valid_pairs=int(arrays["valid"].sum()),
            )
        elif failed.exists():
            row.update(status="failed", reason=json.loads(failed.read_text())["reason"])
        rows.append(row)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=TABLE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / "samples.csv", buf.getvalue())
    return rows


def extract_dataset(
    samples: Sequence[Sample],
    out: Path,
    cfg: ExtractConfig | None = None,
    *,
    dataset: str = "dataset",
    workers: int = 1,
    progress: bool = True,
    retry_failed: bool = False,
    subjects_table: Path | None = None,
    executor: Executor | None = None,
) -> ExtractSummary:
    """Extracts every sample into the cache at ``out``, resuming what a previous run left.

    Samples are computed on ``executor`` (default: ``workers`` local processes); this process
    alone writes the cache, so every executor gives the same files.
    """
    from tqdm import tqdm

    from meflow.execution import LocalExecutor

    cfg = cfg or ExtractConfig()
    out = Path(out)
    _check_manifest(out, cfg, dataset)
    samples_dir = out / "samples"
    samples_dir.mkdir(parents=True, exist_ok=True)
    for stale in samples_dir.glob(".*.tmp"):  # left by a killed run
        stale.unlink(missing_ok=True)
    ids = [s.sample_id for s in samples]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise MeflowError(f"duplicate samples: {', '.join(dup[:5])}")
    if subjects_table is not None and subjects_table.exists():
        shutil.copyfile(subjects_table, out / "subjects.csv")
    todo = []
    for s in samples:
        if (samples_dir / f"{s.sample_id}.npz").exists():
            continue
        failed = samples_dir / f"{s.sample_id}.failed.json"
        if failed.exists():
            if not retry_failed:
                continue
            failed.unlink()
        todo.append(s)
    t0 = time.perf_counter()
    results: list[SampleResult] = []
    bar = tqdm(total=len(todo), desc="extract", unit="clip", disable=not progress or not todo)
    try:
        for r in _run_jobs(todo, out, cfg, executor or LocalExecutor(workers)):
            results.append(r)
            bar.update(1)
            if r.status != "ok":
                bar.write(f"  failed {r.sample_id}: {r.reason}")
    finally:
        bar.close()
        write_table(out, samples)
    timings: dict[str, float] = {}
    for r in results:
        for k, v in r.timings.items():
            timings[k] = timings.get(k, 0.0) + v
    return ExtractSummary(
        total=len(samples),
        done_before=len(samples) - len(todo),
        extracted=sum(r.status == "ok" for r in results),
        failed=[(r.sample_id, r.reason) for r in results if r.status != "ok"],
        seconds=time.perf_counter() - t0,
        frames=sum(r.frames for r in results),
        timings=timings,
    )


def _run_jobs(
    todo: Sequence[Sample], out: Path, cfg: ExtractConfig, executor: Executor
) -> Iterable[SampleResult]:
    """Computes the samples on the executor; writes each one here, as it comes back."""
    jobs = executor.map(_compute_task, todo, to_dict(cfg), setup=_setup_task, on_lost=_lost_sample)
    for _, output in jobs:
        yield write_sample(out, output)


def extract_video(
    path: Path, out_dir: Path, cfg: ExtractConfig | None = None, fps: float | None = None
) -> tuple[Path, Any]:
    """Extracts one video (or frame folder) into ``out_dir/<name>.npz``: (path, features)."""
    from meflow.features.sequence import SequenceExtractor
    from meflow.io import open_frames
    from meflow.predict import resample, timed_frames

    cfg = cfg or ExtractConfig()
    source = open_frames(path, fps)
    extractor = SequenceExtractor(cfg)
    # the video is brought to features.fps (the frame nearest each step, as a dataset's clips
    # are); where it is slower, a repeated frame makes a pair without motion (as in predict)
    rate = cfg.features.fps
    taken: list[int] = []

    def frames() -> Any:
        taken.clear()
        for i, _t, frame in resample(timed_frames(source, fps), rate):
            taken.append(i)
            yield frame

    feats = extractor.run(frames, name=str(path))
    idx = np.array(taken[: feats.frames], dtype=np.int64)
    feats.without_motion(idx[1:] == idx[:-1])
    if feats.frames < 2:
        raise MeflowError(f"{path}: only {feats.frames} frame; optical flow needs at least 2")
    target = Path(out_dir) / f"{Path(path).stem if Path(path).is_file() else Path(path).name}.npz"
    save_npz(
        target,
        {
            **feats.arrays(),
            "fps": np.array(source.info.fps, dtype=np.float64),
            "analysis_fps": np.array(rate, dtype=np.float64),
            "frames": idx.astype(np.int32),
        },
        {
            "source": Path(path).name,
            "extract": to_dict(cfg),
            "features_version": FEATURES_VERSION,
            "meflow": __version__,
            "timings": feats.timings,
        },
    )
    return target, feats


# the per-pair arrays of a cache sample that FeatureSet stacks (besides the pseudo-images)
SERIES = ("angle", "magnitude", "vector", "main", "valid")


@dataclass
class FeatureSet:
    """A cache's finished samples, ready for training: pseudo-images and per-pair series."""

    discrete: np.ndarray  # (N, 42, 64) uint8
    continuous: np.ndarray  # (N, 42, 64) uint8
    labels: np.ndarray  # (N,) int index into EMOTIONS
    subjects: np.ndarray  # (N,) str
    sample_ids: list[str]
    extract: dict[str, Any]
    skipped: list[tuple[str, str]]
    features_version: int = 1  # of the cache (meflow.features.FEATURES_VERSION)
    # SERIES stacked: angle, magnitude (N, 64, 42), vector, main (N, 64, 42, 2), valid (N, 64),
    # and expression (N, 64): the pairs inside the labelled onset..offset
    series: dict[str, np.ndarray] = field(default_factory=dict)
    clips: list[str] = field(default_factory=list)  # (N,) the clip of each sample

    def images(self, angle: str) -> np.ndarray:
        return self.discrete if angle == "discrete" else self.continuous

    def batch(self) -> dict[str, np.ndarray]:
        """The samples as a batch of windows for ``features.inputs.build_input``."""
        return {
            "pseudo_discrete": self.discrete,
            "pseudo_continuous": self.continuous,
            **self.series,
        }

    def subset(self, mask: np.ndarray) -> FeatureSet:
        idx = np.flatnonzero(mask)
        return FeatureSet(
            self.discrete[idx],
            self.continuous[idx],
            self.labels[idx],
            self.subjects[idx],
            [self.sample_ids[i] for i in idx],
            self.extract,
            self.skipped,
            self.features_version,
            {k: v[idx] for k, v in self.series.items()},
            [self.clips[i] for i in idx] if self.clips else [],
        )


def read_manifest(cache: Path) -> dict[str, Any]:
    """The cache.json of a cache made by this meflow; MeflowError (one line) otherwise."""
    cache = Path(cache)
    manifest = cache / "cache.json"
    if not manifest.exists():
        raise MeflowError(
            f"{cache}: not a meflow feature cache (no cache.json); run meflow extract"
        )
    try:
        doc: dict[str, Any] = json.loads(manifest.read_text())
    except (OSError, ValueError):
        raise MeflowError(f"{manifest}: unreadable cache manifest; re-extract") from None
    version = int(doc.get("features_version", 1))
    if version != FEATURES_VERSION:
        raise MeflowError(
            f"{cache}: the cache holds features of version {version}; this meflow computes "
            f"version {FEATURES_VERSION} (other pseudo-images for the same settings): "
            "re-extract it with meflow extract into a new --out folder"
        )
    return doc


def load_features(cache: Path, min_valid: float = 0.9) -> FeatureSet:
    """Reads a cache's finished six-class samples (at least ``min_valid`` valid pairs)."""
    cache = Path(cache)
    doc = read_manifest(cache)
    extract = doc["extract"]
    disc, cont, labels, subjects, ids, clips, skipped = [], [], [], [], [], [], []
    series: dict[str, list[np.ndarray]] = {k: [] for k in (*SERIES, "expression")}
    for f in sorted((cache / "samples").glob("*.npz")):
        arrays, meta = load_npz(f)
        sid = meta.get("sample_id", f.stem)
        if meta.get("label", -1) < 0:
            skipped.append((sid, f"emotion {meta.get('emotion')!r} is not one of the six classes"))
            continue
        frac = float(arrays["valid"].mean())
        if frac < min_valid - 1e-12:
            skipped.append((sid, f"only {frac:.0%} valid frame pairs (train.min_valid)"))
            continue
        disc.append(arrays["pseudo_discrete"])
        cont.append(arrays["pseudo_continuous"])
        for k in SERIES:
            series[k].append(arrays[k])
        fr = arrays["frames"]  # the expression's pairs: inside onset..offset
        series["expression"].append((fr[:-1] >= meta["onset"]) & (fr[1:] <= meta["offset"]))
        labels.append(int(meta["label"]))
        subjects.append(str(meta["subject"]))
        clips.append(str(meta.get("clip", "")))
        ids.append(sid)
    if not ids:
        raise MeflowError(f"{cache}: no finished six-class samples in the cache")
    return FeatureSet(
        np.stack(disc),
        np.stack(cont),
        np.array(labels),
        np.array(subjects),
        ids,
        extract,
        skipped,
        int(doc.get("features_version", 1)),
        {k: np.stack(v) for k, v in series.items()},
        clips,
    )
