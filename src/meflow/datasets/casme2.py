"""CASME II loader (``casme2``): the coding sheet ``CASME2-coding-*.xlsx``.

Columns Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame, Action Units, Estimated
Emotion (found by name; the sheet has two unnamed empty columns). Subjects are written as
numbers (1, or '02') and named ``sub01`` as the frame folders are. Frames are the cropped
clips of ``CASME2_RAW_selected``: ``<root>/sub01/EP02_01f/img<n>.jpg`` holding onset..offset,
so ``first_frame``/``last_frame`` are the onset and offset.

Emotions: happiness, sadness, surprise, disgust, fear are the six classes' own words (CASME II
has no anger); ``repression`` and ``others`` have no class and are kept only with
``six_classes=False``. One row (sub04 EP12_01f) writes ``/`` for the apex: it is repaired to
the midpoint of onset..offset by the generic rule of :mod:`meflow.datasets.labels`.
"""

from __future__ import annotations

from pathlib import Path

from meflow.datasets.base import LoadResult, Sample
from meflow.datasets.labels import LabelRow, LabelSpec, build_result, cell_text, parse_label_file


def subject_name(value: object) -> str:
    """Gives the CASME II folder name of a subject cell: 1, '01' or 'sub01' -> 'sub01'."""
    text = cell_text(value)
    digits = text.lower().removeprefix("sub")
    return f"sub{int(digits):02d}" if digits.isdigit() else text


FPS = 200.0  # the high-speed camera's rate
SPEC = LabelSpec(
    dataset="casme2",
    columns={
        "subject": ("Subject",),
        "clip": ("Filename",),
        "onset": ("OnsetFrame", "Onset"),
        "apex": ("ApexFrame", "Apex"),
        "offset": ("OffsetFrame", "Offset"),
        "emotion": ("Estimated Emotion", "Emotion"),
    },
    other_words={"others": "others", "other": "others", "repression": "repression"},
    subject=subject_name,
)


def is_label_file(name: str) -> bool:
    """Gives True for a lower-case file name that looks like the CASME II coding sheet."""
    return (
        name.startswith("casme2")
        and ("coding" in name or "label" in name)
        and name.endswith((".xlsx", ".xls", ".csv"))
    )


def load(labels: Path, root: Path | None = None, six_classes: bool = True) -> LoadResult:
    """Gives the CASME II micro-expression samples."""
    rows, issues = parse_label_file(labels, SPEC)
    base = root if root is not None else Path(".")

    def make(r: LabelRow) -> Sample:
        return r.sample(
            "casme2",
            base / r.subject / r.clip,
            "img{n}.jpg",
            first_frame=r.onset,
            last_frame=r.offset,
            fps=FPS,
        )

    return build_result(
        rows,
        issues,
        make,
        dataset="casme2",
        label_file=labels,
        root=root,
        six_classes=six_classes,
    )
