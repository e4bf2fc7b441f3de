"""The two stages of chunked extraction (features.chunked): one landmark pass over the whole
recording, then the pairs of each chunk, computed anywhere.

Face Mesh tracks the face from frame to frame (its landmarks on a frame depend on the frames
before), so the landmarks are found once, in order, as one pass finds them; each block of
``block`` frames is written to the work folder as soon as it is done. A chunk's pairs need
only their frames and the landmarks of those frames and of ``max_gap + 1`` frames either side
(what gap filling reads): a worker reads those and runs them through the very
``SequencePass`` that one pass uses, so every pair is computed by the same code on the same
inputs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meflow.config import ExtractConfig, from_dict
from meflow.errors import NoFaceError
from meflow.face.landmarks import N_LANDMARKS, LandmarkTracker, quiet_native_stderr
from meflow.face.regions import N_REGIONS
from meflow.features.cache import load_npz, save_npz
from meflow.features.chunk_source import FramePlan, FrameReader, iter_frames
from meflow.features.pooling import AVERAGES
from meflow.features.sequence import STAGES, strided
from meflow.features.streaming import LAG_STRIDE, SequencePass

PAIR_ARRAYS = ("angle", "magnitude", "vector", "main", "valid")


class Stopped(Exception):
    """The landmark pass was asked to stop (the driver failed or was interrupted)."""


def block_path(work: Path, b: int) -> Path:
    return Path(work) / "landmarks" / f"{b:05d}.npz"


def landmark_pass(
    plan: FramePlan,
    cfg: ExtractConfig,
    work: Path,
    block: int,
    written: Callable[[int], None],
    stop: threading.Event,
    timings: dict[str, float],
) -> np.ndarray:
    """Finds the landmarks of the frames looked at (face.landmark_stride, as one pass of a
    video does) in order and writes every frame's in blocks of ``block`` frames
    (``written(b)`` after block b); gives per frame whether it has landmarks. Raises
    NoFaceError when no frame holds a face."""
    n = plan.frames
    ok = np.zeros(n, dtype=bool)
    missing = np.full((N_LANDMARKS, 2), np.nan, dtype=np.float32)
    raw: list[np.ndarray] = []
    found: list[bool] = []
    read = FrameReader(plan, cfg.face.landmark_stride)
    # MediaPipe's native threads log start-up chatter at unpredictable moments of the pass
    with quiet_native_stderr():
        tracker = LandmarkTracker(cfg.face)

        def look(k: int) -> np.ndarray | None:
            if stop.is_set():
                raise Stopped
            t0 = time.perf_counter()
            frame = read(k)
            t1 = time.perf_counter()
            pts = tracker(frame) if frame is not None else None
            timings["decode"] += t1 - t0
            timings["landmarks"] += time.perf_counter() - t1
            return pts

        try:
            # the frames looked at, in the order one pass of a video looks at them
            for k, pts in strided(range(n), cfg.face.landmark_stride, look):
                if stop.is_set():
                    raise Stopped
                row = missing if pts is None else np.asarray(pts, dtype=np.float32)
                raw.append(row)
                found.append(pts is not None)
                ok[k] = not np.isnan(row).any()
                if len(raw) == block or k == n - 1:
                    save_npz(
                        block_path(work, k // block),
                        {"raw": np.stack(raw), "found": np.array(found, dtype=bool)},
                    )
                    raw.clear()
                    found.clear()
                    written(k // block)
        finally:
            tracker.close()
    if not ok.any():
        raise NoFaceError(f"{plan.path}: no face found in any of {n} frames")
    return ok


@dataclass(frozen=True)
class ChunkTask:
    """Pairs ``lo .. hi - 1`` of the recording (pair u joins frames u - 1 and u)."""

    index: int
    lo: int
    hi: int


@dataclass
class ChunkOutput:
    index: int
    arrays: dict[str, np.ndarray]
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class ChunkWorker:
    """A worker's state: the settings, the plan and the work folder, and its flow backend."""

    cfg: ExtractConfig
    plan: FramePlan
    work: Path
    block: int
    flow: Any


def start_chunk_worker(context: dict[str, Any], alone: bool) -> ChunkWorker:
    """Executor setup: one flow backend per worker (OpenCV on one thread, as extraction)."""
    import cv2

    from meflow.flow import get_flow  # imports cv2: deferred

    cv2.setNumThreads(1)
    cfg = from_dict(ExtractConfig, context["extract"])
    return ChunkWorker(
        cfg,
        context["plan"],
        Path(context["work"]),
        int(context["block"]),
        get_flow(cfg.flow.backend),
    )


def span(task: ChunkTask, n: int, lag: int, back: int = 0) -> tuple[int, int]:
    """The frames ``s .. e - 1`` whose landmarks the pairs of ``task`` read (with direct
    pairs reaching ``back`` frames before the first pair's first frame)."""
    return max(0, task.lo - 1 - back - lag), min(n, task.hi + lag)


def read_landmarks(work: Path, block: int, s: int, e: int) -> tuple[np.ndarray, np.ndarray]:
    """(raw landmarks, found) of frames ``s .. e - 1`` from the landmark blocks."""
    raws, founds = [], []
    for b in range(s // block, (e - 1) // block + 1):
        arrays, _ = load_npz(block_path(work, b))
        raws.append(arrays["raw"])
        founds.append(arrays["found"])
    first = (s // block) * block
    return (
        np.concatenate(raws)[s - first : e - first],
        np.concatenate(founds)[s - first : e - first],
    )


def compute_chunk(w: ChunkWorker, task: ChunkTask) -> ChunkOutput:
    """The executor's task: the region features of the chunk's pairs."""
    cfg = w.cfg
    lag = cfg.face.max_gap + 1
    lags = cfg.features.spot_lag_list
    back = max(lags, default=0)  # frames before the chunk's first pair its direct pairs read
    s, e = span(task, w.plan.frames, lag, back)
    raw, found = read_landmarks(w.work, w.block, s, e)
    tm = dict.fromkeys(STAGES, 0.0)
    average = AVERAGES[cfg.features.angle_average]
    sequence = SequencePass(
        cfg, average, w.flow, lambda: w.flow, tm, False,
        spot_lags=lags, lag_stride=LAG_STRIDE, offset=s, first_pair=task.lo - s,
    )  # fmt: skip
    first = max(0, task.lo - 1 - back)
    frames = iter_frames(w.plan, first, task.hi)

    def items() -> Iterator[object]:
        for j in range(e - s):
            i = s + j
            frame = None
            if first <= i < task.hi:
                t0 = time.perf_counter()
                frame = next(frames)
                tm["decode"] += time.perf_counter() - t0
            yield (raw[j] if found[j] else None, frame, None)

    m = task.hi - task.lo
    try:
        sequence.consume(items(), [], f"{w.plan.path} pairs {task.lo}..{task.hi - 1}")
    except NoFaceError:  # no face near these pairs: all of them invalid, as in one pass
        return ChunkOutput(task.index, _invalid(m, len(lags)), tm)
    rows = sequence.rows[task.lo - s - 1 : task.hi - s - 1]
    arrays = {
        k: np.stack([getattr(r[0], k) for r in rows])
        for k in ("angle", "magnitude", "vector", "main")
    }
    arrays["valid"] = np.array([r[1] for r in rows], dtype=bool)
    lag_vector = sequence.lag_vector()
    if lag_vector is not None:
        arrays["lag_vector"] = lag_vector[task.lo - s - 1 : task.hi - s - 1]
    return ChunkOutput(task.index, arrays, tm)


def _invalid(m: int, lags: int) -> dict[str, np.ndarray]:
    out = {
        "angle": np.full((m, N_REGIONS), np.nan, np.float32),
        "magnitude": np.full((m, N_REGIONS), np.nan, np.float32),
        "vector": np.full((m, N_REGIONS, 2), np.nan, np.float32),
        "main": np.full((m, N_REGIONS, 2), np.nan, np.float32),
        "valid": np.zeros(m, dtype=bool),
    }
    if lags:
        out["lag_vector"] = np.full((m, lags, N_REGIONS, 2), np.nan, np.float32)
    return out
