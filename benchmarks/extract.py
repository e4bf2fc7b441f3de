"""Extraction throughput and memory: frames/s per flow backend, time per stage, peak memory.

    .venv/bin/python benchmarks/extract.py [--synth DIR] [--backends dis farneback tvl1 lk-dense]

Prints, for ../shared/data/videos/single_face.mp4 (or --video) and for the synthetic set:
frames per second end to end, the split of the time into decoding, preprocessing, landmarks,
flow and region pooling, and the peak memory of a process that extracts a video and one 10x
longer (memory must not grow with the length of a video).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import write_results
from _videos import back_and_forth  # benchmarks/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _video_run(video: str, backend: str) -> dict[str, float]:
    """Runs one video extraction in a fresh process; returns its timings and peak RSS."""
    code = f"""
import json, resource, time, tempfile
from pathlib import Path
from meflow.config import ExtractConfig, override
from meflow.features.extract import extract_video
cfg = override(ExtractConfig(), ["flow.backend={backend}"])
t0 = time.perf_counter()
with tempfile.TemporaryDirectory() as d:
    _, feats = extract_video(Path({video!r}), Path(d), cfg)
wall = time.perf_counter() - t0
print(json.dumps({{"wall": wall, "frames": feats.frames, "valid": int(feats.valid.sum()),
  "timings": feats.timings, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _split(timings: dict[str, float]) -> str:
    total = sum(timings.values()) or 1.0
    return "  ".join(f"{k} {1000 * v:.0f} ms ({100 * v / total:.0f}%)" for k, v in timings.items())


def bench_video(video: Path, backends: list[str]) -> list[list[str]]:
    """Per backend: frames/s end to end and in the stages, peak MB, the time split."""
    print(f"\n== {video.name} (one process, one worker) ==")
    rows = []
    for b in backends:
        r = _video_run(str(video), b)
        print(
            f"{b:>9}: {r['frames'] / r['wall']:6.1f} frames/s end to end (incl. start-up), "
            f"{r['frames'] / sum(r['timings'].values()):6.1f} frames/s in the stages; "
            f"peak {r['peak_mb']:.0f} MB"
        )
        print(f"{'':>11}{_split(r['timings'])}")
        rows.append(
            [
                b,
                f"{r['frames'] / r['wall']:.1f}",
                f"{r['frames'] / sum(r['timings'].values()):.1f}",
                f"{r['peak_mb']:.0f}",
                _split(r["timings"]),
            ]
        )
    return rows


def bench_memory(video: Path) -> dict[str, str]:
    """Peak memory of a video's extraction and of one 10x longer, and the growth."""
    with tempfile.TemporaryDirectory() as d:
        long = back_and_forth(video, 10, Path(d) / "long.mp4")
        short = _video_run(str(video), "dis")
        longr = _video_run(str(long), "dis")
    growth = longr["peak_mb"] / short["peak_mb"] - 1
    print(
        f"\n== memory: {short['frames']} frames peak {short['peak_mb']:.0f} MB; "
        f"{longr['frames']} frames (10x) peak {longr['peak_mb']:.0f} MB; "
        f"growth {100 * growth:+.1f}% =="
    )
    return {
        "memory.frames": str(short["frames"]),
        "memory.peak_mb": f"{short['peak_mb']:.0f}",
        "memory.long_frames": str(longr["frames"]),
        "memory.long_peak_mb": f"{longr['peak_mb']:.0f}",
        "memory.growth": f"{100 * growth:+.1f}%",
    }


def bench_dataset(synth: Path | None, workers: int, backend: str) -> list[str]:
    """The synthetic set's row: workers, samples, frames, s, frames/s, split, pooling share."""
    from meflow.config import ExtractConfig, override
    from meflow.datasets import load_dataset
    from meflow.features.extract import extract_dataset

    with tempfile.TemporaryDirectory() as d:
        data = synth
        if data is None:
            from meflow.synth.generator import generate

            data = Path(d) / "synth"
            t0 = time.perf_counter()
            generate(data, subjects=8, seed=0, progress=False)
            print(f"\n(synthetic set of 8 subjects generated in {time.perf_counter() - t0:.1f} s)")
        samples = load_dataset("casme3", root=data).samples
        cfg = override(ExtractConfig(), [f"flow.backend={backend}"])
        t0 = time.perf_counter()
        s = extract_dataset(
            samples, Path(d) / "cache", cfg, dataset="casme3", workers=workers, progress=False
        )
        wall = time.perf_counter() - t0
        frames = s.frames
        print(
            f"\n== synthetic set, {backend}, {workers} worker(s): {len(samples)} samples, "
            f"{frames} frames "
            f"in {wall:.1f} s -> {frames / wall:.1f} frames/s end to end (incl. worker start-up) =="
        )
        print(f"   worker time split: {_split(s.timings)}")
        pool = s.timings.get("pooling", 0.0) / (sum(s.timings.values()) or 1.0)
        print(f"   region pooling + discretisation share: {100 * pool:.1f}%")
        return [
            backend,
            str(workers),
            str(len(samples)),
            str(frames),
            f"{wall:.1f}",
            f"{frames / wall:.1f}",
            _split(s.timings),
            f"{100 * pool:.1f}%",
        ]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--video", type=Path, default=SHARED / "videos" / "single_face.mp4")
    ap.add_argument(
        "--synth", type=Path, help="an existing synthetic set (default: make 8 subjects)"
    )
    ap.add_argument("--backends", nargs="+", default=["dis", "farneback", "tvl1", "lk-dense"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-dataset", action="store_true")
    args = ap.parse_args()
    tables: dict[str, dict[str, list]] = {}
    figures: dict[str, str] = {}
    if args.video.exists():
        tables["video"] = {
            "columns": ["backend", "frames/s end to end", "frames/s in the stages", "peak MB",
                        "time split"],
            "rows": bench_video(args.video, args.backends),
        }  # fmt: skip
        figures.update(bench_memory(args.video))
    else:
        print(f"{args.video} absent: video figures skipped")
    if not args.skip_dataset:
        tables["dataset"] = {
            "columns": ["backend", "workers", "samples", "frames", "s", "frames/s", "time split",
                        "pooling share"],
            "rows": [bench_dataset(args.synth, w, "dis") for w in sorted({1, args.workers})],
        }  # fmt: skip
    write_results("extract", tables=tables, figures=figures)


if __name__ == "__main__":
    main()
