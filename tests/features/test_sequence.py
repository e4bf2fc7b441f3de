"""The whole per-frame path (landmarks -> crop -> flow -> 42 regions) on known motion."""

from __future__ import annotations

import numpy as np
import pytest

from meflow.config import ExtractConfig, override
from meflow.features.discretise import sector_of
from meflow.features.sequence import SequenceExtractor

# Translations at sector centres (22.5 deg + k * 45 deg), 1.2 px per frame.
DIRECTIONS = [np.deg2rad(22.5 + 45 * k) for k in range(8)]


def _translated_face(theta: float, frames: int = 3, step: float = 1.2) -> list[np.ndarray]:
    """Frames of the astronaut's face moving by ``step`` px per frame in direction ``theta``."""
    import cv2
    from scipy.ndimage import affine_transform
    from skimage.data import astronaut

    img = cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR)[:320, 96:416].astype(np.float64)
    dx, dy = step * np.cos(theta), -step * np.sin(theta)  # angle 0 = right, pi/2 = up on screen
    out = []
    for t in range(frames):
        chans = [
            affine_transform(
                img[..., c], np.eye(2), offset=(-dy * t, -dx * t), order=3, mode="nearest"
            )
            for c in range(3)
        ]
        out.append(np.clip(np.dstack(chans), 0, 255).astype(np.uint8))
    return out


@pytest.fixture(scope="module")
def frames_by_direction() -> dict[int, list[np.ndarray]]:
    return {k: _translated_face(theta) for k, theta in enumerate(DIRECTIONS)}


@pytest.mark.parametrize("backend", ["dis", "farneback", "lk-dense", "tvl1"])
def test_known_translation_gives_its_sector_in_every_region(
    backend: str, frames_by_direction: dict[int, list[np.ndarray]]
) -> None:
    cfg = override(ExtractConfig(), [f"flow.backend={backend}", "flow.motion_compensation=none"])
    ex = SequenceExtractor(cfg)
    directions = range(8) if backend != "tvl1" else (0, 3, 4, 7)  # tvl1 is slow: 4 directions
    for k in directions:
        frames = frames_by_direction[k]
        feats = ex.run(lambda frames=frames: frames, name=f"dir{k}")
        assert feats.valid.all()
        sectors = sector_of(feats.angle)
        # every region of every pair, with a few boundary regions allowed to miss by one
        agree = (sectors == k).mean()
        assert agree >= 0.95, f"{backend} direction {k}: only {agree:.0%} of regions in sector {k}"
        # the crop is resized: 1.2 px in the frame is 1.2 * crop_size / box size in the crop
        assert np.nanmedian(feats.magnitude) > 0.3


def test_opposite_directions_give_sectors_four_apart(
    frames_by_direction: dict[int, list[np.ndarray]],
) -> None:
    ex = SequenceExtractor(override(ExtractConfig(), ["flow.motion_compensation=none"]))
    for k in range(4):
        a = ex.run(lambda k=k: frames_by_direction[k], name="a")
        b = ex.run(lambda k=k: frames_by_direction[k + 4], name="b")
        diff = (sector_of(b.angle) - sector_of(a.angle)) % 8
        assert np.median(diff) == 4


def test_still_face_has_near_zero_flow_and_rigid_compensation_removes_head_motion(
    frames_by_direction: dict[int, list[np.ndarray]],
) -> None:
    still = [frames_by_direction[0][0]] * 3
    feats = SequenceExtractor(ExtractConfig()).run(lambda: still, name="still")
    assert np.nanmax(feats.magnitude) < 0.05
    moving = frames_by_direction[1]
    none = SequenceExtractor(override(ExtractConfig(), ["flow.motion_compensation=none"]))
    rigid = SequenceExtractor(ExtractConfig())  # default: rigid compensation
    m_none = np.nanmedian(none.run(lambda: moving, name="m").magnitude)
    m_rigid = np.nanmedian(rigid.run(lambda: moving, name="m").magnitude)
    assert m_rigid < 0.25 * m_none
