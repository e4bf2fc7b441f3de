"""One dataset sample's features, computed in a worker: the frames of its window -> the arrays
and meta of its cache file (the driver writes them: ``features.extract``).

The executor keeps one SequenceExtractor per worker process (``start_worker``, its state) and
hands it to every task of that worker (``compute_task``).
"""

from __future__ import annotations

import os
import re
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meflow.config import ExtractConfig, from_dict
from meflow.datasets.base import EMOTIONS, Sample
from meflow.errors import MeflowError
from meflow.features.sequence import SequenceExtractor, SequenceFeatures
from meflow.features.windows import anchor_frame, pseudo_images, window_frames
from meflow.io import read_image


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
class SampleOutput:
    """What a worker computed for one sample: the cache file's arrays and meta, or none
    (``result.reason`` says why). The driver writes it (``write_sample``)."""

    result: SampleResult
    arrays: dict[str, np.ndarray] | None = None
    meta: dict[str, Any] | None = None


def start_worker(cfg_dict: dict[str, Any], alone: bool) -> SequenceExtractor:
    """A worker's state (executor setup): the extractor every task of the worker uses."""
    import cv2

    cv2.setNumThreads(1)
    # With several workers each one already has a core: no landmark thread.
    return SequenceExtractor(from_dict(ExtractConfig, cfg_dict), threaded=alone)


def compute_task(extractor: SequenceExtractor, sample: Sample) -> SampleOutput:
    """The executor's task: one sample's output, computed with the worker's extractor."""
    return compute_sample(extractor, sample)


def lost_sample(sample: Sample, reason: str) -> SampleOutput:
    """The output of a sample whose worker was lost (executor on_lost)."""
    return SampleOutput(SampleResult(sample.sample_id, "failed", f"worker {reason}"))


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
    lo = first if sample.first_frame is None else max(first, sample.first_frame)
    hi = last if sample.last_frame is None else min(last, sample.last_frame)
    n = anchor_frame(sample, anchor)
    if not lo <= n <= hi:
        raise MeflowError(
            f"{anchor} frame {n} (onset {sample.onset}, offset {sample.offset}) is outside "
            f"the frames {lo}..{hi} of {sample.frames_dir}"
        )


def _window(sample: Sample, cfg: ExtractConfig) -> np.ndarray:
    """The frame numbers of the sample's window; MeflowError when it has none to take."""
    if not sample.frames_dir.is_dir():
        raise MeflowError(f"frames folder {sample.frames_dir} does not exist")
    numbers = _frame_numbers(sample.frames_dir)
    if not numbers:
        raise MeflowError(f"frames folder {sample.frames_dir} holds no frame images")
    _check_anchor(sample, numbers[0], numbers[-1], cfg.features.anchor)
    return window_frames(sample, numbers[0], numbers[-1], cfg.features)


def _meta(sample: Sample, cfg: ExtractConfig, start: int, missing: list[int]) -> dict[str, Any]:
    """The meta of a sample's cache file."""
    return {
        "sample_id": sample.sample_id,
        "dataset": sample.dataset,
        "subject": sample.subject,
        "clip": sample.clip,
        "onset": sample.onset,
        "apex": sample.apex,
        "offset": sample.offset,
        "emotion": sample.emotion,
        "label": EMOTIONS.index(sample.emotion) if sample.emotion in EMOTIONS else -1,
        "window_start": start,
        "missing_frames": missing,
        "fps": sample.fps,  # the recording's rate; frames were taken at features.fps
        "features_fps": cfg.features.fps,
    }


def _window_features(
    extractor: SequenceExtractor, sample: Sample, taken: np.ndarray
) -> tuple[SequenceFeatures, list[int]]:
    """The features of the window's frames, and the frames that could not be read."""
    t0 = time.perf_counter()
    frames, missing = _read_window(sample, taken.tolist())
    decode = time.perf_counter() - t0
    if len(missing) == len(frames):
        raise MeflowError(
            f"none of the frames {int(taken[0])}..{int(taken[-1])} in {sample.frames_dir} could "
            "be read (missing, empty, corrupt or on the damaged-frame list)"
        )
    feats = extractor.run(lambda: frames, name=sample.sample_id)
    feats.timings["decode"] += decode
    # a clip slower than features.fps repeats a frame: such a pair carries no motion
    feats.valid &= taken[1:] != taken[:-1]
    if not feats.valid.any():
        raise MeflowError("no valid frame pair in the window (face not found or frames unreadable)")
    return feats, missing


def compute_sample(extractor: SequenceExtractor, sample: Sample) -> SampleOutput:
    """One sample's arrays and meta, computed with ``extractor``; never raises for a bad one."""
    cfg: ExtractConfig = extractor.cfg
    sid = sample.sample_id
    try:
        taken = _window(sample, cfg)
        start = int(taken[0])
        feats, missing = _window_features(extractor, sample, taken)
        f = cfg.features
        discrete, continuous = pseudo_images(
            feats.angle, feats.valid, f.sectors, feats.vector, f.noise_floor
        )
        arrays = {
            **feats.arrays(),
            "frames": taken.astype(np.int32),
            "pseudo_discrete": discrete,
            "pseudo_continuous": continuous,
        }
        result = SampleResult(
            sid, "ok", "", start, int(feats.valid.sum()), feats.timings, feats.frames
        )
        return SampleOutput(result, arrays, _meta(sample, cfg, start, missing))
    except MeflowError as exc:
        reason = str(exc)
    except Exception as exc:  # one bad sample never aborts a long extraction
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        reason = (
            f"internal error {type(exc).__name__}: {exc} ({Path(tb.filename).name}:{tb.lineno})"
        )
    return SampleOutput(SampleResult(sid, "failed", reason))
