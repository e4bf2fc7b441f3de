"""The prediction timeline figure, drawn with OpenCV.

Spotted intervals (with a spotter) are shaded over the plot, micro-expressions orange with
their emotion written at the top, macro-expressions blue.

``meflow predict`` draws one figure per input. Matplotlib took 0.25-0.35 s for it here, about
as long as the features of a 3 s clip; this module draws the same content (class
probabilities at each window's centre, invalid windows shaded, frames without a face marked)
in about 10 ms, so a batch of short clips is not dominated by its figures.

Layout (pixels of a 1200 x 460 image): the plot area, its title above, the time axis below,
the legend on the right. Colours follow matplotlib's default cycle, so the timeline matches
meflow's other figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from meflow.inference.results import PredictionResult

# matplotlib's tab10, in OpenCV's BGR order
PALETTE_BGR: tuple[tuple[int, int, int], ...] = (
    (180, 119, 31),
    (14, 127, 255),
    (44, 160, 44),
    (40, 39, 214),
    (189, 103, 148),
    (75, 86, 140),
    (194, 119, 227),
    (127, 127, 127),
    (34, 189, 188),
    (207, 190, 23),
)
INVALID_BGR = (204, 204, 204)  # grey 0.8
NO_FACE_BGR = (40, 39, 214)  # tab:red
MICRO_BGR = (120, 190, 255)  # light orange
MACRO_BGR = (235, 205, 160)  # light blue
GRID_BGR = (225, 225, 225)
TEXT_BGR = (30, 30, 30)

WIDTH, HEIGHT = 1200, 460
LEFT, RIGHT, TOP, BOTTOM = 78, 200, 44, 64  # margins around the plot area
Y_MIN, Y_MAX = -0.02, 1.02


@dataclass(frozen=True)
class Layout:
    """Maps data (seconds, probability) to pixel coordinates of the plot area."""

    x0: int
    y0: int
    x1: int
    y1: int
    t_max: float

    def x(self, t: np.ndarray | float) -> np.ndarray:
        return self.x0 + (np.asarray(t, dtype=np.float64) / self.t_max) * (self.x1 - self.x0)

    def y(self, p: np.ndarray | float) -> np.ndarray:
        frac = (np.asarray(p, dtype=np.float64) - Y_MIN) / (Y_MAX - Y_MIN)
        return self.y1 - frac * (self.y1 - self.y0)


def layout(duration: float) -> Layout:
    """The plot area of a timeline of ``duration`` seconds."""
    return Layout(LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM, max(float(duration), 1e-3))


def nice_ticks(t_max: float, most: int = 10) -> np.ndarray:
    """Tick positions 0, step, 2 step, ... <= t_max, step in {1, 2, 5} x 10^k, at most ``most``."""
    raw = max(t_max, 1e-9) / most
    base = 10.0 ** math.floor(math.log10(raw))
    step = next(m * base for m in (1, 2, 5, 10) if m * base >= raw)
    return np.arange(0.0, t_max + 1e-9 * step, step)


def _fmt(v: float) -> str:
    return f"{v:.10g}" if abs(v) >= 1e-9 else "0"


def draw_timeline(
    centres: np.ndarray,
    probs: np.ndarray,
    classes: Sequence[str],
    duration: float,
    title: str,
    invalid_spans: Sequence[tuple[float, float]] = (),
    no_face_spans: Sequence[tuple[float, float]] = (),
    intervals: Sequence[tuple[float, float, str, str]] = (),
) -> np.ndarray:
    """The BGR uint8 (460, 1200, 3) image of the timeline.

    ``centres`` (windows,) in seconds, ``probs`` (windows, classes) with NaN rows for invalid
    windows (lines break there); ``invalid_spans`` and ``no_face_spans`` are (start, end)
    seconds, shaded grey over the plot and marked red under it; ``intervals`` are (start,
    end, type, label) of spotted intervals, shaded by type (micro, macro), the label above.
    """
    import cv2

    aa = cv2.LINE_AA
    font = cv2.FONT_HERSHEY_SIMPLEX
    img = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    lay = layout(duration)

    def clip_x(t: float) -> int:
        return int(np.clip(round(float(lay.x(t))), lay.x0, lay.x1))

    # shading first, so that grid and lines stay visible on top
    shade = img.copy()
    for a, b, kind, _ in intervals:
        colour = MICRO_BGR if kind == "micro" else MACRO_BGR
        cv2.rectangle(shade, (clip_x(a), lay.y0), (clip_x(b), lay.y1), colour, -1)
    for a, b in invalid_spans:
        cv2.rectangle(shade, (clip_x(a), lay.y0), (clip_x(b), lay.y1), INVALID_BGR, -1)
    cv2.addWeighted(shade, 0.7, img, 0.3, 0.0, dst=img)
    band = max(3, round(0.03 * (lay.y1 - lay.y0)))
    for a, b in no_face_spans:
        cv2.rectangle(img, (clip_x(a), lay.y1 - band), (clip_x(b), lay.y1), NO_FACE_BGR, -1)

    _axes(img, lay)
    _lines(img, lay, centres, probs)

    for a, _, _, label in intervals:
        if label:
            cv2.putText(img, label, (clip_x(a) + 2, lay.y0 + 14), font, 0.4, TEXT_BGR, 1, aa)
    cv2.rectangle(img, (lay.x0, lay.y0), (lay.x1, lay.y1), TEXT_BGR, 1)

    (tw, _th), _ = cv2.getTextSize(title, font, 0.55, 1)
    cv2.putText(img, title, ((lay.x0 + lay.x1 - tw) // 2, lay.y0 - 14), font, 0.55, TEXT_BGR, 1, aa)
    xlabel = "time (s), window centre"
    (tw, _th), _ = cv2.getTextSize(xlabel, font, 0.5, 1)
    cv2.putText(img, xlabel, ((lay.x0 + lay.x1 - tw) // 2, HEIGHT - 14), font, 0.5, TEXT_BGR, 1, aa)
    _vertical_text(img, "probability", 18, (lay.y0 + lay.y1) // 2, 0.5)

    entries: list[tuple[str, tuple[int, int, int], str]] = [
        (c, PALETTE_BGR[k % len(PALETTE_BGR)], "line") for k, c in enumerate(classes)
    ]
    for kind, colour in (("micro", MICRO_BGR), ("macro", MACRO_BGR)):
        if any(iv[2] == kind for iv in intervals):
            entries.append((f"{kind}-expression", colour, "box"))
    if invalid_spans:
        entries.append(("invalid window", INVALID_BGR, "box"))
    if no_face_spans:
        entries.append(("no face", NO_FACE_BGR, "box"))
    _legend(img, lay, entries)
    return img


def _px(v: float | np.ndarray) -> int:
    return round(float(v))


def _axes(img: np.ndarray, lay: Layout) -> None:
    """The probability grid and the time ticks, with their labels."""
    import cv2

    aa = cv2.LINE_AA
    font = cv2.FONT_HERSHEY_SIMPLEX
    px = _px
    for p in np.arange(0.0, 1.0001, 0.25):
        y = px(lay.y(p))
        cv2.line(img, (lay.x0, y), (lay.x1, y), GRID_BGR, 1)
        cv2.line(img, (lay.x0 - 5, y), (lay.x0, y), TEXT_BGR, 1)
        label = f"{p:.2f}"
        (tw, th), _ = cv2.getTextSize(label, font, 0.45, 1)
        cv2.putText(img, label, (lay.x0 - 9 - tw, y + th // 2), font, 0.45, TEXT_BGR, 1, aa)
    for t in nice_ticks(lay.t_max):
        x = px(lay.x(t))
        cv2.line(img, (x, lay.y0), (x, lay.y1), GRID_BGR, 1)
        cv2.line(img, (x, lay.y1), (x, lay.y1 + 5), TEXT_BGR, 1)
        label = _fmt(round(float(t), 6))
        (tw, th), _ = cv2.getTextSize(label, font, 0.45, 1)
        cv2.putText(img, label, (x - tw // 2, lay.y1 + 10 + th), font, 0.45, TEXT_BGR, 1, aa)


def _lines(img: np.ndarray, lay: Layout, centres: np.ndarray, probs: np.ndarray) -> None:
    """Each class's probabilities at the window centres, broken at invalid windows."""
    import cv2

    aa = cv2.LINE_AA
    px = _px
    xs = lay.x(centres)
    for k in range(probs.shape[1]):
        colour = PALETTE_BGR[k % len(PALETTE_BGR)]
        ys = lay.y(probs[:, k])
        ok = np.isfinite(ys)
        pts = np.stack([xs, ys], axis=1)
        for j in range(len(xs) - 1):  # a segment only between two valid windows
            if ok[j] and ok[j + 1]:
                p0 = (px(pts[j, 0] * 16), px(pts[j, 1] * 16))
                p1 = (px(pts[j + 1, 0] * 16), px(pts[j + 1, 1] * 16))
                cv2.line(img, p0, p1, colour, 2, aa, shift=4)
        for j in np.flatnonzero(ok):
            centre = (px(pts[j, 0] * 16), px(pts[j, 1] * 16))
            cv2.circle(img, centre, 3 * 16, colour, -1, aa, shift=4)


def _legend(
    img: np.ndarray, lay: Layout, entries: Sequence[tuple[str, tuple[int, int, int], str]]
) -> None:
    """The legend right of the plot: (name, colour, "line" or "box") entries."""
    import cv2

    aa = cv2.LINE_AA
    font = cv2.FONT_HERSHEY_SIMPLEX
    lx = lay.x1 + 16
    ly = (lay.y0 + lay.y1) // 2 - 11 * len(entries)
    for i, (name, colour, kind) in enumerate(entries):
        y = ly + 22 * i
        if kind == "line":
            cv2.line(img, (lx, y), (lx + 26, y), colour, 2, aa)
            cv2.circle(img, (lx + 13, y), 3, colour, -1, aa)
        else:
            cv2.rectangle(img, (lx, y - 6), (lx + 26, y + 6), colour, -1)
        cv2.putText(img, name, (lx + 34, y + 5), font, 0.45, TEXT_BGR, 1, aa)


def _vertical_text(img: np.ndarray, text: str, x: int, y_centre: int, scale: float) -> None:
    """Writes ``text`` rotated 90 degrees counter-clockwise, centred on ``y_centre``."""
    import cv2

    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw, th), base = cv2.getTextSize(text, font, scale, 1)
    patch = np.full((th + base + 4, tw + 4, 3), 255, np.uint8)
    cv2.putText(patch, text, (2, th + 2), font, scale, TEXT_BGR, 1, cv2.LINE_AA)
    rot = cv2.rotate(patch, cv2.ROTATE_90_COUNTERCLOCKWISE)
    h, w = rot.shape[:2]
    top = max(0, y_centre - h // 2)
    img[top : top + h, x : x + w] = np.minimum(img[top : top + h, x : x + w], rot)


def write_png(path: Path, img: np.ndarray) -> Path:
    """Writes ``img`` as a PNG at ``path`` (atomically: a complete file or none)."""
    import cv2

    from meflow.features.cache import atomic_write_bytes

    ok, buf = cv2.imencode(".png", img)
    if not ok:  # pragma: no cover - encoding an in-memory uint8 image does not fail
        raise OSError(f"{path}: PNG encoding failed")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.tobytes())
    return path


def plot_timeline(
    result: PredictionResult,
    path: Path,
    frame_valid: np.ndarray | None = None,
    frame_time: np.ndarray | None = None,
) -> Path:
    """The PNG at ``path``: class probabilities per window centre over time.

    Invalid windows break the lines and their stretch of the timeline (the window's centre
    +- half the distance to its neighbours) is shaded grey; frames without a face are marked
    by a red band under the axis; spotted intervals are shaded (about 10 ms with OpenCV).
    """
    wins = result.windows
    centres = np.array([(w.start_time + w.end_time) / 2 for w in wins])
    edges = np.concatenate(
        [
            [wins[0].start_time],
            (centres[1:] + centres[:-1]) / 2 if len(wins) > 1 else [],
            [wins[-1].end_time],
        ]
    )
    invalid = [(float(edges[j]), float(edges[j + 1])) for j, w in enumerate(wins) if not w.valid]
    no_face: list[tuple[float, float]] = []
    if frame_valid is not None and frame_time is not None and (~frame_valid).any():
        t = frame_time[: len(frame_valid)]
        half = 0.5 / result.analysis_fps
        bad = ~frame_valid[: len(t)]
        # runs of frames without a face, one band each
        change = np.flatnonzero(np.diff(np.concatenate([[0], bad.astype(np.int8), [0]])))
        no_face = [
            (float(t[a] - half), float(t[b - 1] + half))
            for a, b in zip(change[::2], change[1::2], strict=True)
        ]
    title = f"{result.source.name}: {len(wins)} windows, {int(result.valid.sum())} valid"
    spans = [(r.onset_s, r.offset_s, r.type, r.emotion or "") for r in result.intervals or []]
    if result.intervals is not None:
        title += f", {len(result.intervals)} intervals spotted"
    img = draw_timeline(
        centres,
        result.probabilities,
        result.classes,
        result.duration,
        title,
        invalid,
        no_face,
        spans,
    )
    return write_png(path, img)
