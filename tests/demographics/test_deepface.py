"""Where DeepFace's gender weights must be, checked without importing DeepFace."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from meflow.demographics import deepface as df
from meflow.errors import MeflowError, MissingDependencyError


@pytest.mark.parametrize(
    ("engine", "name"),
    [
        ("tensorflow", "gender_model_weights.h5"),
        ("pytorch", "gender_model_weights.pth"),
        ("onnx", "gender_model_weights.onnx"),
    ],
)
def test_weights_path_follows_home_and_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, name: str
) -> None:
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    monkeypatch.setenv("DEEPFACE_BACKEND_ENGINE", engine)
    monkeypatch.setattr(df, "_multi_backend", lambda: True)
    assert df.weights_file() == tmp_path / ".deepface" / "weights" / name


def test_single_backend_deepface_uses_the_h5_file_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEEPFACE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(df, "_multi_backend", lambda: False)
    assert df.weights_file() == tmp_path / ".deepface/weights/gender_model_weights.h5"


def test_unknown_engine_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFACE_BACKEND_ENGINE", "jax")
    monkeypatch.setattr(df, "_multi_backend", lambda: True)
    with pytest.raises(MeflowError, match="DEEPFACE_BACKEND_ENGINE='jax'"):
        df.weights_file()


def test_missing_deepface_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(df, "_installed", lambda name: False)
    with pytest.raises(MissingDependencyError, match=r'pip install -e "\.\[gender\]"'):
        df.check_deepface()


def test_check_passes_with_weights_and_refuses_downloading_detectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(df, "_installed", lambda name: True)
    monkeypatch.setattr(df, "_multi_backend", lambda: True)
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    monkeypatch.setenv("DEEPFACE_BACKEND_ENGINE", "onnx")
    w = tmp_path / ".deepface" / "weights" / "gender_model_weights.onnx"
    with pytest.raises(MeflowError, match=r"weights are missing: put gender_model_weights\.onnx"):
        df.check_deepface()
    w.parent.mkdir(parents=True)
    w.write_bytes(b"x")
    assert df.check_deepface() == w
    with pytest.raises(MeflowError, match="'retinaface' downloads its model"):
        df.check_deepface("retinaface")


def test_real_deepface_gives_probabilities_on_a_face() -> None:
    if importlib.util.find_spec("deepface") is None:
        pytest.skip('deepface is not installed (pip install -e ".[gender]")')
    w = df.weights_file()
    if not w.is_file():
        pytest.skip(f"DeepFace's gender weights are not at {w} (cannot be downloaded here)")
    analyse = df.deepface_analyser(detector_backend="skip")
    probs = analyse(np.full((224, 224, 3), 128, np.uint8))
    assert set(probs) == {"Man", "Woman"} and sum(probs.values()) == pytest.approx(100, abs=0.5)


def test_allow_download_lets_missing_weights_and_downloading_detectors_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(df, "_installed", lambda name: True)
    monkeypatch.setattr(df, "_multi_backend", lambda: True)
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    monkeypatch.setenv("DEEPFACE_BACKEND_ENGINE", "pytorch")
    w = tmp_path / ".deepface" / "weights" / "gender_model_weights.pth"
    with pytest.raises(MeflowError, match="or let DeepFace fetch it: --allow-download"):
        df.check_deepface()
    assert df.check_deepface(allow_download=True) == w and not w.exists()
    assert df.check_deepface("retinaface", allow_download=True) == w
