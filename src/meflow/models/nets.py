"""Small networks beside YOLO11: a saved linear classifier and a temporal model of the regions.

Both are ``nn.Module`` s with ``architecture()``, so checkpoints, ``meflow predict`` and the
training loop treat them like the YOLO11 network:

- ``LinearHead``: a fitted logistic regression as a module (standardisation and one affine map;
  softmax outside), built from ``models.linear.LinearClassifier.state``;
- ``TemporalGRU``: the paper's own future work, a recurrent model over the 42 regions' flow
  series: a bidirectional GRU over the W pairs (84 inputs a pair: each region's mean flow
  vector), mean- and max-pooled over time, then a linear layer (about 45 k parameters).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


class LinearHead(nn.Module):
    """Logits of a standardised affine map: ((x - mean) / scale) @ coef.T + intercept."""

    def __init__(self, num_classes: int, features: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.features = features
        self.register_buffer("mean", torch.zeros(features, dtype=torch.float64))
        self.register_buffer("scale", torch.ones(features, dtype=torch.float64))
        self.register_buffer("coef", torch.zeros(num_classes, features, dtype=torch.float64))
        self.register_buffer("intercept", torch.zeros(num_classes, dtype=torch.float64))

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], num_classes: int) -> LinearHead:
        head = cls(num_classes, int(arrays["mean"].shape[0]))
        for k in ("mean", "scale", "coef", "intercept"):
            getattr(head, k).copy_(torch.from_numpy(np.asarray(arrays[k], np.float64)))
        return head

    mean: torch.Tensor
    scale: torch.Tensor
    coef: torch.Tensor
    intercept: torch.Tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x.reshape(x.shape[0], -1).to(torch.float64) - self.mean) / self.scale
        return (z @ self.coef.T + self.intercept).to(torch.float32)

    def architecture(self) -> dict[str, Any]:
        return {"arch": "linear", "num_classes": self.num_classes, "features": self.features}


class TemporalGRU(nn.Module):
    """Logits of a bidirectional GRU over (N, W, regions, 2) region flow series."""

    def __init__(self, num_classes: int = 6, regions: int = 42, hidden: int = 48) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.regions = regions
        self.hidden = hidden
        self.norm = nn.LayerNorm(2 * regions)
        self.gru = nn.GRU(2 * regions, hidden, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(4 * hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], x.shape[1], -1).to(torch.float32)
        h, _ = self.gru(self.norm(x))
        pooled = torch.cat([h.mean(dim=1), h.amax(dim=1)], dim=1)
        out: torch.Tensor = self.head(self.drop(pooled))
        return out

    def architecture(self) -> dict[str, Any]:
        return {
            "arch": "gru",
            "num_classes": self.num_classes,
            "regions": self.regions,
            "hidden": self.hidden,
        }
