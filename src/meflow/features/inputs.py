"""What a classifier sees of a window: the model inputs, built from a window's per-pair series.

A *batch* is a dict of arrays for N windows of W frame pairs each, as the cache stores them
(``FeatureSet.batch``) or as ``meflow predict`` cuts them from a video:

- ``pseudo_discrete``, ``pseudo_continuous``: (N, 42, W) uint8, the paper's pseudo-images
- ``vector``, ``main``: (N, W, 42, 2) float32, each region's mean flow vector and MDMO vector
- ``valid``: (N, W) bool; ``expression``: (N, W) bool, the pairs inside onset..offset where the
  labels give them (all valid pairs otherwise)
- ``onset_apex``: (N, 42, 2) float32, each region's mean flow from the labelled onset frame to
  the labelled apex frame, and ``onset_apex_valid`` (N,) bool (a cache's samples only);
  ``apex_offset``, ``apex_offset_valid``: the same from the apex to the offset frame;
  ``onset_apex_parts``, ``apex_offset_parts`` (N, 42, 4, 2) float32: each region's mean flow
  over four parts of it, ``onset_apex_strain``, ``apex_offset_strain`` (N, 42) float32: its
  mean optical strain magnitude (``features.expression_flow``; caches made since)

An input (registry ``INPUTS``, the setting ``train.input``) turns a batch into the array a
classifier takes. Adding one means adding one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from meflow.errors import MeflowError

Batch = dict[str, np.ndarray]
InputFn = Callable[[Batch, Any], np.ndarray]


def _pseudo(kind: str) -> InputFn:
    def build(batch: Batch, cfg: Any) -> np.ndarray:
        return batch[f"pseudo_{kind}"]

    return build


def vector_bins(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, B, 42, 2) float32: the regions' mean flow vectors summed over B equal stretches of
    the window (B = ``cfg.bins``): how far each region moved in each stretch (px). No flow
    (an invalid pair, a region without pixels) adds nothing."""
    v = np.nan_to_num(np.asarray(batch["vector"], dtype=np.float32))
    v = v * np.asarray(batch["valid"], dtype=np.float32)[:, :, None, None]
    n, w = v.shape[:2]
    bins = int(getattr(cfg, "bins", 8))
    if w % bins:
        raise MeflowError(f"train.bins={bins} does not divide the window of {w} pairs")
    return np.ascontiguousarray(v.reshape(n, bins, w // bins, *v.shape[2:]).sum(axis=2))


def vector_series(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, W, 42, 2) float32: the regions' mean flow vectors of every pair (0 where none)."""
    v = np.nan_to_num(np.asarray(batch["vector"], dtype=np.float32))
    return np.ascontiguousarray(v * np.asarray(batch["valid"], np.float32)[:, :, None, None])


def mdmo(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, 2R) float64: the MDMO feature (Liu et al. 2016) of each window.

    Per region, the main-direction mean vectors of the expression's pairs (onset..offset where
    known) are averaged in polar form: mean length rho and mean angle theta (as the paper
    averages them); rho is divided by the largest rho of the window. Feature (rho_1..rho_R,
    theta_1..theta_R).
    """
    main = np.asarray(batch["main"], dtype=np.float64)
    use = np.asarray(batch.get("expression", batch["valid"]), bool) & np.asarray(
        batch["valid"], bool
    )
    rho = np.hypot(main[..., 0], main[..., 1])
    theta = np.mod(np.arctan2(-main[..., 1], main[..., 0]), 2 * np.pi)
    w = use[:, :, None] & np.isfinite(rho)
    count = np.maximum(w.sum(axis=1), 1)
    r = np.where(w, rho, 0.0).sum(axis=1) / count
    t = np.where(w, theta, 0.0).sum(axis=1) / count
    r = r / np.maximum(r.max(axis=1, keepdims=True), 1e-12)
    return np.concatenate([r, t], axis=1)


def _away_from_rest(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, W + 1, 42, 2) float64: each region's position after every pair (its flow vectors
    summed from the window's first frame) minus its resting position there, the median over
    the W/4 frames on each side (the flow noise summed over a quarter window only)."""
    v = vector_series(batch, cfg).astype(np.float64)
    n, w = v.shape[:2]
    pos = np.concatenate([np.zeros((n, 1, *v.shape[2:])), np.cumsum(v, axis=1)], axis=1)
    side = max(1, w // 4)
    rest = [np.median(pos[:, max(0, t - side) : t + side + 1], axis=1) for t in range(w + 1)]
    return pos - np.stack(rest, axis=1)


def vector_peak(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, 42, 2) float32: each region's displacement from rest at the window's motion peak
    (the frame whose regions are farthest from rest, sum of squares): a blind onset-to-apex
    estimate that does not depend on where in the window the expression sits."""
    away = _away_from_rest(batch, cfg)
    peak = (away**2).sum(axis=(2, 3)).argmax(axis=1)
    return np.ascontiguousarray(away[np.arange(len(away)), peak], dtype=np.float32)


def displacement_bins(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, B, 42, 2) float32: each region's mean displacement from rest over B equal stretches
    of the window. Unlike the vector bins (motion summed per stretch), an expression that goes
    out and back inside one stretch does not cancel: less dependent on where it sits."""
    away = _away_from_rest(batch, cfg)[:, 1:]
    n, w = away.shape[:2]
    bins = int(getattr(cfg, "bins", 8))
    if w % bins:
        raise MeflowError(f"train.bins={bins} does not divide the window of {w} pairs")
    return away.reshape(n, bins, w // bins, *away.shape[2:]).mean(axis=2).astype(np.float32)


def onset_apex(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, 42, 2) float32: each region's flow from the labelled onset to the labelled apex
    frame (px); zeros for a sample without one (onset = apex, no face)."""
    if "onset_apex" not in batch:
        raise MeflowError(
            "the model input onset-apex needs the labelled onset and apex of a feature cache "
            "(re-extract the cache with this meflow)"
        )
    a = np.nan_to_num(np.asarray(batch["onset_apex"], dtype=np.float32))
    ok = np.asarray(batch.get("onset_apex_valid", np.ones(len(a), bool)), bool).reshape(len(a))
    return np.ascontiguousarray(a * ok[:, None, None].astype(np.float32))


def vector_bins_onset_apex(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, B + 1, 42, 2) float32: the window's vector bins and, as one more, the onset-to-apex
    flow (``onset_apex``)."""
    return np.concatenate([vector_bins(batch, cfg), onset_apex(batch, cfg)[:, None]], axis=1)


def onset_apex_offset(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, 42, 2) float32: each region's displacement at the apex from the face at rest, seen
    from both sides: the mean of the onset-to-apex flow and the reversed apex-to-offset flow
    (either alone where the other is missing; zeros where both are). Two measurements of one
    displacement with independent reference frames: the noise of the reference drops."""
    a = onset_apex(batch, cfg)
    n = len(a)
    ok_b = np.asarray(batch.get("apex_offset_valid", np.zeros(n, bool)), bool).reshape(n)
    if "apex_offset" not in batch or not ok_b.any():
        raise MeflowError(
            "the model input onset-apex-offset needs the apex-to-offset flow of a feature cache "
            "(re-extract the cache with this meflow)"
        )
    ok_a = np.asarray(batch.get("onset_apex_valid", np.ones(n, bool)), bool).reshape(n)
    b = -np.nan_to_num(np.asarray(batch["apex_offset"], dtype=np.float32))
    b *= ok_b[:, None, None].astype(np.float32)
    count = np.maximum(ok_a.astype(np.float32) + ok_b, 1.0)
    return np.ascontiguousarray((a + b) / count[:, None, None], dtype=np.float32)


def bilateral(v: np.ndarray) -> np.ndarray:
    """(N, P, 2) float32 of region vectors (N, 42, 2): each pair of mirror regions once (the
    subject's right one's id) and each centre region, the mean of the region's vector and its
    mirror region's mirrored vector (dx negated): what both sides of the face show in common.
    A linear model on it treats an expression shown more by one side as the same expression
    shown by the other (the random asymmetry of a face drops out; a one-sided expression, as
    contempt is, keeps only its half)."""
    from meflow.face.regions import N_REGIONS, REGIONS, mirror_region

    keep = [r.id - 1 for r in REGIONS if r.side in ("R", "C")]
    other = [mirror_region(i + 1) - 1 for i in keep]
    v = np.asarray(v, dtype=np.float32).reshape(len(v), N_REGIONS, 2)
    mirrored = v[:, other] * np.array([-1.0, 1.0], np.float32)
    return np.ascontiguousarray((v[:, keep] + mirrored) / 2)


def onset_apex_offset_bilateral(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, P, 2) float32: ``onset_apex_offset`` with both sides of the face averaged
    (``bilateral``)."""
    return bilateral(onset_apex_offset(batch, cfg))


def _both_sides(batch: Batch, suffix: str, sign: float, name: str) -> np.ndarray:
    """(N, ...) float32: the mean of the onset-to-apex flow's descriptor ``onset_apex{suffix}``
    and ``sign`` times the apex-to-offset flow's (-1: a displacement, seen reversed; +1: a
    magnitude), either alone where the other flow is missing, zeros where both are.
    MeflowError when the batch lacks them (a cache made before they were extracted)."""
    keys = (f"onset_apex{suffix}", f"apex_offset{suffix}")
    if any(k not in batch for k in keys) or "apex_offset_valid" not in batch:
        raise MeflowError(
            f"the model input {name} needs the {' and '.join(keys)} arrays of a feature "
            "cache (re-extract the cache with this meflow)"
        )
    sides = []
    for key, s in zip(keys, (1.0, sign), strict=True):
        a = np.nan_to_num(np.asarray(batch[key], dtype=np.float32)) * np.float32(s)
        ok = np.asarray(batch[key.replace(suffix, "_valid")], bool).reshape(len(a))
        sides.append((a * ok.reshape(-1, *[1] * (a.ndim - 1)), ok))
    count = np.maximum(sides[0][1].astype(np.float32) + sides[1][1], 1.0)
    both = (sides[0][0] + sides[1][0]) / count.reshape(-1, *[1] * (sides[0][0].ndim - 1))
    return np.ascontiguousarray(both, dtype=np.float32)


def onset_apex_offset_parts(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, 42, 4, 2) float32: ``onset_apex_offset`` over four parts of each region (around its
    centroid along the face's axes: ``features.expression_flow.region_parts``), the two sides
    averaged: where in a region the skin moved, not only how far on average."""
    return _both_sides(batch, "_parts", -1.0, "onset-apex-offset-parts")


def onset_apex_offset_strain(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, 42, 3) float32: ``onset_apex_offset`` with each region's mean optical strain
    magnitude beside it (the two sides averaged; ``features.expression_flow.region_strain``):
    how much the skin stretched, which a region's mean flow does not show."""
    strain = _both_sides(batch, "_strain", 1.0, "onset-apex-offset-strain")
    return np.concatenate([onset_apex_offset(batch, cfg), strain[..., None]], axis=2)


def onset_apex_offset_parts_bilateral(batch: Batch, cfg: Any) -> np.ndarray:
    """(N, P, 4, 2) float32: ``onset_apex_offset_parts`` with both sides of the face averaged
    as ``bilateral`` does; a mirrored region's parts swap along the face's x axis (part j
    <-> j ^ 2) as its dx is negated."""
    from meflow.face.regions import REGIONS, mirror_region

    parts = onset_apex_offset_parts(batch, cfg)
    keep = [r.id - 1 for r in REGIONS if r.side in ("R", "C")]
    other = [mirror_region(i + 1) - 1 for i in keep]
    mirrored = parts[:, other][:, :, [2, 3, 0, 1]] * np.array([-1.0, 1.0], np.float32)
    return np.ascontiguousarray((parts[:, keep] + mirrored) / 2, dtype=np.float32)


def onset_apex_note(batch: Batch) -> str | None:
    """Why a row on the onset-to-apex flow cannot run on ``batch`` (None when it can: at least
    half of the samples carry a valid one)."""
    ok = batch.get("onset_apex_valid")
    if "onset_apex" not in batch or ok is None:
        return "the samples carry no onset-to-apex flow (a cache made before it was extracted)"
    ok = np.asarray(ok, bool).reshape(-1)
    if ok.size == 0 or ok.mean() < 0.5:
        return f"only {int(ok.sum())} of {ok.size} samples have a valid onset-to-apex flow"
    return None


INPUTS: dict[str, InputFn] = {
    "pseudo-discrete": _pseudo("discrete"),
    "pseudo-continuous": _pseudo("continuous"),
    "vector-bins": vector_bins,
    "vector-series": vector_series,
    "mdmo": mdmo,
    "vector-peak": vector_peak,
    "displacement-bins": displacement_bins,
    "onset-apex": onset_apex,
    "vector-bins+onset-apex": vector_bins_onset_apex,
    "onset-apex-offset": onset_apex_offset,
    "onset-apex-offset-bilateral": onset_apex_offset_bilateral,
    "onset-apex-offset-parts": onset_apex_offset_parts,
    "onset-apex-offset-parts-bilateral": onset_apex_offset_parts_bilateral,
    "onset-apex-offset-strain": onset_apex_offset_strain,
}
PSEUDO_INPUTS = ("pseudo-discrete", "pseudo-continuous")


def build_input(name: str, batch: Batch, cfg: Any = None) -> np.ndarray:
    """The model input ``name`` of a batch; MeflowError naming the valid ones otherwise."""
    try:
        fn = INPUTS[name]
    except KeyError:
        raise MeflowError(f"unknown model input {name!r} (valid: {', '.join(INPUTS)})") from None
    return fn(batch, cfg)


def encode_directions(images: np.ndarray) -> np.ndarray:
    """(N, 2 * size) float32: every pixel of uint8 angle pseudo-images as the unit vector of its
    direction (grey g -> angle 2pi (g - 1) / 255), (0, 0) for no direction (grey 0). How a
    linear model reads a pseudo-image: a grey level is a direction, not an amount."""
    g = np.asarray(images).reshape(len(images), -1).astype(np.float32)
    theta = (g - 1.0) * np.float32(2 * np.pi / 255.0)
    has = g > 0
    return np.concatenate([np.where(has, np.cos(theta), 0), np.where(has, np.sin(theta), 0)], 1)
