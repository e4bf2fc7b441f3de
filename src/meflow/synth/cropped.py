"""The files of the cropped layouts: CASME II's and SAMM's label sheets, every layout's frame
paths, and the megc2019 layout's three datasets (the MEGC2019 composite's class mix).

CASME II: ``CASME2-coding-20190701.xlsx`` (sheet ``Sheet1``, the real columns with their two
unnamed empty ones) and ``sub01/EP02_01f/img46.jpg``. SAMM: ``SAMM_Micro_FACS_Codes_v2.xlsx``
(sheet ``MICRO_ONLY``, 13 lines of notes above the header) and ``006/006_1_2/006_05562.jpg``.
SMIC: no label file (the class is the folder), ``HS/s1/micro/negative/s1_ne_01/
reg_image046834.bmp``. A clip folder holds the labelled onset .. offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from meflow.synth.layout import deterministic_xlsx
from meflow.synth.layouts import CropLayout
from meflow.synth.motion import OBJECTIVE_CLASS
from meflow.synth.plan import ClipPlan

CASME2_FILE = "CASME2-coding-20190701.xlsx"
CASME2_COLUMNS = (
    "Subject",
    "Filename",
    None,
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
    None,
    "Action Units",
    "Estimated Emotion",
    "Objective Classes",
)
SAMM_FILE = "SAMM_Micro_FACS_Codes_v2.xlsx"
SAMM_COLUMNS = (
    "Subject",
    "Filename",
    "Inducement Code",
    "Onset Frame",
    "Apex Frame",
    "Offset Frame",
    "Duration",
    "Micro",
    "Action Units",
    "Estimated Emotion",
    "Objective Classes",
    "Notes",
)
SAMM_NOTES: tuple[tuple[str, ...], ...] = (
    ("SAMM Dataset - Master FACS Codes (synthetic: written by meflow synth)",),
    (),
    ("Estimated emotions and objective classes as SAMM writes them.",),
    (),
    (),
    ("Symbol Key:",),
    ('"/" = or',),
    (),
    (),
    ("AU Help:",),
    (),
    (),
    (),
)
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7}


def _au_cell(au: str) -> object:
    """An AU cell as the sheets write it: a number for one AU, '4+7' for several."""
    return int(au) if au.isdigit() else au


def frame_path(layout: CropLayout, out: Path, clip: ClipPlan, n: int) -> Path:
    """The file of frame ``n`` of ``clip`` in the layout."""
    subject = clip.subject.name
    if layout.name == "casme2":
        return out / f"sub{subject}" / clip.clip / f"img{n}.jpg"
    if layout.name == "samm":
        return out / subject / clip.clip / f"{subject}_{n:05d}.jpg"
    word = layout.word[clip.emotion]
    return out / "HS" / subject / "micro" / word / clip.clip / f"reg_image{n:06d}.bmp"


def label_file(layout: CropLayout, clips: Sequence[ClipPlan]) -> tuple[str, bytes] | None:
    """The layout's label file (name, bytes), rows by subject then clip; None for SMIC."""
    ordered = sorted(clips, key=lambda c: (c.subject.index, c.clip))
    if layout.name == "casme2":
        rows: list[list[object]] = [
            [
                c.subject.name,
                c.clip,
                None,
                *c.label,
                None,
                _au_cell(c.au),
                layout.word[c.emotion],
                ROMAN[OBJECTIVE_CLASS[c.emotion]],
            ]
            for c in ordered
        ]
        return CASME2_FILE, deterministic_xlsx(rows, CASME2_COLUMNS, "Sheet1")
    if layout.name == "samm":
        rows = [
            [
                c.subject.name,
                c.clip,
                int(c.clip.split("_")[1]),
                *c.label,
                c.label[2] - c.label[0] + 1,
                "Micro - 1/2",
                _au_cell(c.au),
                layout.word[c.emotion],
                ROMAN[OBJECTIVE_CLASS[c.emotion]],
                None,
            ]
            for c in ordered
        ]
        return SAMM_FILE, deterministic_xlsx(rows, SAMM_COLUMNS, "MICRO_ONLY", SAMM_NOTES)
    return None


@dataclass(frozen=True)
class Part:
    """One dataset of the megc2019 layout: its folder, subjects, clips each and class mix."""

    layout: str
    subjects: int
    clips_per_subject: int
    weights: dict[str, int]


# The MEGC2019 composite: CASME II 145 clips of 24 subjects, SAMM 133 of 28, SMIC 164 of 16;
# negative / positive / surprise 88/32/25, 92/26/15, 70/51/43 (250/109/83). Negative is
# rendered as each dataset's negative classes in their own proportions.
MEGC2019_SUBJECTS = {"casme2": 24, "samm": 28, "smic": 16}
MEGC2019_CLIPS = {"casme2": 145, "samm": 133, "smic": 164}
MEGC2019_WEIGHTS = {
    "casme2": {"disgust": 63, "repression": 25, "happiness": 32, "surprise": 25},
    "samm": {
        "anger": 57,
        "contempt": 12,
        "disgust": 9,
        "fear": 8,
        "sadness": 6,
        "happiness": 26,
        "surprise": 15,
    },
    "smic": {
        "disgust": 18,
        "sadness": 18,
        "anger": 17,
        "fear": 17,
        "happiness": 51,
        "surprise": 43,
    },
}


def megc2019_parts(subjects: int) -> list[Part]:
    """The three datasets of a megc2019 set of ``subjects`` subjects in all (68 real), split
    24:28:16 (2 each at least), each with its real clips per subject."""
    total = sum(MEGC2019_SUBJECTS.values())
    parts = []
    for name, n in MEGC2019_SUBJECTS.items():
        count = max(2, round(subjects * n / total))
        per = min(13, round(MEGC2019_CLIPS[name] / n))
        parts.append(Part(name, count, per, MEGC2019_WEIGHTS[name]))
    return parts
