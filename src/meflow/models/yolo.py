"""YOLO11 classification network for 42x64 pseudo-images, built from ultralytics' own yaml.

Only ``ultralytics.nn.tasks.ClassificationModel`` is used (the network definition); training,
data loading and augmentation are meflow's own (see ``meflow.training``). ultralytics is
imported inside :func:`build_model` with its verbose output and network access switched off.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from torch import nn

from meflow.errors import MeflowError, MissingDependencyError

SCALES: tuple[str, ...] = ("n", "s", "m")
ARCH = "yolo11"


class YoloClassifier(nn.Module):
    """A YOLO11-cls network whose forward always gives logits (N, num_classes).

    ultralytics' ``Classify`` head returns logits in train mode but a (softmax, logits)
    tuple in eval mode; this wrapper hides the difference so losses and metrics see one type.
    """

    def __init__(self, net: nn.Module, scale: str, num_classes: int, in_channels: int) -> None:
        super().__init__()
        self.net = net
        self.scale = scale
        self.num_classes = num_classes
        self.in_channels = in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        if isinstance(out, tuple | list):
            out = out[1]
        return out

    def architecture(self) -> dict[str, Any]:
        """The settings that rebuild this network (stored in checkpoints)."""
        return {
            "arch": ARCH,
            "scale": self.scale,
            "num_classes": self.num_classes,
            "in_channels": self.in_channels,
        }


def build_model(scale: str = "s", num_classes: int = 6, in_channels: int = 1) -> nn.Module:
    """A freshly initialised YOLO11-{n,s,m}-cls network (logits out), from ultralytics' yaml.

    Weights are initialised from torch's global RNG: seed it first for reproducible networks.
    """
    if scale not in SCALES:
        raise MeflowError(f"model scale {scale!r} is not one of {', '.join(SCALES)}")
    if num_classes < 2:
        raise MeflowError(f"a classifier needs at least 2 classes, got {num_classes}")
    if in_channels < 1:
        raise MeflowError(f"in_channels must be >= 1, got {in_channels}")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ.setdefault("YOLO_OFFLINE", "1")
    try:
        from ultralytics.nn.tasks import ClassificationModel
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise MissingDependencyError(
            f"ultralytics is needed for the YOLO11 model ({exc}); install meflow's dependencies "
            "with scripts/install.sh"
        ) from None
    net = ClassificationModel(
        f"yolo11{scale}-cls.yaml", ch=in_channels, nc=num_classes, verbose=False
    )
    return YoloClassifier(net, scale, num_classes, in_channels)


def prepare_input(x_uint8: np.ndarray, pad_to: int | None = None) -> torch.Tensor:
    """The float tensor (N, 1, H, W) in [0, 1] the network takes, from uint8 (N, 42, 64) images.

    The 42x64 image is used as is by default (see docs/model.md: the network's stride-2
    convolutions handle 42 rows, and zero padding would add 22 rows of grey 0, "no direction",
    which are no regions).
    ``pad_to`` pads the rows at the bottom with zeros up to that height, for comparison only.
    """
    x = np.asarray(x_uint8)
    if x.dtype != np.uint8:
        raise MeflowError(f"pseudo-images must be uint8 (0..255), got {x.dtype}")
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise MeflowError(f"pseudo-images must have shape (N, regions, frames), got {x.shape}")
    t = torch.from_numpy(np.ascontiguousarray(x)).to(torch.float32).div_(255.0).unsqueeze(1)
    if pad_to is not None and pad_to > t.shape[2]:
        t = nn.functional.pad(t, (0, 0, 0, pad_to - t.shape[2]))
    return t
