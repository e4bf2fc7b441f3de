"""Long inputs: extraction streams a video, so its peak memory does not grow with its length."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared_file

MEASURE = """
import resource, sys
from pathlib import Path
from meflow.features.extract import extract_video
_, feats = extract_video(Path(sys.argv[1]), Path(sys.argv[2]))
print(feats.frames, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _write(path: Path, frames: list, fps: float) -> Path:
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def _peak(video: Path, out: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(video), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    frames, kib = done.stdout.split()[-2:]
    return int(frames), int(kib)


@pytest.mark.slow
def test_peak_memory_is_flat_on_a_ten_times_longer_video(shared_data: Path, tmp_path: Path) -> None:
    from meflow.io import open_frames

    source = open_frames(shared_file(shared_data, "videos/single_face.mp4"))
    frames = [f for _, f in source]
    # Played forward then backward, so the face moves smoothly across every joint.
    loop = frames + frames[::-1]
    short = _write(tmp_path / "short.mp4", frames, source.info.fps)
    long = _write(tmp_path / "long.mp4", (loop * 5)[: 10 * len(frames)], source.info.fps)
    n_short, rss_short = _peak(short, tmp_path / "o1")
    n_long, rss_long = _peak(long, tmp_path / "o2")
    assert n_long == 10 * n_short
    # Holding the whole long video would add ~10 x 72 x 640 x 360 x 3 bytes (about 500 MB).
    assert rss_long <= 1.2 * rss_short, (rss_short, rss_long)
