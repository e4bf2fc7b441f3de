"""`meflow stats` and the summary behind it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import shared_file
from meflow.cli import main
from meflow.datasets import load_dataset
from meflow.datasets.stats import plot_class_distribution, summarize

PART_A = "casme3/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
LABEL = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
COLUMNS = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"]


def fake_casme3(root: Path) -> Path:
    """A three-sample CAS(ME)^3 Part A folder; the frames of spNO.2/c are absent."""
    rows = [
        ["spNO.1", "a", 3, 5, 8, "12", "I", "happy"],
        ["spNO.1", "b", 2, 4, 6, "4", "III", "others"],
        ["spNO.2", "c", 1, 2, 4, "1+2", "II", "surprise"],
        ["spNO.2", "d", 2, 3, 5, "4", "III", "disgust"],
    ]
    for subject, clip, *_ in rows[:2] + rows[3:]:
        color = root / subject / clip / "color"
        color.mkdir(parents=True)
        for n in range(10):
            (color / f"{n}.jpg").write_bytes(b"")
    pd.DataFrame(rows, columns=COLUMNS).to_excel(root / LABEL, sheet_name="label", index=False)
    (root / "subjects.csv").write_text("subject,gender\nspNO.1,female\nspNO.2,male\n")
    return root


def test_json_output_has_the_counts(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    label = shared_file(shared_data, PART_A)
    assert main(["stats", "--dataset", "casme3", "--labels", str(label), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["samples"] == 699 and out["subjects"] == 88
    assert out["classes"] == {
        "happiness": 55,
        "sadness": 57,
        "surprise": 187,
        "anger": 64,
        "disgust": 250,
        "fear": 86,
    }
    assert list(out["classes"]) == ["happiness", "sadness", "surprise", "anger", "disgust", "fear"]
    assert out["other_classes"] == {"others": 161}
    assert [r["row"] for r in out["repaired"]] == [61, 130, 751, 798, 800]
    assert out["dropped"] == [] and out["missing_frames"] == []


def test_table_output_and_plot(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    label = shared_file(shared_data, "casme2/CASME2-coding-20190701.xlsx")
    png = tmp_path / "fig" / "classes.png"
    assert main(["stats", "--dataset", "casme2", "--labels", str(label), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "disgust" in out and "63" in out and "subjects: 22" in out
    assert "repaired rows: 1" in out and "row 31:" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_malformed_file_gives_exit_2_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / LABEL
    pd.DataFrame([["spNO.1", "a", "ten", 5, 8, "1", "I", "happy"]], columns=COLUMNS).to_excel(
        path, sheet_name="label", index=False
    )
    assert main(["stats", "--labels", str(path)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == "" and "\n" not in err and "Traceback" not in err
    assert err.startswith("meflow stats: error:")
    assert str(path) in err and "row 2" in err and "'Onset'" in err


def test_root_reports_missing_frames_without_failing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = fake_casme3(tmp_path / "casme3")
    assert main(["stats", "--root", str(root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["samples"] == 3 and out["subjects"] == 2
    assert out["classes"]["happiness"] == 1 and out["other_classes"] == {"others": 1}
    assert [m["sample"] for m in out["missing_frames"]] == ["casme3_spNO.2_c_1"]
    assert "does not exist" in out["missing_frames"][0]["reason"]

    assert main(["stats", "--root", str(root), "--all-classes"]) == 0
    table = capsys.readouterr().out
    assert "others" in table and "samples with missing frames: 1" in table
    result = load_dataset("casme3", root=root)
    assert result.samples[0].frame_path(5) == root / "spNO.1" / "a" / "color" / "5.jpg"
    assert result.samples[0].frame_path(5).is_file()


def test_missing_label_file_and_missing_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--root", str(tmp_path)]) == 2
    assert "no CAS(ME)^3 Part A label file" in capsys.readouterr().err
    assert main(["stats"]) == 2
    assert "--labels" in capsys.readouterr().err
    assert main(["stats", "--labels", str(tmp_path / "nope.xlsx")]) == 2
    assert "label file not found" in capsys.readouterr().err


def test_summarize_orders_classes_and_plot_writes_png(tmp_path: Path) -> None:
    root = fake_casme3(tmp_path / "d")
    result = load_dataset("casme3", root=root, six_classes=False)
    summary = summarize(result)
    assert list(summary["classes"])[:6] == [
        "happiness",
        "sadness",
        "surprise",
        "anger",
        "disgust",
        "fear",
    ]
    assert summary["classes"]["others"] == 1 and summary["classes"]["anger"] == 0
    assert summary["other_classes"] == {"others": 1}
    assert summary["missing_frames"] == []
    png = plot_class_distribution(summary["classes"], tmp_path / "c.png", title="t")
    assert png.stat().st_size > 1000
