"""Logistic regression and the linear head it is saved as; the temporal GRU's checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from meflow.models.linear import LinearClassifier
from meflow.models.nets import LinearHead, TemporalGRU
from meflow.training import predict_proba
from meflow.training.checkpoint import load_checkpoint, save_checkpoint


def _data(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    y = np.arange(n) % 6
    X = rng.normal(size=(n, 4, 42, 2)).astype(np.float32)
    X[np.arange(n), :, y * 7, 0] += 3.0  # each class moves its own region, every stretch
    return X, y


def test_a_saved_logistic_regression_predicts_what_it_predicted(tmp_path: Path) -> None:
    X, y = _data()
    clf = LinearClassifier("logreg", 6, 0.1).fit(X[:48], y[:48])
    want = clf.predict_proba(X[48:])
    assert (want.argmax(1) == y[48:]).mean() > 0.9
    arrays, _ = clf.state()
    head = LinearHead.from_arrays(arrays, 6).eval()
    np.testing.assert_allclose(predict_proba(head, X[48:]), want, atol=1e-6)  # float32 logits
    path = tmp_path / "lr.safetensors"
    save_checkpoint(path, head, {"input": "vector-bins", "classifier": "logreg"})
    model, meta = load_checkpoint(path)
    assert meta["model"] == {"arch": "linear", "num_classes": 6, "features": 4 * 42 * 2}
    np.testing.assert_allclose(predict_proba(model, X[48:]), want, atol=1e-6)  # float32 logits


def test_a_class_absent_from_training_gets_probability_zero() -> None:
    X, y = _data()
    keep = y != 3
    p = LinearClassifier("logreg", 6, 0.1).fit(X[keep], y[keep]).predict_proba(X)
    assert p.shape == (60, 6) and np.allclose(p.sum(1), 1) and (p[:, 3] < 1e-12).all()


def test_an_svm_is_a_reference_and_is_not_saved() -> None:
    X, y = _data()
    clf = LinearClassifier("svm", 6, 1.0).fit(X, y)
    assert clf.predict_proba(X).shape == (60, 6)
    from meflow.errors import MeflowError

    with pytest.raises(MeflowError, match="reference"):
        clf.state()


def test_the_temporal_gru_round_trips_through_a_checkpoint(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = TemporalGRU(6, 42).eval()
    x = np.random.default_rng(2).normal(size=(3, 64, 42, 2)).astype(np.float32)
    want = predict_proba(net, x)
    path = tmp_path / "gru.safetensors"
    save_checkpoint(path, net, {"input": "vector-series", "classifier": "gru"})
    model, _ = load_checkpoint(path)
    np.testing.assert_allclose(predict_proba(model, x), want, atol=1e-6)
