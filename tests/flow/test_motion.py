"""Head-motion compensation: a rigid motion of landmarks and image leaves ~no flow."""

from __future__ import annotations

import numpy as np
import pytest

from meflow.errors import ConfigError
from meflow.features.pooling import pool_regions
from meflow.flow import get_flow
from meflow.flow.motion import (
    MOTION_MODES,
    STABLE_LANDMARKS,
    compensate,
    fit_similarity,
    rigid_flow,
)

from .conftest import BORDER, SIZE, render


def _landmarks(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(30, 160, size=(478, 2))


def _similarity(
    angle_deg: float, scale: float, tx: float, ty: float, centre: float = (SIZE - 1) / 2
) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    rot = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    c = np.array([centre, centre])
    return np.hstack([rot, (c - rot @ c + [tx, ty])[:, None]])


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


def test_stable_landmarks_are_valid_mesh_indices() -> None:
    assert len(set(STABLE_LANDMARKS)) == len(STABLE_LANDMARKS)
    assert all(0 <= i < 468 for i in STABLE_LANDMARKS)


def test_stable_landmarks_lie_on_nose_eye_corners_and_face_contour() -> None:
    fmc = pytest.importorskip("mediapipe.python.solutions.face_mesh_connections")

    def ids(name: str) -> set[int]:
        return {i for edge in getattr(fmc, name) for i in edge}

    allowed = ids("FACEMESH_NOSE") | ids("FACEMESH_LEFT_EYE") | ids("FACEMESH_RIGHT_EYE")
    allowed |= ids("FACEMESH_FACE_OVAL")
    assert set(STABLE_LANDMARKS) <= allowed
    lips = ids("FACEMESH_LIPS") | ids("FACEMESH_LEFT_EYEBROW") | ids("FACEMESH_RIGHT_EYEBROW")
    assert not set(STABLE_LANDMARKS) & lips


def test_rigid_flow_of_a_translation_is_constant() -> None:
    p = _landmarks()
    field = rigid_flow(p, p + np.array([0.7, -1.2]), (40, 50))
    assert field.shape == (40, 50, 2) and field.dtype == np.float32
    np.testing.assert_allclose(field.reshape(-1, 2), np.tile([0.7, -1.2], (2000, 1)), atol=1e-4)


def test_rigid_flow_of_a_rotation_is_the_rotation_field() -> None:
    m = _similarity(2.0, 1.01, 0.3, 0.1)
    p = _landmarks()
    field = rigid_flow(p, _apply(m, p), (SIZE, SIZE))
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    grid = np.stack([xs, ys], -1).reshape(-1, 2).astype(float)
    np.testing.assert_allclose(field.reshape(-1, 2), _apply(m, grid) - grid, atol=1e-3)


def test_fit_is_deterministic_and_robust_to_one_moving_landmark() -> None:
    rng = np.random.default_rng(1)
    p = _landmarks()
    q = p + np.array([1.0, 0.5]) + rng.normal(0, 0.02, p.shape)
    q[STABLE_LANDMARKS[0]] += [6.0, -4.0]  # e.g. the nose wrinkles after all
    m1 = fit_similarity(p, q)
    np.testing.assert_array_equal(m1, fit_similarity(p, q))
    np.testing.assert_allclose(m1[:, 2], [1.0, 0.5], atol=0.05)
    np.testing.assert_allclose(m1[:, :2], np.eye(2), atol=2e-3)


def test_too_few_usable_landmarks_are_refused() -> None:
    p = _landmarks()
    q = p.copy()
    q[list(STABLE_LANDMARKS[2:])] = np.nan
    with pytest.raises(ValueError, match="only 2 stable landmarks"):
        rigid_flow(p, q, (10, 10))


def test_modes() -> None:
    flow = np.ones((192, 192, 2), np.float32)
    p = _landmarks()
    assert MOTION_MODES == ("none", "rigid", "rigid-landmarks")
    assert compensate(flow, p, p, "none") is flow
    np.testing.assert_allclose(compensate(flow, p, p + 1.0, "rigid-landmarks"), 0.0, atol=1e-5)
    # 'rigid' reads the head's motion from the flow, so jittery landmarks do not matter
    jitter = p + np.random.default_rng(0).normal(0, 1.5, p.shape)
    np.testing.assert_allclose(compensate(flow, p, jitter, "rigid"), 0.0, atol=1e-4)
    assert np.abs(compensate(flow, p, jitter, "rigid-landmarks")).max() > 0.5
    with pytest.raises(ConfigError, match="did you mean 'rigid'"):
        compensate(flow, p, p, "rigit")


@pytest.mark.parametrize(
    ("backend", "tolerance"),
    # the fast default DIS trades accuracy for speed (docs/flow.md): its residual is larger
    [("dis", 0.1), ("dis-medium", 0.06), ("lk-dense", 0.06)],
)
def test_head_rotation_and_shift_compensate_to_near_zero(backend: str, tolerance: float) -> None:
    import cv2
    from skimage import data

    gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    src = cv2.resize(gray[40:200, 155:305], (240, 240), interpolation=cv2.INTER_AREA)
    src = cv2.equalizeHist(src).astype(np.float32)
    m = _similarity(1.5, 1.0, 0.8, -0.6)  # 1.5 deg roll: up to ~2.5 px at the crop's corners
    prev, nxt = render(src), render(src, m)
    p = _landmarks()
    flow = get_flow(backend)(prev, nxt)
    residual = compensate(flow, p, _apply(m, p), "rigid")
    inner = slice(BORDER, SIZE - BORDER)
    before = np.hypot(*np.moveaxis(flow[inner, inner], -1, 0))
    after = np.hypot(*np.moveaxis(residual[inner, inner], -1, 0))
    assert np.median(before) > 0.8
    assert np.median(after) < tolerance
    labels = np.zeros((SIZE, SIZE), np.uint8)
    labels[inner, inner] = 1
    mag, _ = pool_regions(residual, labels, n_regions=1)
    assert mag[0] < 0.1


def test_flow_at_is_the_box_filter_at_each_point_inside_and_at_the_edges() -> None:
    import cv2

    from meflow.flow.motion import flow_at

    rng = np.random.default_rng(3)
    flow = (rng.normal(0, 1, (96, 120, 2)) * 10.0 ** rng.uniform(-4, 1, (96, 120, 1))).astype(
        np.float32
    )
    box = cv2.blur(flow, (7, 7))
    inner = np.column_stack([rng.uniform(3, 116, 40), rng.uniform(3, 92, 40)])
    got = flow_at(flow, inner)  # every window inside: summed directly
    xi, yi = np.rint(inner).astype(int).T
    np.testing.assert_array_equal(got.astype(np.float32), box[yi, xi])
    # a point within 3 px of the edge (mirrored window), one outside, one NaN
    edge = np.array([[1.2, 50.0], [60.0, 94.6], [-3.0, 10.0], [np.nan, 5.0]])
    got = flow_at(flow, edge)
    np.testing.assert_array_equal(got[0].astype(np.float32), box[50, 1])
    np.testing.assert_array_equal(got[1].astype(np.float32), box[95, 60])
    assert np.isnan(got[2:]).all()
