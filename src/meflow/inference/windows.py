"""Windows of a video's features: where they lie, the model's input for them, their
probabilities.

Sliding windows start every ``stride`` pairs, plus one aligned with the end; a video shorter
than a window makes one window, completed by repeating its first frame before it and its last
frame after it (pairs without motion). A spotted interval's window is centred on the frame
the model's windows were centred on in training (``features.anchor``: the apex by default)
and completed the same way where it runs past the video's ends, so the anchor stays at its
centre (docs/predict.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from meflow.errors import MeflowError

if TYPE_CHECKING:
    from meflow.features.sequence import SequenceFeatures
    from meflow.inference.model import LoadedModel

DEFAULT_STRIDE = 8
# A video slower than the model's features is resampled to their rate with repeated frames, down
# to this share of it (15 fps for a 30 fps model: every other pair without motion); measured
# down to there on held-out clips of the realistic benchmark (docs/predict.md,
# benchmarks/low_fps.py). Slower videos are refused.
LOWEST_RATE_SHARE = 0.5


def analysis_rate(src_fps: float, model_fps: float) -> float:
    """The frame rate a video is analysed at: always the model's (its windows then span the
    training window's time). MeflowError for a video slower than ``LOWEST_RATE_SHARE`` of it."""
    lowest = LOWEST_RATE_SHARE * model_fps
    if src_fps < lowest - 1e-6:
        raise MeflowError(
            f"{src_fps:g} fps is below {lowest:g} fps, the slowest rate a model trained at "
            f"{model_fps:g} fps is applied at (more than every other frame pair would repeat a "
            f"frame); record at {lowest:g} fps or more, or give --fps if the file's rate is wrong"
        )
    return model_fps


def window_starts(pairs: int, window: int, stride: int) -> list[int]:
    """First pair of every window: every ``stride`` pairs, plus one aligned with the end."""
    if pairs < window:
        return []
    starts = list(range(0, pairs - window + 1, stride))
    if starts[-1] != pairs - window:
        starts.append(pairs - window)
    return starts


def short_video_order(frames: int, window: int) -> tuple[np.ndarray, int, int]:
    """(analysed frame of each of the window's ``window + 1`` frames, frames repeated before,
    after) of a video of ``frames`` < ``window + 1`` frames: its first frame repeated before
    it and its last after it."""
    need = window + 1
    before = (need - frames) // 2
    after = need - frames - before
    order = np.r_[np.zeros(before, np.int64), np.arange(frames), np.full(after, frames - 1)]
    return order, before, after


def anchored_order(anchor: int, frames: int, window: int) -> np.ndarray:
    """The analysed frames of the window of ``window`` pairs centred on frame ``anchor`` of a
    video of ``frames`` frames: ``anchor - window // 2 .. anchor + window - window // 2``
    (the anchor is its frame ``window // 2``, as training's windows are placed), frames before
    the first and after the last taken as the first and the last (pairs without motion)."""
    if not 0 <= anchor < frames:
        raise MeflowError(f"anchor frame {anchor} is outside the video's {frames} frames")
    first = anchor - window // 2
    return np.clip(np.arange(first, first + window + 1), 0, frames - 1).astype(np.int64)


def features_on(feats: SequenceFeatures, order: np.ndarray) -> SequenceFeatures:
    """The features of the frames ``order`` (non-decreasing analysed frames) of ``feats``: a
    pair that repeats a frame is a valid pair without motion where the frame has a face."""
    from meflow.features.sequence import SequenceFeatures, on_span  # imports cv2: deferred

    lo, hi = int(order[0]), int(order[-1])
    sub = SequenceFeatures(
        feats.angle[lo:hi],
        feats.magnitude[lo:hi],
        feats.valid[lo:hi],
        feats.frame_valid[lo : hi + 1],
        feats.timings,
        feats.vector[lo:hi],
        feats.main[lo:hi],
    )
    return on_span(sub, order - lo)


def window_inputs(
    loaded: LoadedModel,
    feats: SequenceFeatures,
    starts: Sequence[int],
    extra: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(the model's input per window, each window's valid share) of the windows of
    ``loaded``'s length starting at pairs ``starts`` of ``feats``; ``extra``: more of the
    batch, one row per window (the onset-to-apex flows of :mod:`meflow.inference.expression`)."""
    from meflow.features.inputs import build_input
    from meflow.features.windows import pseudo_images

    f = loaded.extract.features
    window = f.window
    valid = feats.valid
    discrete, continuous = pseudo_images(feats.angle, valid, f.sectors, feats.vector, f.noise_floor)
    batch = {
        "pseudo_discrete": np.stack([discrete[:, s : s + window] for s in starts]),
        "pseudo_continuous": np.stack([continuous[:, s : s + window] for s in starts]),
        **{
            k: np.stack([a[s : s + window] for s in starts])
            for k, a in (("vector", feats.vector), ("main", feats.main), ("valid", valid))
        },
        **(extra or {}),
    }
    X = build_input(loaded.input, batch, loaded.train)
    frac = np.array([valid[s : s + window].mean() for s in starts])
    return X, frac


def probabilities(loaded: LoadedModel, X: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """(windows, classes) probabilities of the windows where ``ok``, NaN rows elsewhere."""
    probs = np.full((len(ok), len(loaded.classes)), np.nan)
    if ok.any():
        import torch

        from meflow.training.inference import predict_proba

        # One intra-op thread: the batch is small, and on shared cores 2 threads measured
        # 5-40x slower for it than 1 (benchmarks/predict.py).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                probs[ok] = predict_proba(loaded.model, X[ok])
        finally:
            torch.set_num_threads(threads)
    return probs
