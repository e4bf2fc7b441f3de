"""The learned spotter's frame classifier as plain arrays: a multinomial logistic regression.

It is fitted with scikit-learn's ``LogisticRegression`` (lbfgs, classes weighted by their
inverse frequency, on standardised columns) and kept as arrays (``mean``, ``scale``, ``coef``,
``intercept``, ``classes``); ``predict_proba`` here applies them with numpy alone, giving the
fitted estimator's probabilities (tests/spotting/test_learned.py checks it).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from meflow.errors import MeflowError

KEYS = ("mean", "scale", "coef", "intercept", "classes")


def fit_linear(
    x: np.ndarray, y: np.ndarray, c: float = 1.0, max_iter: int = 300
) -> dict[str, np.ndarray]:
    """The arrays of a logistic regression fitted on frames ``x`` (rows) with classes ``y``."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    clf = LogisticRegression(C=c, max_iter=max_iter, class_weight="balanced")
    with threadpool_limits(1), warnings.catch_warnings():  # one thread: the cores are shared
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit((x - mean) / scale, y)
    return {
        "mean": mean,
        "scale": scale,
        "coef": np.asarray(clf.coef_, dtype=np.float64),
        "intercept": np.asarray(clf.intercept_, dtype=np.float64),
        "classes": np.asarray(clf.classes_, dtype=np.int64),
    }


def check_linear(model: Mapping[str, np.ndarray], n_features: int) -> None:
    """A one-line error unless ``model`` holds consistent arrays for ``n_features`` columns."""
    missing = [k for k in KEYS if k not in model]
    if missing:
        raise MeflowError(f"learned spotter: no {', '.join(missing)} in its classifier")
    k = len(model["classes"])
    shapes = {
        "mean": (n_features,),
        "scale": (n_features,),
        "coef": (k, n_features),
        "intercept": (k,),
    }
    for key, shape in shapes.items():
        if np.shape(model[key]) != shape:
            raise MeflowError(
                f"learned spotter: its classifier's {key} is {np.shape(model[key])}, not {shape}"
            )
    if k < 3:
        raise MeflowError(f"learned spotter: its classifier has {k} classes, at least 3 needed")


def predict_proba(model: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """(samples, classes) class probabilities (softmax of the linear scores)."""
    z = ((np.asarray(x, dtype=np.float64) - model["mean"]) / model["scale"]) @ model["coef"].T
    z = z + model["intercept"]
    z -= z.max(axis=1, keepdims=True) if z.shape[0] else 0.0
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
