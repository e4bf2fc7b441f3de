"""Position training: every training sample also at moved windows, folds still subject-wise."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from _span_features import make_span_features
from meflow.cells import run_cell
from meflow.config import ExperimentConfig, TrainConfig, override
from meflow.errors import ConfigError, MeflowError
from meflow.evaluation.metrics import micro_roc_auc
from meflow.features.inputs import build_input
from meflow.features.shifted import stack_copies, training_inputs
from meflow.training import folds
from meflow.training.crossval import cross_validate

CFG = ExperimentConfig(
    train=TrainConfig(bins=4), evaluate=override(ExperimentConfig().evaluate, ["bootstrap=0"])
)


def test_shifts_setting_parses_a_list_and_refuses_other_text() -> None:
    assert TrainConfig(shifts="0").shift_list == (0,)
    assert TrainConfig().shift_list == tuple(range(-8, 9, 2))  # the recommended default
    assert TrainConfig(shifts="-8, 0,8,0").shift_list == (-8, 0, 8)
    with pytest.raises(ConfigError, match=r"train.shifts: '4:8' is not a whole number"):
        TrainConfig(shifts="0,4:8")


def test_copies_of_a_test_subject_never_train(monkeypatch: pytest.MonkeyPatch) -> None:
    feats = make_span_features(subjects=4, per_class=2)
    tcfg = dataclasses.replace(CFG.train, shifts="-4,0,4")
    X = build_input("vector-bins", feats.batch(), tcfg)
    X_train = training_inputs("vector-bins", feats, tcfg)
    assert X_train is not None and X_train.shape == (3, *X.shape)
    assert sorted(set(feats.calls)) == [-4, 0, 4]
    seen: list[tuple[np.ndarray, int]] = []
    fit = folds.fit_classifier

    def spy(name, Xtr, ytr, gtr, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((np.asarray(gtr), len(Xtr)))
        return fit(name, Xtr, ytr, gtr, *args, **kwargs)

    monkeypatch.setattr(folds, "fit_classifier", spy)
    cv = cross_validate(X, feats.labels, feats.subjects, tcfg, CFG.evaluate, False, X_train=X_train)
    assert len(seen) == 4
    for (groups, n), (tr, te) in zip(seen, cv.splits, strict=True):
        assert n == 3 * tr.size and not set(groups) & set(feats.subjects[te])
        assert sorted(groups) == sorted(np.tile(feats.subjects[tr], 3))
    with pytest.raises(MeflowError, match="training copies"):
        cross_validate(X, feats.labels, feats.subjects, tcfg, CFG.evaluate, False,
                       X_train=X_train[:, :-1])  # fmt: skip


def test_stack_copies_keeps_each_copy_with_its_label_and_subject() -> None:
    X_train = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    y, g = np.array([0, 1, 2, 3]), np.array(["a", "b", "c", "d"])
    X, yy, gg = stack_copies(X_train, y, g, np.array([1, 3]))
    np.testing.assert_array_equal(X, [X_train[0, 1], X_train[0, 3], X_train[1, 1], X_train[1, 3]])
    assert yy.tolist() == [1, 3, 1, 3] and gg.tolist() == ["b", "d", "b", "d"]


def test_position_training_holds_where_centred_training_fails() -> None:
    """Scored by run_cell as reproduce scores a row: centred training learns where in the
    window the motion sits and fails on windows moved by 8 pairs; position training does not
    (motion that stays: out and back would cancel in a linear model's bins, see below)."""
    feats = make_span_features(subjects=6, per_class=4, returns=False)
    y, subj, ids = feats.labels, feats.subjects, feats.sample_ids
    moved = build_input("vector-bins", feats.batch(8), CFG.train)
    at_centre = build_input("vector-bins", feats.batch(), CFG.train)
    tcfg = dataclasses.replace(CFG.train, shifts="-8,-4,0,4,8")
    cfg = dataclasses.replace(CFG, train=tcfg)
    X_train = training_inputs("vector-bins", feats, tcfg)
    plain = run_cell(moved, y, subj, ids, CFG, "all", "vector-bins", "logreg", progress=False,
                     X_train=at_centre[None])  # trained centred, tested moved  # fmt: skip
    position = run_cell(moved, y, subj, ids, cfg, "all", "vector-bins", "logreg", progress=False,
                        X_train=X_train)  # fmt: skip
    centred = run_cell(at_centre, y, subj, ids, CFG, "all", "vector-bins", "logreg",
                       progress=False)  # fmt: skip
    assert centred.metrics["uf1"] > 0.95
    assert plain.metrics["uf1"] < 0.8  # micro AUC: over meflow's six classes, 3 absent
    assert position.metrics["uf1"] > 0.95
    assert micro_roc_auc(y, position.probs) == position.metrics["micro_roc_auc"]
    assert position.prior.shape == (len(y), 6)  # run_cell's prior: over meflow's six classes


def test_out_and_back_motion_needs_the_position_invariant_input() -> None:
    """Away and back again, the same bin holds +d at one shift and -d at another: position
    training of a linear model on the bins averages them away, the peak displacement keeps
    them (the position table measures which holds on real motion)."""
    feats = make_span_features(subjects=6, per_class=4)
    y, subj, ids = feats.labels, feats.subjects, feats.sample_ids
    tcfg = dataclasses.replace(CFG.train, shifts="-8,-4,0,4,8")
    scores = {}
    for name in ("vector-bins", "vector-peak"):
        moved = build_input(name, feats.batch(4), tcfg)
        X_train = training_inputs(name, feats, tcfg)
        cell = run_cell(moved, y, subj, ids, dataclasses.replace(CFG, train=tcfg), "all", name,
                        "logreg", progress=False, X_train=X_train)  # fmt: skip
        scores[name] = cell.metrics["uf1"]
    assert scores["vector-peak"] > 0.9 and scores["vector-bins"] < 0.6


def test_reproduce_leaves_the_onset_apex_baseline_out_with_a_note(tmp_path: Path) -> None:
    from meflow.experiments import reproduce
    from reliability._helpers import write_fake_cache

    cache = write_fake_cache(tmp_path / "cache", subjects=3, per_class=1)
    notes: list[str] = []
    out = reproduce(cache, tmp_path / "out", CFG, only_all=True, progress=False, log=notes.append)
    assert "logreg-onset-apex" in CFG.evaluate.baseline_names
    assert {r["input"] for r in out["rows"]} == {"vector-bins", "pseudo-discrete", "mdmo"}
    said = [n for n in notes if "onset-apex left out" in n]
    assert len(said) == 1 and out["left_out_rows"] == said


def test_the_final_model_trains_on_every_shift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import meflow.experiments as experiments
    from meflow.config import ExtractConfig, to_dict
    from meflow.training.checkpoint import load_checkpoint

    feats = make_span_features(subjects=3, per_class=2)
    feats.extract = to_dict(ExtractConfig())  # type: ignore[attr-defined]
    feats.features_version = 1  # type: ignore[attr-defined]
    monkeypatch.setattr(experiments, "load_features", lambda cache, min_valid: feats)
    seen: list[tuple[int, np.ndarray]] = []
    fit = experiments.fit_classifier

    def spy(name, X, y, groups, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((len(X), np.asarray(y)))
        return fit(name, X, y, groups, *args, **kwargs)

    monkeypatch.setattr(experiments, "fit_classifier", spy)
    cfg = override(CFG, ["train.shifts=-4,0,4"])
    meta = experiments.train_model(tmp_path, tmp_path / "m.pt", cfg, progress=False)
    n = len(feats.labels)
    assert seen[0][0] == 3 * n and seen[0][1].tolist() == np.tile(feats.labels, 3).tolist()
    assert sorted(set(feats.calls)) == [-4, 0, 4]
    assert meta["train"]["shifts"] == "-4,0,4" and meta["n_samples"] == n
    assert load_checkpoint(tmp_path / "m.pt") is not None
