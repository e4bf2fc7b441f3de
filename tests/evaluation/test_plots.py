"""Every figure function writes a non-empty PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from meflow.datasets.base import EMOTIONS
from meflow.evaluation import (
    confusion,
    plot_confusion,
    plot_pseudo_images,
    plot_roc,
    plot_training_curves,
)


def test_figures_are_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = np.array([0, 1, 2, 3, 4] * 4)  # 'fear' absent: its ROC curve is undefined, no crash
    p = rng.dirichlet(np.ones(6), y.size)
    X = (rng.integers(0, 8, (y.size, 42, 64)) * 32).astype(np.uint8)
    hist = [
        [
            {"epoch": e, "train_loss": 1 / e, "val_loss": 1.5 / e, "val_micro_auc": 0.9}
            for e in range(1, 4)
        ],
        [
            {"epoch": e, "train_loss": 1 / e, "val_loss": None, "val_micro_auc": None}
            for e in range(1, 4)
        ],
    ]
    paths = [
        plot_roc(y, p, EMOTIONS, tmp_path / "roc.png", "test"),
        plot_confusion(confusion(y, p), EMOTIONS, tmp_path / "cm.png", "cm"),
        plot_confusion(confusion(y, p), EMOTIONS, tmp_path / "cm_counts.png", normalise=False),
        plot_pseudo_images(X, y, EMOTIONS, tmp_path / "examples.png", per_class=2),
        plot_training_curves(hist, tmp_path / "sub" / "curves.png"),
    ]
    for path in paths:
        assert path.exists() and path.read_bytes()[:4] == b"\x89PNG"
