"""The gender decision rule: per-frame probabilities -> per-clip -> per-subject, with exclusions.

An *analyser* maps one BGR frame to gender probabilities (any scale, keys such as
'Man'/'Woman' or 'male'/'female'); it raises :class:`~meflow.errors.NoFaceError` when the frame
shows no face. The rule is pure given the analyser, so it is tested with a stand-in one.

Rule (the paper's, made explicit):

1. clip: the analyser runs on the first ``first_frames`` frames from the clip's onset (a frame
   that is unreadable or shows no face is skipped and the next one taken, up to
   ``3 * first_frames`` frames from the onset); the probabilities are averaged over the frames
   where a face was found; the clip's confidence is the winning probability; a clip below
   ``threshold`` (or with no face) is excluded with that reason.
2. subject: the probabilities of its non-excluded clips are averaged; the winner is the
   subject's gender and its mean probability the confidence, excluded again if below
   ``threshold``; a subject all of whose clips were excluded is excluded. ``disagreement`` is
   True when its non-excluded clips do not all have the same gender (a warning is given).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from meflow.datasets.base import Sample
from meflow.errors import MeflowError, NoFaceError

Analyser = Callable[[np.ndarray], dict[str, float]]
ImageReader = Callable[[Path], "np.ndarray | None"]

_KEYS = {"male": "male", "man": "male", "m": "male", "female": "female", "woman": "female"}
_KEYS["f"] = "female"

SUBJECT_COLUMNS = (
    "subject",
    "gender",
    "confidence",
    "p_male",
    "p_female",
    "frames_used",
    "clips_used",
    "clips_excluded",
    "estimator",
    "excluded",
    "disagreement",
)
CLIP_COLUMNS = (
    "sample_id",
    "subject",
    "clip",
    "gender",
    "confidence",
    "p_male",
    "p_female",
    "frames_used",
    "excluded",
)


@dataclass
class GenderEstimate:
    """Per-subject table (one row per subject, SUBJECT_COLUMNS) and per-clip detail."""

    subjects: pd.DataFrame
    clips: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CLIP_COLUMNS)))

    @property
    def warnings(self) -> list[str]:
        """Gives one line per subject whose clips disagree."""
        out = []
        for _, r in self.subjects[self.subjects["disagreement"]].iterrows():
            clips = self.clips[
                (self.clips["subject"] == r["subject"]) & (self.clips["excluded"] == "")
            ]
            counts = clips["gender"].value_counts()
            detail = ", ".join(f"{n} {g}" for g, n in counts.items())
            out.append(f"subject {r['subject']}: clips disagree ({detail}); kept {r['gender']!r}")
        return out

    def counts(self) -> dict[str, int]:
        """Gives the number of male, female and excluded subjects."""
        ex = self.subjects["excluded"] != ""
        g = self.subjects["gender"][~ex]
        return {
            "male": int((g == "male").sum()),
            "female": int((g == "female").sum()),
            "excluded": int(ex.sum()),
        }


def normalise_probs(raw: dict[str, float]) -> tuple[float, float]:
    """Gives (p_male, p_female) summing to 1 from an analyser's result (percentages allowed)."""
    p = {"male": 0.0, "female": 0.0}
    for k, v in raw.items():
        key = _KEYS.get(str(k).strip().lower())
        if key is None:
            raise MeflowError(f"gender analyser gave an unknown class {k!r} (expected Man/Woman)")
        p[key] += float(v)
    total = p["male"] + p["female"]
    if not np.isfinite(total) or total <= 0:
        raise MeflowError(f"gender analyser gave no usable probabilities: {raw!r}")
    return p["male"] / total, p["female"] / total


def _winner(p_male: float, p_female: float) -> tuple[str, float]:
    return ("male", p_male) if p_male >= p_female else ("female", p_female)


def estimate_clip(
    sample: Sample,
    analyser: Analyser,
    first_frames: int,
    threshold: float,
    read: ImageReader,
) -> dict[str, object]:
    """Gives the clip-level row (CLIP_COLUMNS) of one sample."""
    probs: list[tuple[float, float]] = []
    # unreadable or faceless frames are skipped, looking at most 3x as far as asked
    last = sample.onset + 3 * first_frames - 1
    if sample.last_frame is not None:
        last = min(last, sample.last_frame)
    n = sample.onset
    while len(probs) < first_frames and n <= last:
        frame = None if n in sample.bad_frames else read(sample.frame_path(n))
        n += 1
        if frame is None:
            continue
        try:
            probs.append(normalise_probs(analyser(frame)))
        except NoFaceError:
            continue
    row: dict[str, object] = {
        "sample_id": sample.sample_id,
        "subject": sample.subject,
        "clip": sample.clip,
        "frames_used": len(probs),
    }
    if not probs:
        row.update(gender="", confidence=np.nan, p_male=np.nan, p_female=np.nan)
        row["excluded"] = f"no face found in the first {first_frames} frames"
        return row
    pm, pf = (float(x) for x in np.mean(probs, axis=0))
    gender, conf = _winner(pm, pf)
    row.update(gender=gender, confidence=conf, p_male=pm, p_female=pf)
    row["excluded"] = (
        f"confidence {conf:.3f} below threshold {threshold:g}" if conf < threshold else ""
    )
    return row


def combine_clips(clips: pd.DataFrame, threshold: float, estimator: str) -> pd.DataFrame:
    """Gives the per-subject table (SUBJECT_COLUMNS) from clip rows (CLIP_COLUMNS)."""
    rows = []
    for subject, g in clips.groupby("subject", sort=True):
        kept = g[g["excluded"] == ""]
        row: dict[str, object] = {
            "subject": subject,
            "frames_used": int(kept["frames_used"].sum()),
            "clips_used": len(kept),
            "clips_excluded": len(g) - len(kept),
            "estimator": estimator,
        }
        if kept.empty:
            reasons = g["excluded"].value_counts()
            row.update(gender="", confidence=np.nan, p_male=np.nan, p_female=np.nan)
            row["excluded"] = f"all {len(g)} clip(s) excluded ({reasons.index[0]})"
            row["disagreement"] = False
        else:
            pm, pf = float(kept["p_male"].mean()), float(kept["p_female"].mean())
            gender, conf = _winner(pm, pf)
            row.update(gender=gender, confidence=conf, p_male=pm, p_female=pf)
            row["disagreement"] = kept["gender"].nunique() > 1
            row["excluded"] = (
                f"subject confidence {conf:.3f} below threshold {threshold:g}"
                if conf < threshold
                else ""
            )
            if row["excluded"]:
                row["gender"] = ""
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SUBJECT_COLUMNS))


def estimate_gender(
    samples: Sequence[Sample],
    analyser: Analyser,
    first_frames: int,
    threshold: float,
    *,
    estimator: str = "custom",
    read: ImageReader | None = None,
    progress: bool = False,
) -> GenderEstimate:
    """Gives the per-subject gender table and the clip detail of ``samples`` (the rule above)."""
    if first_frames < 1:
        raise MeflowError(f"first_frames must be at least 1 (got {first_frames})")
    if not 0.5 <= threshold <= 1.0:
        raise MeflowError(f"threshold must lie in [0.5, 1] (got {threshold:g})")
    if not samples:
        raise MeflowError("no samples to estimate gender from")
    if read is None:
        from meflow.io.frames import read_image

        read = read_image
    it: Sequence[Sample] = samples
    if progress:
        from tqdm import tqdm

        it = tqdm(samples, desc="gender", unit="clip")
    clips = pd.DataFrame(
        [estimate_clip(s, analyser, first_frames, threshold, read) for s in it],
        columns=list(CLIP_COLUMNS),
    )
    return GenderEstimate(combine_clips(clips, threshold, estimator), clips)
