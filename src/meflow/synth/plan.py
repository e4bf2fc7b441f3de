"""The plan of a synthetic dataset: its subjects, and each clip's class, timing and size.

A plan has no pixels: it is cheap and deterministic, and the renderer draws each clip from it
(:mod:`meflow.synth.render`). The classes follow CAS(ME)^3 Part A's proportions, the genders
the paper's share of men and women.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
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
