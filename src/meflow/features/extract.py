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
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meflow import __version__
from meflow.config import ExtractConfig, to_dict
from meflow.config_io import settings_match
from meflow.datasets.base import EMOTIONS, Sample
from meflow.errors import MeflowError
from meflow.execution import Executor, LocalExecutor
from meflow.features import FEATURES_VERSION
from meflow.features.cache import atomic_write_text, ensure_writable, load_npz, save_npz
from meflow.features.featureset import window_of
from meflow.features.sample import (
    SampleOutput,
    SampleResult,
    compute_task,
    lost_sample,
    start_worker,
)
from meflow.features.sequence import SequenceFeatures
from meflow.features.video import recording_arrays, video_features

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
class ExtractSummary:
    """What a dataset extraction did."""

    total: int
    done_before: int
    extracted: int
    failed: list[tuple[str, str]]
    seconds: float
    frames: int
    timings: dict[str, float]


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
        same = {"dataset": old.get("dataset") == dataset,
                "extract": settings_match(ExtractConfig, old.get("extract"), cfg)}  # fmt: skip
        if not all(same.values()):
            diff = [k for k, ok in same.items() if not ok]
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
                valid_pairs=int(window_of(arrays["valid"], meta).sum()),
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
    todo = _todo(samples, samples_dir, retry_failed)
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


def _todo(samples: Sequence[Sample], samples_dir: Path, retry_failed: bool) -> list[Sample]:
    """The samples without a file yet (and the failed ones, removed, with ``retry_failed``)."""
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
    return todo


def _run_jobs(
    todo: Sequence[Sample], out: Path, cfg: ExtractConfig, executor: Executor
) -> Iterable[SampleResult]:
    """Computes the samples on the executor; writes each one here, as it comes back."""
    # each worker's state is its SequenceExtractor, made once from the settings (start_worker)
    jobs = executor.map(compute_task, todo, to_dict(cfg), setup=start_worker, on_lost=lost_sample)
    for _, output in jobs:
        yield write_sample(out, output)


def extract_video(
    path: Path, out_dir: Path, cfg: ExtractConfig | None = None, fps: float | None = None
) -> tuple[Path, SequenceFeatures]:
    """Extracts one video (or frame folder) into ``out_dir/<name>.npz``: (path, features).

    The video is brought to features.fps (the frame nearest each step, as a dataset's clips
    are); where it is slower, a repeated frame makes a pair without motion (as in predict):
    :func:`meflow.features.video.video_features`."""
    cfg = cfg or ExtractConfig()
    vf = video_features(path, cfg, fps=fps)
    feats = vf.features
    target = Path(out_dir) / f"{Path(path).stem if Path(path).is_file() else Path(path).name}.npz"
    save_npz(
        target,
        {**feats.arrays(), **recording_arrays(vf)},
        {
            "source": Path(path).name,
            "extract": to_dict(cfg),
            "features_version": FEATURES_VERSION,
            "meflow": __version__,
            "timings": feats.timings,
        },
    )
    return target, feats
