"""Prediction speed: the real-time factor (video seconds per wall second) and where time goes.

    .venv/bin/python benchmarks/predict.py [--video FILE] [--model MODEL] [--repeat 10] [--runs 5]

Runs ``predict_video`` (default flow backend, stride 8, CSV + JSON + timeline PNG) on
../shared/data/videos/single_face.mp4 (or --video) with --model, or with an untrained YOLO11-s
model carrying the default extraction settings (speed does not depend on the weights). Prints:

- cold: the first call in a fresh process (model file load, MediaPipe start-up, first
  inference);
- warm: the per-video cost in a multi-input ``meflow predict`` run (model loaded, one
  extractor whose MediaPipe graph is kept from one video to the next, reset by a blank
  image): the video processed ``--runs`` times in a row, the median run reported with the
  range;
- long: the video played back and forth ``--repeat`` times (steady state, windows every 8
  frames), warm.

Each with its time split per stage (stages of the two threads overlap), and after the cold
run and at the end how fast the machine is right now (MediaPipe and DIS alone, one thread):
its speed drifts by 10-20% over tens of minutes. The target is a real-time factor of at
least 3 (issue 6), for the warm runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _results import write_results
from _videos import back_and_forth  # benchmarks/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))
STAGES = (
    "load_model",
    "decode",
    "preprocess",
    "landmarks",
    "flow",
    "pooling",
    "pseudo_images",
    "inference",
    "write",
    "figure",
)


def _untrained_model(path: Path, scale: str) -> Path:
    import torch

    from meflow.config import ExtractConfig, TrainConfig, to_dict
    from meflow.datasets.base import EMOTIONS
    from meflow.features import FEATURES_VERSION
    from meflow.models import build_model
    from meflow.training.checkpoint import save_checkpoint

    torch.manual_seed(0)
    meta = {
        "classes": list(EMOTIONS),
        "input": "pseudo-discrete",
        "classifier": "yolo11",
        "angle": "discrete",
        "features_version": FEATURES_VERSION,
        "extract": to_dict(ExtractConfig()),
        "train": to_dict(TrainConfig(scale=scale)),
        "fps": 30.0,
    }
    save_checkpoint(path, build_model(scale).eval(), meta)
    return path


ROW = ["run", "frames", "video s", "wall s", "real-time factor", "windows", "features ms/frame",
       "landmarks ms", "flow ms", "decode ms", "RTF without load and figure"]  # fmt: skip


def _report(label: str, res: Any, wall: float) -> list[str]:
    """Prints one run's figures; its row of ``ROW``."""
    seconds = res.duration + 1.0 / res.model_fps  # the video's length: last frame shown too
    t = res.timings
    other = wall - sum(t.get(k, 0.0) for k in STAGES)
    print(
        f"{label}: {res.frames} frames = {seconds:.2f} s of video in {wall:.2f} s wall "
        f"-> real-time factor {seconds / wall:.2f}x ({len(res.windows)} windows)"
    )
    parts = [f"{k} {t.get(k, 0.0):.3f}" for k in STAGES if t.get(k, 0.0) > 0.0005]
    print(f"   split (s): {', '.join(parts)}, other {max(other, 0.0):.3f}")
    video_work = sum(
        t.get(k, 0.0) for k in ("decode", "preprocess", "landmarks", "flow", "pooling")
    )
    per = [1000 * x / res.used_frames for x in (video_work, t["landmarks"], t["flow"], t["decode"])]
    bare = seconds / (wall - t.get("load_model", 0) - t.get("figure", 0))
    print(
        f"   per frame: features {1000 * video_work / res.used_frames:.1f} ms "
        f"(landmarks {1000 * t['landmarks'] / res.used_frames:.1f}, "
        f"flow {1000 * t['flow'] / res.used_frames:.1f}, "
        f"decode {1000 * t['decode'] / res.used_frames:.1f}); "
        f"real-time factor without model load and figure "
        f"{seconds / (wall - t.get('load_model', 0) - t.get('figure', 0)):.2f}x"
    )
    return [label, str(res.frames), f"{seconds:.2f}", f"{wall:.2f}", f"{seconds / wall:.2f}x",
            str(len(res.windows)), *(f"{x:.1f}" for x in per), f"{bare:.2f}x"]  # fmt: skip


def _machine_speed(video: Path) -> tuple[str, dict[str, str]]:
    """Single-threaded cost of the two big stages right now: MediaPipe on the video's first
    frames (tracking) and DIS on a pair of face crops. The machine's speed drifts by 10-20%
    over tens of minutes; these say how fast it was while the figures above were taken
    (the 2-core machine of issue 6, when quiet: about 6.4 ms and, for DIS, 4.4 ms)."""
    import cv2
    import numpy as np

    from meflow.config import ExtractConfig
    from meflow.face.landmarks import LandmarkTracker, crop_transform, face_box
    from meflow.flow import get_flow
    from meflow.io import open_frames
    from meflow.preprocess import preprocess

    cv2.setNumThreads(1)  # as in the two-thread pass
    cfg = ExtractConfig()
    frames = [f for _, f in zip(range(12), (f for _, f in open_frames(video)), strict=False)]
    with LandmarkTracker(cfg.face) as tracker:
        pts = [tracker(f) for f in frames[:2]]  # start-up and detection, not timed
        ms_landmarks = []
        for _ in range(3):
            for f in frames:
                t0 = time.perf_counter()
                tracker(f)
                ms_landmarks.append(1000 * (time.perf_counter() - t0))
    if pts[0] is None:
        return "machine speed: no face in the first frame", {}
    size = cfg.face.crop_size
    m = crop_transform(face_box(pts[0], frames[0].shape, cfg.face.crop_margin), size)
    a, b = (cv2.warpAffine(preprocess(f, cfg.preprocess), m, (size, size)) for f in frames[:2])
    flow = get_flow(cfg.flow.backend)
    ms_flow = []
    for _ in range(36):
        t0 = time.perf_counter()
        flow(a, b)
        ms_flow.append(1000 * (time.perf_counter() - t0))
    figures = {
        "landmarks_ms": f"{np.median(ms_landmarks):.1f}",
        "flow_ms": f"{np.median(ms_flow):.1f}",
    }
    return (
        f"machine speed now, one thread: landmarks {figures['landmarks_ms']} ms a frame, "
        f"{cfg.flow.backend} flow {figures['flow_ms']} ms a pair "
        "(issue 6's machine, quiet: about 6.4, and DIS 4.4)"
    ), figures


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--video", type=Path, default=SHARED / "videos" / "single_face.mp4")
    ap.add_argument("--model", type=Path, help="model file (default: untrained, scale --scale)")
    ap.add_argument("--scale", default="s", help="scale of the untrained model (default s)")
    ap.add_argument("--repeat", type=int, default=10, help="length of the long video, x video")
    ap.add_argument("--stride", type=int, default=8)
    ap.add_argument("--runs", type=int, default=5, help="warm runs of the video (default 5)")
    args = ap.parse_args()
    if not args.video.exists():
        raise SystemExit(f"{args.video} absent: set MEFLOW_SHARED_DATA or give --video")
    import torch

    from meflow.features.sequence import SequenceExtractor
    from meflow.inference import load_model, predict_video

    print(f"torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        model = args.model or _untrained_model(tmp / "model.safetensors", args.scale)
        t0 = time.perf_counter()
        res = predict_video(args.video, model, tmp / "out", args.stride)
        rows = [_report(f"cold  {args.video.name}", res, time.perf_counter() - t0)]
        text, speed = _machine_speed(args.video)
        print(text)
        figures = {
            f"after_cold.{k}": v for k, v in speed.items()
        }  # after "cold": it starts MediaPipe and OpenCV

        loaded = load_model(model)
        extractor = SequenceExtractor(loaded.extract, keep_warm=True)
        runs = []
        for _ in range(args.runs + 1):  # the first one starts the extractor's graph
            t0 = time.perf_counter()
            res = predict_video(args.video, loaded, tmp / "out", args.stride, extractor=extractor)
            runs.append((time.perf_counter() - t0, res))
        walls = sorted(w for w, _ in runs[1:])
        wall, res = sorted(runs[1:], key=lambda r: r[0])[len(walls) // 2]
        rows.append(_report(f"warm  {args.video.name} (median of {args.runs})", res, wall))
        seconds = res.duration + 1.0 / res.model_fps
        figures["warm_slowest"] = f"{seconds / walls[-1]:.2f}x"
        figures["warm_fastest"] = f"{seconds / walls[0]:.2f}x"
        print(
            f"   real-time factor over the {args.runs} runs: {figures['warm_slowest']} "
            f"(slowest) to {figures['warm_fastest']} (fastest)"
        )

        if args.repeat > 1:
            long = back_and_forth(args.video, args.repeat, tmp / "long.mp4")
            t0 = time.perf_counter()
            res = predict_video(long, loaded, tmp / "out", args.stride, extractor=extractor)
            label = f"long  {args.repeat}x {args.video.name}"
            rows.append(_report(label, res, time.perf_counter() - t0))
    text, speed = _machine_speed(args.video)
    print(text)
    figures.update({f"at_end.{k}": v for k, v in speed.items()})
    for r in rows:
        r[0] = " ".join(r[0].split())
    write_results("predict", tables={"runs": {"columns": ROW, "rows": rows}}, figures=figures)


if __name__ == "__main__":
    main()
