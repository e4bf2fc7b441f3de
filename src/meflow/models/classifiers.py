"""The classifiers behind one fit/predict contract (registry ``CLASSIFIERS``, ``train.model``).

- ``yolo11``: the paper's network on uint8 pseudo-images (``train.scale`` n / s / m);
- ``gru``: a bidirectional GRU over the regions' flow series (``models.nets.TemporalGRU``);
- ``logreg``: logistic regression (scikit-learn, standardised features, class-balanced);
- ``svm``: a linear SVM with Platt probabilities (a reference; not saved).

Networks share meflow's training loop (``training.loop.fit``: early stopping on held-out
subjects, class weights, bit-reproducible CPU runs). Every fitted classifier gives class
probabilities from the same input the others take, so the grid and the report treat them
alike; a saveable one exposes the ``nn.Module`` that checkpoints and ``meflow predict`` use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from meflow.errors import MeflowError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from meflow.config import TrainConfig

CLASSIFIERS = ("yolo11", "gru", "logreg", "svm")
NETWORKS = ("yolo11", "gru")


@dataclass
class Fitted:
    """A trained classifier: its probabilities, and what the training recorded."""

    name: str
    proba: Callable[[np.ndarray], np.ndarray]
    module: nn.Module | None = None  # saveable classifiers
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    note: str = ""

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.proba(X)


def check_classifier(name: str) -> None:
    """Nothing; MeflowError naming the valid classifiers for an unknown one."""
    if name not in CLASSIFIERS:
        raise MeflowError(f"unknown classifier {name!r} (valid: {', '.join(CLASSIFIERS)})")


def to_tensor(name: str, X: np.ndarray) -> torch.Tensor:
    """The float tensor the network of classifier ``name`` takes for the model input ``X``."""
    import torch

    from meflow.models.linear import features
    from meflow.models.yolo import prepare_input

    X = np.asarray(X)
    if name == "yolo11":
        if X.dtype != np.uint8:
            raise MeflowError(
                "yolo11 takes the uint8 pseudo-images (train.input pseudo-discrete or "
                "pseudo-continuous)"
            )
        return prepare_input(X)
    if name == "linear":
        return torch.from_numpy(features(X))
    return torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))


def network_builder(name: str, X: np.ndarray, num_classes: int) -> Callable[[str], nn.Module]:
    """A function of ``train.scale`` that builds a fresh network of classifier ``name`` for
    inputs like ``X``."""
    if name == "yolo11":
        from meflow.models.yolo import build_model

        def yolo(scale: str) -> nn.Module:
            return build_model(scale, num_classes, 1)

        return yolo
    if name == "gru":
        from meflow.models.nets import TemporalGRU

        if X.ndim != 4 or X.shape[-1] != 2:
            raise MeflowError("gru takes region flow series (train.input vector-series)")
        regions = int(X.shape[2])

        def gru(scale: str) -> nn.Module:
            return TemporalGRU(num_classes, regions)

        return gru
    raise MeflowError(f"{name} is not a network")


def fit_classifier(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    cfg: TrainConfig,
    num_classes: int,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> Fitted:
    """A classifier ``name`` trained on (X, y); ``groups`` (subjects) hold out validation
    subjects for the networks' early stopping."""
    check_classifier(name)
    if name in NETWORKS:
        from meflow.training.loop import fit, predict_proba

        res = fit(X, y, groups, cfg, progress=progress, log=log, num_classes=num_classes)
        model = res.model
        return Fitted(
            name,
            lambda Z: predict_proba(model, Z),
            model,
            res.history,
            res.best_epoch,
            res.note,
        )
    from meflow.models.linear import LinearClassifier

    clf = LinearClassifier(name, num_classes, cfg.c, cfg.seed).fit(X, y)
    module = None
    if name == "logreg":
        from meflow.models.nets import LinearHead

        arrays, _ = clf.state()
        module = LinearHead.from_arrays(arrays, num_classes).eval()
    return Fitted(name, clf.predict_proba, module)
