"""The cache file format: deterministic bytes, atomic writes, no pickles."""

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from meflow.errors import MeflowError
from meflow.features.cache import load_npz, npz_bytes, save_npz


def test_same_arrays_give_identical_bytes(tmp_path: Path) -> None:
    arrays = {"b": np.arange(6, dtype=np.float32).reshape(2, 3), "a": np.ones(4, dtype=np.uint8)}
    save_npz(tmp_path / "x.npz", arrays, {"k": 1})
    first = (tmp_path / "x.npz").read_bytes()
    save_npz(tmp_path / "x.npz", arrays, {"k": 1})
    assert (tmp_path / "x.npz").read_bytes() == first
    got, meta = load_npz(tmp_path / "x.npz")
    assert meta == {"k": 1}
    np.testing.assert_array_equal(got["b"], arrays["b"])
    assert sorted(got) == ["a", "b"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_object_arrays_are_refused() -> None:
    with pytest.raises(TypeError):
        npz_bytes({"x": np.array([{"a": 1}], dtype=object)})


def test_pickled_or_truncated_file_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "p.npz", "w") as zf:
        zf.writestr("x.npy", buf.getvalue())
    with pytest.raises(MeflowError):
        load_npz(tmp_path / "p.npz")
    good = npz_bytes({"a": np.arange(100)})
    (tmp_path / "t.npz").write_bytes(good[: len(good) // 2])
    with pytest.raises(MeflowError, match=r"t\.npz"):
        load_npz(tmp_path / "t.npz")
