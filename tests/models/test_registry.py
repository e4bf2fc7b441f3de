"""The classifier registry: a new classifier is one module and one registry line.

The nearest-class-mean classifier below lives only in this file; registering it is enough for
the settings to accept it and for a results row to cross-validate it (``cells.run_cell``, the
path ``meflow reproduce`` takes), without any other module knowing its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from meflow.cells import run_cell
from meflow.config import EvalConfig, ExperimentConfig, TrainConfig, override
from meflow.errors import ConfigError, MeflowError
from meflow.experiments import train_model
from meflow.models import registry
from meflow.models.archs import MODELS
from meflow.training import cross_validate

NAME = "nearest-mean"


class NearestMean:
    """Class probabilities: a softmax over the negative squared distances to the class means."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.means = np.zeros((0, 0))
        self.present = np.zeros(0, dtype=bool)

    def fit(self, X: np.ndarray, y: np.ndarray) -> NearestMean:
        F = X.reshape(len(X), -1).astype(np.float64)
        self.means = np.zeros((self.num_classes, F.shape[1]))
        self.present = np.zeros(self.num_classes, dtype=bool)
        for c in np.unique(y):
            self.means[c] = F[y == c].mean(axis=0)
            self.present[c] = True
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        F = X.reshape(len(X), -1).astype(np.float64)
        d = ((F[:, None, :] - self.means[None]) ** 2).sum(axis=2)
        logits = np.where(self.present, -d, -np.inf)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return np.asarray(e / e.sum(axis=1, keepdims=True))


def fit_nearest_mean(X: np.ndarray, y: np.ndarray, num_classes: int, cfg: Any) -> NearestMean:
    return NearestMean(num_classes).fit(X, y)


@pytest.fixture
def nearest_mean() -> Iterator[registry.Classifier]:
    """The test's classifier, registered for the test's duration."""
    entry = registry.register(
        registry.Classifier(
            NAME, "nearest class mean", inputs=("vector-bins",), fit=fit_nearest_mean
        )
    )
    try:
        yield entry
    finally:
        registry.CLASSIFIERS.pop(NAME)


def separable(n_subjects: int = 6, per_class: int = 4, seed: int = 0) -> tuple[np.ndarray, ...]:
    """(X, y, subjects): 6 classes, each a shifted Gaussian in 12 dimensions."""
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.normal(size=(6, 12))
    y = np.tile(np.repeat(np.arange(6), per_class), n_subjects)
    subjects = np.repeat([f"s{i}" for i in range(n_subjects)], 6 * per_class)
    X = (centres[y] + rng.normal(size=(len(y), 12))).astype(np.float32)
    return X, y, subjects


def test_a_registered_classifier_is_cross_validated_like_the_others(
    nearest_mean: registry.Classifier,
) -> None:
    X, y, subjects = separable()
    cfg = ExperimentConfig(
        train=TrainConfig(model=NAME, input="vector-bins"),
        evaluate=EvalConfig(protocol="kfold", folds=3, bootstrap=50),
    )
    ids = [f"clip{i}" for i in range(len(y))]
    cell = run_cell(X, y, subjects, ids, cfg, "all", "vector-bins", NAME, progress=False)
    m = cell.metrics
    assert cell.row()["model"] == NAME and cell.row()["paper_micro_roc_auc"] is None
    assert np.isfinite(cell.probs).all() and np.allclose(cell.probs.sum(axis=1), 1.0)
    # the prior knows only class frequencies (here equal): chance; the class means separate
    assert m["prior_micro_roc_auc"] < 0.6
    assert m["micro_roc_auc"] > 0.95
    assert m["accuracy"] > 0.9 and m["above_prior"]


def test_the_registry_decides_what_the_settings_accept(
    nearest_mean: registry.Classifier,
) -> None:
    assert NAME in registry.names()
    cfg = override(ExperimentConfig(), [f"train.model={NAME}", "train.input=vector-bins"])
    assert cfg.train.model == NAME
    with pytest.raises(ConfigError, match=re.escape(f"train.model={NAME} takes train.input")):
        TrainConfig(model=NAME, input="mdmo")
    assert not nearest_mean.saveable and not nearest_mean.trains_with_loop


def test_an_unknown_classifier_is_refused_with_the_valid_names() -> None:
    with pytest.raises(ConfigError, match="yolo11, gru, logreg, svm"):
        TrainConfig(model="nearest")
    with pytest.raises(MeflowError, match="unknown classifier 'nearest'"):
        registry.get("nearest")


def test_the_entries_say_what_the_old_code_hard_wired() -> None:
    assert registry.names()[:4] == ("yolo11", "gru", "logreg", "svm")
    nets = [n for n in registry.names() if registry.get(n).trains_with_loop]
    assert nets == ["yolo11", "gru"]
    assert registry.get("yolo11").inputs == ("pseudo-discrete", "pseudo-continuous")
    assert registry.get("gru").inputs == ("vector-series",)
    assert registry.get("logreg").takes("mdmo") and registry.get("svm").takes("pseudo-discrete")
    assert [n for n in registry.names() if registry.get(n).saveable] == ["yolo11", "gru", "logreg"]
    # every saveable classifier's module can be rebuilt from a checkpoint
    for n in ("yolo11", "gru", "logreg"):
        assert registry.get(n).arch in MODELS
    assert [n for n in registry.names() if registry.get(n).paper_table1] == ["yolo11"]


def test_an_entry_needs_one_way_to_be_trained() -> None:
    with pytest.raises(MeflowError, match="exactly one of network and fit"):
        registry.Classifier("none", "neither")


def test_cross_validate_trains_the_registered_classifier(
    nearest_mean: registry.Classifier,
) -> None:
    """Every fold's probabilities are the registered classifier's own, fitted on that fold's
    training part: another classifier in its place would give other numbers."""
    X, y, subjects = separable(seed=1)
    tcfg = TrainConfig(model=NAME, input="vector-bins")
    cv = cross_validate(X, y, subjects, tcfg, EvalConfig(protocol="kfold", folds=3), False)
    assert len(cv.splits) == 3
    for tr, te in cv.splits:
        own = NearestMean(6).fit(X[tr], y[tr]).predict_proba(X[te])
        np.testing.assert_array_equal(cv.probs[te], own)


def test_a_reference_is_refused_before_any_training(tmp_path: Path) -> None:
    """``meflow train`` asks the registry first: no cache is read for an unsaveable one."""
    cfg = override(ExperimentConfig(), ["train.model=svm"])
    with pytest.raises(MeflowError, match=re.escape("train.model=svm is a reference")):
        train_model(tmp_path / "no-cache", tmp_path / "model.safetensors", cfg, progress=False)
