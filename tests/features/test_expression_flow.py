"""The descriptors of the labelled frames' flow fields (features.expression_flow): the region
parts and the optical strain, on flow fields whose answer is known, and the inputs on them."""

from __future__ import annotations

import numpy as np
import pytest

from meflow.errors import MeflowError
from meflow.face.regions import REGIONS, mirror_region, region
from meflow.features.expression_flow import (
    face_axes,
    region_parts,
    region_strain,
    strain_magnitude,
)
from meflow.features.inputs import build_input

IDENTITY = np.eye(2)


def _square(h: int = 40, w: int = 40, rid: int = 5) -> np.ndarray:
    """A label map with one region: the 8 x 8 pixels x 10..17, y 20..27 (centroid 13.5, 23.5)."""
    labels = np.zeros((h, w), np.uint8)
    labels[20:28, 10:18] = rid
    return labels


def _linear_flow(a: float, b: float, c: float, d: float, h: int = 40, w: int = 40) -> np.ndarray:
    """u = a x + b y, v = c x + d y (image axes, pixels)."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    return np.stack([a * xs + b * ys, c * xs + d * ys], axis=2).astype(np.float32)


def test_region_parts_are_the_means_of_the_four_quarters_around_the_centroid() -> None:
    flow = _linear_flow(1.0, 0.0, 0.0, 1.0)  # u = x, v = y: each pixel's own position
    parts = region_parts(flow, _square(), IDENTITY)
    assert parts.shape == (42, 4, 2) and parts.dtype == np.float32
    # part 0: -x, -y (x 10..13, y 20..23); 1: -x, +y; 2: +x, -y; 3: +x, +y
    want = [(11.5, 21.5), (11.5, 25.5), (15.5, 21.5), (15.5, 25.5)]
    np.testing.assert_allclose(parts[4], want)
    assert np.isnan(parts[np.arange(42) != 4]).all()  # no pixels: NaN
    # the face turned by 90 degrees: its x axis is image down, its y axis image left
    turned = region_parts(flow, _square(), np.array([[0.0, 1.0], [-1.0, 0.0]]))
    np.testing.assert_allclose(turned[4], [(15.5, 21.5), (11.5, 21.5), (15.5, 25.5), (11.5, 25.5)])


def test_a_region_part_without_pixels_takes_the_region_mean() -> None:
    labels = np.zeros((10, 10), np.uint8)
    labels[4, 2:6] = 1  # one row: nothing below its centroid's row... all on the +y side
    flow = _linear_flow(1.0, 0.0, 0.0, 0.0, 10, 10)
    parts = region_parts(flow, labels, IDENTITY)
    np.testing.assert_allclose(parts[0, :, 0], [3.5, 2.5, 3.5, 4.5])  # parts 0, 2 empty
    assert not parts[0, :, 1].any()


def test_face_axes_follow_the_line_between_mirror_regions() -> None:
    labels = np.zeros((200, 200), np.uint8)
    theta = np.deg2rad(20.0)  # the face rolled 20 degrees (clockwise on screen: y is down)
    x = np.array([np.cos(theta), np.sin(theta)])
    for k, r in enumerate([q for q in REGIONS if q.side == "R"][:6]):
        p = np.array([60.0, 40.0 + 20 * k])  # the subject's right region, image left
        for rid, at in ((r.id, p), (mirror_region(r.id), p + 80 * x)):
            cx, cy = np.rint(at).astype(int)
            labels[cy - 2 : cy + 3, cx - 2 : cx + 3] = rid
    axes = face_axes(labels)
    np.testing.assert_allclose(axes[0], x, atol=0.02)
    np.testing.assert_allclose(axes[1], [-x[1], x[0]], atol=0.02)  # down the face
    np.testing.assert_allclose(face_axes(np.zeros((5, 5), np.uint8)), IDENTITY)  # no regions


def test_strain_is_the_symmetric_gradient_and_ignores_translation_and_rotation() -> None:
    # stretch along x by 0.02, squeeze along y by 0.01, shear 0.03 + 0.01
    s = strain_magnitude(_linear_flow(0.02, 0.03, 0.01, -0.01))
    want = np.sqrt(0.02**2 + 0.01**2 + 2 * ((0.03 + 0.01) / 2) ** 2)
    np.testing.assert_allclose(s, want, rtol=1e-5)  # exact everywhere, the edges too
    assert np.abs(strain_magnitude(_linear_flow(0.0, -0.05, 0.05, 0.0))).max() < 1e-7  # turn
    moved = _linear_flow(0.0, 0.0, 0.0, 0.0) + np.float32(3.0)  # the face moved as a whole
    assert not strain_magnitude(moved).any()
    r = region_strain(_linear_flow(0.02, 0.03, 0.01, -0.01), _square())
    assert r.shape == (42,) and np.isclose(r[4], want) and np.isnan(np.delete(r, 4)).all()


def _batch(oa: np.ndarray, ao: np.ndarray, suffix: str, ok_a: list[bool], ok_b: list[bool]):
    n = len(oa)
    return {
        "onset_apex": np.zeros((n, 42, 2), np.float32),
        "apex_offset": np.zeros((n, 42, 2), np.float32),
        f"onset_apex{suffix}": oa,
        f"apex_offset{suffix}": ao,
        "onset_apex_valid": np.array(ok_a),
        "apex_offset_valid": np.array(ok_b),
    }


def test_parts_input_averages_the_two_sides_and_refuses_an_old_cache() -> None:
    oa = np.zeros((3, 42, 4, 2), np.float32)
    ao = np.full((3, 42, 4, 2), np.nan, np.float32)
    oa[..., 0], ao[:2, ..., 0] = 2.0, -4.0  # apex 2 px from the onset, 4 px from the offset
    b = _batch(oa, ao, "_parts", [True, True, False], [True, False, True])
    x = build_input("onset-apex-offset-parts", b)
    assert x.shape == (3, 42, 4, 2) and not x[..., 1].any()
    assert x[0, ..., 0].min() == x[0, ..., 0].max() == 3.0  # both: the mean
    assert (x[1, ..., 0] == 2.0).all()  # the onset side alone
    assert not x[2].any()  # the offset side alone, but it is NaN there: zeros
    old = {k: v for k, v in b.items() if not k.endswith("_parts")}
    with pytest.raises(MeflowError, match=r"onset-apex-offset-parts needs .*re-extract"):
        build_input("onset-apex-offset-parts", old)


def test_parts_bilateral_mirrors_a_regions_parts_across_the_face() -> None:
    r, left = region("lip_corner_r").id - 1, region("lip_corner_l").id - 1
    oa = np.zeros((1, 42, 4, 2), np.float32)
    oa[0, r, 0] = (-2.0, -1.0)  # the right corner's outer (-x) upper part: out and up
    oa[0, left, 2] = (4.0, -3.0)  # the left corner's outer (+x) upper part: out and up
    b = _batch(oa, np.zeros_like(oa), "_parts", [True], [False])
    x = build_input("onset-apex-offset-parts-bilateral", b)
    keep = [q.id - 1 for q in REGIONS if q.side in ("R", "C")]
    assert x.shape == (1, 23, 4, 2)
    # the right corner's outer upper part: the mean of (-2, -1) and the left's mirrored (-4, -3)
    assert x[0, keep.index(r), 0].tolist() == [-3.0, -2.0]
    assert np.count_nonzero(x) == 2


def test_strain_input_puts_each_regions_strain_beside_its_mean_flow() -> None:
    oa, ao = np.full((2, 42), 0.02, np.float32), np.full((2, 42), 0.04, np.float32)
    b = _batch(oa, ao, "_strain", [True, True], [True, False])
    b["onset_apex"][..., 0] = 1.0
    x = build_input("onset-apex-offset-strain", b)
    assert x.shape == (2, 42, 3)
    np.testing.assert_allclose(x[:, 0], [[0.5, 0.0, 0.03], [1.0, 0.0, 0.02]])  # both; one side


def test_labelled_pairs_give_the_statistics_of_a_run_on_the_same_frames() -> None:
    """Landmarks on the extractor's kept graph, gaps filled, then each pair: run's figures to
    the bit, with the flow field beside them (here a face moved as a whole: every part of a
    region moved as the region, almost nothing stretched)."""
    from features.test_sequence import _translated_face
    from meflow.config import ExtractConfig, override
    from meflow.features.expression_flow import descriptors, labelled_pairs
    from meflow.features.sequence import SequenceExtractor

    frames = _translated_face(np.deg2rad(30.0), 20, 0.8)[::9]  # 0, 9, 18: 7 px a step
    cfg = override(ExtractConfig(), ["flow.motion_compensation=none"])
    with SequenceExtractor(cfg, threaded=False, keep_warm=True) as ex:
        feats = ex.run(lambda: frames)
        pairs = labelled_pairs(ex, frames)
        again = labelled_pairs(ex, frames)  # the kept graph gives the same again
    assert len(pairs) == 2 and all(p is not None for p in pairs)
    for u, (p, q) in enumerate(zip(pairs, again, strict=True)):
        d, e = descriptors(p), descriptors(q)
        np.testing.assert_array_equal(d["vector"], feats.vector[u])
        np.testing.assert_array_equal(d["parts"], e["parts"])
        spread = np.nanmax(np.abs(d["parts"] - d["vector"][:, None]), axis=(1, 2))
        assert np.nanmedian(spread) < 0.25 * np.nanmedian(np.hypot(*d["vector"].T))
        assert np.nanmedian(d["strain"]) < 0.1


@pytest.mark.parametrize("corner", [(20, 30), (0, 0)])  # inside the crop, at its edge
def test_descriptors_of_a_pair_are_those_of_the_whole_field(corner: tuple[int, int]) -> None:
    from meflow.features.expression_flow import descriptors
    from meflow.features.pair import PairFeatures
    from meflow.features.pooling import AVERAGES, pool_stats

    rng = np.random.default_rng(0)
    flow = rng.normal(size=(64, 64, 2)).astype(np.float32)
    labels = np.zeros((64, 64), np.uint8)
    y, x = corner
    labels[y : y + 20, x : x + 25] = rng.integers(0, 43, (20, 25))
    stats = pool_stats(flow, labels.astype(np.intp), 42, AVERAGES["circular"])
    pair = PairFeatures(stats.magnitude, stats.angle, labels, flow, labels, stats)
    d = descriptors(pair)  # computed around the regions only
    np.testing.assert_array_equal(d["parts"], region_parts(flow, labels, face_axes(labels)))
    np.testing.assert_array_equal(d["strain"], region_strain(flow, labels))
    np.testing.assert_array_equal(d["vector"], stats.vector)
