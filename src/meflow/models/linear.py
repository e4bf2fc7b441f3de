"""Linear classifiers on model inputs: logistic regression and a linear SVM (scikit-learn).

Both standardise their features on the training set. A uint8 input is an angle pseudo-image:
each pixel becomes the unit vector of its direction (``features.inputs.encode_directions``),
since a grey level is a direction, not an amount. Classes are weighted inversely to their
frequency in the training set (as the networks' loss is). A fitted logistic regression is a
softmax of one affine map, so it is saved as plain arrays (``state``) and applied without
scikit-learn; the SVM's probabilities come from Platt scaling inside libsvm and it is a
reference only (not saved).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from meflow.errors import MeflowError


def features(X: np.ndarray) -> np.ndarray:
    """(N, F) float64 features of a model input (angle images as unit vectors)."""
    from meflow.features.inputs import encode_directions

    X = np.asarray(X)
    if X.dtype == np.uint8:
        return encode_directions(X).astype(np.float64)
    return X.reshape(len(X), -1).astype(np.float64)


class LinearClassifier:
    """Logistic regression (``kind='logreg'``) or linear SVM (``'svm'``) on flattened inputs."""

    def __init__(self, kind: str, num_classes: int, c: float, seed: int = 0) -> None:
        if kind not in ("logreg", "svm"):
            raise MeflowError(f"unknown linear classifier {kind!r}")
        self.kind = kind
        self.num_classes = num_classes
        self.c = c
        self.seed = seed
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.coef: np.ndarray | None = None  # (C, F) logreg
        self.intercept: np.ndarray | None = None  # (C,)
        self._svm: Any = None
        self._classes: np.ndarray | None = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> LinearClassifier:
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        F = features(X)
        self.mean = F.mean(axis=0)
        sd = F.std(axis=0)
        self.scale = np.where(sd > 1e-12, sd, 1.0)
        Z = (F - self.mean) / self.scale
        y = np.asarray(y).astype(np.int64)
        self._classes = np.unique(y)
        if self._classes.size < 2:
            raise MeflowError("a linear classifier needs at least 2 classes in its training set")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # SVC(probability=True): Platt scaling as MDMO's SVM had it; scikit-learn 1.9
            # deprecates the parameter for removal in 1.11 (pyproject pins < 1.11)
            warnings.simplefilter("ignore", FutureWarning)
            if self.kind == "logreg":
                from sklearn.linear_model import LogisticRegression

                lr = LogisticRegression(C=self.c, max_iter=3000, class_weight="balanced")
                lr.fit(Z, y)
                coef = np.zeros((self.num_classes, Z.shape[1]))
                intercept = np.full(self.num_classes, -1e9)  # an absent class: probability 0
                if lr.coef_.shape[0] == 1:  # two classes: sklearn keeps one row
                    coef[lr.classes_[1]], intercept[lr.classes_[1]] = lr.coef_[0], lr.intercept_[0]
                    coef[lr.classes_[0]], intercept[lr.classes_[0]] = 0.0, 0.0
                else:
                    coef[lr.classes_], intercept[lr.classes_] = lr.coef_, lr.intercept_
                self.coef, self.intercept = coef, intercept
            else:
                from sklearn.svm import SVC

                self._svm = SVC(
                    kernel="linear",
                    C=self.c,
                    probability=True,
                    class_weight="balanced",
                    random_state=self.seed,
                ).fit(Z, y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(N, C) class probabilities."""
        if self.mean is None or self.scale is None:
            raise MeflowError("the classifier is not fitted")
        Z = (features(X) - self.mean) / self.scale
        if self.kind == "svm":
            p = np.zeros((len(Z), self.num_classes))
            p[:, self._svm.classes_] = self._svm.predict_proba(Z)
            return p
        assert self.coef is not None and self.intercept is not None
        logits = Z @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays, settings) that rebuild a fitted logistic regression (``from_state``)."""
        if self.kind != "logreg" or self.coef is None:
            raise MeflowError(f"a {self.kind} classifier is a reference and is not saved")
        assert self.mean is not None and self.scale is not None and self.intercept is not None
        arrays = {
            "mean": self.mean,
            "scale": self.scale,
            "coef": self.coef,
            "intercept": self.intercept,
        }
        return arrays, {"kind": self.kind, "num_classes": self.num_classes, "c": self.c}

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> LinearClassifier:
        clf = cls(str(meta["kind"]), int(meta["num_classes"]), float(meta["c"]))
        clf.mean = np.asarray(arrays["mean"], np.float64)
        clf.scale = np.asarray(arrays["scale"], np.float64)
        clf.coef = np.asarray(arrays["coef"], np.float64)
        clf.intercept = np.asarray(arrays["intercept"], np.float64)
        return clf
