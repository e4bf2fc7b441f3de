"""Prints ms per frame pair of every flow backend, and of region pooling + discretisation.

Run: ``.venv/bin/python benchmarks/flow.py [--threads N] [--repeats R]``. Frames are a smooth
random texture moved by (1.0, -0.5) px; pooling uses a 6x7 grid of 42 regions. Figures are
the median and the minimum over the repeats (the minimum is the least disturbed by other
processes on a shared machine).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import cv2
import numpy as np

from _results import write_results  # benchmarks/ is on sys.path when a script runs
from meflow.features.discretise import angle_to_uint8, discretise
from meflow.features.pooling import AVERAGES, pool_regions
from meflow.flow import FLOW_BACKENDS, get_flow


def _frames(size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    tex = cv2.GaussianBlur(rng.random((size + 16, size + 16)).astype(np.float32), (0, 0), 2.0)
    tex = cv2.normalize(tex, None, 0, 255, cv2.NORM_MINMAX)
    m = np.float32([[1, 0, 1.0], [0, 1, -0.5]])
    nxt = cv2.warpAffine(tex, m, tex.shape[::-1], flags=cv2.INTER_CUBIC)
    crop = slice(8, 8 + size)
    return tex[crop, crop].astype(np.uint8), nxt[crop, crop].astype(np.uint8)


def _labels(size: int) -> np.ndarray:
    r = np.arange(size) * 6 // size
    c = np.arange(size) * 7 // size
    return (r[:, None] * 7 + c[None, :] + 1).astype(np.uint8)


def _time(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    fn()  # warm-up: first-call allocations, OpenCV's lazy initialisation
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return 1000 * float(np.median(ts)), 1000 * min(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="cv2.setNumThreads (default: cv2's)")
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} thread(s), {args.repeats} repeats")
    print(f"{'backend':<12}{'192x192 median/min ms':>24}{'256x256 median/min ms':>24}")
    pairs, pooling = [], []
    figures: dict[str, object] = {"threads": cv2.getNumThreads(), "repeats": args.repeats}
    for name in FLOW_BACKENDS:
        row = f"{name:<12}"
        pairs.append([name])
        for size in (192, 256):
            backend = get_flow(name)
            prev, nxt = _frames(size)
            reps = max(3, args.repeats // 10) if name == "tvl1" else args.repeats
            med, best = _time(lambda b=backend, p=prev, n=nxt: b(p, n), reps)
            row += f"{med:>16.2f} / {best:<6.2f}"
            pairs[-1] += [f"{med:.2f}", f"{best:.2f}"]
            figures[f"{name}.min_ms{size}"] = f"{best:.1f}"  # the least disturbed
        print(row)
    prev, nxt = _frames(192)
    flow = get_flow("dis")(prev, nxt)
    labels = _labels(192)
    print("\nper frame at 192x192, 42 regions (median / min ms):")
    for average in AVERAGES:
        med, best = _time(lambda a=average: pool_regions(flow, labels, 42, a), args.repeats * 10)
        print(f"  pool_regions[{average}]{'':<{12 - len(average)}}{med:8.3f} / {best:.3f}")
        pooling.append([f"pool_regions[{average}]", f"{med:.3f}", f"{best:.3f}"])
    _, angle = pool_regions(flow, labels)
    med, best = _time(
        lambda: (angle_to_uint8(discretise(angle)), angle_to_uint8(angle)), args.repeats * 10
    )
    print(f"  discretise + 2x angle_to_uint8 {med:8.3f} / {best:.3f}")
    pooling.append(["discretise + 2x angle_to_uint8", f"{med:.3f}", f"{best:.3f}"])
    ms = ("median ms", "min ms")
    write_results(
        "flow",
        tables={
            "backends": {
                "columns": ["backend", *(f"{s}x{s} {m}" for s in (192, 256) for m in ms)],
                "rows": pairs,
            },
            "pooling": {"columns": ["per frame at 192x192, 42 regions", *ms], "rows": pooling},
        },
        figures=figures,
    )


if __name__ == "__main__":
    main()
