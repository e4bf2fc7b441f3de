"""meflow predict end to end with the default (recommended) model, trained as `meflow train`
trains it: its window probabilities are the model's own on the features `meflow extract
--video` gives for the same frames."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from meflow.cli import main
from meflow.config import ExtractConfig, to_dict
from meflow.datasets.base import EMOTIONS

# the set is made, extracted and trained on first: about 60 s on a shared 2-core machine
pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _vector_bins(vector: np.ndarray, valid: np.ndarray, bins: int = 8) -> np.ndarray:
    """(bins, 42, 2): the regions' mean flow vectors of a window's valid pairs summed over
    ``bins`` equal stretches (what the recommended model sees; no flow adds nothing)."""
    v = np.where(valid[:, None, None], np.nan_to_num(vector), 0.0).astype(np.float32)
    return v.reshape(bins, len(v) // bins, *v.shape[1:]).sum(axis=1)


def test_predict_with_the_recommended_model_gives_the_models_own_probabilities(
    recommended: dict[str, Path], tmp_path: Path
) -> None:
    from meflow.features.cache import load_npz
    from meflow.inference import load_model
    from meflow.training import predict_proba

    loaded = load_model(recommended["model"])
    meta: dict[str, Any] = loaded.meta
    # the default settings are the recommended preset: a logistic regression on vector bins
    assert meta["preset"] == "recommended" and meta["classifier"] == "logreg"
    assert loaded.input == "vector-bins" and meta["train"]["bins"] == 8
    assert meta["extract"] == to_dict(ExtractConfig()) and meta["n_samples"] == 6

    clip, out = recommended["clip"], tmp_path / "pred"
    assert (
        main(["predict", str(clip), "--model", str(recommended["model"]), "--out", str(out)]) == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "color.csv",
        "color.json",
        "color_timeline.png",
    ]
    doc = json.loads((out / "color.json").read_text())
    assert doc["classifier"] == "logreg" and doc["input"] == "vector-bins"
    assert doc["classes"] == list(EMOTIONS) and doc["used_frames"] == 70
    # 70 frames = 69 pairs: a window at pair 0 and one aligned with the end (pair 5)
    windows = doc["windows"]
    assert [(w["start_frame"], w["end_frame"]) for w in windows] == [(0, 64), (5, 69)]
    assert all(w["valid"] for w in windows)

    # the same frames through `meflow extract --video`, and the model applied to them here
    assert main(["extract", "--video", str(clip), "--out", str(tmp_path / "feats")]) == 0
    arrays, _ = load_npz(tmp_path / "feats" / "color.npz")
    assert arrays["vector"].shape == (69, 42, 2) and arrays["valid"].all()
    X = np.stack(
        [
            _vector_bins(arrays["vector"][s : s + 64], arrays["valid"][s : s + 64])
            for s in (w["start_frame"] for w in windows)
        ]
    )
    own = predict_proba(loaded.model, X)
    written = np.array([[w[c] for c in EMOTIONS] for w in windows], dtype=np.float64)
    np.testing.assert_allclose(written, own, rtol=0, atol=1e-6)
    assert np.allclose(written.sum(axis=1), 1.0, atol=1e-9) and (written >= 0).all()
    # the two windows see different frames: not one constant answer
    assert np.abs(written[0] - written[1]).max() > 1e-4
    rows = _rows(out / "color.csv")
    assert [r["top_class"] for r in rows] == [EMOTIONS[int(i)] for i in own.argmax(axis=1)]
    np.testing.assert_allclose(
        [[float(r[c]) for c in EMOTIONS] for r in rows], own, rtol=0, atol=1e-6
    )
