"""The 42-region table, its mirror symmetry, the rasteriser, the figures and ``meflow regions``."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from meflow.cli import main
from meflow.config import FaceConfig
from meflow.face import (
    DRAW_ORDER,
    N_REGIONS,
    REGIONS,
    LandmarkTracker,
    crop_face,
    draw_region_borders,
    draw_regions,
    mirror_map,
    mirror_region,
    polygon_areas,
    rasterise,
    region,
)
from meflow.face.regions import MIDLINE, MIRROR_PAIRS

CROP = FaceConfig().crop_size  # 192


@pytest.fixture(scope="module")
def astronaut_bgr() -> np.ndarray:
    """scikit-image's astronaut photograph (512x512, one frontal face), BGR uint8."""
    data = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


@pytest.fixture(scope="module")
def astronaut_points(astronaut_bgr: np.ndarray) -> np.ndarray:
    with LandmarkTracker(static=True) as tracker:
        pts = tracker(astronaut_bgr)
    assert pts is not None, "MediaPipe found no face in the astronaut photograph"
    return pts


@pytest.fixture(scope="module")
def crop_points(astronaut_bgr: np.ndarray, astronaut_points: np.ndarray) -> np.ndarray:
    """The astronaut's landmarks in the 192x192 face crop the flow is computed on."""
    return crop_face(astronaut_bgr, astronaut_points, FaceConfig())[1]


def _cyclic_equal(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Whether two polygons are the same cycle, in either direction."""
    if len(a) != len(b) or set(a) != set(b):
        return False
    doubled = list(b) + list(b)
    rev = doubled[::-1]
    n = len(a)
    return any(doubled[i : i + n] == list(a) or rev[i : i + n] == list(a) for i in range(n))


def _inside_counts(points: np.ndarray, size: int, step: float = 0.5) -> np.ndarray:
    """Per sample point of a fine grid, how many region polygons contain it (no border pixels)."""
    from matplotlib.path import Path as MplPath

    g = np.arange(step / 2 - 0.5, size - 0.5, step)
    xy = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    counts = np.zeros(len(xy), dtype=np.int32)
    for r in REGIONS:
        counts += MplPath(points[list(r.polygon)].astype(np.float64)).contains_points(xy)
    return counts


# --- the table -------------------------------------------------------------------------------


def test_table_has_42_regions_with_valid_fields() -> None:
    assert len(REGIONS) == N_REGIONS == 42
    assert [r.id for r in REGIONS] == list(range(1, 43))
    assert len({r.name for r in REGIONS}) == 42
    sides = Counter(r.side for r in REGIONS)
    assert sides == {"L": 19, "R": 19, "C": 4}
    for r in REGIONS:
        assert len(r.polygon) >= 3 and len(set(r.polygon)) == len(r.polygon), r.name
        assert all(0 <= i < 468 for i in r.polygon), r.name  # mesh points, not the irises
        assert r.aus and all(1 <= au <= 46 for au in r.aus), r.name
        assert r.muscle
        assert r.name.endswith({"L": "_l", "R": "_r", "C": ""}[r.side]) or r.side == "C"
    assert sorted(DRAW_ORDER) == list(range(1, 43))


def test_polygon_edges_are_face_mesh_edges() -> None:
    """Each polygon follows edges of MediaPipe's triangulation (so neighbours share borders)."""
    conn = pytest.importorskip("mediapipe.python.solutions.face_mesh_connections")
    edges = {frozenset(e) for e in conn.FACEMESH_TESSELATION}
    for r in REGIONS:
        p = r.polygon
        for a, b in zip(p, p[1:] + p[:1], strict=True):
            assert frozenset((a, b)) in edges, (r.name, a, b)
    # the eye and lip contours bound the lids and lips
    eye_l = {i for e in conn.FACEMESH_LEFT_EYE for i in e}
    assert eye_l <= set(region("eyelid_upper_l").polygon) | set(region("eyelid_lower_l").polygon)


def test_mirror_map_is_an_involution_matching_mediapipe_left_and_right() -> None:
    conn = pytest.importorskip("mediapipe.python.solutions.face_mesh_connections")
    m = mirror_map()
    assert m.shape == (478,)
    np.testing.assert_array_equal(m[m], np.arange(478))
    assert set(np.flatnonzero(m == np.arange(478))) == set(MIDLINE)
    assert len(MIRROR_PAIRS) * 2 + len(MIDLINE) == 478
    for left, right in [
        (conn.FACEMESH_LEFT_EYE, conn.FACEMESH_RIGHT_EYE),
        (conn.FACEMESH_LEFT_EYEBROW, conn.FACEMESH_RIGHT_EYEBROW),
        (conn.FACEMESH_LEFT_IRIS, conn.FACEMESH_RIGHT_IRIS),
    ]:
        assert {frozenset(m[list(e)]) for e in left} == {frozenset(e) for e in right}
    for group in (conn.FACEMESH_LIPS, conn.FACEMESH_FACE_OVAL, conn.FACEMESH_TESSELATION):
        edges = {frozenset(e) for e in group}
        mapped = {frozenset(m[list(e)]) for e in group}
        # MediaPipe triangulates three quads asymmetrically: at most those 6 diagonals differ
        assert len(mapped - edges) <= 6


def test_mirror_map_matches_the_detection_on_a_flipped_photo(
    astronaut_bgr: np.ndarray, astronaut_points: np.ndarray
) -> None:
    flipped = np.ascontiguousarray(astronaut_bgr[:, ::-1])
    with LandmarkTracker(static=True) as tracker:
        back = tracker(flipped)
    assert back is not None
    back[:, 0] = astronaut_bgr.shape[1] - 1 - back[:, 0]  # flip the coordinates back
    err = np.linalg.norm(back - astronaut_points[mirror_map()], axis=1)
    wrong = np.linalg.norm(back - astronaut_points, axis=1)  # no mirroring: tens of pixels
    assert np.median(err) < 1.5 and err.max() < 6.0
    assert np.median(wrong) > 10 * np.median(err)


def test_left_polygons_mirror_onto_right_polygons() -> None:
    m = mirror_map()
    for r in REGIONS:
        mirrored = tuple(int(i) for i in m[list(r.polygon)])
        other = region(mirror_region(r.id))
        if r.side == "C":
            assert other.id == r.id
        else:
            assert other.side == {"L": "R", "R": "L"}[r.side]
            assert other.muscle == r.muscle and other.aus == r.aus
        assert _cyclic_equal(mirrored, other.polygon), (r.name, other.name)


def test_region_lookup() -> None:
    assert region(1) is REGIONS[0]
    assert region("mentalis").side == "C"
    assert mirror_region(region("lip_corner_l").id) == region("lip_corner_r").id
    with pytest.raises(KeyError):
        region(43)
    with pytest.raises(KeyError):
        region("nose")


# --- rasterising on a real face --------------------------------------------------------------


def test_all_42_regions_present_in_the_192_crop(crop_points: np.ndarray) -> None:
    labels = rasterise(crop_points, (CROP, CROP))
    assert labels.shape == (CROP, CROP) and labels.dtype == np.uint8
    counts = np.bincount(labels.ravel(), minlength=43)
    assert len(counts) == 43  # nothing above 42
    assert (counts[1:] > 0).all(), {r.name: int(counts[r.id]) for r in REGIONS}
    assert (counts[1:] >= 20).all()  # even the thinnest (outer brow) has some pixels
    assert counts[0] > 0  # background, eyes and mouth opening


def test_symmetric_regions_have_similar_areas(crop_points: np.ndarray) -> None:
    counts = np.bincount(rasterise(crop_points, (CROP, CROP)).ravel(), minlength=43)
    areas = polygon_areas(crop_points)
    for r in REGIONS:
        if r.side != "L":
            continue
        o = mirror_region(r.id)
        a, b = counts[r.id], counts[o]
        assert max(a, b) <= 1.35 * min(a, b), (r.name, a, b)
        assert max(areas[r.id - 1], areas[o - 1]) <= 1.35 * min(areas[r.id - 1], areas[o - 1])


def test_polygons_hardly_overlap_and_tile_the_face(crop_points: np.ndarray) -> None:
    counts = _inside_counts(crop_points, CROP)
    union = int((counts > 0).sum())
    overlap = counts.sum() / union - 1
    print(f"overlap of the 42 polygons: {100 * overlap:.4f} % of their union")
    assert overlap < 0.03
    # the union covers the face oval except the eye openings and the mouth opening
    conn = pytest.importorskip("mediapipe.python.solutions.face_mesh_connections")
    from matplotlib.path import Path as MplPath

    def loop(edges: frozenset[tuple[int, int]]) -> list[int]:
        nxt = dict(edges)
        start = next(iter(nxt))
        out = [start]
        while nxt[out[-1]] != start:
            out.append(nxt[out[-1]])
        return out

    oval = loop(conn.FACEMESH_FACE_OVAL)
    g = np.arange(0.25 - 0.5, CROP - 0.5, 0.5)
    xy = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    face = MplPath(crop_points[oval].astype(np.float64)).contains_points(xy)
    holes = np.zeros(len(xy), dtype=bool)
    inner_lips = [
        78,
        191,
        80,
        81,
        82,
        13,
        312,
        311,
        310,
        415,
        308,
        324,
        318,
        402,
        317,
        14,
        87,
        178,
        88,
        95,
    ]
    eye_l = [362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382]
    eye_r = [int(i) for i in mirror_map()[eye_l]]
    for ring in (inner_lips, eye_l, eye_r):
        holes |= MplPath(crop_points[ring].astype(np.float64)).contains_points(xy)
    covered = (counts > 0)[face & ~holes].mean()
    assert covered > 0.98


def test_rasterise_priority_and_timing(crop_points: np.ndarray) -> None:
    labels = rasterise(crop_points, (CROP, CROP))
    # every labelled pixel is inside (or on the border of) its own polygon: one label per pixel
    cv2 = pytest.importorskip("cv2")
    fixed = np.rint(crop_points * 16).astype(np.int32)
    for r in REGIONS:
        own = np.zeros((CROP, CROP), dtype=np.uint8)
        cv2.fillPoly(own, [fixed[list(r.polygon)]], 1, cv2.LINE_8, 4)
        assert own[labels == r.id].all(), r.name
    # the brows are drawn after the forehead and keep the shared border
    assert DRAW_ORDER.index(region("brow_inner_l").id) > DRAW_ORDER.index(
        region("forehead_medial_l").id
    )
    n = 200
    t0 = time.perf_counter()
    for _ in range(n):
        rasterise(crop_points, (CROP, CROP))
    ms = (time.perf_counter() - t0) / n * 1e3
    print(f"rasterise {CROP}x{CROP}: {ms:.3f} ms")


def test_rasterise_rejects_missing_landmarks() -> None:
    with pytest.raises(ValueError, match="NaN"):
        rasterise(np.full((478, 2), np.nan), (10, 10))
    with pytest.raises(ValueError, match="478"):
        rasterise(np.zeros((468, 2)), (10, 10))


# --- figures and the command -----------------------------------------------------------------


def test_draw_region_borders_marks_label_changes() -> None:
    labels = np.zeros((6, 8), dtype=np.uint8)
    labels[1:5, 1:4] = 1
    labels[1:5, 4:7] = 2
    out = draw_region_borders(np.zeros((6, 8), dtype=np.uint8), labels, colour=(0, 0, 255))
    assert out.shape == (6, 8, 3) and out.dtype == np.uint8
    marked = out[:, :, 2] == 255
    assert marked[2, 3]  # between regions 1 and 2
    assert marked[0, 2] and marked[2, 0]  # outer border of region 1
    assert not marked[2, 2] and not marked[5, 7]  # inside a region, plain background
    # a larger image gets the label map scaled onto it
    big = draw_region_borders(np.zeros((12, 16, 3), dtype=np.uint8), labels)
    assert big.shape == (12, 16, 3) and big.any()


def test_draw_regions_writes_a_png(
    tmp_path: Path, astronaut_bgr: np.ndarray, astronaut_points: np.ndarray
) -> None:
    path = tmp_path / "regions.png"
    out = draw_regions(astronaut_bgr, astronaut_points, path, size=256)
    assert out.shape == (256, 256, 3)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_regions_command_writes_a_png(
    tmp_path: Path, astronaut_bgr: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    cv2 = pytest.importorskip("cv2")
    img = tmp_path / "face.png"
    cv2.imwrite(str(img), astronaut_bgr)
    out = tmp_path / "fig.png"
    assert main(["regions", "--image", str(img), "--out", str(out), "--size", "256"]) == 0
    fig = cv2.imread(str(out))
    assert fig is not None and fig.shape == (256, 256, 3)
    assert str(out) in capsys.readouterr().out


def test_regions_command_without_a_face_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cv2 = pytest.importorskip("cv2")
    img = tmp_path / "wall.png"
    cv2.imwrite(str(img), np.full((240, 320, 3), 128, dtype=np.uint8))
    out = tmp_path / "fig.png"
    assert main(["regions", "--image", str(img), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "no face" in err and "wall.png" in err
    assert not out.exists()
