"""Trained models on disk: safetensors weights plus JSON metadata, sealed by a sha256 digest.

The file is a plain safetensors file (no pickle: loading never runs code). Its metadata
holds ``meflow.format_version``, ``meflow.meta`` (canonical JSON: meflow version, classes,
network architecture, extraction and training settings, anything the caller adds) and
``meflow.sha256``, the digest of the canonical meta JSON followed by every tensor's name,
dtype, shape and bytes in name order. Loading recomputes the digest, so weights or settings
edited by hand after saving are refused instead of silently changing predictions.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.features.cache import plain_mode, temp_beside
from meflow.models.archs import MODELS, rebuild

FORMAT_VERSION = 1
_KEY_VERSION = "meflow.format_version"
_KEY_META = "meflow.meta"
_KEY_DIGEST = "meflow.sha256"


def _canonical(meta: dict[str, Any]) -> str:
    try:
        return json.dumps(
            meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise MeflowError(f"checkpoint metadata must be plain JSON data: {exc}") from None


def _digest(meta_json: str, tensors: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    h.update(meta_json.encode("utf-8"))
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"\0{name}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def save_checkpoint(path: str | Path, model: nn.Module, meta: dict[str, Any]) -> None:
    """Nothing; writes the model's weights and ``meta`` to ``path`` atomically.

    ``meta`` is completed with format_version, meflow_version, classes (default: the six
    EMOTIONS) and the network architecture (arch, scale, num_classes, in_channels).
    """
    from safetensors.torch import save_file

    import meflow

    p = Path(path)
    full: dict[str, Any] = dict(meta)
    arch = getattr(model, "architecture", None)
    if callable(arch):
        full.setdefault("model", arch())
    if "model" not in full:
        raise MeflowError(
            "meta must describe the network ('model': arch, scale, num_classes, "
            "in_channels) for a model without architecture()"
        )
    full.setdefault("classes", list(EMOTIONS[: full["model"].get("num_classes", len(EMOTIONS))]))
    full["format_version"] = FORMAT_VERSION
    full["meflow_version"] = meflow.__version__
    meta_json = _canonical(full)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    metadata = {
        _KEY_VERSION: str(FORMAT_VERSION),
        _KEY_META: meta_json,
        _KEY_DIGEST: _digest(meta_json, tensors),
    }
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_beside(p)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        plain_mode(tmp)  # safetensors writes it anew, 0600
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_meta(path: str | Path) -> dict[str, Any]:
    """The metadata dict of a checkpoint, without loading or verifying the weights."""
    meta, _ = _read(Path(path), load_tensors=False)
    return meta


def _read(p: Path, load_tensors: bool) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    from safetensors import safe_open

    if not p.is_file():
        raise MeflowError(f"{p}: no such model file")
    bad = f"{p} is truncated or not a meflow model"
    try:
        with safe_open(str(p), framework="pt", device="cpu") as f:
            header = f.metadata() or {}
            version = header.get(_KEY_VERSION)
            if version is None or _KEY_META not in header or _KEY_DIGEST not in header:
                raise MeflowError(f"{bad} (no meflow metadata)")
            if version != str(FORMAT_VERSION):
                raise MeflowError(
                    f"{p} has checkpoint format version {version}; this meflow "
                    f"({_version()}) reads version {FORMAT_VERSION}"
                )
            tensors = {k: f.get_tensor(k) for k in f.keys()} if load_tensors else {}  # noqa: SIM118
    except MeflowError:
        raise
    except Exception:  # safetensors raises its own error types for short or garbled files
        raise MeflowError(bad) from None
    try:
        meta = json.loads(header[_KEY_META])
    except json.JSONDecodeError:
        raise MeflowError(f"{p} was modified after it was saved (metadata is not JSON)") from None
    if not isinstance(meta, dict):
        raise MeflowError(f"{p} was modified after it was saved (metadata is not a mapping)")
    if load_tensors and _digest(header[_KEY_META], tensors) != header[_KEY_DIGEST]:
        raise MeflowError(
            f"{p} was modified after it was saved (sha256 check failed): "
            "retrain or restore the original file"
        )
    return meta, tensors


def _version() -> str:
    import meflow

    return meflow.__version__


def load_checkpoint(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """The model (eval mode, CPU) and its metadata, after verifying the file's sha256 digest."""
    p = Path(path)
    meta, tensors = _read(p, load_tensors=True)
    arch = meta.get("model")
    if not isinstance(arch, dict) or arch.get("arch") not in MODELS:
        raise MeflowError(f"{p}: unknown network {arch!r} (known: {', '.join(MODELS)})")
    try:
        model = rebuild(arch)
    except (TypeError, ValueError, MeflowError) as exc:
        raise MeflowError(f"{p}: cannot rebuild the {arch['arch']} network ({exc})") from None
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise MeflowError(f"{p}: weights do not fit the {arch} network ({first})") from None
    model.eval()
    return model, meta
