"""Spot-then-recognise on one video: the spotter finds the micro- and macro-expressions'
intervals in the video's region flow, and the recognition model classifies each micro-
expression with its window placed on the spotted interval.

The spotter sees the video's RecordingFlow: the per-pair region vectors at the model's
analysis rate, ``frame_numbers`` the source's own 0-based number of each analysed frame, so
its intervals come out in the source's numbering. A micro-expression's window is centred on
the analysed frame showing its anchor (``features.anchor`` of the model: the spotted apex by
default; the first analysed frame showing that source frame where a slow video repeats it),
and completed past the video's ends by repeating its first or last frame
(:func:`meflow.inference.windows.anchored_order`). A window with less than ``min_valid`` of
its pairs valid gets no probabilities.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from meflow.inference.results import IntervalPrediction
from meflow.inference.windows import (
    anchored_order,
    features_on,
    probabilities,
    window_inputs,
)

if TYPE_CHECKING:
    from meflow.features.video import VideoFeatures
    from meflow.inference.model import LoadedModel
    from meflow.spotting.baseline import RecordingFlow
    from meflow.spotting.model import Spotter
    from meflow.spotting.scoring import Interval


def recording_flow(vf: VideoFeatures, name: str) -> RecordingFlow:
    """The video as a spotter sees it (numbered as the source numbers its frames)."""
    from meflow.spotting.baseline import RecordingFlow

    f = vf.features
    return RecordingFlow(name, f.vector, f.valid, vf.rate, frame_numbers=vf.frame_index,
                         lag_vector=f.lag_vector, spot_lags=f.spot_lags)  # fmt: skip


def analysed_frame(vf: VideoFeatures, number: int) -> int:
    """The first analysed frame showing source frame ``number`` (or the nearest after it)."""
    i = int(np.searchsorted(vf.frame_index, number, side="left"))
    return min(i, vf.frames - 1)


def anchor_of(iv: Interval, vf: VideoFeatures, anchor: str) -> int:
    """The analysed frame a spotted interval's window is centred on (``features.anchor``:
    apex, onset or middle; without a spotted apex the middle)."""
    onset, offset = analysed_frame(vf, iv.onset), analysed_frame(vf, iv.offset)
    if anchor == "onset":
        return onset
    if anchor == "apex" and iv.apex is not None:
        return analysed_frame(vf, iv.apex)
    return (onset + offset) // 2


def spotted_orders(
    loaded: LoadedModel, vf: VideoFeatures, intervals: list[Interval]
) -> list[np.ndarray]:
    """The analysed frames of each interval's window (``window + 1`` each)."""
    f = loaded.extract.features
    return [anchored_order(anchor_of(iv, vf, f.anchor), vf.frames, f.window) for iv in intervals]


def classify(
    loaded: LoadedModel,
    vf: VideoFeatures,
    intervals: list[Interval],
    min_valid: float,
    fps: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """((intervals, classes) probabilities, valid) of the windows placed on ``intervals``;
    NaN rows where the window has less than ``min_valid`` valid pairs. A model whose input is
    the onset-to-apex flow sees the flows between the spotted frames instead
    (:mod:`meflow.inference.expression`; ``fps`` as the video was opened with); NaN rows where
    there is none (onset = apex, no face)."""
    from meflow.inference.expression import expression_batch, reads_expression_flows

    n = len(loaded.classes)
    if not intervals:
        return np.zeros((0, n)), np.zeros(0, bool)
    flows = expression_batch(loaded, vf, intervals, fps) if reads_expression_flows(loaded) else {}
    parts = [
        window_inputs(
            loaded,
            features_on(vf.features, order),
            [0],
            {k: v[j : j + 1] for k, v in flows.items()},
        )
        for j, order in enumerate(spotted_orders(loaded, vf, intervals))
    ]
    X = np.concatenate([p[0] for p in parts])
    frac = np.concatenate([p[1] for p in parts])
    ok = frac >= min_valid - 1e-12
    if flows:
        ok &= flows["onset_apex_valid"].reshape(len(intervals))
    return probabilities(loaded, X, ok), ok


def spot_and_recognise(
    loaded: LoadedModel,
    spotter: Spotter,
    vf: VideoFeatures,
    name: str,
    min_valid: float,
    fps: float | None = None,
) -> list[IntervalPrediction]:
    """The intervals ``spotter`` finds in the video, in time order, each micro-expression with
    the class probabilities of its window (or of its spotted onset-to-apex flow)."""
    found = [iv for iv in spotter.spot(recording_flow(vf, name)) if iv.type in ("micro", "macro")]
    found.sort(key=lambda iv: (iv.onset, iv.offset, iv.type))
    micro = [iv for iv in found if iv.type == "micro"]
    probs, ok = classify(loaded, vf, micro, min_valid, fps)
    row = {id(iv): j for j, iv in enumerate(micro)}
    out = []
    for iv in found:
        on, off = analysed_frame(vf, iv.onset), analysed_frame(vf, iv.offset)
        apex = iv.apex if iv.apex is not None else int(vf.frame_index[(on + off) // 2])
        j = row.get(id(iv))
        p = None
        emotion = None
        if j is not None and ok[j]:
            p = {c: float(v) for c, v in zip(loaded.classes, probs[j], strict=True)}
            emotion = loaded.classes[int(np.argmax(probs[j]))]
        out.append(
            IntervalPrediction(
                type=iv.type,
                onset_frame=int(iv.onset),
                apex_frame=int(apex),
                offset_frame=int(iv.offset),
                onset_s=float(vf.frame_time[on]),
                apex_s=float(vf.frame_time[analysed_frame(vf, apex)]),
                offset_s=float(vf.frame_time[off]),
                score=None if iv.score is None else float(iv.score),
                probabilities=p,
                emotion=emotion,
            )
        )
    return out
