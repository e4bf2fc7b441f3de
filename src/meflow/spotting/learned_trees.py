"""A fitted gradient-boosted tree classifier as plain arrays, and its probabilities in numpy.

The learned spotter's classifier is scikit-learn's ``HistGradientBoostingClassifier``; what a
model file keeps of it is its trees flattened into arrays (``export_trees``), and a spotter
applies them with ``predict_proba`` here (numpy only: no scikit-learn object is pickled, and
the arrays are what ``Spotter.state`` gives). For numerical features without missing values
the traversal is scikit-learn's own (``x <= threshold`` goes left), so the probabilities are
the same as the fitted estimator's (tests/spotting/test_learned.py checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from meflow.errors import MeflowError

TREE_KEYS = ("feature", "threshold", "left", "right", "leaf", "value", "tree_start", "tree_class")


def export_trees(clf: Any) -> dict[str, np.ndarray]:
    """The arrays of a fitted multi-class HistGradientBoostingClassifier (one tree per class
    and iteration; node indices made global; ``baseline``: the raw score before any tree)."""
    predictors = getattr(clf, "_predictors", None)
    classes = np.asarray(getattr(clf, "classes_", ()))
    if not predictors or classes.size < 3:
        raise MeflowError("export_trees needs a fitted classifier of at least 3 classes")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in TREE_KEYS}
    start = 0
    for per_class in predictors:
        for c, pred in enumerate(per_class):
            nodes = pred.nodes
            if nodes["is_categorical"].any():
                raise MeflowError("export_trees: categorical splits are not supported")
            parts["feature"].append(nodes["feature_idx"].astype(np.int32))
            parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
            parts["left"].append(nodes["left"].astype(np.int64) + start)
            parts["right"].append(nodes["right"].astype(np.int64) + start)
            parts["leaf"].append(nodes["is_leaf"].astype(bool))
            parts["value"].append(nodes["value"].astype(np.float64))
            parts["tree_start"].append(np.array([start], dtype=np.int64))
            parts["tree_class"].append(np.array([c], dtype=np.int32))
            start += len(nodes)
    out = {k: np.concatenate(v) for k, v in parts.items()}
    out["baseline"] = np.asarray(clf._baseline_prediction, dtype=np.float64).reshape(-1)
    out["classes"] = classes.astype(np.int64)
    return out


def check_trees(trees: Mapping[str, np.ndarray], n_features: int) -> None:
    """A one-line error unless ``trees`` are consistent arrays for ``n_features`` columns."""
    missing = [k for k in (*TREE_KEYS, "baseline", "classes") if k not in trees]
    if missing:
        raise MeflowError(f"learned spotter: no {', '.join(missing)} in its trees")
    n = len(trees["feature"])
    if any(len(trees[k]) != n for k in ("threshold", "left", "right", "leaf", "value")):
        raise MeflowError("learned spotter: its tree arrays differ in length")
    inner = ~np.asarray(trees["leaf"], dtype=bool)
    f, lr = trees["feature"][inner], np.r_[trees["left"][inner], trees["right"][inner]]
    if (f < 0).any() or (f >= n_features).any() or (lr < 0).any() or (lr >= n).any():
        raise MeflowError("learned spotter: its trees point outside their nodes or features")
    k = len(trees["classes"])
    if len(trees["baseline"]) != k or (trees["tree_class"] >= k).any():
        raise MeflowError("learned spotter: its trees' classes do not match")


def raw_scores(trees: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """(samples, classes) the summed leaf values plus the baseline."""
    n = x.shape[0]
    node = np.broadcast_to(trees["tree_start"], (n, len(trees["tree_start"]))).copy()
    leaf, feat, thr = trees["leaf"], trees["feature"], trees["threshold"]
    left, right = trees["left"], trees["right"]
    rows = np.arange(n)[:, None]
    while True:
        inner = ~leaf[node]
        if not inner.any():
            break
        go_left = x[rows, np.where(inner, feat[node], 0)] <= thr[node]
        node = np.where(inner, np.where(go_left, left[node], right[node]), node)
    k = len(trees["classes"])
    out = np.tile(trees["baseline"], (n, 1))
    vals = trees["value"][node]  # (samples, trees)
    for c in range(k):
        out[:, c] += vals[:, trees["tree_class"] == c].sum(axis=1)
    return out


def predict_proba(trees: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """(samples, classes) class probabilities (softmax of the raw scores)."""
    if x.shape[0] == 0:
        return np.zeros((0, len(trees["classes"])))
    raw = raw_scores(trees, np.asarray(x, dtype=np.float64))
    raw -= raw.max(axis=1, keepdims=True)
    e = np.exp(raw)
    return e / e.sum(axis=1, keepdims=True)
