"""Test videos the benchmarks make from the shared ones."""

from __future__ import annotations

from pathlib import Path


def back_and_forth(src: Path, times: int, dst: Path) -> Path:
    """Writes ``src`` played ``times`` times, every other time reversed (no jump at the joins),
    at the source's frame rate, as an MP4 at ``dst``."""
    import cv2

    frames = []
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(dst), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    for k in range(times):
        for f in frames if k % 2 == 0 else frames[::-1]:
            writer.write(f)
    writer.release()
    return dst
