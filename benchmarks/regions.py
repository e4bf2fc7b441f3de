"""Prints how the 42 regions tile a real face: overlap, coverage, pixels per region, mirror map.

Run: ``.venv/bin/python benchmarks/regions.py``. The construction of tests/face/test_regions.py:
MediaPipe's landmarks on scikit-image's astronaut (static mode), the 192x192 face crop.
Printed: the polygons' overlap as a share of their union and the share of the face oval
(without the eye and mouth openings) they cover, both counted at 0.5 px samples; the
rasterised label map's smallest and largest region in pixels and how far the two sides of a
symmetric pair differ; and the median and largest distance between the landmarks found on the
flipped photograph and the mirror map's partners (px of the 512x512 photograph).
"""

from __future__ import annotations

import argparse

import numpy as np

from _results import write_results  # benchmarks/ is on sys.path when a script runs
from meflow.config import FaceConfig
from meflow.face import REGIONS, LandmarkTracker, crop_face, mirror_map, mirror_region, rasterise
from meflow.face.regions import MIDLINE, MIRROR_PAIRS

INNER_LIPS = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178,
              88, 95]  # fmt: skip
EYE_L = [362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382]


def _oval() -> list[int]:
    """MediaPipe's face-oval landmarks in order around the face."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_FACE_OVAL

    nxt = dict(FACEMESH_FACE_OVAL)
    out = [next(iter(nxt))]
    while nxt[out[-1]] != out[0]:
        out.append(nxt[out[-1]])
    return out


def tiling(points: np.ndarray, size: int) -> tuple[float, float]:
    """The polygons' overlap (% of their union) and their coverage of the face (%)."""
    from matplotlib.path import Path as MplPath

    g = np.arange(0.25 - 0.5, size - 0.5, 0.5)
    xy = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    counts = np.zeros(len(xy), dtype=np.int32)
    for r in REGIONS:
        counts += MplPath(points[list(r.polygon)].astype(np.float64)).contains_points(xy)
    overlap = counts.sum() / int((counts > 0).sum()) - 1
    face = MplPath(points[_oval()].astype(np.float64)).contains_points(xy)
    holes = np.zeros(len(xy), dtype=bool)
    eye_r = [int(i) for i in mirror_map()[EYE_L]]
    for ring in (INNER_LIPS, EYE_L, eye_r):
        holes |= MplPath(points[ring].astype(np.float64)).contains_points(xy)
    return 100 * float(overlap), 100 * float((counts > 0)[face & ~holes].mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.parse_args()
    from skimage import data

    bgr = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    flipped = np.ascontiguousarray(bgr[:, ::-1])
    with LandmarkTracker(static=True) as tracker:
        points, back = tracker(bgr), tracker(flipped)
    if points is None or back is None:
        raise SystemExit("MediaPipe found no face in the astronaut photograph")
    size = FaceConfig().crop_size
    crop = crop_face(bgr, points, FaceConfig())[1]
    overlap, covered = tiling(crop, size)
    counts = np.bincount(rasterise(crop, (size, size)).ravel(), minlength=43)
    ids = [r.id for r in REGIONS]
    small = min(ids, key=lambda i: counts[i])
    large = max(ids, key=lambda i: counts[i])
    pairs = {
        r.name.removesuffix("_l"): 100 * (max(a, b) / min(a, b) - 1)
        for r in REGIONS
        if r.side == "L"
        for a, b in [(counts[r.id], counts[mirror_region(r.id)])]
    }
    worst = max(pairs, key=lambda k: pairs[k])
    under5 = sum(v < 5 for v in pairs.values())
    back[:, 0] = bgr.shape[1] - 1 - back[:, 0]
    err = np.linalg.norm(back - points[mirror_map()], axis=1)
    name = {r.id: r.name for r in REGIONS}
    figures = {
        "overlap_pct": f"{overlap:.3f}",
        "covered_pct": f"{covered:.2f}",
        "smallest": name[small],
        "smallest_px": int(counts[small]),
        "largest": name[large],
        "largest_px": int(counts[large]),
        "pair_worst": worst,
        "pair_worst_pct": f"{pairs[worst]:.0f}",
        "pairs_under5": under5,
        "pairs": len(pairs),
        "mirror_median_px": f"{np.median(err):.1f}",
        "mirror_max_px": f"{err.max():.1f}",
        "mirror_pairs": len(MIRROR_PAIRS),
        "midline": len(MIDLINE),
    }
    rows = [
        ["polygons' overlap, % of their union", figures["overlap_pct"]],
        ["face oval covered (eye and mouth openings left out), %", figures["covered_pct"]],
        [f"smallest region ({name[small]}), pixels", figures["smallest_px"]],
        [f"largest region ({name[large]}), pixels", figures["largest_px"]],
        [f"largest difference of a symmetric pair ({worst}), %", figures["pair_worst_pct"]],
        ["symmetric pairs differing by under 5 %", f"{under5} of {len(pairs)}"],
        ["mirror map vs the flipped photograph: median px", figures["mirror_median_px"]],
        ["mirror map vs the flipped photograph: largest px", figures["mirror_max_px"]],
    ]
    for label, value in rows:
        print(f"{label:<60}{value}")
    write_results(
        "regions",
        tables={"astronaut": {"columns": ["astronaut, 192x192 crop", "measured"], "rows": rows}},
        figures=figures,
    )


if __name__ == "__main__":
    main()
