"""The frames of one video or frame folder as chunked extraction reads them (features.chunked).

A :class:`FramePlan` is made before any landmark is found: which source frame each analysis
frame is (``taken``: the video brought to ``features.fps`` exactly as ``extract --video`` does
it, by ``io.timebase.resample``), so that the chunks are known from the start. A frame folder's
frames are then read by file, in any order; a video file is decoded from its start (frames
before a chunk's are decoded and dropped, as a video has no exact random access).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from meflow.errors import MeflowError
from meflow.io import open_frames, read_image
from meflow.io.frames import IMAGE_SUFFIXES, _natural_key, video_capture
from meflow.io.timebase import _video_timestamps, resample

_PLACEHOLDER = np.zeros((1, 1, 3), np.uint8)  # what the timestamp pass gives for a frame


@dataclass(frozen=True)
class FramePlan:
    """Which source frame each analysis frame is, and how to read it."""

    path: str  # absolute: a Ray worker does not share the driver's working folder
    files: tuple[str, ...] | None  # a folder's image files in order; None for a video file
    taken: np.ndarray  # (frames,) int64: the source frame of each analysis frame
    source_fps: float  # what extract --video records as "fps"

    @property
    def frames(self) -> int:
        return int(self.taken.shape[0])

    def fingerprint(self) -> str:
        """A digest of the source's files (names, sizes, modification times): a changed
        recording gets another work folder."""
        h = hashlib.sha256()
        for name in self.files if self.files is not None else (self.path,):
            st = Path(name).stat()
            h.update(json.dumps([Path(name).name, st.st_size, st.st_mtime_ns]).encode())
        return h.hexdigest()


class _GrabOnly:
    """A capture whose ``read`` only grabs (decodes without converting the image): the
    timestamps and the number of frames of a video at a fraction of a full read."""

    def __init__(self, cap: Any) -> None:
        self._cap = cap

    def read(self) -> tuple[bool, np.ndarray | None]:
        ok = bool(self._cap.grab())
        return ok, _PLACEHOLDER if ok else None

    def get(self, prop: int) -> float:
        return float(self._cap.get(prop))

    def release(self) -> None:
        self._cap.release()


def plan_frames(path: Path, rate: float, fps: float | None = None) -> FramePlan:
    """The plan of ``path`` brought to ``rate`` frames a second (``fps``: the source's own
    rate, as ``extract --video`` takes it: a folder's default, or the video's)."""
    path = Path(path).absolute()
    source = open_frames(path, fps)
    try:
        source_fps = float(source.info.fps)
        own = float(fps or source_fps)
        if path.is_dir():
            files = tuple(
                str(p)
                for p in sorted(
                    (p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                    key=_natural_key,
                )
            )
            timed: Any = ((i, i / own, None) for i in range(len(files)))
        else:
            files = None
            cap = _GrabOnly(source.capture())
            if fps:  # as timed_frames: the frames 1 / fps apart
                timed = ((i, i / own, None) for i in range(_count(path, cap)))
            else:
                timed = _video_timestamps(path, own, cap)
        taken = np.array([i for i, _t, _f in resample(timed, rate)], dtype=np.int64)
    finally:
        source.close()
    return FramePlan(str(path), files, taken, source_fps)


def _count(path: Path, cap: _GrabOnly) -> int:
    n = 0
    try:
        while cap.read()[0]:
            n += 1
    finally:
        cap.release()
    if n == 0:
        raise MeflowError(f"{path}: no frame could be decoded (unreadable or truncated file)")
    return n


def _source_frames(plan: FramePlan, wanted: Sequence[int]) -> Iterator[tuple[int, Any]]:
    """(source index, frame or None) of the source frames ``wanted`` (increasing)."""
    if plan.files is not None:
        for i in wanted:
            yield i, read_image(plan.files[i])
        return
    if not wanted:
        return
    cap = video_capture(plan.path)
    try:
        want = iter(wanted)
        nxt = next(want, None)
        i = 0
        while nxt is not None:
            if i < nxt:
                if not cap.grab():
                    break
            else:
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                yield i, frame
                nxt = next(want, None)
            i += 1
    finally:
        cap.release()
    if nxt is not None:
        raise MeflowError(f"{plan.path}: frame {nxt} could not be decoded again")


def iter_frames(plan: FramePlan, lo: int = 0, hi: int | None = None) -> Iterator[Any]:
    """The analysis frames ``lo .. hi - 1`` in order (None: an unreadable image), each source
    frame read once (a repeated frame is the same array twice, as in a one-pass reading)."""
    taken = plan.taken[lo:hi]
    wanted = sorted({int(i) for i in taken})
    frames = _source_frames(plan, wanted)
    current: tuple[int, Any] = (-1, None)
    for i in taken.tolist():
        while current[0] != i:
            current = next(frames)
        yield current[1]


def read_frames(plan: FramePlan, lo: int, hi: int) -> dict[int, Any]:
    """The analysis frames ``lo .. hi - 1`` by number."""
    return dict(zip(range(lo, hi), iter_frames(plan, lo, hi), strict=True))


class FrameReader:
    """Analysis frame ``k`` of a plan on request, as ``iter_frames`` gives it: a folder's image
    read by file (the others never read); a video decoded in order, its last ``keep`` frames
    kept for requests that look back."""

    def __init__(self, plan: FramePlan, keep: int) -> None:
        self.plan, self.keep = plan, keep
        self._frames = iter_frames(plan) if plan.files is None else None
        self._recent: dict[int, Any] = {}
        self._next = 0

    def __call__(self, k: int) -> Any:
        if self.plan.files is not None:
            return read_image(self.plan.files[int(self.plan.taken[k])])
        assert self._frames is not None
        while self._next <= k:
            self._recent[self._next] = next(self._frames)
            self._recent.pop(self._next - self.keep, None)
            self._next += 1
        return self._recent[k]
