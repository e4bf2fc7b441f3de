"""Miniature dataset trees in CASME II's, SAMM's and SMIC's real layouts, with real frames.

The frames are those of a small synthetic CAS(ME)^3-style dataset (meflow.synth), copied as
each dataset ships its clips: onset..offset only, under the dataset's own folder and file
names, with its label file in its real layout (CASME II's coding sheet, SAMM's sheet with
thirteen lines of notes above the header; SMIC none: the folder tree is the annotation).
"""

from __future__ import annotations

from pathlib import Path

from meflow.datasets.base import Sample

# the synthetic clip's six-class emotion -> the word each dataset writes (a MEGC2019 class)
WORDS = {
    "casme2": {
        **{"happiness": "happiness", "surprise": "surprise", "disgust": "disgust"},
        "anger": "others",  # not in the composite, one of the 5-class protocol's classes
    },
    "samm": {"happiness": "Happiness", "surprise": "Surprise", "anger": "Anger"},
    "smic": {"happiness": "positive", "surprise": "surprise", "disgust": "negative"},
}
NEGATIVE = {"casme2": "repression", "samm": "Contempt", "smic": "negative"}
CASME2_HEADER = (
    *("Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None),
    *("Action Units", "Estimated Emotion", "Objective Classes"),
)
SAMM_HEADER = (
    *("Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame", "Offset Frame"),
    *("Duration", "Micro", "Action Units", "Estimated Emotion", "Objective Classes", "Notes"),
)
SMIC_CODE = {"negative": "ne", "positive": "po", "surprise": "sur"}


def _word(dataset: str, emotion: str) -> str:
    return WORDS[dataset].get(emotion, NEGATIVE[dataset])


def _xlsx(path: Path, rows: list[list[object]], notes: int = 0) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for i in range(notes):
        ws.append([f"note {i + 1}" if i % 3 == 0 else None])
    for row in rows:
        ws.append(row)
    wb.save(path)


def _copy_frames(s: Sample, dest: Path, name: str, first: int) -> list[int]:
    """Copies the recording's frames onset-4..offset+4 as ``name.format(n)``; gives the numbers."""
    import cv2

    dest.mkdir(parents=True, exist_ok=True)
    numbers = []
    for i, n in enumerate(range(max(s.onset - 4, 0), s.offset + 5)):
        src = s.frame_path(n)
        if not src.exists():
            continue
        image = cv2.imread(str(src))
        cv2.imwrite(str(dest / name.format(n=first + i)), image)
        numbers.append(first + i)
    return numbers


def write_layouts(samples: list[Sample], root: Path) -> dict[str, Path]:
    """Writes the three trees under ``root`` from the synthetic samples; gives their folders."""
    trees = {d: root / d for d in ("casme2", "samm", "smic")}
    c2_rows: list[list[object]] = [[*CASME2_HEADER]]
    samm_rows: list[list[object]] = [[*SAMM_HEADER]]
    subjects = sorted({s.subject for s in samples})
    for k, s in enumerate(samples):
        sub = subjects.index(s.subject) + 1
        offset = s.apex - s.onset + 4
        # CASME II: sub01/EP02_01f/img<n>.jpg
        clip = f"EP{k + 1:02d}_01f"
        nums = _copy_frames(s, trees["casme2"] / f"sub{sub:02d}" / clip, "img{n}.jpg", 46)
        c2_rows.append([f"{sub:02d}", clip, None, nums[0], nums[0] + offset, nums[-1], None])
        c2_rows[-1] += [12, _word("casme2", s.emotion), 1]
        # SAMM: 006/006_1_2/006_<5-digit n>.jpg
        subject = f"{5 + sub:03d}"
        clip = f"{subject}_{k + 1}_2"
        name = subject + "_{n:05d}.jpg"
        nums = _copy_frames(s, trees["samm"] / subject / clip, name, 5562)
        samm_rows.append([subject, clip, 1, nums[0], nums[0] + offset, nums[-1], len(nums)])
        samm_rows[-1] += ["Micro - 1/2", "4+7", _word("samm", s.emotion), 3, None]
        # SMIC HS: HS/s1/micro/negative/s1_ne_01/reg_image<6-digit n>.bmp
        word = _word("smic", s.emotion)
        clip = f"s{sub}_{SMIC_CODE[word]}_{k + 1:02d}"
        folder = trees["smic"] / "HS" / f"s{sub}" / "micro" / word / clip
        _copy_frames(s, folder, "reg_image{n:06d}.bmp", 46834)
    _xlsx(trees["casme2"] / "CASME2-coding-20190701.xlsx", c2_rows)
    _xlsx(trees["samm"] / "SAMM_Micro_FACS_Codes_v2.xlsx", samm_rows, notes=13)
    return trees
