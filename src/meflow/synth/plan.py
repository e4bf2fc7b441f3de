"""The plan of a synthetic dataset: its subjects, and each clip's class, timing and size.

A plan has no pixels: it is cheap and deterministic, and the renderer draws each clip from it
(:mod:`meflow.synth.render`). The classes follow CAS(ME)^3 Part A's proportions, the genders
the paper's share of men and women. The label file's onset, apex and offset are the rendered
ones plus an annotation error (:mod:`meflow.synth.annotation`); the rendered expression sits
where a CAS(ME)^3 recording would have it, mostly well inside, sometimes near an end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.synth.annotation import draw_error, ordered
from meflow.synth.motion import EMOTION_AUS, GENDER_AMPLITUDE
from meflow.synth.profiles import PROFILES, SynthProfile, draw_amplitude

CLIP_LETTERS = "abcdefghijklm"

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


def au_text(emotion: str) -> str:
    """The action units of a class as CAS(ME)^3 writes them, e.g. '6+12'."""
    return "+".join(str(au) for au, _ in EMOTION_AUS[emotion])


FPS = 30.0  # CAS(ME)^3's rate, the default layout's
ANNOTATION_STREAM = 6  # the clip's random stream of its placement and annotation error
# CAS(ME)^3 Part A: 10 % of the micro-expressions have their apex within 32 frames of the
# recording's first frame, 17 % within 32 frames of its last annotated offset; so a quarter
# of the clips put the expression anywhere in the clip, the rest near its middle.
EDGE_SHARE = 0.25


@dataclass(frozen=True)
class SubjectPlan:
    """One synthetic participant."""

    index: int  # 0-based
    name: str  # spNO.<index+1>
    gender: str  # 'male' or 'female'


@dataclass(frozen=True)
class ClipPlan:
    """One clip and its micro-expression as rendered (onset < apex < offset) and as labelled.

    The clip's frames are numbered first .. first + frames - 1 (the files' names); onset, apex
    and offset are the rendered expression's, in those numbers (in a cropped layout they may
    lie outside the clip); ``labelled`` is what the label file says (None: the rendered ones).
    """

    subject: SubjectPlan
    clip: str
    emotion: str  # a key of motion.EMOTION_AUS: one of EMOTIONS or a dataset's other word
    onset: int
    apex: int
    offset: int
    amplitude: float  # px, the largest displacement at the apex
    frames: int
    blink_start: int | None  # frames after the clip's first frame a blink starts, or None
    labelled: tuple[int, int, int] | None = None
    first: int = 0
    fps: float = FPS
    key: int | None = None  # the clip's number in its random streams (default: its letter's)

    @property
    def label(self) -> tuple[int, int, int]:
        """The label file's (onset, apex, offset)."""
        return self.labelled if self.labelled is not None else (self.onset, self.apex, self.offset)

    @property
    def stream(self) -> int:
        """The clip's number in the random streams of its subject."""
        return self.key if self.key is not None else CLIP_LETTERS.index(self.clip)

    @property
    def au(self) -> str:
        """The action units as CAS(ME)^3 writes them, e.g. '6+12'."""
        return au_text(self.emotion)


def class_counts(total: int, weights: dict[str, int] | None = None) -> dict[str, int]:
    """Samples per class for ``total`` samples, in the proportions of ``weights`` (default
    CAS(ME)^3's, EMOTIONS order).

    Largest-remainder rounding after giving every class a floor of 2 (1 when total is under
    twice the number of classes).
    """
    weights = weights or {e: CASME3_COUNTS[e] for e in EMOTIONS}
    classes = list(weights)
    if total < len(classes):
        raise MeflowError(f"synthetic dataset needs at least {len(classes)} clips, got {total}")
    floor = 2 if total >= 2 * len(classes) else 1
    counts = {e: floor for e in classes}
    rest = total - floor * len(classes)
    weight = sum(weights.values())
    quota = {e: rest * weights[e] / weight for e in classes}
    for e in classes:
        counts[e] += math.floor(quota[e])
    left = total - sum(counts.values())
    by_remainder = sorted(classes, key=lambda e: (-(quota[e] - math.floor(quota[e])), e))
    for e in by_remainder[:left]:
        counts[e] += 1
    return counts


def clip_stream(seed: int, subject: int, key: int, stream: int) -> np.random.Generator:
    """The random stream ``stream`` of one clip (depends on the seed, subject and clip only)."""
    return np.random.default_rng([seed, stream, subject, key])


def people_of(
    subjects: int,
    rng: np.random.Generator,
    face_genders: Sequence[str] | None,
    name: Callable[[int], str],
) -> list[SubjectPlan]:
    """The subjects (``name`` of the 1-based number), genders in the paper's share (or
    ``face_genders``' genders, subject k having face k mod N)."""
    n_male = round(subjects * MALE_SHARE)
    genders = ["male"] * n_male + ["female"] * (subjects - n_male)
    order = rng.permutation(subjects)
    people = [SubjectPlan(i, name(i + 1), genders[int(order[i])]) for i in range(subjects)]
    if face_genders is not None:
        n = len(face_genders)
        people = [SubjectPlan(i, p.name, face_genders[i % n]) for i, p in enumerate(people)]
    return people


def deal(
    people: Sequence[SubjectPlan], counts: dict[str, int], rng: np.random.Generator
) -> dict[int, list[str]]:
    """Each subject's classes: dealt round-robin over a shuffled subject order, class after
    class, so every class lands on as many different subjects as it has samples."""
    labels = [e for e in sorted(counts, key=lambda e: -counts[e]) for _ in range(counts[e])]
    order = rng.permutation(len(people))
    per_subject: dict[int, list[str]] = {p.index: [] for p in people}
    for k, emotion in enumerate(labels):
        per_subject[int(order[k % len(people)])].append(emotion)
    return per_subject


def _placed_onset(frames: int, dur: int, rise: int, jitter: int, rng: np.random.Generator) -> int:
    """The rendered onset: apex near the middle (``jitter``), or with EDGE_SHARE anywhere."""
    if rng.random() < EDGE_SHARE:
        return int(rng.integers(2, frames - 2 - dur))
    return int(np.clip(frames // 2 + jitter - rise, 2, frames - 3 - dur))


def check_plan_args(seed: int, subjects: int, clips_per_subject: int) -> None:
    """Raises MeflowError (one line) for a seed, subject count or clip count a plan refuses."""
    if seed < 0:
        raise MeflowError(f"--seed must be 0 or more, got {seed}")
    if subjects < 1:
        raise MeflowError(f"--subjects must be at least 1, got {subjects}")
    if not 1 <= clips_per_subject <= len(CLIP_LETTERS):
        raise MeflowError(
            f"clips per subject must be 1..{len(CLIP_LETTERS)}, got {clips_per_subject}"
        )


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
    check_plan_args(seed, subjects, clips_per_subject)
    if frames < MIN_FRAMES:
        raise MeflowError(f"clips need at least {MIN_FRAMES} frames, got {frames}")
    rng = np.random.default_rng([seed, 0])
    people = people_of(subjects, rng, face_genders, lambda k: f"spNO.{k}")
    per_subject = deal(people, class_counts(subjects * clips_per_subject), rng)

    clips: list[ClipPlan] = []
    lo_d, hi_d = profile.duration
    for person in people:
        emotions = list(per_subject[person.index])
        rng.shuffle(emotions)
        letters = sorted(rng.choice(list(CLIP_LETTERS), size=clips_per_subject, replace=False))
        for letter, emotion in zip(letters, emotions, strict=True):
            dur = int(rng.integers(lo_d, hi_d + 1))
            rise = max(1, round(dur * float(rng.uniform(*profile.rise))))
            jitter = int(rng.integers(-8, 8))
            amplitude = draw_amplitude(profile, rng) * GENDER_AMPLITUDE[person.gender]
            blinks = rng.random() < profile.blink_probability
            blink = int(rng.integers(0, frames - 10)) if blinks else None
            own = clip_stream(seed, person.index, CLIP_LETTERS.index(letter), ANNOTATION_STREAM)
            onset = _placed_onset(frames, dur, rise, jitter, own)
            err = draw_error(own, FPS)
            labelled = ordered(
                onset + err.onset, onset + rise + err.apex, onset + dur + err.offset, 1, frames - 2
            )
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
                    labelled,
                )
            )
    return people, clips
