"""Training and inference throughput of the YOLO11-cls network, and the time of one CV fold.

Run: .venv/bin/python benchmarks/train.py [--threads 1 2] [--fold] [--pad]
Prints images/s for forward+backward+AdamW step (batch 32) and for inference (batch 256),
for scales n and s, on CPU (each thread count) and on CUDA when available; with --fold,
the wall time of one cross_validate fold at TrainConfig defaults (~80 training images) and
of demo settings on separable synthetic data.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

os.environ.setdefault("YOLO_VERBOSE", "False")
os.environ.setdefault("YOLO_OFFLINE", "1")

import numpy as np
import torch

from _results import write_results  # benchmarks/ is on sys.path when a script runs
from meflow.config import EvalConfig, TrainConfig
from meflow.evaluation import micro_roc_auc
from meflow.models import build_model
from meflow.training import cross_validate, fit, group_kfold, predict_proba


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def train_throughput(scale: str, device: torch.device, height: int = 42, steps: int = 8) -> float:
    """Images/s of forward + backward + AdamW step at batch 32 (median of timed steps)."""
    torch.manual_seed(0)
    model = build_model(scale).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.rand(32, 1, height, 64, device=device)
    y = torch.randint(0, 6, (32,), device=device)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else None
    times = []
    for i in range(steps + 2):
        _sync(device)
        t = time.perf_counter()
        if amp is not None:
            with amp:
                loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        else:
            loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        _sync(device)
        if i >= 2:  # the first steps allocate and pick kernels
            times.append(time.perf_counter() - t)
    return 32 / float(np.median(times))


def infer_throughput(scale: str, device: torch.device, batch: int = 256, reps: int = 5) -> float:
    """Images/s of eval-mode inference at the given batch size (median)."""
    torch.manual_seed(0)
    model = build_model(scale).to(device).eval()
    x = torch.rand(batch, 1, 42, 64, device=device)
    times = []
    with torch.no_grad():
        for i in range(reps + 1):
            _sync(device)
            t = time.perf_counter()
            if device.type == "cuda":
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    model(x)
            else:
                model(x)
            _sync(device)
            if i >= 1:
                times.append(time.perf_counter() - t)
    return batch / float(np.median(times))


def separable(n_subjects: int, per_class: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Class k = sector 32(k+1) in rows 7k..7k+6 (frames 16..47) plus 20% random-sector noise."""
    rng = np.random.default_rng(seed)
    xs, ys, gs = [], [], []
    for s in range(n_subjects):
        for k in range(6):
            for _ in range(per_class):
                img = np.zeros((42, 64), np.uint8)
                img[7 * k : 7 * k + 7, 16:48] = 32 * (k + 1)
                mask = rng.random((42, 64)) < 0.2
                img[mask] = rng.integers(0, 8, int(mask.sum())) * 32
                xs.append(img)
                ys.append(k)
                gs.append(f"s{s:02d}")
    return np.stack(xs), np.array(ys), np.array(gs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--scales", nargs="+", default=["n", "s"])
    ap.add_argument("--fold", action="store_true", help="time CV folds (default settings, demo)")
    ap.add_argument("--pad", action="store_true", help="compare 42x64 with 64x64 (zero-padded)")
    ap.add_argument("--fold-threads", type=int, default=None, help="torch threads for --fold")
    ap.add_argument("--no-throughput", action="store_true", help="only the --fold timings")
    args = ap.parse_args()

    print(f"torch {torch.__version__}, cpu cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    speed: list[list[str]] = []
    folds: list[list[str]] = []
    devices = [] if args.no_throughput else [("cpu", t) for t in args.threads]
    if torch.cuda.is_available() and not args.no_throughput:
        devices.append(("cuda", 0))
    for dev_name, threads in devices:
        device = torch.device(dev_name)
        where = f"cpu x{threads}" if dev_name == "cpu" else torch.cuda.get_device_name(0)
        if dev_name == "cpu":
            torch.set_num_threads(threads)
        for scale in args.scales:
            tr = train_throughput(scale, device)
            inf = infer_throughput(scale, device)
            print(
                f"{where:12s} yolo11{scale}-cls  train {tr:7.1f} img/s (batch 32)   "
                f"inference {inf:8.1f} img/s (batch 256)"
            )
            tr64 = train_throughput(scale, device, height=64) if args.pad else None
            if tr64 is not None:
                print(f"{where:12s} yolo11{scale}-cls  train {tr64:7.1f} img/s at 64x64 (padded)")
            speed.append(
                [where, f"yolo11{scale}-cls", f"{tr:.1f}", f"{inf:.1f}"]
                + ([f"{tr64:.1f}"] if args.pad else [])
            )

    if args.fold:
        torch.set_num_threads(args.fold_threads or max(args.threads))
        print(f"\ncross_validate folds (cpu x{torch.get_num_threads()}, separable data):")
        X, y, g = separable(10, 2)  # 120 images, 10 subjects; 3 folds -> 80 training images
        tr, te = group_kfold(g, 3, 0, y)[0]
        default = TrainConfig(device="cpu", model="yolo11", input="pseudo-discrete")  # a network
        for label, cfg in [
            ("early stopping", default),
            ("all 30 epochs", dataclasses.replace(default, patience=10_000)),
        ]:
            t = time.perf_counter()
            res = fit(X[tr], y[tr], g[tr], cfg, progress=False)
            auc = micro_roc_auc(y[te], predict_proba(res.model, X[te]))
            took = time.perf_counter() - t
            print(
                f"  defaults (scale s, batch 32, {tr.size} train images), {label}: "
                f"{took:.1f} s/fold, {len(res.history)} epochs run, "
                f"test micro AUC {auc:.3f}"
            )
            folds.append(
                [f"defaults (scale s, batch 32), {label}", str(tr.size), f"{took:.1f}",
                 str(len(res.history)), f"{auc:.3f}"]
            )  # fmt: skip
        for scale, epochs in [("n", 10), ("n", 15), ("s", 10)]:
            cfg = dataclasses.replace(default, scale=scale, epochs=epochs, batch_size=16)
            t = time.perf_counter()
            cv = cross_validate(X, y, g, cfg, EvalConfig(folds=3), progress=False)
            secs = time.perf_counter() - t
            ran = np.mean([len(h) for h in cv.histories])
            print(
                f"  demo scale {scale}, {epochs} epochs, batch 16, 3 folds: {secs / 3:.1f} s/fold "
                f"({ran:.0f} epochs run), micro AUC {micro_roc_auc(y, cv.probs):.3f}; "
                f"6 configs x 3 folds ~ {6 * secs / 60:.1f} min"
            )
            folds.append(
                [f"demo scale {scale}, {epochs} epochs, batch 16, 3 folds", "80",
                 f"{secs / 3:.1f}", f"{ran:.0f}", f"{micro_roc_auc(y, cv.probs):.3f}"]
            )  # fmt: skip
    columns = ["device", "network", "train img/s (batch 32)", "inference img/s (batch 256)"]
    tables = {"speed": {"columns": columns + ["train img/s at 64x64"] * args.pad, "rows": speed}}
    if folds:
        tables["folds"] = {
            "columns": ["fold", "train images", "s/fold", "epochs run", "micro AUC"],
            "rows": folds,
        }
    write_results(
        "train",
        tables=tables,
        figures={"torch": torch.__version__, "cores": os.cpu_count()},
    )


if __name__ == "__main__":
    main()
