"""The classifiers meflow trains (``models.registry``) and the networks it saves
(``models.archs``: YOLO11, a linear head, a temporal GRU).

The package itself imports nothing heavy: ``config`` reads the registry when settings are
made, without torch. The network names below load their module (and torch) on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meflow.models.archs import MODELS, rebuild
    from meflow.models.nets import LinearHead, TemporalGRU
    from meflow.models.yolo import SCALES, YoloClassifier, build_model, prepare_input

_HOMES = {
    "MODELS": "meflow.models.archs",
    "rebuild": "meflow.models.archs",
    "LinearHead": "meflow.models.nets",
    "TemporalGRU": "meflow.models.nets",
    "SCALES": "meflow.models.yolo",
    "YoloClassifier": "meflow.models.yolo",
    "build_model": "meflow.models.yolo",
    "prepare_input": "meflow.models.yolo",
}


def __getattr__(name: str) -> Any:
    """The network name ``name``, loaded from its module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module 'meflow.models' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


__all__ = [
    "MODELS",
    "SCALES",
    "LinearHead",
    "TemporalGRU",
    "YoloClassifier",
    "build_model",
    "prepare_input",
    "rebuild",
]
