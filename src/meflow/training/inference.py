"""Where and how networks run: the device, deterministic kernels, mixed precision, batches
and softmax probabilities of a network on model inputs."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.models import registry


def resolve_device(name: str) -> torch.device:
    """The torch device for 'auto' (CUDA when available), 'cpu' or 'cuda'."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise MeflowError("train.device is 'cuda' but no CUDA GPU is available: use auto or cpu")
    return torch.device(name)


@contextlib.contextmanager
def deterministic(device: torch.device) -> Iterator[None]:
    """Deterministic kernels for the block, restoring the caller's settings afterwards."""
    prev = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    prev_cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    # warn_only: an op without a deterministic kernel (some CUDA backward passes) warns
    # instead of aborting a long run; on CPU every op used here is deterministic.
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev, warn_only=prev_warn)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = prev_cudnn


def autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return contextlib.nullcontext()


def batches(n: int, batch_size: int) -> list[slice]:
    """Batch slices; a last batch of one sample joins the previous one (BatchNorm needs 2+)."""
    edges = [*range(0, n, batch_size), n]
    if len(edges) > 2 and edges[-1] - edges[-2] == 1:
        edges.pop(-2)
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


def predict_tensor(
    model: nn.Module, x: torch.Tensor, device: torch.device, batch_size: int
) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for sl in batches(x.shape[0], batch_size):
            with autocast(device):
                logits = model(x[sl].to(device, non_blocking=True))
            out.append(torch.softmax(logits.float(), dim=1).cpu())
    return torch.cat(out).double().numpy()


def _arch(model: nn.Module) -> str:
    arch = getattr(model, "architecture", None)
    return str(arch()["arch"]) if callable(arch) else "yolo11"


def predict_proba(model: nn.Module, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Softmax probabilities (N, C) of model inputs (uint8 pseudo-images (N, 42, 64) for
    YOLO11), on the model's device."""
    tensors = [*model.parameters(), *model.buffers()]
    device = tensors[0].device if tensors else torch.device("cpu")
    x = registry.tensor_for_arch(_arch(model))(np.asarray(X))
    if x.shape[0] == 0:
        nc = getattr(model, "num_classes", len(EMOTIONS))
        return np.zeros((0, nc))
    return predict_tensor(model, x, device, max(2, batch_size))
