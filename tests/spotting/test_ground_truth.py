"""Spotting ground truth: the counts of the shared files, and every repair rule on small files."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from conftest import shared_file
from meflow.errors import LabelFileError, MeflowError
from meflow.spotting.ground_truth import (
    SHARED_FILES,
    GroundTruth,
    load_casme2_long,
    load_casme3,
    load_ground_truth,
    load_samm_lv,
)


def write_book(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """Writes an .xlsx workbook with the given sheets, cell by cell (None = empty cell)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
    wb.save(path)
    return path


def reasons(gt: GroundTruth, action: str) -> dict[int, str]:
    return {i.row: i.reason for i in gt.issues if i.action == action}


# ---- the shared files ----------------------------------------------------------------------


def load_shared(shared_data: Path, dataset: str) -> GroundTruth:
    return load_ground_truth(dataset, shared_file(shared_data, SHARED_FILES[dataset]))


def test_casme3_counts_match_the_shared_readme(shared_data: Path) -> None:
    gt = load_shared(shared_data, "casme3")
    assert gt.counts == {"macro": 3346, "micro": 860, "blink": 841}
    assert len(gt.recordings()) == 956 and len(gt.subjects()) == 98
    assert gt.fps == 30.0 and gt.dropped == []

    def median_length(kind: str) -> float:
        return statistics.median(i.offset - i.onset + 1 for i in gt.of_type(kind))

    assert (median_length("micro"), median_length("macro"), median_length("blink")) == (22, 73, 15)
    # README: disgust 250, surprise 187, others 158 + 3 'Others', fear 86, anger 64, sad 57,
    # happy 55 -- joined from the label file beside it onto all 860 micro-expressions.
    assert Counter(i.emotion for i in gt.of_type("micro")) == {
        "disgust": 250,
        "surprise": 187,
        "others": 161,
        "fear": 86,
        "anger": 64,
        "sadness": 57,
        "happiness": 55,
    }
    assert {i.emotion for i in gt.of_type("macro", "blink")} == {None}
    # Not in the README, verified with pandas on the raw sheets: blinks cover 106 recordings of
    # 13 subjects; 'J' is written in 5 AU+Emotion rows (spNO.11, spNO.14) and 4 blink rows.
    assert len(gt.recordings(("blink",))) == 106 and len(gt.subjects(("blink",))) == 13
    upper = [i for i in gt.repaired if "upper case" in i.reason and i.file.startswith("CAS(ME)3")]
    assert Counter(i.file for i in upper) == {
        "CAS(ME)3_part_A_v2.xls [AU+Emotion]": 5,
        "CAS(ME)3_part_A_v2.xls [eye blink]": 4,
    }
    first = gt.intervals[0]
    assert (first.subject, first.recording, first.onset, first.apex, first.offset) == (
        "spNO.1",
        "a",
        37,
        63,
        65,
    )
    assert (first.type, first.aus, first.row, first.sheet) == ("macro", "4+15+R10", 2, "AU+Emotion")


def test_casme2_long_counts_and_offset_zero_repairs(shared_data: Path) -> None:
    gt = load_shared(shared_data, "casme2-long")
    assert gt.counts == {"macro": 300, "micro": 57}
    assert len(gt.subjects()) == 22 and gt.dropped == []
    repaired = reasons(gt, "repaired")
    offset0 = [row for row, why in repaired.items() if why.startswith("offset 0")]
    assert len(offset0) == 44  # README: 44 rows have offset 0
    by_row = {i.row: i for i in gt.intervals}
    assert all(by_row[r].offset == by_row[r].apex for r in offset0)
    # Verified with pandas: apex after the offset in rows 170, 242, 262, apex 0 in row 309;
    # 'happyiness' once; 95 (subject, video) recordings.
    apex_out = sorted(r for r, why in repaired.items() if "outside" in why)
    assert apex_out == [170, 242, 262, 309] and all(by_row[r].apex is None for r in apex_out)
    assert sum("happyiness" in why for why in repaired.values()) == 1
    assert len(gt.recordings()) == 95
    first = gt.intervals[0]
    assert (first.subject, first.recording, first.name, first.emotion) == (
        "s15",
        "0401",
        "anger1_1",
        "anger",
    )
    assert (first.onset, first.apex, first.offset, first.aus) == (557, 572, 608, "4+10+14")


def test_samm_lv_counts_and_fractional_frame_repairs(shared_data: Path) -> None:
    gt = load_shared(shared_data, "samm-lv")
    assert len(gt.intervals) == 502 and gt.dropped == []
    assert gt.counts == {"macro": 343, "micro": 159}
    assert len(gt.subjects()) == 30 and gt.fps == 200.0
    repaired = reasons(gt, "repaired")
    assert sum("apex -1" in why for why in repaired.values()) == 6
    assert sum(i.apex is None for i in gt.intervals) == 6
    # README: 143 rows have fractional frame numbers -- that is the rows with a fractional
    # Onset; pandas on the raw sheet finds 178 rows with any fractional Onset, Apex or Offset.
    assert sum(why.startswith("Onset") and "rounded" in why for why in repaired.values()) == 143
    assert sum("rounded" in why for why in repaired.values()) == 178
    first = gt.intervals[0]  # 566.4 / 647.6 / 743.2
    assert (first.subject, first.recording, first.name, first.row) == (
        "006",
        "006_1",
        "006_1_1",
        11,
    )
    assert (first.onset, first.apex, first.offset, first.type) == (566, 648, 743, "macro")
    assert len(gt.recordings()) == 147  # verified with pandas: Filename without its last part
    # Kept as written (pandas: 10 rows with Onset 0, all Macro; Filename 037_4_1 twice).
    assert sum(i.onset == 0 for i in gt.intervals) == 10
    assert [(i.type, i.onset, i.offset) for i in gt.intervals if i.name == "037_4_1"] == [
        ("micro", 1488, 1577),
        ("macro", 1487, 1605),
    ]


# ---- CAS(ME)^3 miniatures ------------------------------------------------------------------

AU_HEADER = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Expression type", "O"]
BLINK_HEADER = ["Subject", "Filename", "Onset", "Offset"]


def casme3_book(tmp_path: Path, rows: list[list[object]], blinks: list[list[object]]) -> Path:
    sheets = {"AU+Emotion": [AU_HEADER, *rows], "eye blink": [BLINK_HEADER, *blinks]}
    return write_book(tmp_path / "CAS(ME)3_part_A_v2.xlsx", sheets)


def test_casme3_rules_on_a_miniature(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["spNO.1", "a", "37", "63", "65", "4", "Macro-expression", "VII"],  # row 2: as is
        ["spNO.1", "J", 10, 12, 20, "5", "Micro-expression", "II"],  # 3: J -> j
        [None] * 8,  # 4: empty row between data rows
        ["spNO.1", "b", 50, 70, 60, "5", "Micro-expression", "II"],  # 5: apex after offset
        ["spNO.1", "b", 90, 95, 80, "5", "Micro-expression", "II"],  # 6: offset before onset
        ["spNO.2", "a", None, 5, 9, "1", "Macro-expression", "I"],  # 7: no onset
        ["spNO.1", "a", "37", "63", "65", "4", "Macro-expression", "VII"],  # 8: duplicate of 2
        ["..", "a", 1, 2, 3, "1", "Macro-expression", "I"],  # 9: not a folder name
        ["spNO.2", "c", 1, 2, 3, "1", "Macro-expression", None],  # 10: as is
    ]
    gt = load_casme3(casme3_book(tmp_path, rows, [["spNO.1", "a", 357, 372], [None] * 4]))
    kept = [(i.subject, i.recording, i.onset, i.apex, i.offset, i.type) for i in gt.intervals]
    assert kept == [
        ("spNO.1", "a", 37, 63, 65, "macro"),
        ("spNO.1", "j", 10, 12, 20, "micro"),
        ("spNO.1", "b", 50, None, 60, "micro"),
        ("spNO.2", "c", 1, 2, 3, "macro"),
        ("spNO.1", "a", 357, None, 372, "blink"),
    ]
    assert reasons(gt, "repaired") == {
        3: "Filename 'J' written in upper case: read as 'j'",
        5: "apex 70 outside 50..60: left unknown",
    }
    assert reasons(gt, "dropped") == {
        4: "empty row",
        6: "offset 80 before onset 90: the extent is unknown",
        7: "no value in Onset",
        8: "duplicate of row 2",
        9: "Subject '..' is not a folder name",
    }
    assert all(i.emotion is None for i in gt.intervals)  # no label file beside it


def test_casme3_micro_emotions_come_from_the_label_file(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["spNO.1", "a", 10, 12, 20, "5", "Micro-expression", "II"],
        ["spNO.1", "a", 30, 32, 40, "5", "Micro-expression", "II"],
    ]
    book = casme3_book(tmp_path, rows, [])
    label_header = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class"]
    write_book(
        tmp_path / "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx",
        {"label": [[*label_header, "emotion"], ["spNO.1", "a", 10, 12, 20, "5", "II", "happy"]]},
    )
    gt = load_casme3(book)
    assert [i.emotion for i in gt.intervals] == ["happiness", None]
    assert reasons(gt, "repaired") == {
        3: "no row of cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx with the same numbers: "
        "emotion unknown"
    }


def test_casme3_errors_name_the_file(tmp_path: Path) -> None:
    only_one = write_book(tmp_path / "v2.xlsx", {"AU+Emotion": [AU_HEADER]})
    with pytest.raises(LabelFileError, match=r"no sheet 'eye blink'.*is this CAS\(ME\)\^3"):
        load_casme3(only_one)
    bad_type = [["spNO.1", "a", 1, 2, 3, "4", "Blink", "I"]]
    with pytest.raises(LabelFileError, match=r"row 2, column 'Expression type'.*'Blink'"):
        load_casme3(casme3_book(tmp_path, bad_type, []))
    bad_frame = [["spNO.1", "a", "ten", 2, 3, "4", "Macro-expression", "I"]]
    with pytest.raises(LabelFileError, match=r"row 2, column 'Onset'.*'ten'"):
        load_casme3(casme3_book(tmp_path, bad_frame, []))
    csv = tmp_path / "gt.csv"
    csv.write_text("Subject,Filename\n", encoding="utf-8")
    with pytest.raises(LabelFileError, match=r"unsupported file type '\.csv'"):
        load_casme3(csv)
    with pytest.raises(LabelFileError, match="ground-truth file not found"):
        load_casme3(tmp_path / "absent.xls")
    with pytest.raises(MeflowError, match="unknown spotting dataset 'casme'"):
        load_ground_truth("casme", csv)


# ---- CAS(ME)^2 miniatures ------------------------------------------------------------------


def casme2_book(tmp_path: Path, rows: list[list[object]], rule2: bool = True) -> Path:
    sheets: dict[str, list[list[object]]] = {
        "CASFEcode_final": rows,
        "naming rule1": [[15, "s15", 1], [15, "s15", 1], [16, "s16", 2]],
    }
    if rule2:
        sheets["naming rule2"] = [["0101", "disgust1"], ["0401", "anger1"]]
    return write_book(tmp_path / "CASME_sq_gt.xlsx", sheets)


def test_casme2_long_rules_on_a_miniature(tmp_path: Path) -> None:
    micro, macro = "micro-expression", "macro-expression"
    rows: list[list[object]] = [
        [1, "anger1_1", 557, 572, 608, "4+10", "negative", macro, "anger"],  # 1: as is
        [1, "anger1_2", 2155, 2163, 0, 4, "negative", macro, "happyiness"],  # 2: offset 0
        [2, "disgust1_1", 300, 0, 0, 4, "negative", macro, "disgust"],  # 3: offset 0, no apex
        [2, "disgust1_2", 1221, 1230, 1224, 4, "negative", micro, "disgust"],  # 4: apex after
        [3, "anger1_1", 1, 2, 3, 4, "negative", micro, "anger"],  # 5: subject number unknown
        [2, "happy1_1", 1, 2, 3, 12, "positive", micro, "happy"],  # 6: video unknown
        [2, "disgust1_3", 40, 41, 50, 4, "others", micro, "Helpless"],  # 7: as is
    ]
    gt = load_casme2_long(casme2_book(tmp_path, rows))
    kept = [
        (i.subject, i.recording, i.name, i.onset, i.apex, i.offset, i.type) for i in gt.intervals
    ]
    assert kept == [
        ("s15", "0401", "anger1_1", 557, 572, 608, "macro"),
        ("s15", "0401", "anger1_2", 2155, 2163, 2163, "macro"),
        ("s16", "0101", "disgust1_2", 1221, None, 1224, "micro"),
        ("s16", "0101", "disgust1_3", 40, 41, 50, "micro"),
    ]
    assert [i.emotion for i in gt.intervals] == ["anger", "happiness", "disgust", "helpless"]
    assert reasons(gt, "repaired") == {
        2: "offset 0 (not annotated): set to the apex 2163; emotion 'happyiness' read as "
        "'happiness'",
        4: "apex 1230 outside 1221..1224: left unknown",
    }
    assert reasons(gt, "dropped") == {
        3: "offset 0 (not annotated) and no apex after the onset to end at",
        5: "subject number '3' is not in sheet 'naming rule1'",
        6: "video 'happy1' of clip 'happy1_1' is not in sheet 'naming rule2'",
    }


def test_casme2_long_errors(tmp_path: Path) -> None:
    with pytest.raises(LabelFileError, match=r"no sheet 'naming rule2'.*CASME_sq_gt"):
        load_casme2_long(casme2_book(tmp_path, [], rule2=False))
    sheets: dict[str, list[list[object]]] = {
        "CASFEcode_final": [],
        "naming rule1": [[15, "s15", 1], [16, "s16", 1]],
        "naming rule2": [],
    }
    with pytest.raises(LabelFileError, match=r"row 2: sheet 'naming rule1': '1' named both"):
        load_casme2_long(write_book(tmp_path / "two.xlsx", sheets))
    header = [["subject", "video", "onset", "apex", "offset", "au", "e", "type", "word"]]
    with pytest.raises(LabelFileError, match=r"row 1, column 'column 8 \(type\)'.*'type'"):
        load_casme2_long(casme2_book(tmp_path, header))


# ---- SAMM Long Videos miniatures -----------------------------------------------------------

SAMM_HEADER = ["Subject", "Filename", "Inducement Code", "Onset", "Apex", "Offset", "Duration"]
SAMM_HEADER += ["Type", "Action Units", "Notes"]
NOTES = [["SAMM Long Videos Dataset - FACS Codes"], [], ["NOTE: apex not annotated = -1"]]


def samm_book(tmp_path: Path, rows: list[list[object]], header: list[str] = SAMM_HEADER) -> Path:
    sheet = [*NOTES, header, *rows]
    return write_book(tmp_path / "SAMMLV_gt.xlsx", {"FACS_Movement_Only": sheet})


def test_samm_lv_rules_on_a_miniature(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["006", "006_1_1", 1, 566.4, 647.6, 743.2, 177.8, "Macro", "4+7", None],  # 5: rounded
        [6, "006_1_2", 1, 3562, -1, 3632, 71, "Micro - 1/2", 4, "Blinks"],  # 6: apex -1
        ["006", "006_1_3", 1, 10.5, 11.5, 12.5, 3, "Micro - 1/2", 4, None],  # 7: halves up
        ["006", "007_1_4", 1, 1, 2, 3, 3, "Macro", 4, None],  # 8: not the subject's
        ["006", "006_1_5", 1, -3, 2, 3, 3, "Macro", 4, None],  # 9: negative onset
        ["006", "006_2_1", 2, 0, 2, 3, 4, None, 4, None],  # 10: no type
        ["006", "006_2_2", 2, 0, 2, 3, 4, "Macro", None, None],  # 11: as is (onset 0 kept)
        ["006", "006_2_3", 2, 5, "/", 9, 5, "Macro", None, None],  # 12: apex '/'
        ["006", "006_2_4", 2, 7, None, 9, 3, "Micro", None, None],  # 13: apex empty
        [None] * 10,  # trailing empty rows are not rows
    ]
    gt = load_samm_lv(samm_book(tmp_path, rows))
    kept = [
        (i.subject, i.recording, i.onset, i.apex, i.offset, i.type, i.aus) for i in gt.intervals
    ]
    assert kept == [
        ("006", "006_1", 566, 648, 743, "macro", "4+7"),
        ("006", "006_1", 3562, None, 3632, "micro", "4"),
        ("006", "006_1", 11, 12, 13, "micro", "4"),
        ("006", "006_2", 0, 2, 3, "macro", None),
        ("006", "006_2", 5, None, 9, "macro", None),
        ("006", "006_2", 7, None, 9, "micro", None),
    ]
    assert reasons(gt, "repaired") == {
        5: "Onset 566.4 rounded to the nearest frame 566; Apex 647.6 rounded to the nearest "
        "frame 648; Offset 743.2 rounded to the nearest frame 743",
        6: "apex -1 (not annotated): left unknown",
        7: "Onset 10.5 rounded to the nearest frame 11; Apex 11.5 rounded to the nearest frame "
        "12; Offset 12.5 rounded to the nearest frame 13",
        12: "Apex not annotated ('/'): left unknown",
        13: "Apex not annotated (''): left unknown",
    }
    assert reasons(gt, "dropped") == {
        8: "Filename '007_1_4' is not <subject>_<video>_<n> of subject 006",
        9: "Onset -3 is negative",
        10: "no value in Type",
    }
    assert {i.file for i in gt.issues} == {"SAMMLV_gt.xlsx [FACS_Movement_Only]"}


def test_samm_lv_errors(tmp_path: Path) -> None:
    no_type = [c for c in SAMM_HEADER if c != "Type"]
    with pytest.raises(LabelFileError, match=r"row 4, column 'Type': missing column"):
        load_samm_lv(samm_book(tmp_path, [], no_type))
    micro = [["006", "006_1_1", 1, 1, 2, 3, 3, "Micro", 4, None]]
    other = [["006", "006_1_1", 1, 1, 2, 3, 3, "Other", 4, None]]
    assert load_samm_lv(samm_book(tmp_path, micro)).counts == {"micro": 1}
    with pytest.raises(LabelFileError, match=r"row 5, column 'Type'.*'Other'"):
        load_samm_lv(samm_book(tmp_path, other))
    infinite = [["006", "006_1_1", 1, "inf", 2, 3, 3, "Micro", 4, None]]
    with pytest.raises(LabelFileError, match=r"row 5, column 'Onset': frame number expected"):
        load_samm_lv(samm_book(tmp_path, infinite))
    with pytest.raises(LabelFileError, match="no header row"):
        load_samm_lv(write_book(tmp_path / "other.xlsx", {"x": [["a", "b"], [1, 2]]}))
