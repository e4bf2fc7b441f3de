"""The YOLO11 network: shapes, probabilities, registry, and no torchvision import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from meflow.errors import MeflowError
from meflow.models import MODELS, build_model, prepare_input


@pytest.fixture(scope="module")
def model_n() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("n", num_classes=6, in_channels=1)


def test_prepare_input_shape_range() -> None:
    x = np.random.default_rng(0).integers(0, 256, (4, 42, 64)).astype(np.uint8)
    x[0, 0, 0], x[0, 0, 1] = 0, 255
    t = prepare_input(x)
    assert t.shape == (4, 1, 42, 64) and t.dtype == torch.float32
    assert float(t.min()) == 0.0 and float(t.max()) == 1.0
    assert torch.allclose(t[:, 0], torch.from_numpy(x).float() / 255)
    padded = prepare_input(x, pad_to=64)
    assert padded.shape == (4, 1, 64, 64) and float(padded[:, :, 42:].abs().sum()) == 0.0


def test_prepare_input_rejects_float() -> None:
    with pytest.raises(MeflowError, match="uint8"):
        prepare_input(np.zeros((2, 42, 64), np.float32))


def test_forward_probabilities(model_n: torch.nn.Module) -> None:
    x = prepare_input(np.random.default_rng(1).integers(0, 8, (4, 42, 64)).astype(np.uint8) * 32)
    model_n.eval()
    with torch.no_grad():
        logits = model_n(x)
    assert logits.shape == (4, 6)
    probs = torch.softmax(logits, 1)
    assert torch.allclose(probs.sum(1), torch.ones(4), atol=1e-6)
    model_n.train()
    assert model_n(x).shape == (4, 6)  # logits in train mode too (the wrapper hides the tuple)
    model_n.eval()


def test_scales_and_registry() -> None:
    assert MODELS["yolo11"] is build_model
    n = sum(p.numel() for p in build_model("n").parameters())
    s = sum(p.numel() for p in build_model("s").parameters())
    assert 1.0e6 < n < 2.0e6 < 5.0e6 < s < 6.0e6  # ~1.5 M and ~5.5 M with a 6-class head
    with pytest.raises(MeflowError, match="scale"):
        build_model("x")


def test_no_torchvision_after_build_and_run(model_n: torch.nn.Module) -> None:
    with torch.no_grad():
        model_n(torch.zeros(2, 1, 42, 64))
    assert "torchvision" not in sys.modules


def test_import_meflow_stays_light() -> None:
    code = "import sys, meflow; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
