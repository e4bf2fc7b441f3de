"""Classification metrics for C-class probabilities: micro/macro ROC-AUC, UF1, UAR, accuracy.

``y`` holds class indices 0..C-1 and ``probs`` is (N, C); the predicted class is the argmax.
The method's headline metric is the micro-averaged one-vs-rest ROC-AUC: every (sample, class)
pair is one binary decision "is this sample of this class?" scored by that class's
probability, and all N*C pairs are pooled into one ROC curve.
"""

from __future__ import annotations

import numpy as np


def _check(y: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y).astype(np.int64).reshape(-1)
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != y.shape[0]:
        raise ValueError(f"probs must be (N, C) with N = len(y) = {y.shape[0]}, got {p.shape}")
    if y.size and (y.min() < 0 or y.max() >= p.shape[1]):
        raise ValueError(f"labels must be in 0..{p.shape[1] - 1}")
    return y, p


def one_hot(y: np.ndarray, num_classes: int) -> np.ndarray:
    """The (N, C) 0/1 indicator matrix of y (label_binarize that also works for C = 2)."""
    y = np.asarray(y).astype(np.int64).reshape(-1)
    out = np.zeros((y.shape[0], num_classes), dtype=np.int64)
    out[np.arange(y.shape[0]), y] = 1
    return out


def binary_roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC of one binary problem: P(score_pos > score_neg) + P(tie) / 2; NaN if one-sided.

    Computed from average ranks (Mann-Whitney U), which equals the area under the ROC curve
    with ties as diagonal steps, i.e. sklearn's roc_auc_score, but ~10x faster (bootstrap).
    """
    from scipy.stats import rankdata

    lab = np.asarray(labels).astype(bool).reshape(-1)
    n_pos = int(lab.sum())
    n_neg = lab.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(np.asarray(scores, dtype=np.float64).reshape(-1), method="average")
    return float((ranks[lab].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def micro_roc_auc(y: np.ndarray, probs: np.ndarray) -> float:
    """Micro-averaged one-vs-rest ROC-AUC: all (probability, is-this-class) pairs pooled.

    Equals sklearn's roc_auc_score(label_binarize(y), probs, average='micro'); NaN for no samples.
    """
    y, p = _check(y, probs)
    if y.size == 0:
        return float("nan")
    return binary_roc_auc(one_hot(y, p.shape[1]).ravel(), p.ravel())


def per_class_roc_auc(y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One-vs-rest ROC-AUC of each class (C,), NaN where a class has no positive or no negative."""
    y, p = _check(y, probs)
    return np.array([binary_roc_auc(y == c, p[:, c]) for c in range(p.shape[1])])


def macro_roc_auc(y: np.ndarray, probs: np.ndarray) -> float:
    """Mean one-vs-rest ROC-AUC over the classes present in y (NaN if none is defined)."""
    aucs = per_class_roc_auc(y, probs)
    return float(np.nanmean(aucs)) if np.isfinite(aucs).any() else float("nan")


def _present(y: np.ndarray) -> np.ndarray:
    return np.unique(y)


def uf1(y: np.ndarray, probs: np.ndarray) -> float:
    """Unweighted F1 (macro F1) over the classes present in y."""
    from sklearn.metrics import f1_score

    y, p = _check(y, probs)
    if y.size == 0:
        return float("nan")
    return float(f1_score(y, p.argmax(1), labels=_present(y), average="macro", zero_division=0))


def uar(y: np.ndarray, probs: np.ndarray) -> float:
    """Unweighted average recall (balanced accuracy) over the classes present in y."""
    y, p = _check(y, probs)
    if y.size == 0:
        return float("nan")
    pred = p.argmax(1)
    return float(np.mean([np.mean(pred[y == c] == c) for c in _present(y)]))


def accuracy(y: np.ndarray, probs: np.ndarray) -> float:
    """Fraction of samples whose argmax class is the true class."""
    y, p = _check(y, probs)
    return float(np.mean(p.argmax(1) == y)) if y.size else float("nan")


def confusion(y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The (C, C) count matrix: row = true class, column = predicted (argmax) class."""
    y, p = _check(y, probs)
    c = p.shape[1]
    return np.bincount(y * c + p.argmax(1), minlength=c * c).reshape(c, c)


def compute_metrics(y: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """All headline metrics in one dict (micro_auc, macro_auc, uf1, uar, accuracy, n)."""
    return {
        "micro_auc": micro_roc_auc(y, probs),
        "macro_auc": macro_roc_auc(y, probs),
        "uf1": uf1(y, probs),
        "uar": uar(y, probs),
        "accuracy": accuracy(y, probs),
        "n": float(np.asarray(y).size),
    }


def roc_curve_binary(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, ...]:
    """(fpr, tpr, thresholds) of one binary problem, built by a threshold sweep.

    Scores are sorted in descending order; tied scores form one threshold (one step of the
    curve, a diagonal segment when it mixes positives and negatives). The curve starts at
    (0, 0) with threshold +inf and ends at (1, 1).
    """
    lab = np.asarray(labels).astype(bool).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    n_pos = int(lab.sum())
    n_neg = lab.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("a ROC curve needs at least one positive and one negative")
    order = np.argsort(-s, kind="stable")
    s, lab = s[order], lab[order]
    tp = np.cumsum(lab)
    fp = np.cumsum(~lab)
    # The last index of each run of tied scores: the curve moves once per distinct score.
    last = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]
    fpr = np.r_[0.0, fp[last] / n_neg]
    tpr = np.r_[0.0, tp[last] / n_pos]
    thresholds = np.r_[np.inf, s[last]]
    return fpr, tpr, thresholds


def micro_roc_curve(y: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, ...]:
    """(fpr, tpr, thresholds) of the micro-averaged ROC curve: all N*C pairs pooled."""
    y, p = _check(y, probs)
    return roc_curve_binary(one_hot(y, p.shape[1]).ravel(), p.ravel())


def trapezoid_auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """The paper's AUC = sum_i (FPR_{i+1} - FPR_i) * (TPR_i + TPR_{i+1}) / 2."""
    f = np.asarray(fpr, dtype=np.float64)
    t = np.asarray(tpr, dtype=np.float64)
    return float(np.sum((f[1:] - f[:-1]) * (t[:-1] + t[1:]) / 2.0))
