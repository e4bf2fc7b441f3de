"""Spot-then-recognise in the evaluation: windows around the apex, STRS as its product."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from _spot_flows import made_up_set
from meflow.errors import MeflowError
from meflow.spotting.evaluate import evaluate_spotting
from meflow.spotting.recognition import (
    SpotThenRecognise,
    frame_index,
    train_recogniser,
    window_batch,
)
from meflow.spotting.scoring import score_spotting


@pytest.fixture(scope="module")
def data() -> Any:
    return made_up_set()


def test_window_is_centred_on_the_numbered_frame(data: Any) -> None:
    rec = data[0][0]  # frames numbered from 1000
    assert frame_index(rec, rec.first_frame + 120) == 120
    batch, share = window_batch(rec, [rec.first_frame + 120], 64)
    assert batch["vector"].shape == (1, 64, 42, 2) and share[0] == 1.0
    np.testing.assert_allclose(batch["vector"][0], rec.vector[120 - 32 : 120 + 32], rtol=1e-6)
    moved, _ = window_batch(rec, [rec.first_frame + 5], 64)  # moved inside at the start
    np.testing.assert_allclose(moved["vector"][0], rec.vector[:64], rtol=1e-6)


def test_recogniser_learns_the_emotions_of_made_up_micro_expressions(data: Any) -> None:
    recs, truth, _, subjects = data
    train = [r for r in recs if subjects[r.name] != "sub0"]
    test = [r for r in recs if subjects[r.name] == "sub0"]
    model = train_recogniser(train, truth, subjects)
    assert model.classes == ("happiness", "surprise")
    micro = [g for g in truth if g.type == "micro" and g.recording == test[0].name]
    named = model.label(test[0], [replace(g, emotion=None) for g in micro])
    assert [g.emotion for g in named] == [g.emotion for g in micro]


def test_one_emotion_is_refused(data: Any) -> None:
    recs, truth, _, subjects = data
    one = [replace(g, emotion="happiness") for g in truth]
    with pytest.raises(MeflowError, match="2 emotions"):
        train_recogniser(recs, one, subjects)


def test_strs_is_spotting_f1_times_analysis_f1(data: Any) -> None:
    recs, truth, blinks, subjects = data
    str_ = SpotThenRecognise(truth, subjects)
    ev = evaluate_spotting(recs, truth, blinks, subjects, ["baseline"], chance_draws=10,
                           bootstrap=20, recognise=str_)  # fmt: skip
    res = ev.recognition
    assert res is not None
    micro = score_spotting(ev.main.predictions, truth).micro
    assert res.strs.spotting == micro
    assert res.strs.strs == pytest.approx(micro.f1 * res.strs.analysis_f1)
    assert res.annotated.spotting.f1 == 1.0  # every annotated interval classified in place
    assert res.annotated.uar == pytest.approx(1.0)  # the made-up emotions are separable
    # every spotted micro-expression carries an emotion, no macro-expression does
    assert all((iv.emotion is not None) == (iv.type == "micro") for iv in ev.main.predictions)


def test_a_recording_shorter_than_a_window_is_completed_without_flow(data: Any) -> None:
    from meflow.spotting.baseline import RecordingFlow

    rec = data[0][0]
    short = RecordingFlow("short", rec.vector[:40], rec.valid[:40], 30.0)
    batch, share = window_batch(short, [20], 64)
    assert batch["vector"].shape == (1, 64, 42, 2)
    assert share[0] == pytest.approx(40 / 64)
    assert not batch["valid"][0, 40:].any()


def test_the_recogniser_of_a_fold_never_sees_the_held_out_subject(
    data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meflow.spotting import recognition

    recs, truth, blinks, subjects = data
    seen: list[tuple[set[str], set[str]]] = []
    real = recognition.train_recogniser

    def spy(recordings, truth_, subjects_, cfg=None):  # type: ignore[no-untyped-def]
        seen.append(({r.name for r in recordings}, {g.recording for g in truth_}))
        return real(recordings, truth_, subjects_, cfg)

    monkeypatch.setattr(recognition, "train_recogniser", spy)
    ev = evaluate_spotting(recs, truth, blinks, subjects, ["baseline"], chance_draws=5,
                           bootstrap=10, recognise=SpotThenRecognise(truth, subjects))  # fmt: skip
    assert len(seen) == len(ev.folds) == 3
    for fold, (names, truth_names) in zip(ev.folds, seen, strict=True):
        assert names == set(fold.train) and truth_names <= names
        assert fold.subject not in {subjects[n] for n in names}
