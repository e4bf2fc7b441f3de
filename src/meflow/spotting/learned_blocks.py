"""The learned spotter's frame features in blocks of frames: memory flat in a recording's length.

``feature_blocks`` gives the normalised features (``learned_features.frame_features``) of
``BLOCK`` frames at a time, to the bit those of the whole recording: each block's positions are
the running sum carried on from the block before (``extend_positions``), with the frames within
the largest scale on either side (the overlap); each row's displacements depend on its own
positions alone (``raw_features`` with ``rows``).

The per-recording normalisation needs each column's median over the whole recording before the
first block can be normalised. It is found exactly in two passes over the raw blocks, keeping
only what the median needs (``column_medians``): the first counts each column's values in
narrow bins (the top bits of their float64 pattern, an order-keeping key: bins about 3% wide),
and so finds the bin(s) that hold the middle value(s) and how many values lie below; the second
keeps the values of these bins only (those near the median: a few percent of a column), from
which the middle value(s) are read as ``np.median`` reads them. The normalised blocks come from
a third pass. A recording of at most ``BLOCK`` frames is one block, computed once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from meflow.errors import MeflowError
from meflow.face.regions import N_REGIONS
from meflow.spotting.learned_features import (
    EPS,
    SCALES_S,
    extend_positions,
    normalise,
    positions,
    raw_features,
    scale_frames,
)

BLOCK = 512  # frames of a block (about 17 s at 30 fps)
SHIFT = 47  # float64 bits dropped from a bin's key: 5 mantissa bits kept (bins ~3% wide)
_COLUMN = 1 << 24  # key offset of one column from the next (keys of one column: < 2**17 apart)


def raw_blocks(
    vector: np.ndarray,
    valid: np.ndarray,
    fps: float,
    scales_s: tuple[float, ...] = SCALES_S,
    block: int | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """(first frame, (rows, columns) raw features) of each block of ``block`` frames (default
    BLOCK) in turn."""
    block = BLOCK if block is None else block
    v = np.asarray(vector)
    if v.ndim != 3 or v.shape[1:] != (N_REGIONS, 2):
        raise MeflowError(f"region vectors must be (pairs, {N_REGIONS}, 2), got {v.shape}")
    if block < 1:
        raise MeflowError(f"block must be at least 1 frame, got {block}")
    frames = v.shape[0] + 1
    reach = max(scale_frames(scales_s, fps), default=0)
    pos, first = np.zeros((1, N_REGIONS, 2)), 0  # frames first .. first + len(pos) - 1
    for lo in range(0, frames, block):
        hi = min(frames, lo + block)
        upto = min(frames, hi + reach)
        pos = extend_positions(v, valid, pos, first + pos.shape[0], upto)
        drop = max(0, lo - reach - first)  # frames no later block reaches back to
        pos, first = pos[drop:], first + drop
        yield lo, raw_features(pos, fps, scales_s, (lo, hi), first, frames)


def feature_blocks(
    vector: np.ndarray,
    valid: np.ndarray,
    fps: float,
    scales_s: tuple[float, ...] = SCALES_S,
    block: int | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """(first frame, (rows, columns) float32 normalised features) of each block in turn: the
    rows of ``frame_features(vector, valid, fps, scales_s)``, to the bit."""
    block = BLOCK if block is None else block
    if not (np.isfinite(fps) and fps > 0):
        raise MeflowError(f"fps must be positive, got {fps}")
    frames = np.shape(vector)[0] + 1
    if frames <= block:  # one block: computed once
        raw = raw_features(positions(vector, valid), fps, scales_s)
        yield 0, normalise(raw)
        return
    med = np.maximum(column_medians(lambda: raw_blocks(vector, valid, fps, scales_s, block)), EPS)
    for lo, raw in raw_blocks(vector, valid, fps, scales_s, block):
        yield lo, normalise(raw, med)


def order_keys(x: np.ndarray) -> np.ndarray:
    """int64 keys in the order of the float64 values ``x`` (not NaN): their bit patterns, the
    negative ones' magnitude bits flipped."""
    bits = np.ascontiguousarray(x, dtype=np.float64).view(np.int64)
    return bits ^ ((bits >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))


def _bins(raw: np.ndarray) -> np.ndarray:
    """(rows, columns) each value's bin key (NaN counted as 0), column c's offset by c *
    _COLUMN."""
    cols = np.arange(raw.shape[1], dtype=np.int64) * _COLUMN
    return (order_keys(np.where(np.isnan(raw), 0.0, raw)) >> SHIFT) + (_COLUMN // 2) + cols


def _count(
    blocks: Iterator[tuple[int, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """First pass: (bins, their counts, per column whether it has a NaN, rows)."""
    keys, counts = np.zeros(0, np.int64), np.zeros(0, np.int64)
    nan: np.ndarray | None = None
    rows = 0
    for _, raw in blocks:
        has = np.isnan(raw).any(axis=0)
        if nan is not None and nan.shape != has.shape:
            raise MeflowError(f"blocks of {has.size} and {nan.size} columns")
        nan = has if nan is None else nan | has
        rows += raw.shape[0]
        k, c = np.unique(_bins(raw), return_counts=True)
        keys, inv = np.unique(np.concatenate([keys, k]), return_inverse=True)
        counts = np.bincount(inv, np.concatenate([counts, c]).astype(np.float64)).astype(np.int64)
    if nan is None or rows == 0:
        raise MeflowError("no rows to take medians of")
    return keys, counts, nan, rows


def _targets(
    keys: np.ndarray, counts: np.ndarray, columns: int, ranks: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: (the bin of rank ranks[0], that of ranks[1], values in lower bins)."""
    col = keys // _COLUMN
    lo_bin, hi_bin, below = (np.zeros(columns, np.int64) for _ in range(3))
    for c in range(columns):
        mine = col == c
        k, n = keys[mine], np.cumsum(counts[mine])  # n[i]: values in bins up to k[i]
        i, j = np.searchsorted(n, ranks[0], "right"), np.searchsorted(n, ranks[1], "right")
        lo_bin[c], hi_bin[c] = k[i], k[j]
        below[c] = n[i - 1] if i else 0
    return lo_bin, hi_bin, below


def _ranked(parts: list[tuple[np.ndarray, np.ndarray]], ranks: list[int]) -> list[float]:
    """The values of these 0-based ranks among the values ``parts`` hold as (values, counts)."""
    values = np.concatenate([v for v, _ in parts])
    order = np.argsort(values, kind="stable")
    upto = np.cumsum(np.concatenate([n for _, n in parts])[order])
    return [float(values[order[np.searchsorted(upto, r, "right")]]) for r in ranks]


def column_medians(blocks: Callable[[], Iterator[tuple[int, np.ndarray]]]) -> np.ndarray:
    """(1, columns) ``np.median(raw, axis=0, keepdims=True)`` of the rows of all the blocks
    ``blocks()`` gives (called twice, the same blocks each time), without holding them: the
    second pass keeps, per column, the distinct values of its middle bins and their counts."""
    keys, counts, nan, rows = _count(blocks())
    columns = nan.size
    ranks = ((rows - 1) // 2, rows // 2)  # the middle value(s), 0-based
    lo_bin, hi_bin, below = _targets(keys, counts, columns, ranks)
    kept: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(columns)]
    for _, raw in blocks():
        b = _bins(raw)
        near = (b >= lo_bin) & (b <= hi_bin)
        for c in np.flatnonzero(near.any(axis=0)):
            kept[c].append(np.unique(raw[near[:, c], c], return_counts=True))
    out = np.empty((1, columns))
    for c in range(columns):
        low, high = _ranked(kept[c], [r - int(below[c]) for r in ranks])
        # as np.median: the mean of the middle value(s)
        out[0, c] = np.mean(np.array([low, high])) if rows % 2 == 0 else low
    out[0, nan] = np.nan
    return out
