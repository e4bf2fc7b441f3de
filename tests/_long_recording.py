"""A short synthetic long recording with the oddities chunking must carry across chunk edges,
and the features of one pass over it (``extract_video``): for the chunked-extraction tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from meflow.features.cache import load_npz

SECONDS = 4.0  # 120 frames at 30 fps
CHUNK_SECONDS = 0.5  # chunks of 15 frames: 8 of them
BLANK = (14, 15, 44, 45, 46, 70, 71, 72, 73, 74, 75)  # frames without a face (grey)
EMPTY = 100  # an unreadable frame file


def make_recording(base: Path) -> Path:
    """A 4 s frame folder: a 2-frame gap across the first chunk edge and a 3-frame one
    across the third (both filled), a 6-frame one (not filled), and an unreadable file."""
    import cv2

    from meflow.synth.long import generate_long

    out = base / "set"
    generate_long(out, subjects=1, seed=5, recordings_per_subject=1, seconds=SECONDS,
                  progress=False)  # fmt: skip
    color = next(out.glob("spNO.*/*/color"))
    folder = base / "recording"
    shutil.copytree(color, folder)
    frame = cv2.imread(str(folder / "0.jpg"))
    for i in BLANK:
        cv2.imwrite(str(folder / f"{i}.jpg"), np.full_like(frame, 128))
    (folder / f"{EMPTY}.jpg").write_bytes(b"")
    return folder


def bitwise_equal(a: Path, b: Path) -> None:
    """Asserts that two features files hold the same arrays, bit for bit, and meta keys."""
    arrays_a, meta_a = load_npz(a)
    arrays_b, meta_b = load_npz(b)
    assert sorted(arrays_a) == sorted(arrays_b)
    assert sorted(meta_a) == sorted(meta_b)
    for k, v in arrays_a.items():
        w = arrays_b[k]
        assert v.dtype == w.dtype and v.shape == w.shape, k
        assert v.tobytes() == w.tobytes(), k
