"""Bad input gives a one-line error or a recorded per-sample failure: never a traceback,
never a silent skip. (Label-file cases already covered in tests/datasets/test_label_parsing.py
are listed in docs/reliability.md and not repeated here.)"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import shared_file
from meflow.cli import main
from meflow.datasets import load_dataset
from meflow.errors import LabelFileError
from meflow.features.cache import load_npz
from meflow.features.extract import extract_dataset
from reliability._helpers import one_line_error, small_config

PART_A = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
A_COLUMNS = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"]
GOOD_A = ["spNO.1", "a", 10, 15, 20, "12", "I", "happy"]


def _xlsx(path: Path, rows: list[list[object]], columns: list[str], sheet: str = "label") -> Path:
    pd.DataFrame(rows, columns=columns).to_excel(path, sheet_name=sheet, index=False)
    return path


def _table(cache: Path) -> dict[str, dict[str, str]]:
    with (cache / "samples.csv").open() as fh:
        return {r["sample_id"]: r for r in csv.DictReader(fh)}


# --- label files through the command line: one line, exit status 2 ---------------------------


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (lambda r: r.__setitem__(2, True), ["row 3", "'Onset'", "frame number expected"]),
        (lambda r: r.__setitem__(4, 20.5), ["row 3", "'Offset'", "not a whole number"]),
        (lambda r: r.__setitem__(3, -4), ["row 3", "'Apex'", "negative"]),
        (lambda r: r.__setitem__(7, "joy"), ["row 3", "'emotion'", "unknown emotion 'joy'"]),
    ],
    ids=["bool-frame", "fractional-frame", "negative-frame", "unknown-emotion"],
)
def test_wrong_cell_types_are_one_line_errors_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: object, needles: list[str]
) -> None:
    bad = list(GOOD_A)
    change(bad)  # type: ignore[operator]
    path = _xlsx(tmp_path / PART_A, [GOOD_A, bad], A_COLUMNS)
    assert main(["stats", "--dataset", "casme3", "--labels", str(path)]) == 2
    one_line_error(capsys.readouterr().err, "meflow stats: error:", str(path), *needles)


def test_missing_column_is_a_one_line_error_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cols = [c for c in A_COLUMNS if c != "Offset"]
    path = _xlsx(tmp_path / PART_A, [[v for v in GOOD_A if v != 20]], cols)
    assert main(["stats", "--dataset", "casme3", "--labels", str(path)]) == 2
    one_line_error(capsys.readouterr().err, "missing column", "'Offset'", "row 1")


def test_a_file_of_nothing_but_empty_rows_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("\n,,,\n\n")
    assert main(["stats", "--dataset", "casme3", "--labels", str(path)]) == 2
    one_line_error(capsys.readouterr().err, "no header row")


# --- paths in a label file that point outside the dataset folder ------------------------------

ESCAPES = ["../../etc", "..", ".", "spNO.1/../../x", "a\\..\\b"]


@pytest.mark.parametrize("where", ["subject", "clip"])
@pytest.mark.parametrize("value", ESCAPES)
def test_casme3_row_pointing_outside_the_root_is_dropped(
    tmp_path: Path, where: str, value: str
) -> None:
    bad = list(GOOD_A)
    bad[0 if where == "subject" else 1] = value
    bad[2] = 40  # another onset: not a duplicate of the good row
    root = tmp_path / "root"
    root.mkdir()
    path = _xlsx(tmp_path / PART_A, [GOOD_A, bad], A_COLUMNS)
    result = load_dataset("casme3", labels=path, root=root)
    assert [s.subject for s in result.samples] == ["spNO.1"]
    [issue] = result.dropped
    assert issue.row == 3 and where in issue.reason and "outside the dataset folder" in issue.reason
    for s in result.samples:
        assert s.frames_dir.resolve().is_relative_to(root.resolve())


def test_casme2_samm_and_part_c_rows_pointing_outside_the_root_are_dropped(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    c2 = ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Estimated Emotion"]
    casme2 = _xlsx(
        tmp_path / "CASME2-coding.xlsx",
        [[1, "EP02_01f", 46, 59, 86, "happiness"], ["../..", "EP02_01f", 46, 59, 86, "fear"],
         [2, "../../../tmp", 46, 59, 86, "fear"]],
        c2, sheet="Sheet1",
    )  # fmt: skip
    samm_cols = ["Subject", "Filename", "Onset Frame", "Apex Frame", "Offset Frame", "Emotion"]
    samm = _xlsx(
        tmp_path / "SAMM_Micro_FACS_Codes_v2.xlsx",
        [["006", "006_1_2", 5562, 5588, 5632, "Anger"], ["..", "006_1_2", 10, 11, 12, "Fear"]],
        samm_cols, sheet="MICRO_ONLY",
    )  # fmt: skip
    part_c = _xlsx(
        tmp_path / "CAS(ME)3_part_C_ME.xlsx",
        [[1, 1, 10, 20, "surprise"], ["..", 2, 10, 20, "surprise"]],
        ["sub", "count", "onset", "offset", "emotion"], sheet="mockCrimeME",
    )  # fmt: skip
    for name, path, kept in (("casme2", casme2, 1), ("samm", samm, 1), ("casme3c", part_c, 1)):
        result = load_dataset(name, labels=path, root=root)
        assert len(result.samples) == kept, name
        assert result.dropped and all(
            "outside the dataset folder" in i.reason for i in result.dropped
        )
        for s in result.samples:
            assert s.frames_dir.resolve().is_relative_to(root.resolve()), name


# --- frames on disk: extraction records a per-sample failure or names the damaged frames ------


def _samples(root: Path) -> list:
    return load_dataset("casme3", root=root).samples


def test_onset_beyond_the_last_frame_is_a_recorded_failure(
    synth_copy: Path, tmp_path: Path
) -> None:
    samples = _samples(synth_copy)
    last = max(int(p.stem) for p in samples[0].frames_dir.glob("*.jpg"))
    late = dataclasses.replace(samples[0], onset=last + 10, apex=last + 15, offset=last + 20)
    summary = extract_dataset(
        [late, samples[1]], tmp_path / "cache", small_config(), progress=False
    )
    assert summary.extracted == 1
    [(sid, reason)] = summary.failed
    assert sid == late.sample_id
    assert "outside the frames" in reason and f"..{last}" in reason
    row = _table(tmp_path / "cache")[sid]
    assert row["status"] == "failed" and "outside the frames" in row["reason"]


def test_clip_shorter_than_a_window_is_completed_and_one_frame_is_a_recorded_failure(
    synth_copy: Path, tmp_path: Path
) -> None:
    s = _samples(synth_copy)[0]
    for f in s.frames_dir.glob("*.jpg"):  # keep 11 frames around the apex, nothing beside them
        if abs(int(f.stem) - s.apex) > 5:
            f.unlink()
    summary = extract_dataset([s], tmp_path / "cache", small_config(), progress=False)
    assert summary.extracted == 1 and not summary.failed
    [npz] = (tmp_path / "cache" / "samples").glob("*.npz")
    arrays, meta = load_npz(npz)
    frames, i = arrays["frames"], meta["window_index"]
    assert frames[i + 8] == s.apex  # the 16-pair window stays centred on the apex
    assert frames.min() == s.apex - 5 and frames.max() == s.apex + 5
    repeated = frames[1:] == frames[:-1]  # the first and last frames repeated: no motion
    assert repeated.sum() == len(repeated) - 10 and (arrays["vector"][repeated] == 0).all()
    for f in s.frames_dir.glob("*.jpg"):
        if int(f.stem) != s.apex:
            f.unlink()
    summary = extract_dataset([s], tmp_path / "one", small_config(), progress=False)
    [(_, reason)] = summary.failed
    assert "only 1 frame" in reason and "at least 2" in reason
    assert _table(tmp_path / "one")[s.sample_id]["status"] == "failed"


def test_missing_empty_and_corrupt_frames_are_named_and_listed_frames_never_read(
    synth_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import meflow.features.sample
    import meflow.io

    s = _samples(synth_copy)[0]
    start = s.apex - 8  # the 16-pair window centred on the apex
    gone, empty, corrupt, listed = start + 2, start + 5, start + 9, start + 12
    s.frame_path(gone).unlink()
    s.frame_path(empty).write_bytes(b"")
    s.frame_path(corrupt).write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 20)
    s.frame_path(listed).write_bytes(b"garbage the dataset lists as damaged")
    s = dataclasses.replace(s, bad_frames=frozenset({listed}))
    read: list[Path] = []
    real = meflow.io.read_image

    def spy(p: Path) -> np.ndarray | None:
        read.append(Path(p))
        return real(p)

    # the reader the extraction calls (features.sample imports it at its top)
    monkeypatch.setattr(meflow.features.sample, "read_image", spy)
    summary = extract_dataset([s], tmp_path / "cache", small_config(), progress=False)
    assert summary.extracted == 1 and not summary.failed
    assert s.frame_path(listed) not in read  # the damaged-frame list is honoured
    assert s.frame_path(corrupt) in read
    row = _table(tmp_path / "cache")[s.sample_id]
    assert row["status"] == "ok"
    assert row["reason"] == f"frames missing or unreadable: {gone}, {empty}, {corrupt}, {listed}"
    assert int(row["valid_pairs"]) < 16  # pairs touching a bad frame are invalid


def test_frames_folder_of_only_corrupt_images_is_a_recorded_failure(
    synth_copy: Path, tmp_path: Path
) -> None:
    s = _samples(synth_copy)[0]
    for f in s.frames_dir.glob("*.jpg"):
        f.write_bytes(b"")
    summary = extract_dataset([s], tmp_path / "cache", small_config(), progress=False)
    [(_, reason)] = summary.failed
    assert "could be read" in reason and str(s.frames_dir) in reason


# --- videos ---------------------------------------------------------------------------------


def _write_video(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def test_video_of_one_frame_is_a_one_line_error(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from meflow.io import open_frames

    source = open_frames(shared_file(shared_data, "videos/single_face.mp4"))
    first = next(f for _, f in source if f is not None)
    video = _write_video(tmp_path / "one.mp4", [first])
    assert main(["extract", "--video", str(video), "--out", str(tmp_path / "o")]) == 2
    one_line_error(capsys.readouterr().err, "one.mp4", "only 1 frame", "at least 2")
    assert not list((tmp_path / "o").glob("*.npz"))


@pytest.mark.parametrize("keep", [0, 100, 5000])
def test_truncated_or_empty_video_is_a_one_line_error(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], keep: int
) -> None:
    raw = shared_file(shared_data, "videos/single_face.mp4").read_bytes()
    video = tmp_path / "cut.mp4"
    video.write_bytes(raw[:keep])
    assert main(["extract", "--video", str(video), "--out", str(tmp_path / "o")]) == 2
    one_line_error(capsys.readouterr().err, "cut.mp4")


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "needles"),
    [
        ("train:\n  epoch: 3\n", ["unknown setting 'train.epoch'", "did you mean 'epochs'"]),
        ("trian:\n  epochs: 3\n", ["unknown setting 'trian'", "did you mean 'train'"]),
        ("train:\n  lr: 5.0\n", ["train.lr", "out of range"]),
        ("evaluate:\n  folds: 1\n", ["evaluate.folds", "out of range"]),
        ("train:\n  epochs: three\n", ["train.epochs", "expected int"]),
        ("train: [1, 2]\n", ["train", "expected a mapping"]),
        ("train: {epochs: 3\n", ["not valid YAML"]),
    ],
)
def test_bad_config_file_is_a_one_line_error_before_any_work(
    fake_cache: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    yaml_text: str,
    needles: list[str],
) -> None:
    cfg = tmp_path / "exp.yaml"
    cfg.write_text(yaml_text)
    out = tmp_path / "run"
    rc = main(["evaluate", "--cache", str(fake_cache), "--out", str(out), "--config", str(cfg)])
    assert rc == 2
    one_line_error(capsys.readouterr().err, "meflow evaluate: error:", *needles)
    assert not out.exists()


@pytest.mark.parametrize(
    ("setting", "needles"),
    [
        ("features.windw=32", ["unknown setting 'features.windw'", "'window'"]),
        ("features.window=1", ["features.window", "out of range"]),
        ("face.crop_size=.nan", ["face.crop_size"]),
        ("flow.backend=nope", ["nope"]),
    ],
)
def test_bad_extract_setting_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, needles: list[str]
) -> None:
    out = tmp_path / "cache"
    rc = main(["extract", "--dataset", "casme3", "--root", str(tmp_path), "--out", str(out),
               "--set", setting])  # fmt: skip
    assert rc == 2
    one_line_error(capsys.readouterr().err, "meflow extract: error:", *needles)
    assert not out.exists()


def test_label_file_error_is_a_meflow_error_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / PART_A
    path.write_bytes(b"PK\x03\x04 a broken workbook\n\n\n")
    with pytest.raises(LabelFileError) as err:
        load_dataset("casme3", labels=path)
    assert "\n" not in str(err.value)
