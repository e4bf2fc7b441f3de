"""The features file of a chunked extraction (features.chunked): the finished chunks put
together and written as ``extract_video`` writes its file (the same arrays and meta keys),
holding the recording's features once: each chunk is copied into its place, and the file is
compressed straight to disk (``save_npz`` builds the whole archive in memory first)."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping, Sequence
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
    chunks: Sequence[Path],
    ok: np.ndarray,
    max_gap: int,
    timings: dict[str, float],
    spot_lags: Sequence[int] = (),
) -> SequenceFeatures:
    """The recording's features from its chunk files, in order (as one pass gives them; the
    direct pairs of ``spot_lags`` where the chunks hold them)."""
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
        if "lag_vector" in arrays:
            if "lag_vector" not in out:
                shape = (pairs, *arrays["lag_vector"].shape[1:])
                out["lag_vector"] = np.empty(shape, dtype=np.float32)
            out["lag_vector"][at : at + m] = arrays["lag_vector"]
        at += m
    assert at == pairs, (at, pairs)
    # gap filling's validity depends only on which frames have landmarks
    _, frame_valid = fill_gaps(np.where(ok, 0.0, np.nan).astype(np.float32)[:, None], max_gap)
    return SequenceFeatures(
        out["angle"], out["magnitude"], out["valid"], frame_valid, timings, out["vector"],
        out["main"], out.get("lag_vector"), tuple(spot_lags) if "lag_vector" in out else (),
    )  # fmt: skip


def save_features(
    target: Path, feats: SequenceFeatures, plan: FramePlan, cfg: ExtractConfig, path: Path
) -> None:
    """The features file, as ``extract_video`` writes it (the same arrays and meta keys)."""
    meta = {
        "source": path.name,
        "extract": to_dict(cfg),
        "features_version": FEATURES_VERSION,
        "meflow": __version__,
        "timings": feats.timings,
    }
    arrays = {
        **feats.arrays(),
        "fps": np.array(plan.source_fps, dtype=np.float64),
        "analysis_fps": np.array(cfg.features.fps, dtype=np.float64),
        "frames": plan.taken.astype(np.int32),
        "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
    }
    write_npz(target, arrays)


def write_npz(path: Path, arrays: Mapping[str, Any]) -> None:
    """An .npz archive as ``features.cache.npz_bytes`` makes it, compressed array by array
    into a temporary file beside ``path`` and renamed onto it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name in sorted(arrays):
                    info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    with zf.open(info, "w") as member:
                        np.lib.format.write_array(member, np.asarray(arrays[name]),
                                                  allow_pickle=False)  # fmt: skip
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
