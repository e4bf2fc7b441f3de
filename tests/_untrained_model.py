"""An untrained model file as predict's tests use it (helper module, not a test)."""

from __future__ import annotations

from pathlib import Path

from meflow.config import ExtractConfig, TrainConfig, to_dict
from meflow.features import FEATURES_VERSION

CLASSES = ["happiness", "sadness", "surprise", "anger", "disgust", "fear"]


def save_untrained_model(path: Path) -> Path:
    """An untrained scale-n model at ``path`` with a meta like train_model's (default
    extraction, 30 fps, the six classes)."""
    import torch

    from meflow.models import build_model
    from meflow.training.checkpoint import save_checkpoint

    torch.manual_seed(0)
    meta = {
        "classes": CLASSES,
        "angle": "discrete",
        "extract": to_dict(ExtractConfig()),
        "train": to_dict(TrainConfig(scale="n")),
        "fps": 30.0,
        "features_version": FEATURES_VERSION,
    }
    save_checkpoint(path, build_model("n").eval(), meta)
    return path
