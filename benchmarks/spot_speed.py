"""Spotting speed and memory: a long recording's frames on disk to its spotted intervals.

    .venv/bin/python benchmarks/spot_speed.py --work DIR [--seconds 60] [--long-seconds 600]
        [--spotter learned|baseline] [--modes one-pass chunked] [--workers 2] [--repeats 1]
        [--landmark-stride K] [--also-stride 3] [--skip-memory | --skip-speed]

Target (issue 22): a 60 s 30 fps recording spotted at least 8x real time, warm, on 2 cores;
memory flat in the recording's length (a 10x longer recording within +10%).

Writes synthetic long recordings (``meflow.synth.long``, CAS(ME)^3 Part A layout, 30 fps) into
DIR (reused when there): two of ``--seconds`` (subject 1's trains the spotter, subject 2's is
timed) and, for the memory check, one of ``--long-seconds``. The spotter (``--spotter``;
default the learned one where this meflow has it, else the baseline) is trained once on
subject 1's recording and saved; each run then loads it in a fresh process ("warm": the model
loaded and one whole run done first, not counted) and times, per extraction mode:

- extraction: the frames to the features file (``extract_video``, one pass on two threads;
  or ``extract_chunked`` as ``extract --video --workers N`` runs it: the landmark pass in a
  thread and the chunks on N threads of the process beside it (N up to 2), or on N - 1
  local processes, their start-up included);
- spotting: reading the features file and ``spotter.spot``;

(the chunked mode writes the features file chunk by chunk, as ``extract --video`` does, never
holding the recording's features whole: ``extract_chunked(..., features=False)``)

and prints seconds, the real-time factor (recording length / wall time), the CPU seconds of
the run (all threads of the process and its worker processes: what another load on the
machine changes least) and where the time goes: the seconds of each stage, summed over the
threads and processes that ran it (each measured by the clock, so on a machine with more busy
threads than cores a stage's seconds include its waits for a core). The extraction settings
are meflow's defaults (a video's landmarks on every ``face.landmark_stride``-th frame; the
spotter is trained on features made with the same ones), ``--landmark-stride`` another
stride for both; ``--also-stride K`` adds a one-pass row with landmarks on every K-th frame
(its own spotter, trained on such features; 0: none). Memory: the peak RSS of the
process that extracts and spots the recording once (and of its largest worker process), for
the recording and the one ``--long-seconds`` long, in the mode ``--memory-mode``; and the
peak before spotting (the extraction's, the features object let go: the spotter reads the
features file, as ``meflow spot`` does).
Results go to benchmarks/results/spot_speed.json (with ``--skip-speed``, the memory part
alone, to benchmarks/results/spot_memory.json).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _results import write_results

STAGES = ("decode", "preprocess", "landmarks", "flow", "pooling")


def default_spotter() -> str:
    """'learned' where this meflow has the learned spotter, else 'baseline'."""
    return "learned" if importlib.util.find_spec("meflow.spotting.learned") else "baseline"


def make_long(data: Path, subjects: int, seconds: float) -> list[Path]:
    """The colour folders of a synthetic long set in ``data`` (made unless complete)."""
    from meflow.synth.long import generate_long

    meta_file = data / "synth.json"
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    params = meta.get("parameters", {})
    if not (
        meta.get("complete") and params.get("subjects") == subjects
        and params.get("seconds") == seconds and params.get("recordings_per_subject") == 1
    ):  # fmt: skip
        t0 = time.perf_counter()
        generate_long(data, subjects=subjects, seed=0, recordings_per_subject=1,
                      seconds=seconds, progress=False)  # fmt: skip
        print(f"generated {subjects} x {seconds:g} s in {time.perf_counter() - t0:.0f} s")
    return sorted(data.glob("*/*/color"))


def extract_config(stride: int | None) -> Any:
    """meflow's extraction defaults, with landmarks on every ``stride``-th frame if given."""
    from meflow.config import ExtractConfig, override

    return override(ExtractConfig(), [] if stride is None else [f"face.landmark_stride={stride}"])


def train(folder: Path, data: Path, kind: str, path: Path, stride: int | None) -> None:
    """Trains a spotter of ``kind`` on one recording and saves it at ``path``."""
    from meflow.features.extract import extract_video
    from meflow.spotting.baseline import read_video_features
    from meflow.spotting.ground_truth import load_casme3
    from meflow.spotting.model import save_spotter, train_spotter
    from meflow.spotting.scoring import Interval

    subject, recording = folder.parent.parent.name, folder.parent.name
    name = f"{subject}/{recording}"
    with tempfile.TemporaryDirectory() as d:
        target, _ = extract_video(folder, Path(d), extract_config(stride))
        rec = read_video_features(target, name=name)
    gt = load_casme3(next(data.glob("*.xls")))
    mine = [i for i in gt.intervals if (i.subject, i.recording) == (subject, recording)]
    truth = [Interval(name, i.onset, i.offset, i.type) for i in mine if i.type != "blink"]
    blinks = {name: [(i.onset, i.offset) for i in mine if i.type == "blink"]}
    save_spotter(path, train_spotter(kind, [rec], truth, blinks))


def cpu_seconds() -> float:
    """CPU seconds so far of this process's threads and of its finished child processes."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_once(
    folder: Path, spotter: Any, mode: str, workers: int, stride: int | None
) -> dict[str, Any]:
    """One end-to-end run in this process: seconds of extraction and spotting, the stages."""
    from meflow.features.chunked import DEFAULT_CHUNK_SECONDS, extract_chunked, local_chunking
    from meflow.features.extract import extract_video
    from meflow.spotting.baseline import read_video_features

    cfg = extract_config(stride)
    with tempfile.TemporaryDirectory() as d:
        c0, t0 = cpu_seconds(), time.perf_counter()
        if mode == "chunked":
            executor, threads = local_chunking(workers)  # as extract --video --workers N
            target, feats, _ = extract_chunked(
                folder, Path(d), cfg, chunk_seconds=DEFAULT_CHUNK_SECONDS, executor=executor,
                threads=threads, features=False,
            )  # fmt: skip
        else:
            target, feats = extract_video(folder, Path(d), cfg)
        t1 = time.perf_counter()
        frames, stages = feats.frames, {k: float(feats.timings.get(k, 0.0)) for k in STAGES}
        del feats  # the spotter reads the features file, as meflow spot does
        extract_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        intervals = spotter.spot(read_video_features(target))
        t2, c2 = time.perf_counter(), cpu_seconds()
    return {
        "frames": frames,
        "extract_s": t1 - t0,
        "spot_s": t2 - t1,
        "cpu_s": c2 - c0,
        "intervals": len(intervals),
        "stages": stages,
        "extract_peak_mb": extract_peak,
    }


def child(args: argparse.Namespace) -> None:
    """The measuring process: loads the spotter, runs (a warm-up first when timing), prints
    one JSON line with the runs and the peak RSS of itself and of its largest child."""
    from meflow.spotting.model import load_spotter

    spotter = load_spotter(args.spotter_file)
    folder = Path(args.folder)
    stride = args.landmark_stride
    if args.warm:
        run_once(folder, spotter, args.mode, args.workers, stride)
    runs = [run_once(folder, spotter, args.mode, args.workers, stride) for _ in range(args.repeats)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"runs": runs, "peak_mb": peak, "child_peak_mb": kids}))


def measure(
    folder: Path,
    spotter_file: Path,
    mode: str,
    workers: int,
    warm: bool,
    repeats: int,
    stride: int | None,
) -> dict[str, Any]:
    """Runs ``child`` in a fresh process; gives its JSON."""
    cmd = [sys.executable, __file__, "--child", "--folder", str(folder), "--spotter-file",
           str(spotter_file), "--mode", mode, "--workers", str(workers), "--repeats",
           str(repeats), *(["--warm"] if warm else []),
           *([] if stride is None else ["--landmark-stride", str(stride)])]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"measuring run failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def split(stages: dict[str, float]) -> str:
    total = sum(stages.values()) or 1.0
    return ", ".join(f"{k} {v:.1f} s ({100 * v / total:.0f}%)" for k, v in stages.items())


def speed_row(mode: str, workers: int, seconds: float, res: dict[str, Any]) -> list[str]:
    """The table row of the fastest timed run."""
    best = min(res["runs"], key=lambda r: r["extract_s"] + r["spot_s"])
    total = best["extract_s"] + best["spot_s"]
    ms = 1000 * total / best["frames"]
    how = "two threads"
    if mode == "chunked":
        how = (
            f"landmark thread, chunks on {workers - 1} processes"
            if workers > 2
            else f"landmark thread, chunks on {workers} threads"
        )
    print(
        f"  {mode} ({how}): extraction {best['extract_s']:.1f} s, spotting "
        f"{best['spot_s']:.2f} s, together {total:.1f} s = {seconds / total:.1f}x real time "
        f"({ms:.1f} ms a frame; {best['intervals']} intervals; {best['cpu_s']:.1f} CPU s)\n"
        f"    stages: {split(best['stages'])}"
    )
    return [
        mode, how, str(best["frames"]),
        f"{best['extract_s']:.1f}", f"{best['spot_s']:.2f}", f"{total:.1f}",
        f"{seconds / total:.1f}x", f"{best['cpu_s']:.1f}", split(best["stages"]),
    ]  # fmt: skip


def memory(
    folders: tuple[Path, Path], spotter_file: Path, mode: str, workers: int, stride: int | None
) -> dict[str, str]:
    """Peak RSS of one run on the recording and on the long one, and the growth."""
    short = measure(folders[0], spotter_file, mode, workers, False, 1, stride)
    long = measure(folders[1], spotter_file, mode, workers, False, 1, stride)
    growth = long["peak_mb"] / short["peak_mb"] - 1
    kid_growth = long["child_peak_mb"] / max(short["child_peak_mb"], 1e-9) - 1
    fr = (short["runs"][0]["frames"], long["runs"][0]["frames"])
    ex = (short["runs"][0]["extract_peak_mb"], long["runs"][0]["extract_peak_mb"])
    print(
        f"\n== memory ({mode}): {fr[0]} frames peak {short['peak_mb']:.0f} MB; {fr[1]} frames "
        f"peak {long['peak_mb']:.0f} MB; growth {100 * growth:+.1f}% (largest worker process: "
        f"{short['child_peak_mb']:.0f} -> {long['child_peak_mb']:.0f} MB) ==\n"
        f"   extraction alone (peak before spotting): {ex[0]:.0f} -> {ex[1]:.0f} MB, "
        f"{100 * (ex[1] / ex[0] - 1):+.1f}%"
    )
    return {
        "memory.extract_peak_mb": f"{ex[0]:.0f}",
        "memory.extract_long_peak_mb": f"{ex[1]:.0f}",
        "memory.extract_growth": f"{100 * (ex[1] / ex[0] - 1):+.1f}%",
        "memory.mode": mode,
        "memory.frames": str(fr[0]),
        "memory.peak_mb": f"{short['peak_mb']:.0f}",
        "memory.long_frames": str(fr[1]),
        "memory.long_peak_mb": f"{long['peak_mb']:.0f}",
        "memory.growth": f"{100 * growth:+.1f}%",
        "memory.verdict": "met" if growth <= 0.10 else "missed",
        "memory.worker_peak_mb": f"{short['child_peak_mb']:.0f}",
        "memory.worker_long_peak_mb": f"{long['child_peak_mb']:.0f}",
        "memory.worker_growth": f"{100 * kid_growth:+.1f}%" if short["child_peak_mb"] else "-",
    }


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--work", type=Path, help="folder for the recordings (default: temporary)")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--long-seconds", type=float, default=600.0)
    ap.add_argument("--spotter", default=None, help="spotter kind (default: learned if any)")
    ap.add_argument("--modes", nargs="+", default=["one-pass", "chunked"],
                    choices=("one-pass", "chunked"))  # fmt: skip
    ap.add_argument("--memory-mode", default="chunked", choices=("one-pass", "chunked"))
    ap.add_argument("--workers", type=int, default=2, help="chunked: local worker processes")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs after the warm-up")
    ap.add_argument("--landmark-stride", type=int, default=None,
                    help="face.landmark_stride (default: meflow's)")  # fmt: skip
    ap.add_argument("--also-stride", type=int, default=3,
                    help="a one-pass row with this landmark stride (0: none)")  # fmt: skip
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-speed", action="store_true",
                    help="the memory part alone (to results/spot_memory.json)")  # fmt: skip
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    ap.add_argument("--spotter-file", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    return ap.parse_args()


def main() -> None:
    args = parse()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        bench(args, work)


def stride_row(
    args: argparse.Namespace, kind: str, work: Path, train_folder: Path, folder: Path
) -> list[str]:
    """The one-pass row with landmarks on every ``args.also_stride``-th frame."""
    k = args.also_stride
    spotter_file = work / f"spotter-{kind}-{args.seconds:g}s-k{k}.json"
    if not spotter_file.exists():
        train(train_folder, train_folder.parents[2], kind, spotter_file, k)
    res = measure(folder, spotter_file, "one-pass", args.workers, True, args.repeats, k)
    row = speed_row("one-pass", args.workers, args.seconds, res)
    row[0] = f"one-pass, landmarks on every {k}rd frame" if k == 3 else f"one-pass, stride {k}"
    return row


def bench(args: argparse.Namespace, work: Path) -> None:
    kind = args.spotter or default_spotter()
    load = os.getloadavg()[0]  # other work on the machine lengthens the wall times
    train_folder, folder = make_long(work / f"long-{args.seconds:g}s", 2, args.seconds)
    stride = args.landmark_stride
    cfg = extract_config(stride)
    # trained on features made with the landmark stride it is timed with
    spotter_file = work / f"spotter-{kind}-{args.seconds:g}s-k{cfg.face.landmark_stride}.json"
    if not spotter_file.exists():
        train(train_folder, train_folder.parents[2], kind, spotter_file, stride)
    figures = {"spotter": kind, "seconds": f"{args.seconds:g}",
               "landmark_stride": str(cfg.face.landmark_stride),
               "load_average": f"{load:.1f}"}  # fmt: skip
    rows = [] if args.skip_speed else speed(args, kind, work, spotter_file, figures)
    if not args.skip_memory:
        (long_folder,) = make_long(work / f"long-{args.long_seconds:g}s", 1, args.long_seconds)
        figures.update(
            memory((folder, long_folder), spotter_file, args.memory_mode, args.workers, stride)
        )
    if args.skip_speed:  # the memory part alone: a results file of its own
        write_results("spot_memory", figures=figures)
        return
    columns = ["extraction", "runs on", "frames", "extraction s", "spotting s", "total s",
               "real time", "CPU s", "seconds per stage"]  # fmt: skip
    write_results("spot_speed", tables={"speed": {"columns": columns, "rows": rows}},
                  figures=figures)  # fmt: skip


def speed(
    args: argparse.Namespace, kind: str, work: Path, spotter_file: Path, figures: dict[str, str]
) -> list[list[str]]:
    """The speed rows (and their figures, added to ``figures``)."""
    train_folder, folder = make_long(work / f"long-{args.seconds:g}s", 2, args.seconds)
    stride = args.landmark_stride
    print(f"\n== {args.seconds:g} s recording, spotter {kind}, warm (one run first, not "
          f"counted), {os.cpu_count()} cores ==")  # fmt: skip
    rows = [
        speed_row(m, args.workers, args.seconds,
                  measure(folder, spotter_file, m, args.workers, True, args.repeats, stride))
        for m in args.modes
    ]  # fmt: skip
    best = max(float(r[6].rstrip("x")) for r in rows)
    figures |= {"x_realtime": f"{best:.1f}x", "target": "8x",
                "verdict": "met" if best >= 8.0 else "missed"}  # fmt: skip
    print(f"\nbest: {best:.1f}x real time (target 8x)")
    if args.also_stride and args.also_stride != extract_config(stride).face.landmark_stride:
        rows.append(stride_row(args, kind, work, train_folder, folder))
        figures |= {"also_stride": str(args.also_stride), "x_realtime_stride": rows[-1][6]}
    return rows


if __name__ == "__main__":
    main()
