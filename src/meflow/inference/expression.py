"""The onset-to-apex flows of spotted micro-expressions, for a model whose input reads them.

A model trained on an input of ``config.ONSET_APEX_INPUTS`` (``onset-apex``,
``onset-apex-offset``, ...) sees the flow from an expression's labelled onset frame to its apex
frame (and from the apex to the offset), not a window. On a new video the spotter's onset, apex
and offset stand in for the labels: each spotted micro-expression becomes a sample whose
labelled frames are the spotted ones, and its flows are computed by extraction's own code
(:func:`meflow.features.sample.expression_flows`, with the model's settings: each labelled
frame averaged with its neighbours as ``features.onset_apex_average`` says) on the source's
own frames, at its own rate, as a dataset's clip was. Such a model classifies spotted
micro-expressions only; its windows carry no probabilities (docs/predict.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from meflow.config import ONSET_APEX_INPUTS

if TYPE_CHECKING:
    from meflow.datasets.base import Sample
    from meflow.features.video import VideoFeatures
    from meflow.inference.model import LoadedModel
    from meflow.spotting.scoring import Interval


def reads_expression_flows(loaded: LoadedModel) -> bool:
    """Whether the model's input is the flow between an expression's labelled frames."""
    return loaded.input in ONSET_APEX_INPUTS


def spotted_sample(iv: Interval, vf: VideoFeatures) -> Sample:
    """The spotted interval as a sample of the video (the source's 0-based frame numbers;
    without a spotted apex the middle of the interval)."""
    from meflow.datasets.base import Sample

    apex = iv.apex if iv.apex is not None else (iv.onset + iv.offset) // 2
    return Sample(
        dataset="video",
        subject="-",
        clip=vf.path.name,
        onset=int(iv.onset),
        apex=int(apex),
        offset=int(iv.offset),
        emotion="",
        frames_dir=vf.path,
        first_frame=0,
        last_frame=max(vf.decoded - 1, 0),
    )


def source_frames(path: Path, fps: float | None, numbers: set[int]) -> dict[int, np.ndarray | None]:
    """The source's frames ``numbers`` (0-based), one streamed pass stopping after the last;
    None for one that could not be read."""
    from meflow.io import open_frames

    out: dict[int, np.ndarray | None] = dict.fromkeys(numbers)
    if not numbers:
        return out
    last = max(numbers)
    source = open_frames(path, fps)
    try:
        for i, frame in source:
            if i in out:
                out[i] = frame
            if i >= last:
                break
    finally:
        source.close()
    return out


def expression_batch(
    loaded: LoadedModel, vf: VideoFeatures, intervals: Sequence[Interval], fps: float | None
) -> dict[str, np.ndarray]:
    """The flows' arrays of the ``intervals`` of the video (onset_apex (n, 42, 2),
    onset_apex_valid (n, 1), apex_offset, their _parts and _strain...), as extraction computes
    them for a labelled sample, one row per interval."""
    from meflow.features.sample import expression_flows, labelled_frames
    from meflow.features.sequence import SequenceExtractor

    samples = [spotted_sample(iv, vf) for iv in intervals]
    k = loaded.extract.features.onset_apex_average
    numbers = {n for s in samples for part in labelled_frames(s, k) for n in part}
    images = source_frames(vf.path, fps, numbers)
    extractor = SequenceExtractor(loaded.extract)
    rows = [expression_flows(extractor, s, images)[0] for s in samples]
    # every array a labelled sample's cache holds of these flows (means, parts, strain, valid)
    return {key: np.stack([r[key] for r in rows]) for key in rows[0]} if rows else {}
