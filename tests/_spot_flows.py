"""Made-up recordings for the spotting evaluation tests: region flow with known expressions."""

from __future__ import annotations

import numpy as np

from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.scoring import Interval

MICRO_HALF, MACRO_HALF = 8, 30  # half lengths in frames


def made_up_set(
    subjects: int = 3, per_subject: int = 2, frames: int = 900, seed: int = 0
) -> tuple[list[RecordingFlow], list[Interval], dict[str, list[tuple[int, int]]], dict[str, str]]:
    """(recordings, micro/macro truth with emotions, blinks, subject of each recording).

    Each recording holds 3 micro-expressions (a small rise and fall of the lower face), 2
    macro-expressions (larger, longer) and 2 blinks (a quick eye-region jerk); frames are
    numbered from 1000 + 7 * index, so the dataset's numbering is not the index.
    """
    rng = np.random.default_rng(seed)
    emotions = ("happiness", "surprise")
    recs, truth, blinks, subject_of = [], [], {}, {}
    for s in range(subjects):
        for r in range(per_subject):
            name = f"sub{s}/{'abcdefgh'[r]}"
            first = 1000 + 7 * (s * per_subject + r)
            vec = rng.normal(0, 0.01, (frames - 1, 42, 2))
            micro = [120, 420, 700]
            macro = [260, 560]
            for i, p in enumerate(micro):
                emotion = emotions[i % 2]
                sign = 1.0 if emotion == "happiness" else -1.0
                for t in range(p - MICRO_HALF, p + MICRO_HALF):
                    vec[t, 20:, 1] += (0.25 if t < p else -0.25) * sign
                truth.append(
                    Interval(name, first + p - MICRO_HALF, first + p + MICRO_HALF, "micro",
                             emotion=emotion, apex=first + p)
                )  # fmt: skip
            for p in macro:
                for t in range(p - MACRO_HALF, p + MACRO_HALF):
                    vec[t, 10:, 1] += 0.3 if t < p else -0.3
                lo, hi = first + p - MACRO_HALF, first + p + MACRO_HALF
                truth.append(Interval(name, lo, hi, "macro"))
            blinks[name] = []
            for p in (340, 820):
                vec[p : p + 3, :10, 1] += np.array([1.5, 0.0, -1.5])[:, None]
                blinks[name].append((first + p, first + p + 4))
            valid = np.ones(frames - 1, bool)
            recs.append(RecordingFlow(name, vec, valid, 30.0, first_frame=first))
            subject_of[name] = f"sub{s}"
    return recs, truth, blinks, subject_of
