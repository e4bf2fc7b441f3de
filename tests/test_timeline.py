"""The OpenCV timeline figure: what is drawn where."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from meflow.inference.timeline import (
    HEIGHT,
    INVALID_BGR,
    NO_FACE_BGR,
    PALETTE_BGR,
    WIDTH,
    draw_timeline,
    layout,
    nice_ticks,
    write_png,
)

CLASSES = ["happiness", "sadness", "surprise", "anger", "disgust", "fear"]


def _near(img: np.ndarray, x: float, y: float, colour: tuple[int, int, int], r: int = 3) -> bool:
    patch = img[int(y) - r : int(y) + r + 1, int(x) - r : int(x) + r + 1].reshape(-1, 3)
    return bool((np.abs(patch.astype(int) - np.array(colour)).max(axis=1) <= 12).any())


def test_points_lines_shading_and_bands_are_where_the_data_puts_them(tmp_path: Path) -> None:
    centres = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    probs = np.full((5, 6), 0.0)
    probs[0, 2] = probs[1, 2] = 1.0  # surprise certain in the first two windows
    probs[2] = np.nan  # invalid window
    probs[3, 5] = probs[4, 5] = 0.5  # fear at one half afterwards
    img = draw_timeline(centres, probs, CLASSES, 6.0, "clip: 5 windows", [(2.5, 3.5)], [(4.5, 6.0)])
    assert img.shape == (HEIGHT, WIDTH, 3) and img.dtype == np.uint8
    lay = layout(6.0)
    surprise, fear = PALETTE_BGR[2], PALETTE_BGR[5]
    assert _near(img, lay.x(1.0), lay.y(1.0), surprise)
    assert _near(img, lay.x(1.5), lay.y(1.0), surprise)  # the line between the two windows
    assert _near(img, lay.x(4.0), lay.y(0.5), fear)
    assert not _near(img, lay.x(3.0), lay.y(1.0), surprise, r=8)  # lines break at NaN
    assert not _near(img, lay.x(2.0), lay.y(0.5), fear, r=8)
    # the invalid window is shaded grey (blended 70%) in mid-plot, the rest stays white
    grey = np.array(INVALID_BGR) * 0.7 + 255 * 0.3
    mid = img[int(lay.y(0.8)), int(lay.x(2.8))]  # off the grid lines.astype(float)
    assert np.abs(mid - grey).max() <= 2
    assert (img[int(lay.y(0.8)), int(lay.x(4.2))] == 255).all()
    # frames without a face: a red band along the bottom of the plot area, only there
    assert _near(img, lay.x(5.5), lay.y1 - 2, NO_FACE_BGR, r=1)
    assert not _near(img, lay.x(1.5), lay.y1 - 2, NO_FACE_BGR, r=1)
    # the legend holds one swatch per class, in its colour, right of the plot
    legend = img[:, lay.x1 + 1 :]
    for colour in PALETTE_BGR[:6]:
        assert (np.abs(legend.astype(int) - np.array(colour)).max(axis=2) <= 12).any()

    png = write_png(tmp_path / "t.png", img)
    back = cv2.imread(str(png))
    np.testing.assert_array_equal(back, img)  # lossless, complete file


def test_nice_ticks() -> None:
    np.testing.assert_allclose(nice_ticks(2.4), [0, 0.5, 1.0, 1.5, 2.0])
    np.testing.assert_allclose(nice_ticks(24.0), [0, 5, 10, 15, 20])
    np.testing.assert_allclose(nice_ticks(10.0), np.arange(0, 11, 1.0))
    assert len(nice_ticks(3600.0)) <= 11
