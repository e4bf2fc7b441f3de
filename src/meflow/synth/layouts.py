"""The cropped datasets' layouts (CASME II, SAMM, SMIC): their rates, classes, timings, names.

In these datasets every micro-expression ships as its own clip, cropped from the labelled
onset to the labelled offset at the camera's rate (CASME II and SAMM 200 fps, SMIC HS 100 fps).
``plan_cropped`` plans such clips: durations and apex positions drawn from the real label
files' distributions (tables below, measured on the shared CASME2-coding-20190701.xlsx and
SAMM_Micro_FACS_Codes_v2.xlsx), classes in each dataset's proportions, and the rendered
expression placed from the labels by the annotation error of :mod:`meflow.synth.annotation`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from meflow.synth.annotation import draw_error
from meflow.synth.motion import BLINK_CLOSE, BLINK_HOLD, BLINK_OPEN, GENDER_AMPLITUDE
from meflow.synth.plan import (
    ANNOTATION_STREAM,
    ClipPlan,
    SubjectPlan,
    check_plan_args,
    class_counts,
    clip_stream,
    deal,
    people_of,
)
from meflow.synth.profiles import REFERENCE_FPS, SynthProfile, draw_amplitude

# Deciles (0, 10, ..., 100 %) of offset - onset in seconds.
CASME2_DURATION_S = (0.115, 0.2, 0.225, 0.254, 0.285, 0.305, 0.35, 0.4, 0.439, 0.475, 0.7)
SAMM_DURATION_S = (0.145, 0.22, 0.275, 0.32, 0.36, 0.385, 0.405, 0.435, 0.457, 0.481, 0.5)
# SMIC's label lists are not in shared/data: HS clips last 11 to 58 frames at 100 fps;
# log-uniform between them (median 0.25 s).
SMIC_DURATION_S = tuple(
    round(math.exp(math.log(0.11) + k / 10 * math.log(0.58 / 0.11)), 3) for k in range(11)
)
# Deciles 10 .. 90 % of (apex - onset) / (offset - onset).
CASME2_RISE = (0.31, 0.4, 0.44, 0.48, 0.51, 0.54, 0.58, 0.63, 0.69)
SAMM_RISE = (0.28, 0.33, 0.37, 0.39, 0.44, 0.48, 0.54, 0.58, 0.67)

# Blinks keep the default clips' rate: probability blink_probability per 70 reference frames
# of possible starts.
BLINK_SPAN = 70
BLINK_LENGTH = BLINK_CLOSE + BLINK_HOLD + BLINK_OPEN  # reference frames


@dataclass(frozen=True)
class CropLayout:
    """One cropped dataset's layout: rate, classes, timing tables and names."""

    name: str
    fps: float
    weights: dict[str, int]  # rendered class -> clips of it in the real dataset
    duration_s: tuple[float, ...]
    rise: tuple[float, ...]
    first: tuple[int, int]  # range of the labelled onset's frame number
    subject: Callable[[int], str]  # 1-based number -> the label file's subject name
    word: dict[str, str]  # rendered class -> the dataset's word for it


CASME2 = CropLayout(
    "casme2",
    200.0,
    {
        "others": 99,
        "disgust": 63,
        "happiness": 32,
        "surprise": 28,
        "repression": 27,
        "sadness": 4,
        "fear": 2,
    },
    CASME2_DURATION_S,
    CASME2_RISE,
    (10, 121),
    lambda k: f"{k:02d}",
    {e: e for e in ("others", "disgust", "happiness", "surprise", "repression", "sadness", "fear")},
)
SAMM = CropLayout(
    "samm",
    200.0,
    {
        "anger": 57,
        "others": 26,
        "happiness": 26,
        "surprise": 15,
        "contempt": 12,
        "disgust": 9,
        "fear": 8,
        "sadness": 6,
    },
    SAMM_DURATION_S,
    SAMM_RISE,
    (400, 6701),
    lambda k: f"{k + 5:03d}",
    {
        "anger": "Anger",
        "others": "Other",
        "happiness": "Happiness",
        "surprise": "Surprise",
        "contempt": "Contempt",
        "disgust": "Disgust",
        "fear": "Fear",
        "sadness": "Sadness",
    },
)
# SMIC HS: negative 70, positive 51, surprise 43; negative is rendered as the four negative
# classes in equal shares.
SMIC = CropLayout(
    "smic",
    100.0,
    {"happiness": 51, "surprise": 43, "disgust": 18, "sadness": 18, "anger": 17, "fear": 17},
    SMIC_DURATION_S,
    CASME2_RISE,
    (1000, 90001),
    lambda k: f"s{k}",
    {
        "happiness": "positive",
        "surprise": "surprise",
        "disgust": "negative",
        "sadness": "negative",
        "anger": "negative",
        "fear": "negative",
    },
)
LAYOUTS: dict[str, CropLayout] = {x.name: x for x in (CASME2, SAMM, SMIC)}
SMIC_ABBREVIATION = {"negative": "ne", "positive": "po", "surprise": "sur"}


def from_table(table: Sequence[float], u: float) -> float:
    """The value at quantile ``u`` (0..1) of a table of evenly spaced quantiles."""
    return float(np.interp(u * (len(table) - 1), np.arange(len(table)), table))


def clip_names(
    layout: CropLayout, person: SubjectPlan, emotions: Sequence[str], rng: np.random.Generator
) -> list[str]:
    """The clip folders of one subject, in the dataset's naming (unique within the subject)."""
    n = len(emotions)
    if layout.name == "casme2":
        episodes = sorted(int(e) for e in rng.choice(np.arange(1, 20), size=n, replace=False))
        takes = rng.integers(1, 12, size=n)
        suffix = rng.random(n) < 0.5
        return [
            f"EP{e:02d}_{int(t):02d}{'f' if s else ''}"
            for e, t, s in zip(episodes, takes, suffix, strict=True)
        ]
    if layout.name == "samm":
        codes = sorted(int(c) for c in rng.integers(1, 8, size=n))
        return [f"{person.name}_{c}_{codes[:k].count(c) + 1}" for k, c in enumerate(codes)]
    seen: dict[str, int] = {}
    names = []
    for e in emotions:
        abbr = SMIC_ABBREVIATION[layout.word[e]]
        seen[abbr] = seen.get(abbr, 0) + 1
        names.append(f"{person.name}_{abbr}_{seen[abbr]:02d}")
    return names


def _timing(
    layout: CropLayout, rng: np.random.Generator
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """One clip's labelled and rendered (onset, apex, offset), in frame numbers."""
    dur = max(2, round(from_table(layout.duration_s, float(rng.random())) * layout.fps))
    rise = from_table(layout.rise, float(rng.random()))
    onset = int(rng.integers(*layout.first))
    labelled = (onset, onset + min(max(1, round(rise * dur)), dur - 1), onset + dur)
    err = draw_error(rng, layout.fps)
    # The motion's apex lies inside the clip; onset and offset may lie outside it.
    apex = min(max(labelled[1] - err.apex, onset + 1), onset + dur - 1)
    rendered = (
        min(labelled[0] - err.onset, apex - 1),
        apex,
        max(labelled[2] - err.offset, apex + 1),
    )
    return labelled, rendered


def _blink(frames: int, fps: float, p_span: float, rng: np.random.Generator) -> int | None:
    """A blink's start (frames after the clip's first; may be before it) or None."""
    length = math.ceil(BLINK_LENGTH * fps / REFERENCE_FPS)
    chance = min(1.0, p_span * (frames + length) * REFERENCE_FPS / fps / BLINK_SPAN)
    return int(rng.integers(-length, frames)) if rng.random() < chance else None


def plan_cropped(
    layout: CropLayout,
    subjects: int,
    seed: int,
    clips_per_subject: int,
    profile: SynthProfile,
    face_genders: Sequence[str] | None = None,
    weights: dict[str, int] | None = None,
) -> tuple[list[SubjectPlan], list[ClipPlan]]:
    """The subjects and clips of a synthetic set in a cropped layout (no pixels).

    ``weights`` replaces the dataset's class proportions (keys: rendered classes).
    """
    check_plan_args(seed, subjects, clips_per_subject)
    rng = np.random.default_rng([seed, 0, 1 + list(LAYOUTS).index(layout.name)])
    people = people_of(subjects, rng, face_genders, layout.subject)
    counts = class_counts(subjects * clips_per_subject, weights or layout.weights)
    per_subject = deal(people, counts, rng)
    clips: list[ClipPlan] = []
    for person in people:
        emotions = list(per_subject[person.index])
        rng.shuffle(emotions)
        for k, (name, emotion) in enumerate(
            zip(clip_names(layout, person, emotions, rng), emotions, strict=True)
        ):
            own = clip_stream(seed, person.index, k, ANNOTATION_STREAM)
            labelled, (onset, apex, offset) = _timing(layout, own)
            frames = labelled[2] - labelled[0] + 1
            amplitude = draw_amplitude(profile, own) * GENDER_AMPLITUDE[person.gender]
            blink = _blink(frames, layout.fps, profile.blink_probability, own)
            clips.append(
                ClipPlan(
                    person,
                    name,
                    emotion,
                    onset,
                    apex,
                    offset,
                    round(amplitude, 3),
                    frames,
                    blink,
                    labelled,
                    first=labelled[0],
                    fps=layout.fps,
                    key=k,
                )
            )
    return people, clips
