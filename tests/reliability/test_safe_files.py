"""Safe files: caches and checkpoints are read without unpickling anything.
(Refusal of an npz holding a pickle or truncated: tests/features/test_cache.py; of another
checkpoint format version, naming it: tests/training/test_checkpoint.py::
test_other_format_version_is_refused.)"""

from __future__ import annotations

import io
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from meflow.cli import main
from meflow.errors import MeflowError
from reliability._helpers import one_line_error, write_fake_cache

SRC = Path(__file__).resolve().parents[2] / "src" / "meflow"


class _Boom:
    """Unpickling this would run code (here: create a marker file)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.marker, "w"))


def _pickled_npz(path: Path, marker: Path) -> Path:
    buf = io.BytesIO()
    np.save(buf, np.array([_Boom(str(marker))], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pseudo_discrete.npy", buf.getvalue())
        zf.writestr("valid.npy", buf.getvalue())
    return path


def test_cache_with_a_pickled_sample_is_refused_without_running_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = write_fake_cache(tmp_path / "cache", subjects=2, per_class=1)
    marker = tmp_path / "pwned"
    evil = _pickled_npz(cache / "samples" / "evil.npz", marker)
    from meflow.features.featureset import load_features

    with pytest.raises(MeflowError, match=re.escape(str(evil))):
        load_features(cache)
    assert main(["evaluate", "--cache", str(cache), "--out", str(tmp_path / "run")]) == 2
    one_line_error(capsys.readouterr().err, "evil.npz", "not a readable meflow feature file")
    assert not marker.exists()


def test_pickle_named_model_safetensors_is_refused_without_running_it(tmp_path: Path) -> None:
    from meflow.training.checkpoint import load_checkpoint, read_meta

    marker = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps({"state_dict": _Boom(str(marker))}))
    for load in (load_checkpoint, read_meta):
        with pytest.raises(MeflowError, match="truncated or not a meflow model"):
            load(path)
    # a torch.save zip archive (pickle inside) under the same name is refused as well
    import torch

    torch.save({"w": torch.zeros(2), "x": _Boom(str(marker))}, path)
    with pytest.raises(MeflowError, match="not a meflow model"):
        load_checkpoint(path)
    assert not marker.exists()


UNSAFE = [
    (r"\bpickle\.loads?\(", "pickle.load"),
    (r"\bdill\.|\bcloudpickle\.|\bjoblib\.load\(", "other unpicklers"),
    (r"allow_pickle\s*=\s*True", "np.load(allow_pickle=True)"),
    (r"\byaml\.(?:unsafe_)?load\(", "yaml.load without SafeLoader"),
    (r"(?<![.\w])(?:eval|exec)\(", "eval/exec"),
]


def test_the_package_never_unpickles_or_evaluates_files() -> None:
    found = []
    for py in sorted(SRC.rglob("*.py")):
        text = py.read_text(encoding="utf-8")
        for pattern, what in UNSAFE:
            for m in re.finditer(pattern, text):
                line = text[: m.start()].count("\n") + 1
                found.append(f"{py.relative_to(SRC)}:{line}: {what}")
        for m in re.finditer(r"\btorch\.load\(([^)]*)\)", text):
            if "weights_only=True" not in m.group(1):
                found.append(f"{py.relative_to(SRC)}: torch.load without weights_only=True")
    assert not found, "\n".join(found)
