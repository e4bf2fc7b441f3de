"""Synthetic frame pairs with a known motion, and a 42-cell label map, for the flow tests."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi

SIZE = 192
MARGIN = 24  # source pixels on every side of the crop, so shifts never show the border
BORDER = 16  # label-map border left as background: the backends' border handling differs

PairMaker = Callable[[float, float], tuple[np.ndarray, np.ndarray]]


@pytest.fixture(scope="session")
def face_source() -> np.ndarray:
    """A textured face (skimage's astronaut, tight crop), equalised, float32 (240, 240)."""
    from skimage import data

    gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    face = cv2.resize(gray[40:200, 155:305], (SIZE + 2 * MARGIN,) * 2, interpolation=cv2.INTER_AREA)
    return cv2.equalizeHist(face).astype(np.float32)


def render(
    source: np.ndarray, matrix: np.ndarray | None = None, shift: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """The 192x192 uint8 crop of ``source`` moved by ``shift`` (dx, dy) or an affine map.

    ``matrix`` (2x3, crop pixel coordinates) maps a point of the output's source to its
    place in the output. scipy's cubic spline is exact to float precision at any sub-pixel
    offset; cv2.warpAffine/remap quantise positions to 1/32 px, which alone biases the
    measured flow by up to ~0.05 px.
    """
    m = np.eye(3)
    if matrix is not None:
        m[:2] = matrix
    m[:2, 2] += shift
    inv = np.linalg.inv(m)
    # crop (x, y) -> source (x + MARGIN, y + MARGIN); ndi works in (row, col).
    lin = inv[:2, :2][::-1, ::-1]
    off = inv[:2, 2][::-1] + MARGIN
    out = ndi.affine_transform(
        source, lin, offset=off, output_shape=(SIZE, SIZE), order=3, mode="reflect"
    )
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def make_pair(face_source: np.ndarray) -> PairMaker:
    """(dx, dy) -> (prev, nxt) with nxt = prev moved by (dx, dy) px, both re-sampled."""

    def make(dx: float, dy: float) -> tuple[np.ndarray, np.ndarray]:
        # Half the shift each way: both frames are interpolated at the same fractional offset
        # magnitude, so neither is smoother than the other.
        return (
            render(face_source, shift=(-dx / 2, -dy / 2)),
            render(face_source, shift=(dx / 2, dy / 2)),
        )

    return make


def grid_labels(size: int = SIZE, border: int = BORDER, rows: int = 6, cols: int = 7) -> np.ndarray:
    """A (size, size) uint8 label map: rows x cols cells numbered 1.. inside a 0 border."""
    inner = size - 2 * border
    r = np.minimum(np.arange(inner) * rows // inner, rows - 1)
    c = np.minimum(np.arange(inner) * cols // inner, cols - 1)
    lab = np.zeros((size, size), np.uint8)
    lab[border:-border, border:-border] = r[:, None] * cols + c[None, :] + 1
    return lab


@pytest.fixture(scope="session")
def labels() -> np.ndarray:
    return grid_labels()
