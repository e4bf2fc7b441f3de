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
TOP = max(1, round(N_REGIONS / 3))  # the regions of the group-free summary


def feature_names(scales_s: tuple[float, ...] = SCALES_S) -> list[str]:
    """The columns of ``frame_features``, in order."""
    groups = [g for g, _ in GROUPS] + ["top_third"]
    return [f"{g}:{s}:{k:g}" for k in scales_s for s in STATS for g in groups]


def relative_motion(vector: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(pairs, 42, 2) each pair's region vectors less their median over the regions (float64;
    0 where a region has no flow or the pair is not valid). Row by row: any rows alike."""
    v = np.asarray(vector, dtype=np.float64)
    if v.ndim != 3 or v.shape[1:] != (N_REGIONS, 2):
        raise MeflowError(f"region vectors must be (pairs, {N_REGIONS}, 2), got {v.shape}")
    known = np.asarray(valid, dtype=bool)[:, None] & np.isfinite(v).all(axis=2)
    v = np.where(known[..., None], v, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a pair without any region: NaN
        centre = np.nanmedian(v, axis=1, keepdims=True) if v.size else v[:, :1]
    return np.where(known[..., None], v - np.nan_to_num(centre), 0.0)


def extend_positions(
    vector: np.ndarray, valid: np.ndarray, pos: np.ndarray, end: int, upto: int
) -> np.ndarray:
    """``pos`` (the positions of the frames up to ``end`` - 1, at least the last one) with those
    of the frames ``end`` .. ``upto`` - 1 added: the running sum carried on, so that positions
    made piece by piece are those made at once."""
    if upto <= end:
        return pos
    rel = relative_motion(vector[end - 1 : upto - 1], valid[end - 1 : upto - 1])
    return np.concatenate([pos, np.cumsum(np.concatenate([pos[-1:], rel]), axis=0)[1:]])


def positions(vector: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(frames, 42, 2) each region's position relative to frame 0, global motion removed."""
    v = np.asarray(vector)
    if v.ndim != 3 or v.shape[1:] != (N_REGIONS, 2):
        raise MeflowError(f"region vectors must be (pairs, {N_REGIONS}, 2), got {v.shape}")
    return extend_positions(v, valid, np.zeros((1, N_REGIONS, 2)), 1, v.shape[0] + 1)


def _group_matrix() -> np.ndarray:
    """(42, groups) averaging weights of the region groups."""
    w = np.zeros((N_REGIONS, len(GROUPS)))
    for j, (_, ids) in enumerate(GROUPS):
        w[[i - 1 for i in ids], j] = 1.0 / len(ids)
    return w


def group_columns(d: np.ndarray) -> np.ndarray:
    """(rows, groups + 1) each group's mean of the regions' displacements ``d`` (rows, 42) and
    the mean of the largest third: sums column by column, the same whatever rows are given."""
    out = np.empty((d.shape[0], len(GROUPS) + 1))
    top = -np.sort(-d, axis=1)[:, :TOP]
    for j, ids in enumerate([[i - 1 for i in ids] for _, ids in GROUPS] + [list(range(TOP))]):
        src = top if j == len(GROUPS) else d
        acc = src[:, ids[0]].copy()
        for i in ids[1:]:
            acc += src[:, i]
        out[:, j] = acc / len(ids)
    return out


def scale_frames(scales_s: tuple[float, ...], fps: float) -> list[int]:
    """Each scale in frames (at least 1)."""
    return [max(1, round(scale * fps)) for scale in scales_s]


def raw_features(
    pos: np.ndarray,
    fps: float,
    scales_s: tuple[float, ...] = SCALES_S,
    rows: tuple[int, int] | None = None,
    first: int = 0,
    frames: int | None = None,
) -> np.ndarray:
    """(frames, columns) displacements before normalisation (px), ``feature_names`` order.

    ``rows``: only the frames ``lo .. hi - 1`` of a recording of ``frames`` frames, ``pos``
    then the positions of its frames ``first`` .. (at least those within the largest scale of
    these rows): the rows are those of the whole recording's, to the bit."""
    frames = first + pos.shape[0] if frames is None else frames
    lo, hi = rows if rows is not None else (0, frames)
    idx = np.arange(lo, hi)
    here = idx - first
    cols = []
    for k in scale_frames(scales_s, fps):
        before = np.clip(idx - k, 0, frames - 1) - first
        after = np.clip(idx + k, 0, frames - 1) - first
        for a, b in ((before, here), (here, after), (before, after)):
            cols.append(group_columns(np.linalg.norm(pos[b] - pos[a], axis=2)))
    return np.hstack(cols) if cols else np.zeros((hi - lo, 0))


def medians(raw: np.ndarray) -> np.ndarray:
    """(1, columns) what ``normalise`` divides by: each column's median, at least EPS."""
    if not raw.shape[0]:
        return np.ones((1, raw.shape[1]))
    return np.maximum(np.median(raw, axis=0, keepdims=True), EPS)


def normalise(raw: np.ndarray, med: np.ndarray | None = None) -> np.ndarray:
    """Each column as log1p(x / its median over the recording) (``med``: the medians, if known
    from elsewhere: the whole recording's where ``raw`` is part of it)."""
    med = medians(raw) if med is None else med
    return np.log1p(raw / med).astype(np.float32)


def frame_features(
    vector: np.ndarray, valid: np.ndarray, fps: float, scales_s: tuple[float, ...] = SCALES_S
) -> np.ndarray:
    """(frames, columns) the normalised features of every frame of a recording, at once
    (``learned_blocks`` gives the same in blocks of frames)."""
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
