"""A chunked extraction written chunk by chunk (``features=False``: memory flat in the
recording's length): the same file, to the byte, as the one written from the whole features."""

from __future__ import annotations

import itertools
import zipfile
from pathlib import Path

import numpy as np
import pytest

from _long_recording import CHUNK_SECONDS, bitwise_equal, make_recording
from meflow.features.cache import load_npz
from meflow.features.chunk_output import write_npz
from meflow.features.chunked import extract_chunked


def same_members(a: Path, b: Path) -> None:
    """The two files' members are the same bytes, compressed the same, but for the timings."""
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert za.namelist() == zb.namelist()
        for name in za.namelist():
            if name != "meta.npy":
                assert za.read(name) == zb.read(name), name
                assert za.getinfo(name).compress_size == zb.getinfo(name).compress_size, name
    meta_a, meta_b = load_npz(a)[1], load_npz(b)[1]
    assert meta_a.pop("timings").keys() == meta_b.pop("timings").keys() and meta_a == meta_b


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_recording(tmp_path_factory.mktemp("stream"))


@pytest.mark.parametrize("fps", [None, 20.0])  # 20 fps brought to 30: repeated frames
def test_written_chunk_by_chunk_is_the_same_file(folder: Path, tmp_path: Path, fps) -> None:
    whole, feats, _ = extract_chunked(folder, tmp_path / "whole", fps=fps,
                                      chunk_seconds=CHUNK_SECONDS)  # fmt: skip
    streamed, light, summary = extract_chunked(
        folder, tmp_path / "streamed", fps=fps, chunk_seconds=CHUNK_SECONDS, features=False
    )
    assert summary.chunks > 1
    same_members(whole, streamed)
    bitwise_equal(whole, streamed)
    assert np.array_equal(light.valid, feats.valid)
    assert np.array_equal(light.frame_valid, feats.frame_valid) and light.frames == feats.frames
    assert light.vector.size == 0 and light.timings.keys() == feats.timings.keys()
    arrays, _ = load_npz(streamed)
    assert arrays["vector"].shape == feats.vector.shape and feats.vector.size > 0


def test_write_npz_from_row_blocks_is_write_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {"a": rng.normal(size=(1000, 42, 2)).astype(np.float32), "b": rng.random(1000) > 0.5,
              "c": np.array(30.0), "d": np.zeros((0, 3), np.float32)}  # fmt: skip
    write_npz(tmp_path / "whole.npz", arrays)
    cuts = {"a": [0, 1, 150, 151, 999, 1000], "b": [0, 500, 1000], "d": [0, 0]}
    streamed = {
        k: (arrays[k].dtype, arrays[k].shape, [arrays[k][a:b] for a, b in itertools.pairwise(c)])
        for k, c in cuts.items()
    }
    write_npz(tmp_path / "blocks.npz", {"c": arrays["c"]}, streamed)
    assert (tmp_path / "blocks.npz").read_bytes() == (tmp_path / "whole.npz").read_bytes()
    short = {"a": (arrays["a"].dtype, arrays["a"].shape, [arrays["a"][:10]])}
    with pytest.raises(ValueError, match="rows written"):
        write_npz(tmp_path / "short.npz", {}, short)
    assert not (tmp_path / "short.npz").exists()
