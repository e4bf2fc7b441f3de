"""Metrics against a hand-worked example, sklearn, and the paper's trapezoid formula."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import (
    balanced_accuracy_score,
    f1_score,
    roc_auc_score,
)
from sklearn.preprocessing import label_binarize

from meflow.evaluation import (
    accuracy,
    compute_metrics,
    confusion,
    macro_roc_auc,
    micro_roc_auc,
    micro_roc_curve,
    per_class_roc_auc,
    trapezoid_auc,
    uar,
    uf1,
)

# 6 samples, 3 classes. Rows sum to 1.
Y = np.array([0, 0, 1, 1, 2, 2])
P = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.3, 0.4, 0.3],
        [0.2, 0.6, 0.2],
        [0.5, 0.3, 0.2],
        [0.1, 0.1, 0.8],
        [0.2, 0.4, 0.4],
    ]
)


def test_hand_worked_micro_auc() -> None:
    # 18 (sample, class) pairs: 6 positives (the true class of each sample), 12 negatives.
    #   positive scores: 0.7, 0.3, 0.6, 0.3, 0.8, 0.4
    #   negative scores: 0.5 | 0.4 0.4 | 0.3 | 0.2 x5 | 0.1 x3
    # AUC = P(pos > neg) + P(tie)/2, counting per positive (negatives below + ties/2):
    #   0.8: 12   0.7: 12   0.6: 12   0.4: 9 + 2/2 = 10   0.3: 8 + 1/2 = 8.5 (twice)
    #   sum = 12 + 12 + 12 + 10 + 8.5 + 8.5 = 63;  AUC = 63 / (6 * 12) = 0.875
    assert micro_roc_auc(Y, P) == pytest.approx(0.875, abs=1e-12)
    assert roc_auc_score(label_binarize(Y, classes=[0, 1, 2]), P, average="micro") == pytest.approx(
        0.875, abs=1e-12
    )


def test_hand_worked_micro_curve_and_trapezoid() -> None:
    # Thresholds (distinct scores, descending) and cumulative (TP, FP) with P = 6, N = 12:
    #   0.8 (1,0)  0.7 (2,0)  0.6 (3,0)  0.5 (3,1)  0.4 (4,3)  0.3 (6,4)  0.2 (6,9)  0.1 (6,12)
    fpr, tpr, thr = micro_roc_curve(Y, P)
    assert np.allclose(thr[1:], [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    assert np.allclose(fpr, np.array([0, 0, 0, 0, 1, 3, 4, 9, 12]) / 12)
    assert np.allclose(tpr, np.array([0, 1, 2, 3, 3, 4, 6, 6, 6]) / 6)
    # Trapezoids: 1/12*(3/6+3/6)/2 + 2/12*(3/6+4/6)/2 + 1/12*(4/6+6/6)/2 + 5/12*1 + 3/12*1
    #           = (6 + 14 + 10 + 60 + 36) / 144 = 126/144 = 0.875
    assert trapezoid_auc(fpr, tpr) == pytest.approx(126 / 144, abs=1e-12)


def test_random_problems_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    for trial in range(20):
        n, c = int(rng.integers(8, 60)), int(rng.integers(2, 7))
        y = rng.integers(0, c, n)
        # Rounded probabilities create many ties, the hard case for a hand-made curve.
        p = np.round(rng.dirichlet(np.ones(c), n), 1 if trial % 2 else 6)
        onehot = np.eye(c)[y]
        if onehot.sum(0).min() == 0 and c == 2:
            continue
        ref = roc_auc_score(onehot.ravel(), p.ravel())
        assert micro_roc_auc(y, p) == pytest.approx(ref, abs=1e-12)
        assert trapezoid_auc(*micro_roc_curve(y, p)[:2]) == pytest.approx(ref, abs=1e-12)
        present = np.unique(y)
        ref_macro = np.mean(
            [roc_auc_score(y == k, p[:, k]) for k in present if 0 < (y == k).sum() < n]
        )
        assert macro_roc_auc(y, p) == pytest.approx(ref_macro, abs=1e-12)
        pred = p.argmax(1)
        assert uf1(y, p) == pytest.approx(f1_score(y, pred, labels=present, average="macro"))
        with warnings.catch_warnings():  # sklearn warns on predicted classes absent from y
            warnings.simplefilter("ignore")
            assert uar(y, p) == pytest.approx(balanced_accuracy_score(y, pred))
        assert accuracy(y, p) == pytest.approx(np.mean(pred == y))


def test_macro_over_present_classes_and_undefined() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]])
    aucs = per_class_roc_auc(y, p)
    assert np.isnan(aucs[2]) and aucs[0] == pytest.approx(1.0)
    assert macro_roc_auc(y, p) == pytest.approx(np.nanmean(aucs))
    assert np.isnan(macro_roc_auc(np.array([1, 1]), np.array([[0.2, 0.8], [0.4, 0.6]])))
    # Micro AUC stays defined with a single class present: the other column gives negatives.
    assert micro_roc_auc(np.array([1, 1]), np.array([[0.2, 0.8], [0.4, 0.6]])) == 1.0


def test_confusion_and_compute_metrics() -> None:
    cm = confusion(Y, P)
    # argmax per row: 0, 1, 1, 0, 2, 1 (tie 0.4/0.4 -> first, class 1)
    assert cm.tolist() == [[1, 1, 0], [1, 1, 0], [0, 1, 1]]
    m = compute_metrics(Y, P)
    assert m["micro_auc"] == pytest.approx(0.875) and m["accuracy"] == pytest.approx(0.5)
    assert m["uar"] == pytest.approx(0.5) and m["n"] == 6
    assert set(m) == {"micro_auc", "macro_auc", "uf1", "uar", "accuracy", "n"}
