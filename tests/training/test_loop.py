"""The training loop: overfitting, determinism, imbalance options, CV on separable data."""

from __future__ import annotations

import numpy as np
import pytest

from meflow.config import EvalConfig, TrainConfig
from meflow.errors import MeflowError
from meflow.evaluation import micro_roc_auc
from meflow.training import class_weights, cross_validate, fit, predict_proba


def _random_images(n: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).integers(0, 8, (n, 42, 64)) * 32).astype(np.uint8)


def test_overfits_24_random_images() -> None:
    X = _random_images(24, 1)
    y = np.arange(24) % 6
    groups = np.arange(24).astype(str)
    cfg = TrainConfig(
        scale="n",
        epochs=15,
        batch_size=12,
        lr=3e-3,
        weight_decay=0.0,
        imbalance="none",
        val_fraction=0.0,
        device="cpu",
    )
    res = fit(X, y, groups, cfg, progress=False)
    probs = predict_proba(res.model, X)
    assert probs.shape == (24, 6)
    assert np.allclose(probs.sum(1), 1.0, atol=1e-6)
    assert (probs.argmax(1) == y).mean() == 1.0
    assert not res.early_stopping and "fixed 15 epochs" in res.history[0]["note"]
    assert len(res.history) == 15 and res.history[-1]["val_loss"] is None


@pytest.mark.parametrize("imbalance", ["weighted-loss", "balanced-sampler"])
def test_same_seed_same_probabilities(imbalance: str) -> None:
    X = _random_images(30, 2)
    y = np.array([0] * 12 + [1] * 8 + [2] * 4 + [3] * 3 + [4] * 2 + [5] * 1)
    groups = np.array([f"s{i % 20}" for i in range(30)])  # 20 x 0.2 = 4 validation subjects
    cfg = TrainConfig(
        scale="n",
        epochs=2,
        batch_size=8,
        imbalance=imbalance,
        device="cpu",
        val_fraction=0.2,
        seed=3,
    )
    a = fit(X, y, groups, cfg, progress=False)
    b = fit(X, y, groups, cfg, progress=False)
    pa, pb = predict_proba(a.model, X), predict_proba(b.model, X)
    assert np.array_equal(pa, pb)
    assert a.history == b.history and a.early_stopping
    assert all(h["val_micro_auc"] is not None for h in a.history)
    c = fit(X, y, groups, TrainConfig(**{**cfg.__dict__, "seed": 4}), progress=False)
    assert not np.array_equal(pa, predict_proba(c.model, X))


def test_class_weights_inverse_frequency_and_absent_classes() -> None:
    w = class_weights(np.array([0, 0, 0, 1, 2, 2]), 6)
    # n / (K * n_c) with n = 6, K = 3 present classes: 6/9, 6/3, 6/6; absent classes get 0.
    assert np.allclose(w, [2 / 3, 2.0, 1.0, 0.0, 0.0, 0.0])


def test_absent_classes_and_log_messages() -> None:
    X = _random_images(12, 3)
    y = np.array([0, 1, 2] * 4)  # classes 3, 4, 5 never seen in training
    groups = np.array(["a", "b"] * 6)
    lines: list[str] = []
    for imbalance in ("weighted-loss", "balanced-sampler", "none"):
        cfg = TrainConfig(scale="n", epochs=1, batch_size=4, imbalance=imbalance, device="cpu")
        res = fit(X, y, groups, cfg, progress=False, log=lines.append)
        assert predict_proba(res.model, X).shape == (12, 6)
    assert any("absent from this training set: anger, disgust, fear" in s for s in lines)
    assert any("no validation subjects" in s for s in lines)


def test_rejects_bad_input() -> None:
    with pytest.raises(MeflowError, match="uint8"):
        fit(np.zeros((4, 42, 64)), np.zeros(4, int), np.zeros(4), TrainConfig(), progress=False)
    with pytest.raises(MeflowError, match=r"0\.\.5"):
        fit(
            np.zeros((4, 42, 64), np.uint8),
            np.full(4, 6),
            np.zeros(4),
            TrainConfig(),
            progress=False,
        )


def test_cross_validate_separable_reaches_high_auc(separable: tuple) -> None:
    X, y, groups = separable
    cfg = TrainConfig(
        model="yolo11", input="pseudo-discrete", scale="n", epochs=6, batch_size=16, device="cpu"
    )
    res = cross_validate(X, y, groups, cfg, EvalConfig(protocol="kfold", folds=3), progress=False)
    assert res.probs.shape == (108, 6) and np.isfinite(res.probs).all()
    assert sorted(set(res.fold.tolist())) == [0, 1, 2]
    for f, (tr, te) in enumerate(res.splits):
        assert not set(groups[tr]) & set(groups[te])
        assert (res.fold[te] == f).all()
    auc = micro_roc_auc(y, res.probs)
    assert auc > 0.95, (auc, res.fold_micro_auc)
    assert len(res.histories) == 3 and all(1 <= b <= 6 for b in res.best_epochs)


def test_cross_validate_loso_covers_every_sample() -> None:
    X = _random_images(9, 4)
    y = np.arange(9) % 6
    groups = np.array(["a", "b", "c"] * 3)
    cfg = TrainConfig(
        model="yolo11", input="pseudo-discrete", scale="n", epochs=1, batch_size=4, device="cpu"
    )
    res = cross_validate(X, y, groups, cfg, EvalConfig(protocol="loso"), progress=False)
    assert len(res.splits) == 3 and (res.fold >= 0).all() and np.isfinite(res.probs).all()
