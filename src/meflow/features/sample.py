"""One dataset sample's features, computed in a worker: the frames of its span (the window and
its margins) and its onset and apex frames -> the arrays and meta of its cache file (the driver
writes them: ``features.extract``).

The executor keeps one SequenceExtractor per worker process (``start_worker``, its state) and
hands it to every task of that worker (``compute_task``).
"""

from __future__ import annotations

import dataclasses
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
from meflow.features.expression_flow import descriptors, labelled_pairs
from meflow.features.pair import PairFeatures
from meflow.features.sequence import SequenceExtractor, SequenceFeatures, on_span
from meflow.features.windows import anchor_frame, pseudo_images, span_frames
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
    # With several workers each one already has a core: no landmark thread. The MediaPipe graph
    # is kept from one sequence to the next (reset in between: the same landmarks as a new one),
    # which saves its start-up twice a sample (the span, then onset and apex).
    return SequenceExtractor(from_dict(ExtractConfig, cfg_dict), threaded=alone, keep_warm=True)


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


def _read_frames(sample: Sample, numbers: Sequence[int]) -> dict[int, np.ndarray | None]:
    """Each frame of ``numbers``, read once (None: missing, unreadable or damaged)."""
    return {
        n: None if n in sample.bad_frames else read_image(sample.frame_path(n))
        for n in dict.fromkeys(numbers)
    }


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


def _span(sample: Sample, cfg: ExtractConfig) -> tuple[np.ndarray, int]:
    """The frame numbers of the sample's span and its window's first pair (``span_frames``);
    MeflowError when it has none to take."""
    if not sample.frames_dir.is_dir():
        raise MeflowError(f"frames folder {sample.frames_dir} does not exist")
    numbers = _frame_numbers(sample.frames_dir)
    if not numbers:
        raise MeflowError(f"frames folder {sample.frames_dir} holds no frame images")
    _check_anchor(sample, numbers[0], numbers[-1], cfg.features.anchor)
    f = cfg.features
    if cfg.flow.reference == "first":  # every pair's flow is from the window's first frame
        f = dataclasses.replace(f, margin=0)
    return span_frames(sample, numbers[0], numbers[-1], f)


def _meta(
    sample: Sample, cfg: ExtractConfig, taken: np.ndarray, index: int, missing: list[int]
) -> dict[str, Any]:
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
        "window_start": int(taken[index]),  # the first frame of the centred window
        "window_index": index,  # its first pair in the span
        "window": cfg.features.window,
        "missing_frames": missing,
        "fps": sample.fps,  # the recording's rate; frames were taken at features.fps
        "features_fps": cfg.features.fps,
    }


def _span_features(
    extractor: SequenceExtractor, sample: Sample, taken: np.ndarray
) -> tuple[SequenceFeatures, dict[int, np.ndarray | None], int]:
    """(the features of the span's frames, the frames read, distinct frames processed)."""
    t0 = time.perf_counter()
    images = _read_frames(sample, taken.tolist())
    decode = time.perf_counter() - t0
    if all(img is None for img in images.values()):
        raise MeflowError(
            f"none of the frames {int(taken[0])}..{int(taken[-1])} in {sample.frames_dir} could "
            "be read (missing, empty, corrupt or on the damaged-frame list)"
        )
    distinct = list(images.values())  # in order: the span's frames never go back
    if len(distinct) < 2:
        raise MeflowError(f"only one frame ({int(taken[0])}); optical flow needs at least 2")
    feats = extractor.run(lambda: distinct, name=sample.sample_id)
    feats.timings["decode"] += decode
    span = on_span(feats, taken, extractor.cfg.flow.reference == "first")
    if not span.valid.any():
        raise MeflowError("no valid frame pair in the window (face not found or frames unreadable)")
    return span, images, len(distinct)


def labelled_frames(sample: Sample, k: int) -> tuple[list[int], list[int], list[int]]:
    """The native frames averaged for the onset, the apex and the offset
    (``features.onset_apex_average`` = k): onset-k..onset and offset..offset+k (the face at rest
    on either side of the expression), apex-k..apex+k inside onset..offset; the labelled frame
    first, none outside the recording's known frames."""
    lo = -(10**9) if sample.first_frame is None else sample.first_frame
    hi = 10**9 if sample.last_frame is None else sample.last_frame
    on = [n for n in range(sample.onset, sample.onset - k - 1, -1) if n >= lo]
    off = [n for n in range(sample.offset, sample.offset + k + 1) if n <= hi]
    near = sorted(range(-k, k + 1), key=abs)[1:]
    ap = [sample.apex] + [
        sample.apex + d for d in near if sample.onset < sample.apex + d < sample.offset
    ]
    return on, ap, off


def _mean_frame(
    sample: Sample, images: dict[int, np.ndarray | None], numbers: list[int]
) -> np.ndarray | None:
    """The mean of the readable frames of ``numbers`` as uint8 (those of another size left
    out); None when the first (the labelled frame) is unreadable."""
    more = [n for n in numbers if n not in images]
    read = {**images, **_read_frames(sample, more)} if more else images
    first = read[numbers[0]]
    if first is None:
        return None
    ok = [f for f in (read[n] for n in numbers) if f is not None and f.shape == first.shape]
    if len(ok) == 1:
        return first
    return np.round(np.mean(np.stack(ok), axis=0, dtype=np.float32)).astype(np.uint8)


def expression_flows(
    extractor: SequenceExtractor, sample: Sample, images: dict[int, np.ndarray | None]
) -> tuple[dict[str, np.ndarray], int]:
    """(arrays, frames processed): the flows from the labelled onset frame to the apex frame
    (``onset_apex``) and from the apex frame to the offset frame (``apex_offset``), native
    frame numbers, head motion compensated as the flow settings say, each labelled frame
    averaged with its neighbours as ``features.onset_apex_average`` says (the noise of one
    frame drops, the expression's displacement stays). Per flow NAME: NAME (42, 2) each
    region's mean flow, NAME_parts (42, 4, 2) its mean over four parts of the region and
    NAME_strain (42,) its mean optical strain magnitude (``features.expression_flow``), all
    float32, and NAME_valid (1,) bool. NaN and False where there is no such flow: onset ==
    apex (apex == offset), a labelled frame unreadable, or no face."""
    k = extractor.cfg.features.onset_apex_average
    out: dict[str, np.ndarray] = {}
    for name in FLOWS:
        out |= {f"{name}{key}": a for key, a in _flow_arrays(None).items()}
    means = [_mean_frame(sample, images, numbers) for numbers in labelled_frames(sample, k)]
    # the flows to compute: (first, second, name) where the labelled frames differ
    wanted = [
        (a, b, name)
        for a, b, name, same in (
            (0, 1, "onset_apex", sample.onset == sample.apex),
            (1, 2, "apex_offset", sample.apex == sample.offset),
        )
        if not same and means[a] is not None and means[b] is not None
    ]
    if not wanted:
        return out, 0
    seq = sorted({i for a, b, _ in wanted for i in (a, b)})  # consecutive pairs of seq
    pairs = labelled_pairs(extractor, [m for i in seq if (m := means[i]) is not None])
    for a, _, name in wanted:
        pair = pairs[seq.index(a)]
        if pair is not None:
            out |= {f"{name}{key}": v for key, v in _flow_arrays(pair).items()}
    return out, len(seq)


FLOWS = ("onset_apex", "apex_offset")  # the flows between the labelled frames


def _flow_arrays(pair: PairFeatures | None) -> dict[str, np.ndarray]:
    """A flow's arrays by the suffix of their cache key ('' for the region means, _parts,
    _strain, _valid); NaN and False without a pair."""
    d = descriptors(pair)
    return {
        "": d["vector"],
        "_parts": d["parts"],
        "_strain": d["strain"],
        "_valid": np.array([pair is not None]),
    }


def compute_sample(extractor: SequenceExtractor, sample: Sample) -> SampleOutput:
    """One sample's arrays and meta, computed with ``extractor``; never raises for a bad one."""
    cfg: ExtractConfig = extractor.cfg
    sid = sample.sample_id
    try:
        taken, index = _span(sample, cfg)
        feats, images, frames = _span_features(extractor, sample, taken)
        t0 = time.perf_counter()
        flows, more = expression_flows(extractor, sample, images)
        feats.timings["onset_apex"] = time.perf_counter() - t0
        f = cfg.features
        discrete, continuous = pseudo_images(
            feats.angle, feats.valid, f.sectors, feats.vector, f.noise_floor
        )
        arrays = {
            **feats.arrays(),
            "frames": taken.astype(np.int32),
            "pseudo_discrete": discrete,
            "pseudo_continuous": continuous,
            **flows,
        }
        missing = sorted(n for n, img in images.items() if img is None)
        window = feats.valid[index : index + f.window]
        result = SampleResult(
            sid, "ok", "", int(taken[index]), int(window.sum()), feats.timings, frames + more
        )
        return SampleOutput(result, arrays, _meta(sample, cfg, taken, index, missing))
    except MeflowError as exc:
        reason = str(exc)
    except Exception as exc:  # one bad sample never aborts a long extraction
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        reason = (
            f"internal error {type(exc).__name__}: {exc} ({Path(tb.filename).name}:{tb.lineno})"
        )
    return SampleOutput(SampleResult(sid, "failed", reason))
