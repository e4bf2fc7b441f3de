"""Checkpoints round-trip exactly, and tampered, truncated or foreign files are refused."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import meflow
from meflow.errors import MeflowError
from meflow.models import build_model
from meflow.training import FORMAT_VERSION, load_checkpoint, predict_proba, save_checkpoint
from meflow.training.checkpoint import read_meta

META = {"extraction": {"flow": {"backend": "dis"}}, "training": {"scale": "n", "epochs": 3}}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(0)
    model = build_model("n").eval()
    path = tmp_path_factory.mktemp("ckpt") / "model.safetensors"
    save_checkpoint(path, model, META)
    return path, model


def _header(path: Path) -> tuple[int, dict]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return n, json.loads(raw[8 : 8 + n])


def test_round_trip_same_outputs(saved: tuple[Path, torch.nn.Module]) -> None:
    path, model = saved
    loaded, meta = load_checkpoint(path)
    X = (np.random.default_rng(0).integers(0, 8, (5, 42, 64)) * 32).astype(np.uint8)
    assert np.array_equal(predict_proba(model, X), predict_proba(loaded, X))
    assert meta["extraction"] == META["extraction"] and meta["training"] == META["training"]
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["meflow_version"] == meflow.__version__
    assert meta["classes"][0] == "happiness" and len(meta["classes"]) == 6
    assert meta["model"] == {"arch": "yolo11", "scale": "n", "num_classes": 6, "in_channels": 1}
    assert read_meta(path) == meta
    assert not list(path.parent.glob("*.tmp"))  # the temporary file was renamed away


def test_file_is_plain_safetensors(saved: tuple[Path, torch.nn.Module]) -> None:
    from safetensors.torch import load_file

    tensors = load_file(str(saved[0]))
    assert len(tensors) == len(saved[1].state_dict())


def _tamper(src: Path, dst: Path, old: bytes, new: bytes) -> None:
    raw = src.read_bytes()
    assert raw.count(old) == 1 and len(old) == len(new)
    dst.write_bytes(raw.replace(old, new))


def test_edited_meta_is_refused(saved: tuple[Path, torch.nn.Module], tmp_path: Path) -> None:
    bad = tmp_path / "edited.safetensors"
    # Someone edits the stored extraction settings by hand (same length keeps the file valid).
    _tamper(saved[0], bad, b'\\"backend\\":\\"dis\\"', b'\\"backend\\":\\"tvl\\"')
    assert read_meta(bad)["extraction"]["flow"]["backend"] == "tvl"
    with pytest.raises(MeflowError, match="was modified after it was saved"):
        load_checkpoint(bad)


def test_flipped_weight_byte_is_refused(
    saved: tuple[Path, torch.nn.Module], tmp_path: Path
) -> None:
    raw = bytearray(saved[0].read_bytes())
    n, _ = _header(saved[0])
    raw[8 + n + (len(raw) - 8 - n) // 2] ^= 0x01
    bad = tmp_path / "flipped.safetensors"
    bad.write_bytes(bytes(raw))
    with pytest.raises(MeflowError, match="was modified after it was saved"):
        load_checkpoint(bad)


@pytest.mark.parametrize("keep", [0.5, 0.999, 10])
def test_truncated_file_is_refused(
    saved: tuple[Path, torch.nn.Module], tmp_path: Path, keep: float
) -> None:
    raw = saved[0].read_bytes()
    bad = tmp_path / "short.safetensors"
    bad.write_bytes(raw[: int(len(raw) * keep)] if keep < 1 else raw[: int(keep)])
    with pytest.raises(MeflowError, match="is truncated or not a meflow model"):
        load_checkpoint(bad)


def test_other_format_version_is_refused(
    saved: tuple[Path, torch.nn.Module], tmp_path: Path
) -> None:
    bad = tmp_path / "v9.safetensors"
    _tamper(saved[0], bad, b'"meflow.format_version":"1"', b'"meflow.format_version":"9"')
    with pytest.raises(MeflowError, match="format version 9"):
        load_checkpoint(bad)


def test_foreign_safetensors_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    p = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(p))
    with pytest.raises(MeflowError, match="not a meflow model"):
        load_checkpoint(p)
    with pytest.raises(MeflowError, match="no such model file"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_meta_must_be_json(tmp_path: Path) -> None:
    with pytest.raises(MeflowError, match="plain JSON"):
        save_checkpoint(tmp_path / "m.safetensors", build_model("n"), {"bad": object()})
