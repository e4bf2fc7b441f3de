"""Prints how exactly every flow backend recovers known translations and a head's rigid motion.

Run: ``.venv/bin/python benchmarks/flow_accuracy.py``. The construction of
tests/flow/test_backends.py and tests/flow/test_motion.py: scikit-image's astronaut (tight
face crop, equalised) moved by a known amount at the 8 sector centres (22.5 + 45 k degrees),
re-sampled by scipy's cubic spline (half the shift each way), the flow pooled over a 6x7 grid
of 42 cells inside a 16 px border. Printed per backend and amplitude: the regions whose sector
is right, the worst and the median region's magnitude error, the share of regions off by more
than 20 %, and the median end-point error over the grid's pixels. Then: the largest region
magnitude without motion; the mean flow's bias when the frames are moved by cv2.warpAffine
instead of the spline; the median residual of a 1.5 degree roll plus a (0.8, -0.6) px shift
after head-motion compensation; and ``lk-dense`` with other iteration and window settings, and
at 5 and 8 px.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
import scipy.ndimage as ndi

from _results import write_results  # benchmarks/ is on sys.path when a script runs
from meflow.features.discretise import sector_of
from meflow.features.pooling import pool_regions
from meflow.flow import FLOW_BACKENDS, get_flow
from meflow.flow.lkdense import LKDenseFlow
from meflow.flow.motion import compensate

SIZE, MARGIN, BORDER = 192, 24, 16
DIRECTIONS = [np.pi / 8 + k * np.pi / 4 for k in range(8)]
AMPLITUDES = (0.3, 0.5, 1.0, 2.0)


def _label(amplitude: float) -> str:
    """``0p3`` for 0.3 px: a figure key without a dot."""
    return f"{amplitude:g}".replace(".", "p")


def face_source() -> np.ndarray:
    """The astronaut's face, equalised, float32 (240, 240): the tests' ``face_source``."""
    from skimage import data

    gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    face = cv2.resize(gray[40:200, 155:305], (SIZE + 2 * MARGIN,) * 2, interpolation=cv2.INTER_AREA)
    return cv2.equalizeHist(face).astype(np.float32)


def render(source: np.ndarray, matrix: np.ndarray | None = None, shift=(0.0, 0.0)) -> np.ndarray:
    """The 192x192 uint8 crop of ``source`` moved by ``shift`` or an affine map (cubic spline)."""
    m = np.eye(3)
    if matrix is not None:
        m[:2] = matrix
    m[:2, 2] += shift
    inv = np.linalg.inv(m)
    lin, off = inv[:2, :2][::-1, ::-1], inv[:2, 2][::-1] + MARGIN
    out = ndi.affine_transform(
        source, lin, offset=off, output_shape=(SIZE, SIZE), order=3, mode="reflect"
    )
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def warp(source: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """The same crop moved by ``cv2.warpAffine`` (positions quantised to 1/32 px)."""
    m = np.array([[1, 0, dx - MARGIN], [0, 1, dy - MARGIN]], np.float32)
    out = cv2.warpAffine(source, m, (SIZE, SIZE), flags=cv2.INTER_CUBIC)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def grid_labels() -> np.ndarray:
    """6x7 cells numbered 1..42 inside a 16 px background border."""
    inner = SIZE - 2 * BORDER
    r = np.minimum(np.arange(inner) * 6 // inner, 5)
    c = np.minimum(np.arange(inner) * 7 // inner, 6)
    lab = np.zeros((SIZE, SIZE), np.uint8)
    lab[BORDER:-BORDER, BORDER:-BORDER] = r[:, None] * 7 + c[None, :] + 1
    return lab


def _motion(amplitude: float, phi: float) -> tuple[float, float]:
    return amplitude * np.cos(phi), -amplitude * np.sin(phi)


def translations(flow, src: np.ndarray, labels: np.ndarray, amplitude: float) -> dict[str, float]:
    """Sector hits, region magnitude errors and median end-point error over the 8 directions."""
    inner = labels > 0
    right, errs, epe = 0, [], []
    for k, phi in enumerate(DIRECTIONS):
        dx, dy = _motion(amplitude, phi)
        f = flow(render(src, shift=(-dx / 2, -dy / 2)), render(src, shift=(dx / 2, dy / 2)))
        mag, ang = pool_regions(f, labels)
        right += int(np.sum(sector_of(ang) == k))
        errs.append(np.abs(mag / amplitude - 1))
        epe.append(np.hypot(f[..., 0] - dx, f[..., 1] - dy)[inner])
    e = np.concatenate(errs)
    return {
        "right": right,
        "regions": e.size,
        "worst": 100 * float(e.max()),
        "median": 100 * float(np.median(e)),
        "beyond20": 100 * float(np.mean(e > 0.2)),
        "epe": float(np.median(np.concatenate(epe))),
    }


def warp_bias(
    flow, src: np.ndarray, labels: np.ndarray, amplitude: float = 1.0
) -> tuple[float, float]:
    """Median over the 8 directions of |mean flow - truth| (px): spline, warpAffine frames."""
    inner = labels > 0
    out = []
    for make in ("spline", "warp"):
        biases = []
        for phi in DIRECTIONS:
            dx, dy = _motion(amplitude, phi)
            if make == "spline":
                a, b = render(src, shift=(-dx / 2, -dy / 2)), render(src, shift=(dx / 2, dy / 2))
            else:
                a, b = warp(src, -dx / 2, -dy / 2), warp(src, dx / 2, dy / 2)
            mean = flow(a, b)[inner].mean(axis=0)
            biases.append(float(np.hypot(mean[0] - dx, mean[1] - dy)))
        out.append(float(np.median(biases)))
    return out[0], out[1]


def head_motion(flow, src: np.ndarray) -> tuple[float, float]:
    """Median flow magnitude over the grid's pixels before and after ``rigid`` compensation."""
    a = np.deg2rad(1.5)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    c = np.full(2, (SIZE - 1) / 2)
    m = np.hstack([rot, (c - rot @ c + [0.8, -0.6])[:, None]])
    p = np.random.default_rng(0).uniform(30, 160, size=(478, 2))
    f = flow(render(src), render(src, m))
    residual = compensate(f, p, p @ m[:, :2].T + m[:, 2], "rigid")
    inner = slice(BORDER, SIZE - BORDER)

    def med(x: np.ndarray) -> float:
        return float(np.median(np.hypot(*np.moveaxis(x[inner, inner], -1, 0))))

    return med(f), med(residual)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.parse_args()
    t0 = time.perf_counter()
    src, labels = face_source(), grid_labels()
    rows, motion_rows, figures = [], [], {}
    print(
        f"{'backend':<11}{'px':>5}{'sector right':>14}{'worst %':>9}{'median %':>9}"
        f"{'>20 %':>7}{'EPE px':>8}"
    )
    for name in FLOW_BACKENDS:
        flow = get_flow(name)
        for amp in AMPLITUDES:
            r = translations(flow, src, labels, amp)
            cells = [
                name,
                f"{amp:g}",
                f"{r['right']} of {r['regions']}",
                f"{r['worst']:.0f}",
                f"{r['median']:.0f}",
                f"{r['beyond20']:.0f}",
                f"{r['epe']:.3f}",
            ]
            print(
                f"{cells[0]:<11}{cells[1]:>5}{cells[2]:>14}{cells[3]:>9}{cells[4]:>9}"
                f"{cells[5]:>7}{cells[6]:>8}"
            )
            rows.append(cells)
            for key, value in zip(
                ("right", "worst", "median", "beyond20", "epe"), cells[2:], strict=True
            ):
                figures[f"{name}.{key}_{_label(amp)}"] = value
        frame = render(src)
        still, _ = pool_regions(flow(frame, frame), labels)
        zero = float(np.nanmax(still))
        spline, warped = warp_bias(flow, src, labels)
        before, after = head_motion(flow, src)
        motion_rows.append(
            [name, f"{zero:.3f}", f"{spline:.3f}", f"{warped:.3f}", f"{before:.2f}", f"{after:.3f}"]
        )
        figures |= {
            f"{name}.still_max": f"{zero:.3f}",
            f"{name}.bias_spline": f"{spline:.3f}",
            f"{name}.bias_warp": f"{warped:.3f}",
            f"{name}.head_before": f"{before:.2f}",
            f"{name}.head_after": f"{after:.3f}",
        }
    print(
        f"\n{'backend':<11}{'still max':>10}{'bias spline':>12}{'bias warp':>10}"
        f"{'head before':>12}{'after':>7}"
    )
    for m in motion_rows:
        print(f"{m[0]:<11}{m[1]:>10}{m[2]:>12}{m[3]:>10}{m[4]:>12}{m[5]:>7}")
    variants: list[tuple[str, LKDenseFlow, float]] = [
        ("default (1 iteration, window sigma 3 px)", LKDenseFlow(), 1.0),
        ("2 iterations", LKDenseFlow(iterations=2), 1.0),
        ("window sigma 2 px", LKDenseFlow(window=2.0), 1.0),
        ("default", LKDenseFlow(), 5.0),
        ("default", LKDenseFlow(), 8.0),
    ]
    lk_rows = []
    print("\nlk-dense, median end-point error:")
    for i, (label, lk, amp) in enumerate(variants):
        r = translations(lk, src, labels, amp)
        cells = [label, f"{amp:g}", f"{r['epe']:.3f}", f"{r['right']} of {r['regions']}"]
        print(f"  {label:<42}{amp:>4g} px {cells[2]} px, sector right in {cells[3]}")
        lk_rows.append(cells)
        figures[f"lk-dense.variant{i}.epe_{_label(amp)}"] = cells[2]
    seconds = time.perf_counter() - t0
    print(f"\n{seconds:.0f} s")
    write_results(
        "flow_accuracy",
        tables={
            "translations": {
                "columns": [
                    "backend",
                    "shift px",
                    "regions with the right sector",
                    "worst region's magnitude error %",
                    "median region's %",
                    "regions beyond 20 % (%)",
                    "median end-point error px",
                ],
                "rows": rows,
            },
            "still_and_head": {
                "columns": [
                    "backend",
                    "largest region without motion px",
                    "mean-flow bias at 1 px, spline frames px",
                    "the same, cv2.warpAffine frames px",
                    "head motion: median flow before px",
                    "median residual after px",
                ],
                "rows": motion_rows,
            },
            "lk_dense": {
                "columns": [
                    "lk-dense",
                    "shift px",
                    "median end-point error px",
                    "regions with the right sector",
                ],
                "rows": lk_rows,
            },
        },
        figures=figures | {"seconds": f"{seconds:.0f}"},
    )


if __name__ == "__main__":
    main()
