"""The flows between a sample's labelled frames (onset to apex, apex to offset), computed pair by
pair with the dense flow field kept, and the region descriptors of that field beyond the
region means: each region's mean flow over four parts of it (``region_parts``) and its mean
optical strain magnitude (``region_strain``).

``labelled_pairs`` computes a short sequence (the averaged onset, apex and offset frames) as
``SequenceExtractor.run`` defines it (landmarks of every frame on the extractor's kept graph,
gaps filled, then each consecutive pair with ``SequenceExtractor.pair``): the region
statistics are those ``run`` gives, with the compensated flow of the face crop and its
region label map beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from meflow.face.regions import N_REGIONS, REGIONS, mirror_region, region_centres
from meflow.features.pair import PairFeatures

PARTS = 4  # a region's parts: (-x, -y), (-x, +y), (+x, -y), (+x, +y) from its centroid
_MIRROR = np.array([mirror_region(i + 1) - 1 for i in range(N_REGIONS)])  # 0-based twins
_RIGHT = np.array([r.id - 1 for r in REGIONS if r.side == "R"])  # the subject's right side


def labelled_pairs(extractor: Any, frames: Sequence[np.ndarray]) -> list[PairFeatures | None]:
    """Each consecutive pair of ``frames`` (a SequenceExtractor's; at least 2) as
    ``extractor.pair`` gives it, None where a frame of the pair has no face (after the gap
    filling of ``face.max_gap``): the statistics of ``extractor.run`` on the same frames."""
    from meflow.face.landmarks import N_LANDMARKS, fill_gaps
    from meflow.features.sequence import STAGES
    from meflow.preprocess import preprocess

    cfg = extractor.cfg
    timings = dict.fromkeys(STAGES, 0.0)
    # the extractor's own landmark pass: its kept (reset) graph, as run() takes it
    produced = list(extractor._produce(iter(frames), timings))
    missing = np.full((N_LANDMARKS, 2), np.nan, np.float32)
    raw = np.stack([missing if p is None else np.asarray(p, np.float32) for p, _, _ in produced])
    pts, ok = fill_gaps(raw, cfg.face.max_gap)
    grays = [preprocess(f, cfg.preprocess) for f in frames]
    return [
        extractor.pair(grays[u - 1], grays[u], pts[u - 1], pts[u]) if ok[u - 1] and ok[u] else None
        for u in range(1, len(frames))
    ]


def face_axes(labels: np.ndarray) -> np.ndarray:
    """(2, 2) float64: the face's x axis (from the subject's right to its left, image right for
    a frontal face) and y axis (down the face), unit vectors in image axes, from the centroids
    of the mirror regions of a label map (the sum of left minus right over every pair of
    mirror regions with pixels); the image axes where there is none."""
    centres = region_centres(labels)
    d = centres[_MIRROR[_RIGHT]] - centres[_RIGHT]  # from each right region to its twin
    d = d[np.isfinite(d).all(axis=1)]
    x = d.sum(axis=0) if len(d) else np.array([1.0, 0.0])
    norm = float(np.hypot(*x))
    x = x / norm if norm > 0 else np.array([1.0, 0.0])
    return np.stack([x, np.array([-x[1], x[0]])])


def region_parts(flow: np.ndarray, labels: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """(42, 4, 2) float32: each region's mean flow (dx, dy, image axes) over its four parts
    around its own centroid along the face's ``axes`` (``face_axes``): part 0 is on the -x,
    -y side, 1 on -x, +y, 2 on +x, -y, 3 on +x, +y (a pixel on an axis goes to the + side).
    A part without pixels takes its region's mean; a region without pixels is NaN."""
    h, w = labels.shape
    lab = labels.ravel().astype(np.intp)
    ys, xs = np.divmod(np.arange(h * w), w)
    c = region_centres(labels)
    cx = np.r_[0.0, np.nan_to_num(c[:, 0])][lab]
    cy = np.r_[0.0, np.nan_to_num(c[:, 1])][lab]
    along = [(xs - cx) * a[0] + (ys - cy) * a[1] for a in axes]
    part = 2 * (along[0] >= 0) + (along[1] >= 0)
    key = lab * PARTS + part
    size = (N_REGIONS + 1) * PARTS
    n = np.bincount(key, minlength=size).reshape(-1, PARTS)[1:].astype(np.float64)
    sums = [
        np.bincount(key, weights=flow[..., i].ravel(), minlength=size).reshape(-1, PARTS)[1:]
        for i in (0, 1)
    ]
    with np.errstate(invalid="ignore", divide="ignore"):
        region = np.stack([s.sum(axis=1) / n.sum(axis=1) for s in sums], axis=1)  # (42, 2)
        out = np.stack([s / n for s in sums], axis=2)  # (42, 4, 2)
    empty = n == 0
    out[empty] = np.broadcast_to(region[:, None], out.shape)[empty]
    return out.astype(np.float32)


def strain_magnitude(flow: np.ndarray) -> np.ndarray:
    """(H, W) float32: the optical strain magnitude of a flow field at every pixel,
    sqrt(exx^2 + eyy^2 + 2 exy^2) with exx = du/dx, eyy = dv/dy, exy = (du/dy + dv/dx) / 2
    (central differences; one-sided at the edges): how much the skin stretches or shears,
    whatever moves it as a whole."""
    u = np.asarray(flow[..., 0], np.float64)
    v = np.asarray(flow[..., 1], np.float64)
    du_dy, du_dx = np.gradient(u)
    dv_dy, dv_dx = np.gradient(v)
    exy = (du_dy + dv_dx) / 2
    return np.sqrt(du_dx**2 + dv_dy**2 + 2 * exy**2).astype(np.float32)


def region_strain(flow: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(42,) float32: each region's mean optical strain magnitude (``strain_magnitude``);
    NaN for a region without pixels."""
    lab = labels.ravel().astype(np.intp)
    s = strain_magnitude(flow).ravel().astype(np.float64)
    n = np.bincount(lab, minlength=N_REGIONS + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.bincount(lab, weights=s, minlength=N_REGIONS + 1)[1:] / n
    return out.astype(np.float32)


def descriptors(pair: PairFeatures | None) -> dict[str, np.ndarray]:
    """{vector (42, 2), parts (42, 4, 2), strain (42,)} float32 of one pair's flow field (its
    region means as extraction stores them, ``region_parts``, ``region_strain``); NaN for a
    pair without a face (None)."""
    if pair is None or pair.stats is None:
        return {
            "vector": np.full((N_REGIONS, 2), np.nan, np.float32),
            "parts": np.full((N_REGIONS, PARTS, 2), np.nan, np.float32),
            "strain": np.full(N_REGIONS, np.nan, np.float32),
        }
    flow, labels = _around_regions(pair.flow, pair.labels)
    return {
        "vector": pair.stats.vector.astype(np.float32),
        "parts": region_parts(flow, labels, face_axes(labels)),
        "strain": region_strain(flow, labels),
    }


def _around_regions(flow: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The flow and labels inside the regions' bounding box and one pixel around it: the same
    descriptors (the strain's central differences at a region's edge reach one pixel out)
    for about a third of the crop's pixels."""
    rows, cols = np.flatnonzero(labels.any(axis=1)), np.flatnonzero(labels.any(axis=0))
    if not rows.size:
        return flow, labels
    y0, y1 = max(int(rows[0]) - 1, 0), int(rows[-1]) + 2
    x0, x1 = max(int(cols[0]) - 1, 0), int(cols[-1]) + 2
    return flow[y0:y1, x0:x1], labels[y0:y1, x0:x1]
