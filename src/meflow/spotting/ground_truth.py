"""Spotting ground truth: the datasets' annotations of long recordings as intervals.

Three files, read unchanged, as the datasets and the MEGC challenges distribute them:

* ``casme3`` -- CAS(ME)^3 Part A ``CAS(ME)3_part_A_v2.xls`` (old .xls): sheet ``AU+Emotion``
  (Subject, Filename, Onset, Apex, Offset, AU, Expression type, Objective class; no emotion
  column) and sheet ``eye blink`` (Subject, Filename, Onset, Offset: blinks, type 'blink', no
  apex). Subject ``spNO.1``, recording = Filename (the stimulus letter), 30 fps. The
  micro-expressions' emotions are those of the label file
  ``cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx`` (read by :mod:`meflow.datasets.casme3`, its
  repairs listed) at the same subject, recording, onset and offset; macro-expressions and
  blinks have none. A micro-expression without such a label row is reported.
* ``casme2-long`` -- CAS(ME)^2 ``CASME_sq_gt.xlsx`` (MEGC2021): sheet ``CASFEcode_final``
  without a header row (subject number, clip ``anger1_1``, onset, apex, offset, AUs, emotion
  category, macro-/micro-expression, emotion word); sheet ``naming rule1`` maps the subject
  number (third column) to its folder (second column, ``s15``), sheet ``naming rule2`` the
  video code (``0101``) to the clip's video name (``anger1``). Subject = the folder, recording
  = the video code, name = the clip; emotion = the emotion word (six-class spellings
  normalised: happy -> happiness); 30 fps.
* ``samm-lv`` -- SAMM Long Videos ``SAMMLV_gt.xlsx``: notes above the header row (found by
  name), Subject, Filename ``006_1_2`` (recording ``006_1``, expression 2), Onset, Apex,
  Offset, Type (``Macro``, ``Micro - 1/2``), Action Units; 200 fps.

Rules (each change is a RowIssue ``repaired`` with its reason, each left-out row ``dropped``):

* fractional frame numbers (SAMM-LV) are rounded to the nearest frame (halves up); rounding
  keeps onset <= apex <= offset. (MEGC's reference code truncates: at most one frame apart.)
* an apex of -1 (SAMM-LV's "not annotated") or an empty apex: apex unknown (None);
* an offset of 0 after a non-zero onset (CAS(ME)^2, 44 rows) means "not annotated": the
  offset is set to the apex, as MEGC's reference code does (the interval onset..apex); without
  an apex at or after the onset the row is dropped;
* an apex outside onset..offset: apex unknown (None); onset and offset are kept, they alone
  make the interval that is scored;
* an offset before the onset: dropped (the extent is unknown); a negative frame: dropped;
* a row without subject, recording, onset, offset or type: dropped; an empty row between data
  rows: dropped (trailing empty rows are not rows); a row equal to an earlier one in subject,
  recording, onset, offset and type: dropped (naming it);
* an upper-case CAS(ME)^3 Filename (``J``) is lower-cased: the folders are lower-case;
* CAS(ME)^2: a subject number or video name absent from the naming sheets: dropped; the
  misspelt emotion word ``happyiness``: read as happiness;
* SAMM-LV: a Filename that is not ``<subject>_<video>_<n>``: dropped;
* a subject or recording that is not a plain folder name: dropped.

Errors (one line, nothing loaded; the file is not the expected one): a missing sheet, a
missing column, a frame cell that is not a number, an expression type that is neither micro
nor macro, an unreadable file or one of another type. Everything else is kept as written:
SAMM-LV onsets of 0, two rows sharing an onset with different offsets or types, and SAMM-LV's
Filename ``037_4_1`` written twice (a micro- inside a macro-expression).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from meflow.datasets.base import RowIssue
from meflow.datasets.casme3 import is_part_a_label, load_part_a
from meflow.datasets.cells import SIX_CLASS_WORDS, cell_text
from meflow.datasets.labels import LabelSpec, read_label_table
from meflow.datasets.samm import subject_name
from meflow.datasets.sheets import find_file, read_cells
from meflow.errors import LabelFileError, MeflowError
from meflow.spotting.ground_truth_rows import (
    EXPRESSION_TYPES,
    TYPES,
    GroundTruth,
    RowDropped,
    RowReader,
    SpotInterval,
    expression_type,
    interval_frames,
    read_rows,
)

__all__ = [
    "DATASETS",
    "EXPRESSION_TYPES",
    "SHARED_FILES",
    "TYPES",
    "GroundTruth",
    "SpotInterval",
    "load_casme2_long",
    "load_casme3",
    "load_ground_truth",
    "load_samm_lv",
]

# Where the shared data folder (MEFLOW_SHARED_DATA) keeps each dataset's ground truth.
SHARED_FILES: dict[str, str] = {
    "casme3": "casme3/CAS(ME)3_part_A_v2.xls",
    "casme2-long": "cas-me-2/CASME_sq_gt.xlsx",
    "samm-lv": "samm_lv/SAMMLV_gt.xlsx",
}
CASME3_SHEETS = ("AU+Emotion", "eye blink")
CASME2_SHEETS = ("CASFEcode_final", "naming rule1", "naming rule2")
EMOTION_TYPOS: dict[str, str] = {"happyiness": "happiness"}


def sheet_names(path: Path) -> list[str]:
    """Gives the sheet names of a workbook; LabelFileError for a missing or unreadable file."""
    if not path.is_file():
        raise LabelFileError(path, "ground-truth file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".xls":
            import xlrd

            return list(xlrd.open_workbook(str(path), on_demand=True).sheet_names())
        if suffix in (".xlsx", ".xlsm"):
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True)
            try:
                return list(wb.sheetnames)
            finally:
                wb.close()
    except Exception as exc:  # a corrupt workbook can raise anything inside openpyxl/xlrd
        raise LabelFileError(path, f"cannot read the file ({type(exc).__name__}: {exc})") from None
    raise LabelFileError(
        path, f"unsupported file type {suffix!r} (expected a .xls or .xlsx workbook)"
    )


def require_sheets(path: Path, wanted: tuple[str, ...], what: str) -> None:
    """Raises LabelFileError when the workbook lacks one of the sheets ``wanted``."""
    have = {n.strip().lower() for n in sheet_names(path)}
    for sheet in wanted:
        if sheet.lower() not in have:
            raise LabelFileError(
                path, f"no sheet {sheet!r} (sheets: {', '.join(sorted(have))}): is this {what}?"
            )


def _emotion(reader: RowReader, f: str) -> str | None:
    """Gives the lower-case emotion word of a cell (six-class spellings normalised), or None."""
    word = re.sub(r"\s+", " ", reader.text(f, required=False).lower())
    if word in EMOTION_TYPOS:
        reader.notes.append(f"emotion {word!r} read as {EMOTION_TYPOS[word]!r}")
        word = EMOTION_TYPOS[word]
    return SIX_CLASS_WORDS.get(word, word) or None


def _finish(
    dataset: str, path: Path, fps: float, parts: list[tuple[list[SpotInterval], list[RowIssue]]]
) -> GroundTruth:
    intervals = [i for found, _ in parts for i in found]
    issues = sorted((i for _, found in parts for i in found), key=lambda i: (i.file, i.row))
    return GroundTruth(dataset, intervals, issues, label_file=path, fps=fps)


def _casme3_sheet(
    path: Path, sheet: str, blinks: bool
) -> tuple[list[SpotInterval], list[RowIssue]]:
    columns: dict[str, tuple[str, ...]] = {
        "subject": ("Subject",),
        "recording": ("Filename",),
        "onset": ("Onset",),
        "offset": ("Offset",),
    }
    if not blinks:
        columns |= {"apex": ("Apex",), "aus": ("AU",), "type": ("Expression type",)}
    table = read_label_table(path, LabelSpec("casme3", columns, {}, sheet=sheet))

    def rule(r: RowReader) -> SpotInterval:
        subject = r.name("subject", r.text("subject"))
        written = r.text("recording")
        recording = r.name("recording", written.lower())
        if written != recording:
            r.notes.append(f"Filename {written!r} written in upper case: read as {recording!r}")
        kind = "blink" if blinks else expression_type(r)
        onset, apex, offset = interval_frames(r)
        aus = r.text("aus", required=False) or None
        return SpotInterval(
            "casme3", subject, recording, onset, apex, offset, kind, None, aus, r.row, sheet
        )

    return read_rows(path, sheet, table.rows, table.columns, table.column_names, rule)


def load_casme3(path: Path, labels: Path | None = None) -> GroundTruth:
    """Gives CAS(ME)^3 Part A's macro, micro and blink intervals from CAS(ME)3_part_A_v2.xls.

    The micro-expressions' emotions come from the micro-expression label file ``labels``
    (default: ``cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx`` beside ``path``, if there).
    """
    require_sheets(path, CASME3_SHEETS, "CAS(ME)^3 Part A's CAS(ME)3_part_A_v2.xls")
    parts = [
        _casme3_sheet(path, CASME3_SHEETS[0], False),
        _casme3_sheet(path, CASME3_SHEETS[1], True),
    ]
    if labels is None:
        found = find_file(path.parent, is_part_a_label, max_depth=0)
        labels = found[0] if found else None
    if labels is not None:
        parts[0] = _with_emotions(path, parts[0], labels)
    return _finish("casme3", path, 30.0, parts)


def _with_emotions(
    path: Path, part: tuple[list[SpotInterval], list[RowIssue]], labels: Path
) -> tuple[list[SpotInterval], list[RowIssue]]:
    """Gives the micro intervals the emotion of the label-file row with the same numbers.

    The label file is read by the recognition loader (its repairs are listed too); a micro
    interval that no label row matches in subject, recording, onset and offset keeps no emotion
    (reported).
    """
    result = load_part_a(labels, six_classes=False)
    emotions: dict[tuple[str, str, int, int], str] = {}
    for s in result.samples:
        emotions.setdefault((s.subject, s.clip, s.onset, s.offset), s.emotion)
    intervals, issues = part[0], [*part[1], *result.issues]
    out: list[SpotInterval] = []
    for i in intervals:
        if i.type == "micro":
            emotion = emotions.get((i.subject, i.recording, i.onset, i.offset))
            if emotion is None:
                reason = f"no row of {labels.name} with the same numbers: emotion unknown"
                issues.append(RowIssue(f"{path.name} [{i.sheet}]", i.row, "repaired", reason))
            i = replace(i, emotion=emotion)
        out.append(i)
    return out, issues


def _naming(path: Path, sheet: str, key_col: int, value_col: int) -> dict[str, str]:
    """Gives {key: value} from a naming-rule sheet; LabelFileError where a key has two values."""
    out: dict[str, str] = {}
    for number, values in read_cells(path, sheet):
        if len(values) <= max(key_col, value_col):
            continue
        key, value = cell_text(values[key_col]), cell_text(values[value_col])
        if not key or not value:
            continue
        if out.setdefault(key, value) != value:
            raise LabelFileError(
                path, f"sheet {sheet!r}: {key!r} named both {out[key]!r} and {value!r}", number
            )
    return out


def load_casme2_long(path: Path) -> GroundTruth:
    """Gives CAS(ME)^2's macro and micro intervals from MEGC's CASME_sq_gt.xlsx."""
    sheet, rule1, rule2 = CASME2_SHEETS
    require_sheets(path, CASME2_SHEETS, "CAS(ME)^2's CASME_sq_gt.xlsx")
    folders = _naming(path, rule1, 2, 1)  # subject number -> folder 's15'
    codes = {name: code for code, name in _naming(path, rule2, 0, 1).items()}  # 'anger1' -> '0401'
    fields = ("subject", "name", "onset", "apex", "offset", "aus", "category", "type", "emotion")
    columns = {f: c for c, f in enumerate(fields)}
    names = {f: f"column {c + 1} ({f})" for f, c in columns.items()}

    def rule(r: RowReader) -> SpotInterval:
        number, clip = r.text("subject"), r.text("name")
        kind = expression_type(r)
        onset, apex, offset = interval_frames(r)
        if number not in folders:
            raise RowDropped(f"subject number {number!r} is not in sheet {rule1!r}")
        video = clip.rsplit("_", 1)[0]
        if video not in codes:
            raise RowDropped(f"video {video!r} of clip {clip!r} is not in sheet {rule2!r}")
        subject = r.name("subject", folders[number])
        recording = r.name("name", codes[video])
        aus = r.text("aus", required=False) or None
        emotion = _emotion(r, "emotion")
        return SpotInterval(
            "casme2-long", subject, recording, onset, apex, offset, kind, emotion, aus, r.row,
            sheet, clip,
        )  # fmt: skip

    rows = read_cells(path, sheet)
    return _finish("casme2-long", path, 30.0, [read_rows(path, sheet, rows, columns, names, rule)])


SAMM_LV_SPEC = LabelSpec(
    "samm-lv",
    {
        "subject": ("Subject",),
        "name": ("Filename",),
        "onset": ("Onset", "Onset Frame"),
        "apex": ("Apex", "Apex Frame"),
        "offset": ("Offset", "Offset Frame"),
        "type": ("Type",),
        "aus": ("Action Units",),
    },
    {},
    optional=frozenset({"apex", "aus"}),
)


def load_samm_lv(path: Path) -> GroundTruth:
    """Gives SAMM Long Videos' macro and micro intervals from SAMMLV_gt.xlsx."""
    table = read_label_table(path, SAMM_LV_SPEC)
    sheet = sheet_names(path)[0] if path.suffix.lower() != ".csv" else path.name

    def rule(r: RowReader) -> SpotInterval:
        subject = r.name("subject", subject_name(r.cells.get("subject")) or r.text("subject"))
        clip = r.text("name")
        parts = clip.split("_")
        if len(parts) != 3 or parts[0] != subject or not all(p.isdigit() for p in parts):
            raise RowDropped(f"Filename {clip!r} is not <subject>_<video>_<n> of subject {subject}")
        recording = r.name("name", f"{parts[0]}_{parts[1]}")
        kind = expression_type(r)
        onset, apex, offset = interval_frames(r)
        aus = r.text("aus", required=False) or None
        return SpotInterval(
            "samm-lv", subject, recording, onset, apex, offset, kind, None, aus, r.row, sheet, clip
        )

    found = read_rows(path, sheet, table.rows, table.columns, table.column_names, rule)
    return _finish("samm-lv", path, 200.0, [found])


DATASETS = {"casme3": load_casme3, "casme2-long": load_casme2_long, "samm-lv": load_samm_lv}


def load_ground_truth(dataset: str, path: Path) -> GroundTruth:
    """Gives the spotting ground truth of ``dataset`` ('casme3', 'casme2-long', 'samm-lv')."""
    if dataset not in DATASETS:
        raise MeflowError(f"unknown spotting dataset {dataset!r} (known: {', '.join(DATASETS)})")
    return DATASETS[dataset](Path(path))
