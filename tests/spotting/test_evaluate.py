"""The leave-one-subject-out spotting evaluation on made-up region flow."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _spot_flows import made_up_set
from meflow.errors import MeflowError
from meflow.spotting import model
from meflow.spotting.evaluate import available_spotters, evaluate_spotting
from meflow.spotting.scoring import score_spotting


@pytest.fixture(scope="module")
def data() -> Any:
    return made_up_set()


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """A spotter kind 'spy' (the baseline) that records which recordings it was trained on."""
    seen: list[tuple[str, ...]] = []

    def train(recordings, truth, blinks=None, **options):  # type: ignore[no-untyped-def]
        seen.append(tuple(sorted(r.name for r in recordings)))
        assert {g.recording for g in truth} <= {r.name for r in recordings}
        assert set(blinks or {}) <= {r.name for r in recordings}
        return model._train_baseline(recordings, truth, blinks, **options)

    monkeypatch.setitem(model.TRAINERS, "spy", train)
    monkeypatch.setitem(model.LOADERS, "spy", model._baseline_from_state)
    return seen


def test_folds_never_train_on_the_held_out_subject(data: Any, spy: list) -> None:
    recs, truth, blinks, subjects = data
    ev = evaluate_spotting(recs, truth, blinks, subjects, ["spy", "baseline"],
                           chance_draws=20, bootstrap=50)  # fmt: skip
    assert len(ev.folds) == 3
    for fold, trained in zip(ev.folds, spy, strict=False):
        assert {subjects[n] for n in trained}.isdisjoint({fold.subject})
        assert set(trained) == set(fold.train)
        assert {subjects[n] for n in fold.test} == {fold.subject}
    assert len(spy) == 3 + 1  # one per fold, then the final spotter on every subject
    assert set(spy[-1]) == {r.name for r in recs}


def test_pooled_counts_are_the_score_of_the_held_out_predictions(data: Any) -> None:
    recs, truth, blinks, subjects = data
    ev = evaluate_spotting(recs, truth, blinks, subjects, ["baseline"],
                           chance_draws=20, bootstrap=50)  # fmt: skip
    main = ev.main
    assert main.score.as_dict() == score_spotting(main.predictions, truth).as_dict()
    # each fold's counts add up to the pooled ones
    assert sum(f.counts["baseline"].tp for f in ev.folds) == main.score.overall.tp
    assert sum(f.counts["baseline"].n_gt for f in ev.folds) == len(truth)
    # the made-up expressions are clear: the baseline finds most of them, chance far fewer
    assert main.score.overall.f1 > 0.5
    assert ev.chance["overall"]["f1"] < main.score.overall.f1
    assert ev.chance["overall"]["n_pred"] == main.score.overall.n_pred
    d, lo, hi = ev.differences["baseline - chance"]["overall"]
    assert lo <= d <= hi and d > 0
    assert 0.0 <= main.on_blinks <= 1.0 and 0.0 <= ev.chance_on_blinks <= 1.0
    assert set(ev.final) == {"baseline"}


def test_default_spotters_fall_back_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(model.TRAINERS, "learned", raising=False)
    monkeypatch.setattr(model, "_load_kinds", lambda: None)
    names, notes = available_spotters()
    assert names == ("baseline",)
    assert any("learned" in n and "baseline" in n for n in notes)
    with pytest.raises(MeflowError, match="learned"):
        available_spotters(["learned"])


def test_one_subject_is_refused(data: Any) -> None:
    recs, truth, blinks, _ = data
    with pytest.raises(MeflowError, match="2 subjects"):
        evaluate_spotting(recs, truth, blinks, {r.name: "same" for r in recs}, ["baseline"])


def test_blink_share_counts_touching_intervals() -> None:
    from meflow.spotting.evaluate import blink_share
    from meflow.spotting.scoring import Interval

    ivs = [Interval("r", 10, 20, "micro"), Interval("r", 30, 40, "micro")]
    assert blink_share(ivs, {"r": [(20, 22)]}) == 0.5
    assert blink_share([], {}) == 0.0
    assert np.isclose(blink_share(ivs, {"r": [(0, 100)]}), 1.0)


def test_a_loaded_ground_truth_gives_the_same_evaluation(data: Any) -> None:
    from meflow.spotting.ground_truth_rows import GroundTruth, SpotInterval

    recs, truth, blinks, subjects = data
    rows = [
        SpotInterval("casme3", *g.recording.split("/"), g.onset, g.apex, g.offset, g.type,
                     g.emotion)
        for g in truth
    ] + [
        SpotInterval("casme3", *name.split("/"), lo, None, hi, "blink")
        for name, spans in blinks.items() for lo, hi in spans
    ]  # fmt: skip
    gt = GroundTruth("casme3", rows)
    kept = recs[:4]  # the ground truth of recordings not given is left out
    a = evaluate_spotting(kept, gt, None, subjects, ["baseline"], chance_draws=5, bootstrap=10)
    b = evaluate_spotting(kept, [g for g in truth if g.recording in {r.name for r in kept}],
                          blinks, subjects, ["baseline"], chance_draws=5, bootstrap=10)  # fmt: skip
    assert a.main.predictions == b.main.predictions
    assert a.main.score.as_dict() == b.main.score.as_dict()
    assert a.blinks == {r.name: blinks[r.name] for r in kept}
