"""A video's time base: its frames with their timestamps, and resampling to a frame rate.

``meflow predict`` and ``meflow extract`` bring every video to the training data's rate this
way (the frame nearest in time to each step; docs/predict.md).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from meflow.errors import MeflowError
from meflow.io.frames import video_capture

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
