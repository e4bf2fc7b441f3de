"""The plan of synthetic long recordings: micro- and macro-expressions, blinks, in time.

A long recording (CAS(ME)^3 Part A's kind: one subject watching one stimulus, 30 fps) holds
several events that do not overlap: micro-expressions, macro-expressions (the same action
units, larger and longer) and eye blinks. Their lengths and rises and how many a minute holds
are drawn from CAS(ME)^3 Part A's own annotation (``CAS(ME)3_part_A_v2.xls``; the tables
below were measured on it, see docs/synthetic.md). No pixels here: the renderer is
:mod:`meflow.synth.long_render`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from meflow.errors import MeflowError
from meflow.synth.layouts import from_table
from meflow.synth.motion import GENDER_AMPLITUDE
from meflow.synth.plan import CASME3_COUNTS, CLIP_LETTERS, FPS, SubjectPlan, people_of
from meflow.synth.profiles import SynthProfile, draw_amplitude

# Quantiles 5, 10, ..., 95 % of CAS(ME)^3 Part A v2.xls (events with onset <= apex <= offset):
# length = offset - onset + 1 frames; rise = (apex - onset) / (offset - onset).
MICRO_LENGTH = (9, 10, 12, 14, 15, 16, 17, 18, 20, 22, 24, 26, 29, 32, 34, 39, 45, 55, 71)
MICRO_RISE: tuple[float, ...] = (0.0, 0.08, 0.12, 0.15, 0.18, 0.19, 0.21, 0.24, 0.26, 0.28)
MICRO_RISE += (0.31, 0.33, 0.36, 0.39, 0.42, 0.44, 0.5, 0.5, 0.58)
MACRO_LENGTH = (26, 31, 36, 40, 45, 49, 55, 60, 66, 73, 82, 91, 104, 118, 141, 166, 204, 278, 487)
MACRO_RISE: tuple[float, ...] = (0.11, 0.15, 0.19, 0.22, 0.24, 0.26, 0.28, 0.3, 0.33, 0.35)
MACRO_RISE += (0.37, 0.39, 0.42, 0.44, 0.47, 0.5, 0.53, 0.59, 0.67)
BLINK_LENGTH = (10, 11, 12, 12, 13, 13, 14, 14, 15, 15, 15, 16, 16, 17, 17, 18, 19, 20, 22)
# Events per minute (pooled over recordings, a recording's end taken as its last annotated
# offset): macro 3.05, micro 0.78; blinks 6.2 in the 106 recordings whose blinks were annotated.
RATES_PER_MINUTE = {"micro": 0.78, "macro": 3.05, "blink": 6.2}
MACRO_AMPLITUDE = (6.0, 14.0)  # px in the frame, log-uniform: above every micro (<= 5.4)
MIN_GAP = 6  # frames between one event's offset and the next one's onset, at least
MARGIN = 5  # frames kept free at each end of a recording
MIN_SECONDS = 3.0
MIN_LENGTH = 5  # frames an event is never shortened below
LONG_STREAM = 10  # the recordings' random streams start here (the clips' use 0..6)
# Head movements (not annotated, as in CAS(ME)^3): quick shifts and turns of the head on top of
# the slow drift, each a smooth step over HEAD_MOVE_LENGTH frames, away from every event.
HEAD_MOVES_PER_MINUTE = 4.0
HEAD_MOVE_LENGTH = (10, 40)  # frames, uniform
HEAD_MOVE_PX = 3.0  # sd of a move's translation per axis, px
HEAD_MOVE_DEG = 1.5  # sd of its roll, degrees


@dataclass(frozen=True)
class LongEvent:
    """One event of a long recording, in its frame numbers (the files' names, from 0)."""

    type: str  # 'micro', 'macro' or 'blink'
    onset: int
    apex: int  # a blink's: the middle of its closed phase (not written: the sheet has none)
    offset: int
    emotion: str | None  # a key of motion.EMOTION_AUS for expressions; None for blinks
    amplitude: float  # px, the field's largest displacement at the apex (blinks: 1.0 = closed)

    @property
    def length(self) -> int:
        """Frames from onset to offset, both counted."""
        return self.offset - self.onset + 1


@dataclass(frozen=True)
class HeadMove:
    """A quick movement of the head: a smooth step from ``start`` over ``length`` frames."""

    start: int
    length: int
    dx: float  # px
    dy: float  # px
    roll_deg: float


@dataclass(frozen=True)
class LongRecording:
    """One long recording of one subject: ``frames`` frames numbered 0..frames-1."""

    subject: SubjectPlan
    recording: str  # the stimulus letter, a..m
    frames: int
    events: tuple[LongEvent, ...]  # in time order, not overlapping
    fps: float = FPS
    head_moves: tuple[HeadMove, ...] = ()  # in time order, apart from the events

    @property
    def stream(self) -> int:
        """The recording's number in the random streams of its subject."""
        return CLIP_LETTERS.index(self.recording)

    def of_type(self, kind: str) -> list[LongEvent]:
        """The events of one type, in time order."""
        return [e for e in self.events if e.type == kind]


def recording_rng(seed: int, rec: LongRecording, stream: int) -> np.random.Generator:
    """A random stream of one recording (seed, subject, recording and stream only)."""
    return np.random.default_rng([seed, LONG_STREAM + stream, rec.subject.index, rec.stream])


def _length(table: Sequence[float], rng: np.random.Generator) -> int:
    return max(MIN_LENGTH, round(from_table(table, float(rng.random()))))


def _counts(minutes: float, rates: dict[str, float], rng: np.random.Generator) -> dict[str, int]:
    """Events of each type: Poisson at the rate, at least one of each (none at a rate of 0:
    a recording without expressions)."""
    return {
        k: max(int(rates[k] > 0), int(rng.poisson(rates[k] * minutes)))
        for k in ("micro", "macro", "blink")
    }


def _fit(kinds: list[str], lengths: list[int], frames: int) -> tuple[list[str], list[int]]:
    """The events that fit ``frames``: while they do not, the last-drawn event of the most
    numerous type is left out (down to one of each type), then all are shortened in proportion
    (so a macro stays longer than a shorter-drawn micro); MeflowError if they still do not."""
    kinds, lengths = list(kinds), list(lengths)

    def room() -> int:
        return frames - 2 * MARGIN - MIN_GAP * (len(kinds) - 1)

    while sum(lengths) > room() and len(kinds) > 3:
        most = max(("blink", "micro", "macro"), key=kinds.count)
        k = len(kinds) - 1 - kinds[::-1].index(most)
        del kinds[k], lengths[k]
    if sum(lengths) > room():
        factor = room() / sum(lengths)
        lengths = [max(MIN_LENGTH, math.floor(n * factor)) for n in lengths]
    if sum(lengths) > room():
        raise MeflowError("the recording is too short for its events; make it longer")
    return kinds, lengths


def plan_events(
    frames: int,
    gender: str,
    profile: SynthProfile,
    rng: np.random.Generator,
    rates: dict[str, float] | None = None,
) -> tuple[LongEvent, ...]:
    """One recording's events: counts at ``rates`` (per minute), lengths and rises from
    CAS(ME)^3's tables, in a random order with random gaps of at least MIN_GAP frames."""
    rates = rates or RATES_PER_MINUTE
    counts = _counts(frames / FPS / 60.0, rates, rng)
    kinds = [k for k in ("micro", "macro", "blink") for _ in range(counts[k])]
    kinds = [kinds[int(i)] for i in rng.permutation(len(kinds))]
    table = {"micro": MICRO_LENGTH, "macro": MACRO_LENGTH, "blink": BLINK_LENGTH}
    kinds, lengths = _fit(kinds, [_length(table[k], rng) for k in kinds], frames)
    room = frames - 2 * MARGIN - MIN_GAP * (len(kinds) - 1)
    slack = room - sum(lengths)
    cuts = np.sort(rng.integers(0, slack + 1, size=len(kinds)))
    gaps = np.diff(np.concatenate([[0], cuts]))  # extra frames before each event
    classes = list(CASME3_COUNTS)
    weights = np.array([CASME3_COUNTS[c] for c in classes], dtype=np.float64)
    events: list[LongEvent] = []
    at = MARGIN
    for kind, length, gap in zip(kinds, lengths, gaps, strict=True):
        onset = at + int(gap)
        offset = onset + length - 1
        emotion = str(rng.choice(classes, p=weights / weights.sum()))
        if kind == "blink":
            apex, amplitude, emotion_or_none = onset + round(0.4 * (length - 1)), 1.0, None
        else:
            rise = from_table(MICRO_RISE if kind == "micro" else MACRO_RISE, float(rng.random()))
            apex = onset + min(max(1, round(rise * (length - 1))), length - 2)
            if kind == "micro":
                amplitude = draw_amplitude(profile, rng) * GENDER_AMPLITUDE[gender]
            else:
                lo, hi = MACRO_AMPLITUDE
                amplitude = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            emotion_or_none = emotion
        events.append(LongEvent(kind, onset, apex, offset, emotion_or_none, round(amplitude, 3)))
        at = offset + 1 + MIN_GAP
    return tuple(events)


def plan_head_moves(
    frames: int, events: Sequence[LongEvent], rng: np.random.Generator
) -> tuple[HeadMove, ...]:
    """Head movements at HEAD_MOVES_PER_MINUTE, each placed (20 tries) where it keeps MIN_GAP
    frames from every event and every other move; one that finds no room is left out."""
    busy = [(e.onset, e.offset) for e in events]
    moves: list[HeadMove] = []
    for _ in range(int(rng.poisson(HEAD_MOVES_PER_MINUTE * frames / FPS / 60.0))):
        length = int(rng.integers(HEAD_MOVE_LENGTH[0], HEAD_MOVE_LENGTH[1] + 1))
        dx, dy = (float(v) for v in rng.normal(0.0, HEAD_MOVE_PX, size=2))
        roll = float(rng.normal(0.0, HEAD_MOVE_DEG))
        for start in rng.integers(MARGIN, max(MARGIN + 1, frames - MARGIN - length), size=20):
            a, b = int(start), int(start) + length
            if all(b + MIN_GAP < lo or a > hi + MIN_GAP for lo, hi in busy) and b < frames:
                busy.append((a, b))
                moves.append(HeadMove(a, length, round(dx, 3), round(dy, 3), round(roll, 3)))
                break
    return tuple(sorted(moves, key=lambda m: m.start))


def plan_long(
    subjects: int,
    seed: int,
    recordings_per_subject: int = 2,
    seconds: float = 40.0,
    profile: SynthProfile | None = None,
    face_genders: Sequence[str] | None = None,
    rates: dict[str, float] | None = None,
) -> tuple[list[SubjectPlan], list[LongRecording]]:
    """The subjects and long recordings of a synthetic set (no pixels; deterministic).

    Each recording lasts ``seconds`` at 30 fps; a recording's events depend on the seed, its
    subject and its letter only.
    """
    from meflow.synth.profiles import PROFILES

    prof = profile or PROFILES["realistic"]
    if seed < 0:
        raise MeflowError(f"--seed must be 0 or more, got {seed}")
    if subjects < 1:
        raise MeflowError(f"--subjects must be at least 1, got {subjects}")
    if not 1 <= recordings_per_subject <= len(CLIP_LETTERS):
        raise MeflowError(
            f"recordings per subject must be 1..{len(CLIP_LETTERS)}, got {recordings_per_subject}"
        )
    if not seconds >= MIN_SECONDS:
        raise MeflowError(f"long recordings need at least {MIN_SECONDS:g} s, got {seconds:g}")
    frames = round(seconds * FPS)
    rng = np.random.default_rng([seed, LONG_STREAM])
    people = people_of(subjects, rng, face_genders, lambda k: f"spNO.{k}")
    recordings: list[LongRecording] = []
    for person in people:
        letters = sorted(rng.choice(list(CLIP_LETTERS), size=recordings_per_subject, replace=False))
        for letter in letters:
            key = CLIP_LETTERS.index(str(letter))
            own = np.random.default_rng([seed, LONG_STREAM, person.index, key])
            events = plan_events(frames, person.gender, prof, own, rates)
            head = np.random.default_rng([seed, LONG_STREAM + 1, person.index, key])
            moves = plan_head_moves(frames, events, head)
            recordings.append(LongRecording(person, str(letter), frames, events, FPS, moves))
    return people, recordings
