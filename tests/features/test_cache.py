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


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_written_files_get_the_permissions_of_a_plain_open(tmp_path: Path, mask: int) -> None:
    # atomic writes go through mkstemp, which makes files 0600: a model or a report in a shared
    # folder would be unreadable to everyone else; they must follow the umask as open() does
    import os
    import stat

    from meflow.features.cache import atomic_write_text
    from meflow.models import build_model
    from meflow.training.checkpoint import save_checkpoint

    old = os.umask(mask)
    try:
        atomic_write_text(tmp_path / "report.md", "x")
        save_checkpoint(tmp_path / "m.safetensors", build_model("n"), {"a": 1})
        with open(tmp_path / "plain.txt", "w") as fh:
            fh.write("x")
    finally:
        os.umask(old)
    want = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert want == 0o666 & ~mask
    for name in ("report.md", "m.safetensors"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == want, name
