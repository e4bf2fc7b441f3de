"""Per-frame features of the learned spotter: region motion at several temporal scales.

From a recording's per-pair region mean flow (``RecordingFlow.vector``, (pairs, 42, 2)) each
region's position is the running sum of its vectors (pairs without flow count as no motion),
after removing the pair's median vector over the regions (the residual global motion that
head-motion compensation leaves). For frame t and each scale k (frames) three displacements
of each region are measured: backward |p(t) - p(t-k)|, forward |p(t+k) - p(t)| and across
|p(t+k) - p(t-k)| (small when a movement goes and comes back within the window, as an
expression does). They are averaged over groups of regions that move together (brows, upper
lids, lower lids, mouth, ...: the lids are apart so that blinks can be learned as "neither"),
and a group-free summary (the mean of the largest third of the regions) is added. Each column
is then normalised per recording by its median (``log1p(x / median)``) so that a subject's
noise level and face size do not move the classifier's thresholds.
"""

from __future__ import annotations

import warnings

import numpy as np

from meflow.errors import MeflowError
from meflow.face.regions import N_REGIONS

# Region groups (1-based region ids, docs/regions.md): what moves together in an expression.
GROUPS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("forehead", (1, 2, 3, 4, 5, 6)),
    ("brows", (7, 8, 9, 10, 11)),
    ("upper_lids", (12, 13)),
    ("lower_lids", (14, 15, 16, 17)),
    ("nose", (18, 19, 20, 21)),
    ("cheeks", (22, 23, 24, 25, 26, 27)),
    ("jaw", (28, 29)),
    ("mouth", (30, 31, 32, 33, 34, 35, 36, 37)),
    ("chin", (38, 39, 40, 41, 42)),
)
# Scales in seconds (frames = round(s * fps), at least 1): micro ~0.1-0.5 s, macro ~0.8-2 s.
SCALES_S: tuple[float, ...] = (0.1, 0.2, 0.33, 0.53, 0.83, 1.33, 2.0)
STATS = ("back", "fwd", "across")
EPS = 1e-3  # px: a column's median is at least this (a still face's columns)


def feature_names(scales_s: tuple[float, ...] = SCALES_S) -> list[str]:
    """The columns of ``frame_features``, in order."""
    groups = [g for g, _ in GROUPS] + ["top_third"]
    return [f"{g}:{s}:{k:g}" for k in scales_s for s in STATS for g in groups]


def positions(vector: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(frames, 42, 2) each region's position relative to frame 0, global motion removed."""
    v = np.asarray(vector, dtype=np.float64)
    if v.ndim != 3 or v.shape[1:] != (N_REGIONS, 2):
        raise MeflowError(f"region vectors must be (pairs, {N_REGIONS}, 2), got {v.shape}")
    known = np.asarray(valid, dtype=bool)[:, None] & np.isfinite(v).all(axis=2)
    v = np.where(known[..., None], v, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a pair without any region: NaN
        centre = np.nanmedian(v, axis=1, keepdims=True) if v.size else v[:, :1]
    rel = np.where(known[..., None], v - np.nan_to_num(centre), 0.0)
    pos = np.zeros((v.shape[0] + 1, N_REGIONS, 2))
    pos[1:] = np.cumsum(rel, axis=0)
    return pos


def _group_matrix() -> np.ndarray:
    """(42, groups) averaging weights of the region groups."""
    w = np.zeros((N_REGIONS, len(GROUPS)))
    for j, (_, ids) in enumerate(GROUPS):
        w[[i - 1 for i in ids], j] = 1.0 / len(ids)
    return w


def raw_features(pos: np.ndarray, fps: float, scales_s: tuple[float, ...] = SCALES_S) -> np.ndarray:
    """(frames, columns) displacements before normalisation (px), ``feature_names`` order."""
    frames = pos.shape[0]
    idx = np.arange(frames)
    w = _group_matrix()
    top = max(1, round(N_REGIONS / 3))
    cols = []
    for scale in scales_s:
        k = max(1, round(scale * fps))
        before, after = np.clip(idx - k, 0, frames - 1), np.clip(idx + k, 0, frames - 1)
        for a, b in ((before, idx), (idx, after), (before, after)):
            d = np.linalg.norm(pos[b] - pos[a], axis=2)  # (frames, 42)
            topk = -np.sort(-d, axis=1)[:, :top].mean(axis=1, keepdims=True)
            cols.append(np.hstack([d @ w, topk]))
    return np.hstack(cols) if cols else np.zeros((frames, 0))


def normalise(raw: np.ndarray) -> np.ndarray:
    """Each column as log1p(x / its median over the recording)."""
    med = np.maximum(np.median(raw, axis=0, keepdims=True), EPS) if raw.shape[0] else 1.0
    return np.log1p(raw / med).astype(np.float32)


def frame_features(
    vector: np.ndarray, valid: np.ndarray, fps: float, scales_s: tuple[float, ...] = SCALES_S
) -> np.ndarray:
    """(frames, columns) the normalised features of every frame of a recording."""
    if not (np.isfinite(fps) and fps > 0):
        raise MeflowError(f"fps must be positive, got {fps}")
    return normalise(raw_features(positions(vector, valid), fps, scales_s))


def frame_labels(
    frames: int,
    numbers: np.ndarray,
    expressions: list[tuple[int, int, str]],
    blinks: list[tuple[int, int]],
) -> np.ndarray:
    """(frames,) class of each frame: 0 neither, 1 micro, 2 macro, 3 blink (by frame number).

    ``numbers``: each frame's number (as the intervals are numbered); ``expressions``:
    (onset, offset, type) and ``blinks``: (onset, offset), both ends included.
    """
    y = np.zeros(frames, dtype=np.int64)
    for lo, hi in blinks:
        y[(numbers >= lo) & (numbers <= hi)] = 3
    for lo, hi, kind in expressions:
        y[(numbers >= lo) & (numbers <= hi)] = 1 if kind == "micro" else 2
    return y


# ---- direct pairs (features.spot_lags) ---------------------------------------------------
# With a video extracted with features.spot_lags, each lag k also gives the region flow of the
# direct pair (t - k, t): one flow's noise where |p(t) - p(t - k)| sums k pairs' noise.
LAG_STATS = ("back", "fwd")


def lag_feature_names(lags: tuple[int, ...]) -> list[str]:
    """The columns of ``lag_features``, in order."""
    groups = [g for g, _ in GROUPS] + ["top_third"]
    return [f"{g}:direct_{s}:{k}" for k in lags for s in LAG_STATS for g in groups]


def _filled(col: np.ndarray) -> np.ndarray:
    """The column with its NaN rows filled linearly in time from the computed ones (0 when
    none is)."""
    ok = np.isfinite(col)
    if not ok.any():
        return np.zeros_like(col)
    idx = np.arange(col.size)
    return np.interp(idx, idx[ok], col[ok])


def raw_lag_features(
    lag_vector: np.ndarray, have: tuple[int, ...], want: tuple[int, ...]
) -> np.ndarray:
    """(frames, columns) before normalisation (px), ``lag_feature_names(want)`` order: for
    frame t and lag k, each group's mean |d| of the direct pair (t - k, t) (back) and of
    (t, t + k) (fwd), and the mean of the largest third of the regions' |d|, d with the
    pair's median vector over the regions removed. Frames whose direct pair was not computed
    (every other frame, the first k) take values filled linearly in time (``_filled``)."""
    missing = [k for k in want if k not in have]
    if missing:
        raise MeflowError(
            f"the learned spotter needs the direct pairs of lags {list(want)} (features."
            f"spot_lags); these features have {list(have) or 'none'}: extract them again"
        )
    lv = np.asarray(lag_vector, dtype=np.float64)
    frames = lv.shape[0] + 1
    w = _group_matrix()
    top = max(1, round(N_REGIONS / 3))
    cols = []
    for k in want:
        d = np.full((frames, N_REGIONS, 2), np.nan)
        d[1:] = lv[:, have.index(k)]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # frames not computed: all NaN
            d = d - np.nanmedian(d, axis=1, keepdims=True)
        mag = np.linalg.norm(d, axis=2)  # (frames, 42), NaN where not computed
        known = np.isfinite(mag)
        computed = known.sum(axis=1) >= top
        z = np.where(known, mag, 0.0)
        group = (z @ w) / np.maximum(known.astype(float) @ w, 1e-9) * ((known @ w) > 0)
        ranked = -np.sort(-np.where(known, mag, -np.inf), axis=1)[:, :top].mean(axis=1)
        back = np.hstack([group, ranked[:, None]])
        back[~computed] = np.nan
        back = np.stack([_filled(c) for c in back.T], axis=1)
        fwd = np.vstack([back[k:], np.repeat(back[-1:], min(k, frames), axis=0)])[:frames]
        cols += [back, fwd]
    return np.hstack(cols) if cols else np.zeros((frames, 0))


def lag_features(
    lag_vector: np.ndarray | None, have: tuple[int, ...], want: tuple[int, ...]
) -> np.ndarray:
    """(frames, columns) the normalised direct-pair columns (``raw_lag_features``, each as
    log1p(x / its median over the recording), as ``normalise``); MeflowError when the
    recording lacks a lag of ``want``."""
    if lag_vector is None:
        have = ()
        lag_vector = np.zeros((0, 0, N_REGIONS, 2))
    return normalise(raw_lag_features(lag_vector, tuple(have), tuple(want)))
