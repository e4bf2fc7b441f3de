"""Subject-independent cross-validation: the folds of a protocol, each a task on an executor."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from meflow.config import EvalConfig, TrainConfig
from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.execution import LocalExecutor
from meflow.training.folds import FoldData, FoldResult, FoldTask, run_fold_task
from meflow.training.loop import Log, check_data
from meflow.training.splits import group_kfold, leave_one_subject_out

if TYPE_CHECKING:
    from meflow.execution.base import Executor


@dataclass
class CVResult:
    """Out-of-fold probabilities (N, C), the test fold of each sample, and per-fold histories."""

    probs: np.ndarray
    fold: np.ndarray
    histories: list[list[dict[str, Any]]]
    best_epochs: list[int]
    fold_micro_auc: list[float]
    splits: list[tuple[np.ndarray, np.ndarray]] = field(repr=False, default_factory=list)


def cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    train_cfg: TrainConfig,
    eval_cfg: EvalConfig,
    progress: bool = True,
    log: Log | None = None,
    num_classes: int | None = None,
    executor: Executor | None = None,
    X_train: np.ndarray | None = None,
) -> CVResult:
    """Out-of-fold probabilities of a subject-independent cross-validation.

    Folds come from group_kfold (protocol 'kfold', stratified, seeded by eval_cfg.seed) or
    leave_one_subject_out ('loso'); fold f trains with seed train_cfg.seed + f. Each fold is
    a task on ``executor`` (default: one after another in this process), trained with
    ``executor.task_threads()`` torch threads. ``X_train`` (K, N, ...): every sample's
    copies at the training shifts (position training, ``features.shifted``); a fold trains on
    its training samples' copies and tests ``X`` (copies of a test subject never train).
    """
    from tqdm.auto import tqdm

    X = np.asarray(X)
    y = np.asarray(y).astype(np.int64)
    groups = np.asarray(groups)
    nc = len(EMOTIONS) if num_classes is None else num_classes
    check_data(X, y, groups, nc)
    if X_train is not None and X_train.shape[1:] != X.shape:
        raise MeflowError(
            f"training copies {X_train.shape} must be (shifts, *{X.shape}) of the test input"
        )
    if eval_cfg.protocol == "loso":
        splits = leave_one_subject_out(groups)
    else:
        splits = group_kfold(groups, eval_cfg.folds, eval_cfg.seed, y)
    say: Log = log or (lambda _msg: None)
    executor = executor or LocalExecutor()
    threads = executor.task_threads()
    tasks = [
        FoldTask(f, len(splits), tr, te, train_cfg, nc, threads)
        for f, (tr, te) in enumerate(splits)
    ]
    # In this process a fold shows its epochs as before; elsewhere only its end is reported.
    fn = run_fold_task
    if executor.in_driver:
        fn = functools.partial(run_fold_task, progress=progress, log=log)
    done: dict[int, FoldResult] = {}
    with tqdm(total=len(tasks), desc="folds", unit="fold", disable=not progress) as bar:
        for f, res in executor.map(fn, tasks, FoldData(X, y, groups, X_train)):
            done[f] = res
            say(f"fold {f + 1}: best epoch {res.best_epoch}, test micro AUC {res.micro_auc:.4f}")
            bar.update(1)
    probs = np.full((X.shape[0], nc), np.nan)
    fold = np.full(X.shape[0], -1, dtype=np.int64)
    for f, (_, te) in enumerate(splits):
        probs[te] = done[f].probs
        fold[te] = f
    results = [done[f] for f in range(len(splits))]
    return CVResult(
        probs=probs,
        fold=fold,
        histories=[r.history for r in results],
        best_epochs=[r.best_epoch for r in results],
        fold_micro_auc=[r.micro_auc for r in results],
        splits=splits,
    )
