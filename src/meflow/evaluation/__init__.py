"""Metrics, bootstrap confidence intervals and figures of a cross-validation."""

from meflow.evaluation.bootstrap import BootstrapResult, bootstrap_ci, paired_bootstrap_diff
from meflow.evaluation.metrics import (
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
from meflow.evaluation.plots import (
    plot_confusion,
    plot_pseudo_images,
    plot_roc,
    plot_training_curves,
)

__all__ = [
    "BootstrapResult",
    "accuracy",
    "bootstrap_ci",
    "compute_metrics",
    "confusion",
    "macro_roc_auc",
    "micro_roc_auc",
    "micro_roc_curve",
    "paired_bootstrap_diff",
    "per_class_roc_auc",
    "plot_confusion",
    "plot_pseudo_images",
    "plot_roc",
    "plot_training_curves",
    "trapezoid_auc",
    "uar",
    "uf1",
]
