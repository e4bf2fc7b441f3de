"""SAMM loader (``samm``): ``SAMM_Micro_FACS_Codes_v2.xlsx``, sheet ``MICRO_ONLY``.

Thirteen lines of notes sit above the header row (Subject, Filename, Inducement Code, Onset
Frame, Apex Frame, Offset Frame, Duration, Micro, Action Units, Estimated Emotion, ...); the
header is found by name and row numbers are those the spreadsheet shows. Subjects are
three-digit ('006'); frames are ``<root>/006/006_1_2/006_<5-digit n>.jpg``
(e.g. ``006_05562.jpg``); ``first_frame``/``last_frame`` are the onset and offset.

Emotions: Anger, Happiness, Surprise, Disgust, Fear, Sadness map to the six classes;
``Contempt`` and ``Other`` have no class (kept only with ``six_classes=False``, as
'contempt' and 'others'). Two rows put the apex outside onset..offset (028_4_1, 032_3_1) while
their Duration column confirms onset and offset: the apex is set to the midpoint (generic rule
of :mod:`meflow.datasets.labels`).
"""

from __future__ import annotations

from pathlib import Path

from meflow.datasets.base import LoadResult, Sample
from meflow.datasets.labels import LabelRow, LabelSpec, build_result, cell_text, parse_label_file


def subject_name(value: object) -> str:
    """Gives the three-digit SAMM subject name of a cell: 6 or '006' -> '006'."""
    text = cell_text(value)
    return f"{int(text):03d}" if text.isdigit() else text


FPS = 200.0  # the high-speed camera's rate
SPEC = LabelSpec(
    dataset="samm",
    columns={
        "subject": ("Subject",),
        "clip": ("Filename",),
        "onset": ("Onset Frame", "Onset"),
        "apex": ("Apex Frame", "Apex"),
        "offset": ("Offset Frame", "Offset"),
        "emotion": ("Estimated Emotion", "Emotion"),
    },
    other_words={"others": "others", "other": "others", "contempt": "contempt"},
    subject=subject_name,
)


def is_label_file(name: str) -> bool:
    """Gives True for a lower-case file name that looks like the SAMM FACS codes sheet."""
    return "samm" in name and "micro" in name and name.endswith((".xlsx", ".xls", ".csv"))


def load(labels: Path, root: Path | None = None, six_classes: bool = True) -> LoadResult:
    """Gives the SAMM micro-expression samples."""
    rows, issues = parse_label_file(labels, SPEC)
    base = root if root is not None else Path(".")

    def make(r: LabelRow) -> Sample:
        return r.sample(
            "samm",
            base / r.subject / r.clip,
            r.subject.replace("{", "{{").replace("}", "}}") + "_{n:05d}.jpg",
            first_frame=r.onset,
            last_frame=r.offset,
            fps=FPS,
        )

    return build_result(
        rows,
        issues,
        make,
        dataset="samm",
        label_file=labels,
        root=root,
        six_classes=six_classes,
    )
