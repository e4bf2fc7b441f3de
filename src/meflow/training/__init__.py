"""Subject-independent splits, the training loop, cross-validation and checkpoints."""

from meflow.training.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint
from meflow.training.classify import Fitted, fit_classifier
from meflow.training.crossval import CVResult, cross_validate
from meflow.training.inference import predict_proba, resolve_device
from meflow.training.loop import FitResult, class_weights, fit
from meflow.training.splits import (
    check_disjoint,
    group_kfold,
    leave_one_subject_out,
    validation_split,
)

__all__ = [
    "FORMAT_VERSION",
    "CVResult",
    "FitResult",
    "Fitted",
    "check_disjoint",
    "class_weights",
    "cross_validate",
    "fit",
    "fit_classifier",
    "group_kfold",
    "leave_one_subject_out",
    "load_checkpoint",
    "predict_proba",
    "resolve_device",
    "save_checkpoint",
    "validation_split",
]
