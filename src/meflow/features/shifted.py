"""Windows moved from the anchor: model inputs at a shift, and the copies of every training
sample at the shifts of ``train.shifts`` (position training).

A cache keeps ``features.margin`` pairs beyond each side of the anchor-centred window, so a
window moved by ``shift`` pairs is cut from it without re-extraction (``FeatureSet.batch``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from meflow.features.inputs import Batch, build_input


def batch_at(feats: Any, shift: int = 0) -> Batch:
    """The batch of the samples' windows moved by ``shift`` pairs (the centred ones at 0)."""
    return feats.batch() if shift == 0 else feats.batch(shift)


def inputs_at(name: str, feats: Any, shifts: Sequence[int], cfg: Any = None) -> np.ndarray:
    """(K, N, ...) the model input ``name`` of every sample at each of the K ``shifts``."""
    return np.stack([build_input(name, batch_at(feats, s), cfg) for s in shifts])


def training_inputs(
    name: str, feats: Any, cfg: Any, shifts: Sequence[int] | None = None
) -> np.ndarray | None:
    """(K, N, ...) the training copies of every sample at ``shifts`` (default: ``cfg``'s
    ``train.shifts``); None when that is the centred window alone (the test input is then the
    training input too)."""
    shifts = tuple(cfg.shift_list if shifts is None else shifts)
    if shifts == (0,):
        return None
    return inputs_at(name, feats, shifts, cfg)


def stack_copies(
    X_train: np.ndarray, y: np.ndarray, groups: np.ndarray, idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, groups) of the samples ``idx`` at every training shift, one block per shift: the
    copies keep their sample's label and subject (subject-wise splits hold for them)."""
    k = X_train.shape[0]
    X = X_train[:, idx].reshape(k * len(idx), *X_train.shape[2:])
    return X, np.tile(y[idx], k), np.tile(groups[idx], k)
