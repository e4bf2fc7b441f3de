"""meflow spot: a made-up CAS(ME)^3 Part A layout whose region flow is already extracted (fast),
its errors, and one end-to-end run on a tiny synthetic long set (slow)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from _spot_flows import made_up_set
from meflow.cli import main
from meflow.config import ExtractConfig, to_dict
from meflow.features.cache import save_npz
from meflow.spotting.ground_truth import load_casme3
from meflow.spotting.model import load_spotter
from meflow.spotting.report import INTERVAL_COLUMNS
from meflow.spotting.scoring import Interval, score_spotting, strs
from meflow.synth.layout import deterministic_xlsx
from meflow.synth.long import LONG_FILE, long_xls, micro_label_rows
from meflow.synth.long_plan import LongEvent, LongRecording

LABELS = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"


def _events(truth: list[Interval], blinks: list[tuple[int, int]]) -> tuple[LongEvent, ...]:
    out = [
        LongEvent(g.type, g.onset, g.apex or (g.onset + g.offset) // 2, g.offset,
                  g.emotion or "happiness", 1.0)
        for g in truth
    ]  # fmt: skip
    out += [LongEvent("blink", lo, lo + 1, hi, None, 1.0) for lo, hi in blinks]
    return tuple(sorted(out, key=lambda e: e.onset))


def fake_dataset(tmp: Path) -> tuple[Path, Path]:
    """(root, features): made-up recordings in CAS(ME)^3 Part A's layout (empty image files
    named by frame number), their ground truth files, and their region flow already in
    ``features`` as ``meflow extract --video`` writes it."""
    recs, truth, blinks, _ = made_up_set(subjects=3, per_subject=1)
    root, features = tmp / "root", tmp / "features"
    plans = []
    meta = {"extract": json.loads(json.dumps(to_dict(ExtractConfig())))}
    for k, rec in enumerate(recs):
        subject = f"spNO.{k + 1}"
        color = root / subject / "a" / "color"
        color.mkdir(parents=True)
        for n in range(rec.frames):
            (color / f"{rec.first_frame + n}.jpg").touch()
        arrays = {"vector": rec.vector.astype(np.float32), "valid": rec.valid,
                  "analysis_fps": np.array(30.0), "fps": np.array(30.0),
                  "frames": np.arange(rec.frames, dtype=np.int32)}  # fmt: skip
        save_npz(features / subject / "a" / "color.npz", arrays, meta)
        mine = [g for g in truth if g.recording == rec.name]
        events = _events(mine, blinks[rec.name])
        plans.append(LongRecording(SimpleNamespace(index=k, name=subject), "a",  # type: ignore[arg-type]
                                   rec.frames, events))  # fmt: skip
    (root / LONG_FILE).write_bytes(long_xls(plans))
    (root / LABELS).write_bytes(deterministic_xlsx(micro_label_rows(plans)))
    return root, features


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, Path]:
    tmp = tmp_path_factory.mktemp("spot")
    root, features = fake_dataset(tmp)
    out = tmp / "run"
    rc = main(["spot", "--dataset", "casme3", "--root", str(root), "--out", str(out),
               "--features", str(features), "--spotter", "baseline", "--chance-draws", "10",
               "--bootstrap", "20", "--quiet"])  # fmt: skip
    return rc, root, out


def _read_intervals(out: Path) -> list[dict[str, str]]:
    with open(out / "intervals.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_spot_writes_the_run_folder(run: tuple[int, Path, Path]) -> None:
    rc, _, out = run
    assert rc == 0
    for name in ("intervals.csv", "results.json", "report.md", "spotter.json"):
        assert (out / name).is_file()
    header = (out / "intervals.csv").read_text().splitlines()[0].split(",")
    assert tuple(header) == INTERVAL_COLUMNS
    pngs = sorted(p.name for p in (out / "timelines").glob("*.png"))
    assert pngs == ["spNO.1_a.png", "spNO.2_a.png", "spNO.3_a.png"]
    report = (out / "report.md").read_text()
    assert "| baseline | overall |" in report and "![spNO.1_a](timelines/spNO.1_a.png)" in report
    assert load_spotter(out / "spotter.json").name == "baseline"


def test_counts_are_the_score_of_the_written_intervals(run: tuple[int, Path, Path]) -> None:
    _, root, out = run
    gt = load_casme3(root / LONG_FILE)
    truth = [Interval(f"{g.subject}/{g.recording}", g.onset, g.offset, g.type, emotion=g.emotion)
             for g in gt.of_type("micro", "macro")]  # fmt: skip
    rows = _read_intervals(out)
    spotted = [
        Interval(f"{r['subject']}/{r['recording']}", int(r["onset"]), int(r["offset"]),
                 r["type"], emotion=r["emotion"] or None)
        for r in rows if r["spotter"] == "baseline"
    ]  # fmt: skip
    assert spotted, "the made-up expressions are clear: the baseline spots some"
    # frames are numbered as the images (from 1000 on), not from 0
    assert min(iv.onset for iv in spotted) >= 1000
    score = score_spotting(spotted, truth)
    results = json.loads((out / "results.json").read_text())
    for kind in ("micro", "macro", "overall"):
        written = results["spotters"]["baseline"][kind]
        assert (written["tp"], written["n_pred"], written["n_gt"]) == (
            score[kind].tp, score[kind].n_pred, score[kind].n_gt,
        )  # fmt: skip
    assert score.overall.tp > 0
    # micro-expressions carry the emotion they were classified as; macro-expressions none
    assert all((iv.emotion is not None) == (iv.type == "micro") for iv in spotted)
    # STRS: the written one is micro spotting F1 x analysis F1, and strs() of the file's rows
    rec = results["recognition"]["spotted"]
    assert rec["strs"] == pytest.approx(rec["spotting_f1"] * rec["analysis_f1"])
    assert rec["strs"] == pytest.approx(strs(spotted, truth).strs)
    assert results["recognition"]["annotated"]["spotting_f1"] == 1.0


def test_features_are_reused_and_a_second_run_gives_the_same_intervals(
    run: tuple[int, Path, Path], tmp_path: Path
) -> None:
    _, root, out = run
    again = tmp_path / "again"
    rc = main(["spot", "--dataset", "casme3", "--root", str(root), "--out", str(again),
               "--features", str(out.parent / "features"), "--spotter", "baseline",
               "--chance-draws", "10", "--bootstrap", "20", "--quiet", "--no-figures"])  # fmt: skip
    assert rc == 0
    assert _read_intervals(again) == _read_intervals(out)
    assert not (again / "timelines").exists()


def test_missing_root_and_missing_ground_truth_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["spot", "--dataset", "casme3", "--root", str(tmp_path / "nope"),
               "--out", str(tmp_path / "o")])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "no such dataset folder" in err and len(err.splitlines()) == 1
    (tmp_path / "empty").mkdir()
    for dataset, name in (("casme3", "CAS(ME)3_part_A_v2.xls"), ("samm-lv", "SAMMLV_gt.xlsx"),
                          ("casme2-long", "CASME_sq_gt.xlsx")):  # fmt: skip
        rc = main(["spot", "--dataset", dataset, "--root", str(tmp_path / "empty"),
                   "--out", str(tmp_path / "o")])  # fmt: skip
        err = capsys.readouterr().err.strip()
        assert rc == 2 and name.lower() in err.lower() and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()  # nothing written on bad input


def test_dataset_layouts_are_found(tmp_path: Path) -> None:
    from meflow.spotting.layouts import find_annotation, find_recordings, frame_numbers

    cas2 = tmp_path / "cas2" / "rawpic" / "s15" / "15_0101disgustingteeth"
    samm = tmp_path / "samm" / "SAMM_longvideos" / "006_1"
    for folder, names in ((cas2, ["img1.jpg", "img2.jpg", "img10.jpg"]),
                          (samm, ["006_1_0001.jpg", "006_1_0002.jpg"])):  # fmt: skip
        folder.mkdir(parents=True)
        for n in names:
            (folder / n).touch()
    (tmp_path / "cas2" / "CASME_sq_gt.xlsx").touch()
    (tmp_path / "samm" / "SAMMLV_gt.xlsx").touch()
    [r2] = find_recordings("casme2-long", tmp_path / "cas2")
    assert (r2.subject, r2.recording, r2.fps) == ("s15", "0101", 30.0)
    assert frame_numbers(r2.frames).tolist() == [1, 2, 10]
    [rs] = find_recordings("samm-lv", tmp_path / "samm" / "SAMM_longvideos")
    assert (rs.subject, rs.recording, rs.fps) == ("006", "006_1", 200.0)
    assert frame_numbers(rs.frames).tolist() == [1, 2]
    assert find_annotation("samm-lv", tmp_path / "samm").name == "SAMMLV_gt.xlsx"
    assert find_annotation("casme2-long", tmp_path / "cas2").name == "CASME_sq_gt.xlsx"


@pytest.mark.slow
def test_spot_end_to_end_on_a_tiny_synthetic_long_set(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "run"
    assert main(["synth", "--layout", "casme3-long", "--out", str(data), "--subjects", "3",
                 "--recordings", "1", "--seconds", "12", "--quiet"]) == 0  # fmt: skip
    rc = main(["spot", "--dataset", "synthetic", "--root", str(data), "--out", str(out),
               "--chance-draws", "10", "--bootstrap", "20", "--quiet",
               "--workers", "1"])  # fmt: skip
    assert rc == 0
    rows: list[dict[str, Any]] = _read_intervals(out)
    results = json.loads((out / "results.json").read_text())
    assert results["recordings"] == 3 and results["subjects"] == 3
    main_name = results["settings"]["spotters"][0]
    n = sum(r["spotter"] == main_name for r in rows)
    assert n == results["spotters"][main_name]["overall"]["n_pred"]
    assert len(list((out / "features").rglob("color.npz"))) == 3
