"""The networks meflow saves, by architecture: ``MODELS[arch](**params)`` rebuilds a network
from the ``architecture()`` dict its checkpoint records (``arch`` plus the constructor's
parameters); a new architecture is one more entry."""

from collections.abc import Callable
from typing import Any

from torch import nn

from meflow.models.nets import LinearHead, TemporalGRU
from meflow.models.yolo import build_model

MODELS: dict[str, Callable[..., nn.Module]] = {
    "yolo11": build_model,
    "linear": LinearHead,
    "gru": TemporalGRU,
}


def rebuild(architecture: dict[str, Any]) -> nn.Module:
    """The freshly built network an ``architecture()`` dict describes."""
    params = {k: v for k, v in architecture.items() if k != "arch"}
    return MODELS[str(architecture["arch"])](**params)
