"""The gender decision rule with a stand-in analyser of known probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meflow.datasets.base import Sample
from meflow.demographics import estimate_gender, read_demographics, write_estimate
from meflow.demographics.decision import normalise_probs
from meflow.errors import MeflowError, NoFaceError

NO_FACE = -1.0


def make_samples(plan: dict[str, list[list[float]]]) -> tuple[list[Sample], dict[Path, float]]:
    """Samples of subject/clip with per-frame P(male) (NO_FACE: no face; nan: unreadable)."""
    samples, frames = [], {}
    for subject, clips in plan.items():
        for i, probs in enumerate(clips):
            s = Sample(
                "t",
                subject,
                f"c{i}",
                onset=10,
                apex=12,
                offset=30,
                emotion="happiness",
                frames_dir=Path("/nowhere") / subject / f"c{i}",
                last_frame=40,
            )
            samples.append(s)
            for k, p in enumerate(probs):
                frames[s.frame_path(10 + k)] = p
    return samples, frames


def run(plan: dict[str, list[list[float]]], first: int = 2, threshold: float = 0.75, **kw):
    samples, frames = make_samples(plan)
    calls: list[float] = []

    def read(path: Path) -> np.ndarray | None:
        p = frames.get(path, 0.5)
        return None if np.isnan(p) else np.array([p])

    def analyser(img: np.ndarray) -> dict[str, float]:
        p = float(img[0])
        calls.append(p)
        if p == NO_FACE:
            raise NoFaceError("no face")
        return {"Man": 100 * p, "Woman": 100 * (1 - p)}  # DeepFace's percentages

    est = estimate_gender(samples, analyser, first, threshold, estimator="stub", read=read, **kw)
    return est, calls


def test_clip_mean_of_first_frames_and_confidence() -> None:
    est, calls = run({"A": [[0.9, 0.7, 0.0, 0.0]]})
    assert calls == [0.9, 0.7]  # only the first 2 frames are analysed
    c = est.clips.iloc[0]
    assert c["p_male"] == pytest.approx(0.8) and c["p_female"] == pytest.approx(0.2)
    assert c["gender"] == "male" and c["confidence"] == pytest.approx(0.8)
    assert c["frames_used"] == 2 and c["excluded"] == ""
    s = est.subjects.set_index("subject").loc["A"]
    assert s["gender"] == "male" and s["confidence"] == pytest.approx(0.8)
    assert s["estimator"] == "stub" and not s["disagreement"] and s["excluded"] == ""


def test_faceless_and_unreadable_frames_are_skipped_for_the_next() -> None:
    est, calls = run({"A": [[NO_FACE, float("nan"), 0.1, 0.3, 0.9]]})
    c = est.clips.iloc[0]
    assert c["frames_used"] == 2 and c["p_female"] == pytest.approx(0.8)
    assert c["gender"] == "female"
    assert calls == [NO_FACE, 0.1, 0.3]


def test_clip_below_threshold_is_excluded_with_reason() -> None:
    est, _ = run({"A": [[0.6, 0.6], [0.95, 0.95]]})
    clips = est.clips.set_index("clip")
    assert clips.loc["c0", "excluded"] == "confidence 0.600 below threshold 0.75"
    assert clips.loc["c1", "excluded"] == ""
    s = est.subjects.iloc[0]
    # the excluded clip does not count for the subject
    assert s["confidence"] == pytest.approx(0.95) and s["clips_used"] == 1
    assert s["clips_excluded"] == 1 and s["frames_used"] == 2


def test_subject_with_no_usable_clip_is_excluded() -> None:
    est, _ = run({"A": [[NO_FACE] * 6], "B": [[0.55, 0.5]]})
    sub = est.subjects.set_index("subject")
    assert (
        sub.loc["A", "excluded"] == "all 1 clip(s) excluded (no face found in the first 2 frames)"
    )
    assert sub.loc["B", "excluded"].startswith("all 1 clip(s) excluded (confidence 0.525")
    assert sub.loc["A", "gender"] == "" and est.counts() == {"male": 0, "female": 0, "excluded": 2}


def test_disagreeing_clips_flag_the_subject() -> None:
    plan = {
        "A": [[0.99, 0.99]] * 3 + [[0.2, 0.2]],  # 3 male clips, 1 female: mean P(male) 0.7925
        "B": [[0.95, 0.95], [0.9, 0.9], [0.15, 0.15]],  # mean P(male) 0.667 < 0.75
        "C": [[0.1, 0.1], [0.2, 0.2]],
    }
    est, _ = run(plan)
    sub = est.subjects.set_index("subject")
    assert sub.loc["A", "gender"] == "male" and sub.loc["A", "disagreement"]
    assert sub.loc["A", "confidence"] == pytest.approx(0.7925)
    assert sub.loc["B", "disagreement"] and sub.loc["B", "gender"] == ""
    assert sub.loc["B", "excluded"] == "subject confidence 0.667 below threshold 0.75"
    assert not sub.loc["C", "disagreement"] and sub.loc["C", "gender"] == "female"
    assert sub.loc["C", "confidence"] == pytest.approx(0.85)
    assert est.counts() == {"male": 1, "female": 1, "excluded": 1}
    w = est.warnings
    assert len(w) == 2 and w[0].startswith("subject A: clips disagree (3 male, 1 female)")


def test_written_table_reads_back_with_excluded_subjects(tmp_path: Path) -> None:
    est, _ = run({"A": [[0.9, 0.9]], "B": [[0.6, 0.6]], "C": [[0.1, 0.1]]})
    files = write_estimate(est, tmp_path / "g.csv")
    assert [f.name for f in files] == ["g.csv", "g.clips.csv"]
    df = read_demographics(tmp_path / "g.csv", subjects=["A", "B", "C"])
    g = df["gender"]
    assert g["A"] == "male" and g["C"] == "female" and pd.isna(g["B"])


def test_normalise_and_bad_settings() -> None:
    assert normalise_probs({"Woman": 30.0, "Man": 10.0}) == (0.25, 0.75)
    assert normalise_probs({"male": 0.2, "female": 0.8}) == (0.2, 0.8)
    with pytest.raises(MeflowError, match="unknown class 'cat'"):
        normalise_probs({"cat": 1.0})
    with pytest.raises(MeflowError, match="threshold"):
        run({"A": [[0.9]]}, threshold=1.5)
    with pytest.raises(MeflowError, match="first_frames"):
        run({"A": [[0.9]]}, first=0)
