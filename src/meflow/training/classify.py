"""Any classifier of ``models.registry`` trained behind one fit/predict contract.

Networks train with meflow's PyTorch loop (``training.loop.fit``: early stopping on held-out
subjects, class weights, bit-reproducible CPU runs); the others are fitted directly. Every
fitted classifier gives class probabilities from the same input the others take, so the grid
and the report treat them alike; a saveable one exposes the ``nn.Module`` that checkpoints
and ``meflow predict`` use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from meflow.config import TrainConfig
from meflow.models import registry
from meflow.training.inference import predict_proba
from meflow.training.loop import Log, fit


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
        """(N, C) class probabilities of the model inputs ``X``."""
        return self.proba(X)


def fit_classifier(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    cfg: TrainConfig,
    num_classes: int,
    progress: bool = False,
    log: Log | None = None,
) -> Fitted:
    """A classifier ``name`` trained on (X, y); ``groups`` (subjects) hold out validation
    subjects for the networks' early stopping."""
    spec = registry.get(name)
    if spec.network is not None:
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
    assert spec.fit is not None
    est = spec.fit(X, y, num_classes, cfg)
    module = spec.module(est, num_classes) if spec.module is not None else None
    return Fitted(name, est.predict_proba, module)
