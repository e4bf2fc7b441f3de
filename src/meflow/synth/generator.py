"""The embedded synthetic micro-expression dataset, in CAS(ME)^3 Part A's layout or another.

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
platform, identical JPEGs). The package's modules: ``plan`` (subjects and clips), ``profiles``
(the nuisances' sizes), ``identity`` and ``photos`` (the faces), ``motion`` (action units and
blinks), ``render`` (the frames), ``layout`` (the label file, subjects.csv, synth.json).
docs/synthetic.md describes the action units and nuisances. ``layout`` writes the same kind
of clips as CASME II, SAMM or SMIC ship them instead (cropped from onset to offset at the
dataset's rate; :mod:`meflow.synth.cropped`), or all three (``megc2019``).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.synth.cropped import frame_path, label_file, megc2019_parts
from meflow.synth.identity import FRAME_SIZE, Identity, make_identity
from meflow.synth.layout import (
    GENERATOR,
    LABEL_FILE,
    META_FILE,
    SUBJECTS_FILE,
    deterministic_xlsx,
    label_rows,
    prepare_out,
    subjects_csv,
)
from meflow.synth.layouts import LAYOUTS, plan_cropped
from meflow.synth.motion import temporal_profile
from meflow.synth.plan import FPS, ClipPlan, SubjectPlan, plan
from meflow.synth.profiles import SynthProfile, get_profile, profile_dict
from meflow.synth.render import clip_fields, jpeg_quality_of, render_clip

if TYPE_CHECKING:
    from meflow.synth.photos import FacePhoto

# 2: the realistic profile; 3: skin motion drawn per clip; 4: labels with an annotation error,
# the expression anywhere in the clip, clips at any rate, the cropped layouts (docs/synthetic.md)
GENERATOR_VERSION = "4"
LAYOUT_NAMES = ("casme3", "casme2", "samm", "smic", "megc2019")


@dataclass
class SynthSummary:
    """What ``generate`` wrote."""

    out: Path
    label_file: Path
    samples_per_class: dict[str, int]  # by the label's word in the cropped layouts
    subjects: int
    genders: dict[str, int]
    frames_written: int
    bytes_written: int
    seconds: float
    clips: list[ClipPlan] = field(default_factory=list, repr=False)

    @property
    def samples(self) -> int:
        """The number of micro-expressions written."""
        return sum(self.samples_per_class.values())


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


def _meta(
    layout: str,
    subjects: int,
    seed: int,
    clips_per_subject: int,
    frames: int,
    jpeg_quality: int | None,
    profile: SynthProfile,
    faces: Sequence[FacePhoto] | None,
) -> dict[str, object]:
    """synth.json's record of the generator and its parameters, before any clip is written."""
    params: dict[str, object] = {
        "layout": layout,
        "subjects": subjects,
        "seed": seed,
        "clips_per_subject": clips_per_subject,
        "frames": frames,
        "fps": FPS,
        "frame_size": FRAME_SIZE,
        "jpeg_quality": jpeg_quality or "per clip, from the profile",
        "profile": profile_dict(profile),
        "frame_numbering": "0..frames-1 (file name = annotated frame number)",
    }
    if layout in LAYOUTS:
        del params["frames"]
        params["fps"] = LAYOUTS[layout].fps
        params["frame_numbering"] = "labelled onset..offset (file name = annotated frame number)"
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
    return meta


def _write_frames(
    path_of: Callable[[ClipPlan, int], Path],
    seed: int,
    clips: Sequence[ClipPlan],
    profile: SynthProfile,
    options: tuple[int | None, Sequence[FacePhoto] | None, bool, bool],
) -> tuple[int, int]:
    """Renders every clip into path_of(clip, frame number); gives (frames, bytes).

    ``options``: JPEG quality (None: per clip), faces, progress bar, BMP files (JPEG-coded
    first, so the compression is the same).
    """
    import cv2
    from tqdm import tqdm

    jpeg_quality, faces, progress, bmp = options
    frames_written = 0
    bytes_written = 0
    identities: dict[int, Identity] = {}
    with tqdm(total=len(clips), unit="clip", desc="meflow synth", disable=not progress) as bar:
        for clip in clips:
            ident = identities.setdefault(
                clip.subject.index, identity_for(seed, clip.subject, faces)
            )
            path_of(clip, clip.first).parent.mkdir(parents=True, exist_ok=True)
            quality = jpeg_quality or jpeg_quality_of(seed, clip, profile)
            encode = [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)]
            for i, frame in enumerate(render_clip(seed, clip, ident, profile)):
                path = path_of(clip, clip.first + i)
                ok, buf = cv2.imencode(".jpg", frame, encode)
                if ok and bmp:
                    ok, buf = cv2.imencode(".bmp", cv2.imdecode(buf, cv2.IMREAD_COLOR))
                if not ok:
                    raise MeflowError(f"{path}: image encoding failed")
                path.write_bytes(buf.tobytes())
                frames_written += 1
                bytes_written += len(buf)
            bar.update(1)
    return frames_written, bytes_written


def _write_set(
    out: Path,
    layout: str,
    counts: tuple[int, int, int, int],
    prof: SynthProfile,
    options: tuple[int | None, Sequence[FacePhoto] | None, bool],
    weights: dict[str, int] | None = None,
) -> SynthSummary:
    """Writes one dataset in ``layout`` into ``out`` (prepared); ``counts`` are subjects, seed,
    clips per subject and frames per clip (casme3; the cropped layouts draw their lengths)."""
    subjects, seed, clips_per_subject, frames = counts
    jpeg_quality, faces, progress = options
    genders_of_faces = [f.gender for f in faces] if faces else None
    crop = LAYOUTS.get(layout)
    if crop is None:
        people, clips = plan(subjects, seed, clips_per_subject, frames, prof, genders_of_faces)
    else:
        people, clips = plan_cropped(
            crop, subjects, seed, clips_per_subject, prof, genders_of_faces, weights
        )
    meta = _meta(layout, subjects, seed, clips_per_subject, frames, jpeg_quality, prof, faces)
    # Written first, so an interrupted run can be overwritten by the next one.
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    def path_of(c: ClipPlan, n: int) -> Path:
        if crop is None:
            return out / c.subject.name / c.clip / "color" / f"{n}.jpg"
        return frame_path(crop, out, c, n)

    bmp = crop is not None and crop.name == "smic"
    frames_written, bytes_written = _write_frames(
        path_of, seed, clips, prof, (jpeg_quality, faces, progress, bmp)
    )
    named = (LABEL_FILE, deterministic_xlsx(label_rows(clips))) if crop is None else None
    named = named or (label_file(crop, clips) if crop is not None else None)
    label = out / "HS"
    if named is not None:
        label = out / named[0]
        label.write_bytes(named[1])
        bytes_written += len(named[1])
    csv = subjects_csv(people, faces)
    (out / SUBJECTS_FILE).write_bytes(csv.encode("utf-8"))
    per_class = Counter(c.emotion if crop is None else crop.word[c.emotion] for c in clips)
    classes = EMOTIONS if crop is None else sorted(set(crop.word.values()))
    samples_per_class = {e: per_class.get(e, 0) for e in classes}
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
    return SynthSummary(
        out,
        label,
        samples_per_class,
        len(people),
        genders,
        frames_written,
        bytes_written + len(csv),
        0.0,
        clips,
    )


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
    layout: str = "casme3",
) -> SynthSummary:
    """Writes a synthetic dataset into ``out`` and gives what was written.

    ``out`` must be new, empty, or a previous output of this function (which is replaced).
    Defaults: CAS(ME)^3 Part A's layout, 16 subjects x 10 clips = 160 micro-expressions of 80
    frames (30 fps, 256x256), with the nuisances of the ``realistic`` profile (``clean``: the
    version-1 set); ``jpeg_quality`` fixes the JPEG quality (default: drawn per clip by the
    profile). ``faces`` (from :func:`meflow.synth.photos.load_face_photos`): subject k is face
    k mod N, and its gender is that face's estimated one (subjects.csv gives the confidence).
    ``layout`` ``casme2``, ``samm`` or ``smic``: clips cropped from onset to offset at the
    dataset's rate, in its layout (``frames`` unused); ``megc2019``: the three in sub-folders
    with the MEGC2019 composite's class mix, ``subjects`` in all.
    """
    start = time.perf_counter()
    out = Path(out)
    if faces is not None and (not faces or any(f.gender not in ("male", "female") for f in faces)):
        raise MeflowError("faces need an estimated gender each (load_face_photos gives it)")
    if layout not in LAYOUT_NAMES:
        raise MeflowError(f"unknown layout {layout!r} (valid: {', '.join(LAYOUT_NAMES)})")
    prof = get_profile(profile)
    options = (jpeg_quality, faces, progress)
    if layout != "megc2019":
        prepare_out(out)
        summary = _write_set(
            out, layout, (subjects, seed, clips_per_subject, frames), prof, options
        )
        summary.seconds = time.perf_counter() - start
        return summary
    parts = megc2019_parts(subjects)
    prepare_out(out)
    meta = _meta(layout, subjects, seed, clips_per_subject, frames, jpeg_quality, prof, faces)
    meta["parameters"] = {"layout": layout, "subjects": subjects, "seed": seed}
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    done = []
    for part in parts:
        (out / part.layout).mkdir()
        counts = (part.subjects, seed, part.clips_per_subject, frames)
        done.append(_write_set(out / part.layout, part.layout, counts, prof, options, part.weights))
    per_class: Counter[str] = Counter()
    genders: Counter[str] = Counter()
    for s in done:
        per_class.update(s.samples_per_class)
        genders.update(s.genders)
    meta.update(
        complete=True,
        datasets={
            p.layout: {"subjects": s.subjects, **s.samples_per_class}
            for p, s in zip(parts, done, strict=True)
        },
    )
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return SynthSummary(
        out,
        out,
        dict(sorted(per_class.items())),
        sum(s.subjects for s in done),
        dict(sorted(genders.items())),
        sum(s.frames_written for s in done),
        sum(s.bytes_written for s in done),
        time.perf_counter() - start,
        [c for s in done for c in s.clips],
    )
