"""Chunked extraction of a long recording: the features of ``extract --video`` to the bit, with
the work shared by an executor's workers and resumable after a kill.

The landmarks are the stateful part (Face Mesh tracks the face from frame to frame): they are
found in one pass over the recording, in a thread of the driver, and written in blocks of one
chunk's frames. Every other stage of a pair (preprocessing, crop, dense flow, head-motion
compensation, pooling) depends only on its two frames and the landmarks near them, so the
pairs are computed in chunks of ``chunk_seconds`` on the executor (local processes, or Ray),
each chunk as soon as the landmarks it reads are written: the landmark pass and the flow of
the chunks already known run at the same time. Each finished chunk is written atomically to
a work folder; the driver alone writes (as in dataset extraction).

Work folder: ``OUT/.meflow-chunks/<name>-<key>/``, the key a digest of the source (its files'
names, sizes and times), the settings and the chunk length: ``landmarks/<b>.npz`` (a block's
landmarks), ``landmarks/done.npz`` (the pass is complete), ``pairs/<c>.npz`` (a finished
chunk). A rerun skips the finished chunks; the landmark pass is run again unless it had
finished (a tracker cannot be resumed part-way). Once the features file is written the work
folder is removed.

Memory: the driver holds one block of landmarks and the features; a worker one chunk's
features and the few frames its pairs need at a time. A frame folder's frames are read by
file; a video is decoded from its start by each chunk (frames before its own dropped after
decoding), which costs a chunk about 1 ms a frame skipped.
"""

from __future__ import annotations

import hashlib
import json
import queue
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import numpy as np

from meflow.config import ExtractConfig, to_dict
from meflow.errors import MeflowError, NoFaceError
from meflow.execution import Executor, LocalExecutor
from meflow.features import FEATURES_VERSION
from meflow.features.cache import load_npz, save_npz
from meflow.features.chunk_output import assemble, save_chunks, save_features
from meflow.features.chunk_pass import (
    ChunkOutput,
    ChunkTask,
    Stopped,
    compute_chunk,
    landmark_pass,
    span,
    start_chunk_worker,
)
from meflow.features.chunk_source import FramePlan, plan_frames
from meflow.features.sequence import STAGES, SequenceFeatures

# seconds of a chunk (150 pairs at 30 fps): the pairs of the last chunk are what is left to
# compute once the landmark pass ends, so shorter chunks end sooner (a few ms of overhead each)
DEFAULT_CHUNK_SECONDS = 5.0
CHUNK_ABOVE_SECONDS = 60.0  # extract --video chunks a frame folder longer than this by default
WORK_FOLDER = ".meflow-chunks"


@dataclass
class ChunkedSummary:
    """What a chunked extraction did."""

    chunks: int
    done_before: int
    landmarks_resumed: bool
    seconds: float


def chunk_tasks(frames: int, block: int) -> list[ChunkTask]:
    """The chunks of a recording of ``frames`` frames: chunk c holds the pairs whose second
    frame is in block c (the frames ``c * block .. (c + 1) * block - 1``)."""
    tasks: list[ChunkTask] = []
    for c in range(-(-frames // block)):
        lo, hi = max(1, c * block), min(frames, (c + 1) * block)
        if hi > lo:
            tasks.append(ChunkTask(len(tasks), lo, hi))
    return tasks


def work_folder(out_dir: Path, name: str, plan: FramePlan, cfg: ExtractConfig, block: int) -> Path:
    """The work folder of this recording, these settings and this chunk length."""
    key = {
        "source": plan.path,
        "files": plan.fingerprint(),
        "taken": hashlib.sha256(plan.taken.tobytes()).hexdigest(),
        "extract": to_dict(cfg),
        "features_version": FEATURES_VERSION,
        "block": block,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return Path(out_dir) / WORK_FOLDER / f"{name}-{digest}"


class _Landmarks:
    """The landmark pass in a thread of the driver, and the blocks written so far."""

    def __init__(self, plan: FramePlan, cfg: ExtractConfig, work: Path, block: int) -> None:
        self.plan, self.cfg, self.work, self.block = plan, cfg, work, block
        self.blocks = -(-plan.frames // block)
        self.timings = {"decode": 0.0, "landmarks": 0.0}
        self._cond = threading.Condition()
        self._written = 0
        self._failure: BaseException | None = None
        self._stop = threading.Event()
        self.ok: np.ndarray | None = None
        self.resumed = False
        self._thread: threading.Thread | None = None
        done = work / "landmarks" / "done.npz"
        if done.exists():  # a previous run finished the pass
            self.ok = load_npz(done)[0]["ok"]
            self._written, self.resumed = self.blocks, True
        else:
            self._thread = threading.Thread(target=self._run, name="meflow-landmarks", daemon=True)
            self._thread.start()

    def _written_block(self, b: int) -> None:
        with self._cond:
            self._written = b + 1
            self._cond.notify_all()

    def _run(self) -> None:
        try:
            args = (self.plan, self.cfg, self.work, self.block)
            ok = landmark_pass(*args, self._written_block, self._stop, self.timings)
            save_npz(self.work / "landmarks" / "done.npz", {"ok": ok})
            self.ok = ok
        except BaseException as exc:  # handed to the driver's thread
            with self._cond:
                self._failure = exc
                self._cond.notify_all()

    def wait_for(self, b: int) -> None:
        """Returns once block ``b`` is written; raises the pass's error if it failed, Stopped
        if the run is being stopped."""
        with self._cond:
            while self._written <= b and self._failure is None and not self._stop.is_set():
                self._cond.wait(0.5)
            if self._written <= b:
                raise self._failure or Stopped()

    def finish(self) -> np.ndarray:
        """Per frame whether it has landmarks, once the pass is over (its error if it failed)."""
        if self._thread is not None:
            self._thread.join()
        if self._failure is not None and not isinstance(self._failure, Stopped):
            raise self._failure
        assert self.ok is not None
        return self.ok

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def in_threads(
    ready: Sequence[ChunkTask], context: dict[str, Any], threads: int, marks: _Landmarks
) -> Iterator[ChunkOutput]:
    """The chunks computed by ``threads`` threads of this process (each with its own flow
    backend: OpenCV and MediaPipe release the GIL), each given back as soon as it is done;
    after the landmark pass every thread works on the chunks left."""
    results: queue.SimpleQueue[tuple[ChunkOutput | None, BaseException | None]]
    results = queue.SimpleQueue()
    lock = threading.Lock()
    order = iter(range(len(ready)))
    stop = threading.Event()

    def work() -> None:
        try:
            w = start_chunk_worker(context, True)
            while not stop.is_set():
                with lock:
                    i = next(order, None)
                if i is None:
                    break
                results.put((compute_chunk(w, ready[i]), None))
        except BaseException as exc:  # handed to the driver's thread
            results.put((None, exc))
        finally:
            results.put((None, None))  # this thread is done

    pool = [
        threading.Thread(target=work, name="meflow-chunks", daemon=True) for _ in range(threads)
    ]
    for t in pool:
        t.start()
    try:
        running = threads
        while running:
            out, exc = results.get()
            if exc is not None and not isinstance(exc, Stopped):
                raise exc
            if out is None:
                running -= 1
            else:
                yield out
    finally:
        stop.set()
        marks.stop()  # a thread waiting for landmarks stops waiting
        for t in pool:
            t.join()


def local_chunking(workers: int) -> tuple[Executor | None, int]:
    """(executor, threads) for ``workers`` local cores: up to 2, the chunks run in threads of
    this process beside the landmark thread; more, on ``workers - 1`` processes."""
    if workers <= 2:
        return None, max(1, workers)
    return LocalExecutor(workers - 1), 1


class _ReadyTasks(Sequence[ChunkTask]):
    """The chunks to compute, each handed out once the landmarks it reads are written: an
    executor that takes its tasks one by one starts a chunk while the pass goes on."""

    def __init__(self, tasks: list[ChunkTask], marks: _Landmarks, frames: int, lag: int) -> None:
        self.tasks, self.marks, self.frames, self.lag = tasks, marks, frames, lag

    def __len__(self) -> int:
        return len(self.tasks)

    @overload
    def __getitem__(self, i: int) -> ChunkTask: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[ChunkTask]: ...
    def __getitem__(self, i: int | slice) -> ChunkTask | Sequence[ChunkTask]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        task = self.tasks[i]
        _, e = span(task, self.frames, self.lag)
        self.marks.wait_for((e - 1) // self.marks.block)
        return task

    def __iter__(self) -> Iterator[ChunkTask]:
        return (self[i] for i in range(len(self)))


def chunk_path(work: Path, c: int) -> Path:
    return work / "pairs" / f"{c:05d}.npz"


def extract_chunked(
    path: Path,
    out_dir: Path,
    cfg: ExtractConfig | None = None,
    fps: float | None = None,
    *,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    executor: Executor | None = None,
    threads: int = 2,
    keep_work: bool = False,
    features: bool = True,
) -> tuple[Path, SequenceFeatures, ChunkedSummary]:
    """Extracts one video (or frame folder) into ``out_dir/<name>.npz`` as ``extract_video``
    does (the same arrays to the bit), in chunks of ``chunk_seconds`` on ``executor``
    (default: ``threads`` threads of this process), resuming a previous run's work folder.
    ``features=False``: the file is written chunk by chunk, the features never held whole,
    and the features given back hold ``valid`` and ``frame_valid`` only."""
    cfg = cfg or ExtractConfig()
    if cfg.flow.reference != "previous":
        raise MeflowError("chunked extraction needs flow.reference=previous (pairs of neighbours)")
    t0 = time.perf_counter()
    rate = cfg.features.fps
    plan = plan_frames(Path(path), rate, fps)
    n = plan.frames
    if n < 2:
        raise MeflowError(f"{path}: only {n} frame; optical flow needs at least 2")
    lag = cfg.face.max_gap + 1
    block = max(2 * lag + 2, round(chunk_seconds * rate))
    name = Path(path).stem if Path(path).is_file() else Path(path).name
    work = work_folder(out_dir, name, plan, cfg, block)
    for stale in work.glob("*/.*.tmp"):  # left by a killed run
        stale.unlink(missing_ok=True)
    tasks = chunk_tasks(n, block)
    todo = [t for t in tasks if not chunk_path(work, t.index).exists()]
    marks = _Landmarks(plan, cfg, work, block)
    resumed = marks.resumed
    timings = dict.fromkeys(STAGES, 0.0)
    try:
        context = {"extract": to_dict(cfg), "plan": plan, "work": str(work), "block": block}
        ready = _ReadyTasks(todo, marks, n, lag)
        if executor is None:
            outputs: Iterator[ChunkOutput] = in_threads(ready, context, threads, marks)
        else:
            jobs = executor.map(compute_chunk, ready, context, setup=start_chunk_worker)
            outputs = (out for _, out in jobs)
        for out in outputs:
            _write_chunk(work, out, timings)
        ok = marks.finish()
    except NoFaceError:  # named as the caller named the recording, as one pass names it
        raise NoFaceError(f"{path}: no face found in any of its {n} frames") from None
    finally:
        marks.stop()
    for k, v in marks.timings.items():
        timings[k] += v
    chunks, repeated = [chunk_path(work, t.index) for t in tasks], plan.taken[1:] == plan.taken[:-1]
    target = Path(out_dir) / f"{name}.npz"
    if features:
        feats = assemble(chunks, ok, cfg.face.max_gap, timings)
        feats.without_motion(repeated)
        save_features(target, feats, plan, cfg, Path(path))
    else:  # memory flat in the recording's length
        feats = save_chunks(target, chunks, ok, repeated, cfg, (plan, Path(path), timings))
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
        if work.parent.is_dir() and not any(work.parent.iterdir()):
            work.parent.rmdir()
    summary = ChunkedSummary(len(tasks), len(tasks) - len(todo), resumed, time.perf_counter() - t0)
    return target, feats, summary


def _write_chunk(work: Path, out: ChunkOutput, timings: dict[str, float]) -> None:
    save_npz(chunk_path(work, out.index), out.arrays, {"timings": out.timings})
    for k, v in out.timings.items():
        timings[k] = timings.get(k, 0.0) + v


def chunking_seconds(requested: float | None, frames: int, rate: float) -> float | None:
    """The chunk length for ``extract --video``: ``requested`` (0: one pass), or by default
    DEFAULT_CHUNK_SECONDS for a recording longer than CHUNK_ABOVE_SECONDS, else None (one
    pass)."""
    if requested is not None:
        if requested < 0:
            raise MeflowError(f"--chunk-seconds must be 0 (one pass) or more, got {requested:g}")
        return requested or None
    return DEFAULT_CHUNK_SECONDS if frames > CHUNK_ABOVE_SECONDS * rate else None
