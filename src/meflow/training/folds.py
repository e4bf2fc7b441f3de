"""One cross-validation fold as a unit of work: a picklable task and the function that runs it.

``training.crossval.cross_validate`` maps its folds through an executor (meflow.execution);
a fold's numbers depend only on its task (indices, settings with the fold's seed, torch
threads) and the shared data, so every executor gives the same probabilities.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from meflow.config import TrainConfig
from meflow.evaluation.metrics import micro_roc_auc
from meflow.features.shifted import stack_copies
from meflow.training.classify import Fitted, fit_classifier
from meflow.training.loop import Log


@dataclass(frozen=True)
class FoldData:
    """What every fold of a cross-validation shares: images, labels, subjects, and the
    training copies of every sample at the training shifts (None: train on ``X``)."""

    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    X_train: np.ndarray | None = None  # (K, N, ...) position training (features.shifted)


@dataclass(frozen=True)
class FoldTask:
    """One fold: its training and test indices, the cross-validation's settings (the fold
    trains with seed ``cfg.seed + fold``) and the torch threads it trains with (results
    depend on the thread count)."""

    fold: int
    folds: int
    train_idx: np.ndarray
    test_idx: np.ndarray
    cfg: TrainConfig
    num_classes: int
    threads: int


@dataclass
class FoldResult:
    """A fold's test probabilities (test samples x classes), history and best epoch."""

    fold: int
    probs: np.ndarray
    history: list[dict[str, Any]]
    best_epoch: int
    micro_auc: float


def run_fold(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    tr: np.ndarray,
    te: np.ndarray,
    train_cfg: TrainConfig,
    f: int,
    num_classes: int,
    progress: bool = False,
    log: Log | None = None,
    X_train: np.ndarray | None = None,
) -> tuple[np.ndarray, Fitted]:
    """(test probabilities, the fitted classifier) of fold ``f``: trained on ``tr`` (every
    sample at each training shift of ``X_train`` (K, N, ...) where given) with seed
    ``train_cfg.seed + f``, applied to ``X[te]``."""
    cfg_f = dataclasses.replace(train_cfg, seed=train_cfg.seed + f)
    if X_train is None:
        X_tr, y_tr, g_tr = X[tr], y[tr], groups[tr]
    else:
        X_tr, y_tr, g_tr = stack_copies(X_train, y, groups, tr)
    res = fit_classifier(
        cfg_f.model, X_tr, y_tr, g_tr, cfg_f, num_classes, progress=progress, log=log
    )
    return res.predict_proba(X[te]), res


def run_fold_task(
    data: FoldData, task: FoldTask, progress: bool = False, log: Log | None = None
) -> FoldResult:
    """Runs ``run_fold`` for the task with ``task.threads`` threads (torch's,
    and the BLAS and OpenMP pools', restored afterwards)."""
    import torch
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    tr, te = task.train_idx, task.test_idx
    if log is not None:
        log(
            f"fold {task.fold + 1}/{task.folds}: {tr.size} training, {te.size} test images, "
            f"{np.unique(data.groups[te]).size} test subject(s)"
        )
    before = torch.get_num_threads()
    torch.set_num_threads(task.threads)
    try:
        # BLAS and OpenMP pools too: scikit-learn's classifiers sum with them
        with threadpool_limits(limits=task.threads):
            probs, res = run_fold(
                data.X, data.y, data.groups, tr, te, task.cfg, task.fold, task.num_classes,
                progress, log, data.X_train,
            )  # fmt: skip
    finally:
        torch.set_num_threads(before)
    auc = micro_roc_auc(data.y[te], probs)
    return FoldResult(task.fold, probs, res.history, res.best_epoch, auc)
