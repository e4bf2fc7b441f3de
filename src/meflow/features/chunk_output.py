"""The features file of a chunked extraction (features.chunked): the finished chunks put
together and written as ``extract_video`` writes its file (the same arrays and meta keys),
holding the recording's features once: each chunk is copied into its place, and the file is
compressed straight to disk (``save_npz`` builds the whole archive in memory first); or
(``save_chunks``) the file written from the chunk files one chunk at a time, the same bytes,
the features never held whole."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meflow import __version__
from meflow.config import ExtractConfig, to_dict
from meflow.face.landmarks import fill_gaps
from meflow.features import FEATURES_VERSION
from meflow.features.cache import load_npz, temp_beside
from meflow.features.chunk_pass import PAIR_ARRAYS
from meflow.features.chunk_source import FramePlan
from meflow.features.sequence import SequenceFeatures

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # as features.cache: the same inputs, the same bytes


def assemble(
    chunks: Sequence[Path], ok: np.ndarray, max_gap: int, timings: dict[str, float]
) -> SequenceFeatures:
    """The recording's features from its chunk files, in order (as one pass gives them)."""
    pairs = ok.shape[0] - 1
    out: dict[str, np.ndarray] = {}
    at = 0
    for path in chunks:
        arrays, _ = load_npz(path)
        m = arrays["valid"].shape[0]
        for k in PAIR_ARRAYS:
            if k not in out:
                out[k] = np.empty((pairs, *arrays[k].shape[1:]), dtype=arrays[k].dtype)
            out[k][at : at + m] = arrays[k]
        at += m
    assert at == pairs, (at, pairs)
    frame_valid = frames_valid(ok, max_gap)
    return SequenceFeatures(
        out["angle"], out["magnitude"], out["valid"], frame_valid, timings, out["vector"],
        out["main"],
    )  # fmt: skip


def frames_valid(ok: np.ndarray, max_gap: int) -> np.ndarray:
    """(frames,) whether each frame has a face: gap filling's validity depends only on which
    frames have landmarks (``ok``)."""
    _, frame_valid = fill_gaps(np.where(ok, 0.0, np.nan).astype(np.float32)[:, None], max_gap)
    return frame_valid


def _chunk_features(path: Path, repeated: np.ndarray) -> SequenceFeatures:
    """One chunk's pairs as features (the pairs ``repeated`` made pairs without motion)."""
    arrays, _ = load_npz(path)
    feats = SequenceFeatures(
        arrays["angle"], arrays["magnitude"], arrays["valid"], np.zeros(0, bool), {},
        arrays["vector"], arrays["main"],
    )  # fmt: skip
    feats.without_motion(repeated)
    return feats


def save_chunks(
    target: Path,
    chunks: Sequence[Path],
    ok: np.ndarray,
    repeated: np.ndarray,
    cfg: ExtractConfig,
    extra: tuple[FramePlan, Path, dict[str, float]],
) -> SequenceFeatures:
    """The features file ``assemble``, ``without_motion(repeated)`` and ``save_features`` write,
    to the byte, written from the chunk files one chunk at a time: the recording's features are
    never held whole (``extra``: the plan, the source and the timings). Gives the features
    with ``valid`` and ``frame_valid`` only (the per-region arrays empty: read the file)."""
    plan, path, timings = extra
    starts = [0]
    for c in chunks:
        with np.load(c) as z:
            starts.append(starts[-1] + z["valid"].shape[0])
    assert starts[-1] == repeated.shape[0], (starts[-1], repeated.shape)

    def part(i: int) -> dict[str, np.ndarray]:
        return _chunk_features(chunks[i], repeated[starts[i] : starts[i + 1]]).arrays()

    def pieces(name: str) -> Iterator[np.ndarray]:
        return (part(i)[name] for i in range(len(chunks)))

    first = part(0) if chunks else {}
    streamed = {
        k: (v.dtype, (starts[-1], *v.shape[1:]), pieces(k))
        for k, v in first.items()
        if k != "frame_valid"
    }
    empty = np.zeros((0, 0), np.float32)
    light = SequenceFeatures(empty, empty, np.zeros(0, bool), frames_valid(ok, cfg.face.max_gap),
                             timings)  # fmt: skip
    arrays = {**light.arrays(), **file_arrays(plan, cfg, path, timings)}
    write_npz(target, {k: v for k, v in arrays.items() if k not in streamed}, streamed)
    light.valid = np.concatenate([part(i)["valid"] for i in range(len(chunks))])
    return light


def file_arrays(
    plan: FramePlan, cfg: ExtractConfig, path: Path, timings: dict[str, float]
) -> dict[str, np.ndarray]:
    """The arrays of a features file beside the features: rates, frame numbers and meta."""
    meta = {
        "source": path.name,
        "extract": to_dict(cfg),
        "features_version": FEATURES_VERSION,
        "meflow": __version__,
        "timings": timings,
    }
    return {
        "fps": np.array(plan.source_fps, dtype=np.float64),
        "analysis_fps": np.array(cfg.features.fps, dtype=np.float64),
        "frames": plan.taken.astype(np.int32),
        "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
    }


def save_features(
    target: Path, feats: SequenceFeatures, plan: FramePlan, cfg: ExtractConfig, path: Path
) -> None:
    """The features file, as ``extract_video`` writes it (the same arrays and meta keys)."""
    write_npz(target, {**feats.arrays(), **file_arrays(plan, cfg, path, feats.timings)})


Streamed = Mapping[str, tuple[np.dtype[Any], tuple[int, ...], Iterable[np.ndarray]]]


def write_npz(path: Path, arrays: Mapping[str, Any], streamed: Streamed | None = None) -> None:
    """An .npz archive as ``features.cache.npz_bytes`` makes it, compressed array by array
    into a temporary file beside ``path`` and renamed onto it. ``streamed``: arrays given as
    (dtype, shape, their consecutive row blocks), written block by block (the same bytes)."""
    streamed = streamed or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name in sorted({*arrays, *streamed}):
                    info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    with zf.open(info, "w") as member:
                        if name in arrays:
                            np.lib.format.write_array(member, np.asarray(arrays[name]),
                                                      allow_pickle=False)  # fmt: skip
                        else:
                            _write_rows(member, *streamed[name])
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_rows(
    member: Any, dtype: np.dtype[Any], shape: tuple[int, ...], blocks: Iterable[np.ndarray]
) -> None:
    """An array's .npy bytes from its row blocks, as ``write_array`` writes the array."""
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
              "shape": shape}  # fmt: skip
    np.lib.format.write_array_header_1_0(member, header)
    rows = 0
    for b in blocks:
        if b.dtype != dtype or b.shape[1:] != shape[1:]:
            raise ValueError(f"a block {b.dtype} {b.shape} of a {dtype} {shape} array")
        member.write(np.ascontiguousarray(b).tobytes())
        rows += b.shape[0]
    if rows != shape[0]:
        raise ValueError(f"{rows} rows written of {shape[0]}")
