"""Label-file parsing: malformed files give one-line errors; valid rows survive unchanged."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meflow.datasets import load_dataset
from meflow.datasets.base import EMOTIONS
from meflow.datasets.casme3 import PART_A
from meflow.datasets.labels import LabelTable, fix_frames, parse_rows
from meflow.errors import LabelFileError

COLUMNS = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"]
LABEL = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"


def write_labels(path: Path, rows: list[list[object]], columns: list[str] = COLUMNS) -> Path:
    df = pd.DataFrame(rows, columns=columns)
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_excel(path, sheet_name="label", index=False)
    return path


GOOD = [
    ["spNO.1", "a", 10, 15, 20, "12", "I", "happy"],
    ["spNO.1", "b", 30, 33, 40, "4", "III", "disgust"],
    ["spNO.2", "c", 5, 9, 12, "1+2", "II", "surprise"],
]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_missing_column_names_file_row_and_column(tmp_path: Path, suffix: str) -> None:
    cols = [c for c in COLUMNS if c != "Apex"]
    rows = [[v for c, v in zip(COLUMNS, r, strict=True) if c != "Apex"] for r in GOOD]
    path = write_labels(tmp_path / f"labels{suffix}", rows, cols)
    with pytest.raises(LabelFileError) as err:
        load_dataset("casme3", labels=path)
    msg = str(err.value)
    assert str(path) in msg and "row 1" in msg and "'Apex'" in msg
    assert "\n" not in msg


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_non_numeric_frame_names_file_row_and_column(tmp_path: Path, suffix: str) -> None:
    rows = [list(r) for r in GOOD]
    rows[1][2] = "3O"  # letter O typed for a zero
    path = write_labels(tmp_path / f"labels{suffix}", rows)
    with pytest.raises(LabelFileError) as err:
        load_dataset("casme3", labels=path)
    msg = str(err.value)
    assert str(path) in msg and "row 3" in msg and "'Onset'" in msg and "'3O'" in msg


def test_unknown_emotion_names_file_row_and_column(tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[2][7] = "contempt"  # a SAMM word, not a CAS(ME)^3 one
    path = write_labels(tmp_path / LABEL, rows)
    with pytest.raises(LabelFileError) as err:
        load_dataset("casme3", labels=path)
    msg = str(err.value)
    assert str(path) in msg and "row 4" in msg and "'emotion'" in msg and "'contempt'" in msg


def test_empty_and_duplicate_rows_are_dropped_and_reported(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        GOOD[0],
        [None] * 8,
        GOOD[1],
        GOOD[0],  # exact duplicate of spreadsheet row 2
        ["spNO.2", "c", 5, 7, 12, "1", "II", "fear"],
        GOOD[2],  # same subject, clip and onset as the row above, another label
        ["spNO.3", "d", 50, 55, 0, "4", "VII", "anger"],  # offset 0, no companion file
        ["spNO.3", "D", 60, 99, 70, "4", "VII", "Sad"],  # upper-case clip, apex after offset
        [None] * 8,  # trailing empty row: not a row at all
    ]
    path = write_labels(tmp_path / LABEL, rows)
    result = load_dataset("casme3", labels=path)
    dropped = {i.row: i.reason for i in result.dropped}
    assert dropped == {
        3: "empty row",
        5: "duplicate of row 2",
        7: "same subject, clip and onset as row 6",
        8: "an offset of 0: the extent of the expression is unknown",
    }
    repaired = {i.row: i.reason for i in result.repaired}
    assert list(repaired) == [9]
    assert "'D'" in repaired[9] and "midpoint 65" in repaired[9]
    assert [(s.subject, s.clip, s.emotion) for s in result.samples][-1] == (
        "spNO.3",
        "d",
        "sadness",
    )
    assert len(result.samples) == 4


def test_frame_rules() -> None:
    assert fix_frames(10, None, 21).apex == 15
    assert fix_frames(10, 3, 20).repaired and fix_frames(10, 3, 20).apex == 15
    assert fix_frames(10, 12, 9).dropped


# --- property: any valid row survives parsing with its values, whatever the spelling -------

WORDS = {
    "happy": "happiness",
    "sad": "sadness",
    "surprise": "surprise",
    "anger": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "others": "others",
}


@st.composite
def label_rows(draw: st.DrawFn) -> list[tuple[str, str, int, int, int, str]]:
    n = draw(st.integers(1, 12))
    rows = []
    used: set[tuple[str, str, int]] = set()
    for _ in range(n):
        subject = f"spNO.{draw(st.integers(1, 300))}"
        clip = draw(st.sampled_from("abcdefghijklm"))
        onset = draw(st.integers(0, 5000))
        if (subject, clip, onset) in used:
            continue
        used.add((subject, clip, onset))
        apex = onset + draw(st.integers(0, 40))
        offset = apex + draw(st.integers(0, 40))
        word = draw(st.sampled_from(sorted(WORDS)))
        rows.append((subject, clip, onset, apex, offset, word))
    return rows


def _table(cells: list[list[object]]) -> LabelTable:
    columns = {"subject": 0, "clip": 1, "onset": 2, "apex": 3, "offset": 4, "emotion": 7}
    names = {
        "subject": "Subject",
        "clip": "Filename",
        "onset": "Onset",
        "apex": "Apex",
        "offset": "Offset",
        "emotion": "emotion",
    }
    return LabelTable(
        Path("labels.xlsx"), 1, columns, names, [(i + 2, row) for i, row in enumerate(cells)]
    )


@settings(max_examples=60, deadline=None)
@given(label_rows(), st.data())
def test_valid_rows_round_trip(
    rows: list[tuple[str, str, int, int, int, str]], data: st.DataObject
) -> None:
    cells: list[list[object]] = []
    upper_clip = []
    for subject, clip, onset, apex, offset, word in rows:
        # the same row as a spreadsheet may hold it: numbers as int, float or text,
        # the emotion in any case with stray spaces, the clip letter maybe upper-case
        style = data.draw(st.sampled_from([int, float, str]))
        shown_word = data.draw(st.sampled_from([word, word.upper(), f" {word.title()} "]))
        shown_clip = data.draw(st.sampled_from([clip, clip.upper()]))
        upper_clip.append(shown_clip != clip)
        cells.append(
            [subject, shown_clip, style(onset), style(apex), style(offset), "4", "I", shown_word]
        )
    parsed, issues = parse_rows(_table(cells), PART_A)
    assert [(r.subject, r.clip, r.onset, r.apex, r.offset, r.emotion) for r in parsed] == [
        (s, c, on, ap, off, WORDS[w]) for s, c, on, ap, off, w in rows
    ]
    assert [r.row for r in parsed] == list(range(2, len(rows) + 2))
    assert [i.row for i in issues] == [i + 2 for i, up in enumerate(upper_clip) if up]
    assert all(i.action == "repaired" for i in issues)
    assert {r.emotion for r in parsed} <= {*EMOTIONS, "others"}


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10_000), st.one_of(st.none(), st.integers(0, 10_000)), st.integers(0, 10_000))
def test_any_frame_numbers_give_a_consistent_row_or_a_drop(
    onset: int, apex: int | None, offset: int
) -> None:
    fixed = fix_frames(onset, apex, offset)
    if fixed.dropped:
        assert offset < onset
    else:
        assert fixed.onset <= fixed.apex <= fixed.offset
        assert (fixed.onset, fixed.offset) == (onset, offset)
        assert (fixed.repaired is None) == (apex is not None and onset <= apex <= offset)


def test_unreadable_workbook_is_a_label_file_error(tmp_path: Path) -> None:
    path = tmp_path / LABEL
    path.write_bytes(b"not a workbook")
    with pytest.raises(LabelFileError, match="cannot read the file"):
        load_dataset("casme3", labels=path)
