"""One row of a results table: a classifier and its input, cross-validated on one subset.

Every row is scored out of fold with intervals from a bootstrap over subjects, and beside it,
on the very same splits, the class prior (the training folds' class frequencies): its micro
and macro AUC and a paired bootstrap of the row's micro AUC minus the prior's. With
``evaluate.seeds`` > 1 the cross-validation is repeated with other seeds (for k-fold, other
splits) and the mean and standard deviation of micro AUC and UF1 stand beside the interval
of the first seed's predictions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from meflow.config import ExperimentConfig
from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.evaluation.bootstrap import bootstrap_ci, paired_bootstrap_diff
from meflow.evaluation.metrics import compute_metrics, micro_roc_auc, uf1
from meflow.evaluation.references import prior_probabilities, versus_prior
from meflow.models import registry
from meflow.training.crossval import cross_validate

# Table 1 of the paper (micro ROC-AUC, YOLO11-S on the pseudo-images), for the column beside.
PAPER_TABLE1: dict[tuple[str, str], float] = {
    ("all", "pseudo-continuous"): 0.57,
    ("all", "pseudo-discrete"): 0.59,
    ("male", "pseudo-continuous"): 0.53,
    ("male", "pseudo-discrete"): 0.60,
    ("female", "pseudo-continuous"): 0.55,
    ("female", "pseudo-discrete"): 0.62,
}


@dataclass
class CellResult:
    """One cross-validated (subset, input, classifier): out-of-fold predictions and metrics."""

    subset: str
    input: str
    model: str
    role: str  # 'model' (the preset's) or 'baseline' (a reference)
    y: np.ndarray
    probs: np.ndarray
    prior: np.ndarray  # the class prior's out-of-fold probabilities, same splits
    subjects: np.ndarray
    sample_ids: list[str]
    fold: np.ndarray
    metrics: dict[str, Any]
    histories: list[list[dict[str, Any]]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.subset, self.input, self.model)

    @property
    def label(self) -> str:
        """How figures name the row: subset / input / classifier."""
        return f"{self.subset} / {self.input} / {self.model}"

    @property
    def stem(self) -> str:
        return f"{self.subset}_{self.input}_{self.model}"

    def row(self) -> dict[str, Any]:
        """The results.json row of this cell."""
        paper = None
        if registry.get(self.model).paper_table1:
            paper = PAPER_TABLE1.get((self.subset, self.input))
        return {
            "subset": self.subset,
            "input": self.input,
            "model": self.model,
            "role": self.role,
            **self.metrics,
            "paper_micro_roc_auc": paper,
        }


def evaluate_predictions(
    y: np.ndarray,
    probs: np.ndarray,
    subjects: np.ndarray,
    n_boot: int,
    seed: int,
    classes: Sequence[str] = EMOTIONS,
) -> dict[str, Any]:
    """Metrics of out-of-fold predictions over ``classes``, with intervals over subjects."""

    m = compute_metrics(y, probs)
    ci = bootstrap_ci(y, probs, subjects, micro_roc_auc, n=n_boot, seed=seed) if n_boot else None
    return {
        "micro_roc_auc": m["micro_auc"],
        "micro_roc_auc_ci": [ci.low, ci.high] if ci is not None else None,
        "macro_roc_auc": m["macro_auc"],
        "uf1": m["uf1"],
        "uar": m["uar"],
        "accuracy": m["accuracy"],
        "n_samples": len(y),
        "n_subjects": int(np.unique(subjects).size),
        "class_counts": {name: int((y == c).sum()) for c, name in enumerate(classes)},
    }


def run_cell(
    X: np.ndarray,
    y: np.ndarray,
    subjects: np.ndarray,
    sample_ids: list[str],
    cfg: ExperimentConfig,
    subset: str,
    input_name: str,
    model: str,
    role: str = "model",
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    executor: Any = None,
    classes: Sequence[str] = EMOTIONS,
    X_train: np.ndarray | None = None,
) -> CellResult:
    """Cross-validates ``model`` on the input ``X`` of one subset, with its references;
    trained on ``X_train`` (K, N, ...: every sample at K training shifts) where given.

    ``y`` indexes ``classes`` (the six of EMOTIONS, or a protocol's): the network's outputs,
    the prior and every metric are over these classes only.
    """

    n_subj = np.unique(subjects).size
    ev = cfg.evaluate
    if ev.protocol == "kfold" and n_subj < ev.folds:
        raise MeflowError(f"subset {subset!r} has {n_subj} subjects, fewer than {ev.folds} folds")
    if ev.protocol == "loso" and n_subj < 2:
        raise MeflowError(f"subset {subset!r} has {n_subj} subject: leave-one-out needs 2")
    runs = []
    for k in range(ev.seeds):
        tcfg = dataclasses.replace(cfg.train, model=model, seed=cfg.train.seed + 1000 * k)
        ecfg = dataclasses.replace(ev, seed=ev.seed + k)
        kwargs: dict[str, Any] = {"num_classes": len(classes)}
        if executor is not None:
            kwargs["executor"] = executor
        runs.append(
            cross_validate(
                X, y, subjects, tcfg, ecfg, progress=progress, log=log, X_train=X_train, **kwargs
            )
        )
    cv = runs[0]
    prior = prior_probabilities(y, cv.splits, len(classes))
    metrics = evaluate_predictions(y, cv.probs, subjects, ev.bootstrap, ev.seed, classes)
    metrics.update(versus_prior(y, cv.probs, prior, subjects, ev.bootstrap, ev.seed))
    micro = np.array([micro_roc_auc(y, r.probs) for r in runs])
    f1 = np.array([uf1(y, r.probs) for r in runs])
    metrics.update(
        protocol=ev.protocol if ev.protocol == "loso" else f"{ev.folds}-fold",
        seeds=ev.seeds,
        micro_roc_auc_seeds=[float(v) for v in micro],
        micro_roc_auc_mean=float(micro.mean()),
        micro_roc_auc_sd=float(micro.std(ddof=1)) if micro.size > 1 else 0.0,
        uf1_mean=float(f1.mean()),
        uf1_sd=float(f1.std(ddof=1)) if f1.size > 1 else 0.0,
        fold_micro_roc_auc=cv.fold_micro_auc,
        best_epochs=cv.best_epochs,
    )
    return CellResult(
        subset,
        input_name,
        model,
        role,
        y,
        cv.probs,
        prior,
        subjects,
        sample_ids,
        cv.fold,
        metrics,
        cv.histories,
    )


def compare_to_pooled(
    cells: dict[tuple[str, str, str], CellResult], n_boot: int, seed: int
) -> list[dict[str, Any]]:
    """Paired bootstrap: each stratified model row vs the pooled one on the same test samples."""

    rows = []
    for (subset, input_name, model), cell in cells.items():
        pooled = cells.get(("all", input_name, model))
        if subset == "all" or pooled is None or cell.role != "model":
            continue
        index = {sid: i for i, sid in enumerate(pooled.sample_ids)}
        take = np.array([index[s] for s in cell.sample_ids])
        d = paired_bootstrap_diff(
            cell.y,
            cell.probs,
            pooled.probs[take],
            cell.subjects,
            micro_roc_auc,
            n=max(n_boot, 1),
            seed=seed,
        )
        rows.append(
            {
                "subset": subset,
                "input": input_name,
                "model": model,
                "stratified_micro_roc_auc": micro_roc_auc(cell.y, cell.probs),
                "pooled_micro_roc_auc": micro_roc_auc(cell.y, pooled.probs[take]),
                "difference": d.point,
                "difference_ci": [d.low, d.high],
                "verdict": (
                    "stratified better"
                    if d.low > 0
                    else "pooled better"
                    if d.high < 0
                    else "no clear difference (interval spans 0)"
                ),
            }
        )
    return rows
