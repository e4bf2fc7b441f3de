"""Every face of a photograph: the group photo's five, at any size of the photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import shared_file
from meflow.face.find import find_faces

# the group photo's faces, left to right, measured once by eye and by MediaPipe (x, y)
GROUP = [(264, 126), (367, 304), (478, 264), (574, 377), (732, 365)]


def test_group_photo_gives_its_five_faces_left_to_right(shared_data: Path) -> None:
    import cv2

    image = cv2.imread(str(shared_file(shared_data, "faces/multi_face.jpg")))
    faces = find_faces(image)
    assert len(faces) == 5
    for face, (x, y) in zip(faces, GROUP, strict=True):
        assert np.hypot(*(face.centre - (x, y))) < 8
        assert face.landmarks.shape == (478, 2) and 80 < face.height < 140


def test_big_photo_is_searched_scaled_down_and_answers_in_its_pixels(shared_data: Path) -> None:
    import cv2

    image = cv2.imread(str(shared_file(shared_data, "faces/multi_face.jpg")))
    big = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)  # 2000 x 1334
    faces = find_faces(big)
    assert len(faces) == 5
    for face, (x, y) in zip(faces, GROUP, strict=True):
        assert np.hypot(*(face.centre - (2 * x, 2 * y))) < 16
        assert 160 < face.height < 280


def test_no_face_gives_an_empty_list(shared_data: Path) -> None:
    from meflow.io import open_frames

    source = open_frames(shared_file(shared_data, "videos/no_face.mp4"))
    try:
        _, frame = next(iter(source))
    finally:
        source.close()
    assert frame is not None
    assert find_faces(frame) == []
    assert find_faces(np.full((100, 100, 3), 128, np.uint8)) == []


@pytest.mark.parametrize("name", ["single_face.jpg", "45-m7-di-ph.jpg"])
def test_one_face_is_found_once(shared_data: Path, name: str) -> None:
    import cv2

    image = cv2.imread(str(shared_file(shared_data, f"faces/{name}")))
    assert len(find_faces(image)) == 1
