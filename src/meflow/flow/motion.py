"""Head-motion compensation: remove the flow of the head's rigid (similarity) motion.

A similarity transform (rotation, uniform scale, translation) is fitted on the stable
landmarks of the first frame of a pair; the flow it induces at every pixel is subtracted, so
that what remains is the non-rigid, expression-driven motion. Two ways to know where the
stable points went:

- 'rigid' (default): the optical flow itself, averaged in a small window at each stable
  landmark. Flow is precise to a few hundredths of a pixel.
- 'rigid-landmarks': the landmarks of the second frame. MediaPipe's landmarks jitter by up to
  a pixel or two from frame to frame even on a still face (measured: a still image repeated
  gives up to 2.7 px of "head motion"), which is as large as a micro-expression, so this
  mode injects landmark noise into every region; it is kept for comparison.

Landmarks are (478, 2) (or (478, 3); z is ignored) in the pixel coordinates of the image the
flow was computed on: x = column, y = row, pixel centres at integers (MediaPipe's normalised
coordinates times the crop size, minus 0.5; the half-pixel only matters when the scale changes,
by (scale - 1) * 0.5 px).
"""

from __future__ import annotations

import difflib

import cv2
import numpy as np

from meflow.errors import ConfigError

# MediaPipe Face Mesh indices that follow the skull and move little with expressions
# (groups checked against mediapipe.solutions.face_mesh_connections):
# - nose bridge and dorsum, between the eyes down to the tip (FACEMESH_NOSE): 168, 6, 197,
#   195, 5, 4, 1. The bridge sits on bone and cartilage; the tip moves only slightly with
#   nose wrinkling (AU9) and upper-lip raising (AU10).
# - eye corners (FACEMESH_RIGHT_EYE / FACEMESH_LEFT_EYE): 33 (right outer), 133 (right inner),
#   362 (left inner), 263 (left outer). The canthi are tied to the orbit by ligaments: lids
#   blink and cheeks raise (AU6) around them, the corners themselves hardly move.
# - face contour at the temples and in front of the ears (FACEMESH_FACE_OVAL): 127, 356
#   (temple level) and 234, 454 (ear level, above the jaw angle, so mouth opening does not
#   move them).
# Mouth, lips, brows, lids, cheeks and chin (the expression itself) are left out. The fit is
# robust (least median of squares), so one point that moves after all is outvoted.
STABLE_LANDMARKS: tuple[int, ...] = (
    168,
    6,
    197,
    195,
    5,
    4,
    1,
    33,
    133,
    362,
    263,
    127,
    356,
    234,
    454,
)

_STABLE_INDEX = np.array(STABLE_LANDMARKS, dtype=np.intp)
MOTION_MODES: tuple[str, ...] = ("none", "rigid", "rigid-landmarks")
FLOW_SAMPLE_RADIUS = 3  # px: the flow at a landmark is the mean over a (2r+1)^2 window


def _points(points: np.ndarray, name: str) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] < 2 or pts.shape[0] <= max(STABLE_LANDMARKS):
        raise ValueError(f"{name} must be (478, 2) landmarks in pixels, got {pts.shape}")
    return pts[:, :2]


def _least_squares_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    # Closed-form least-squares similarity (Umeyama 1991, without reflection), for the rare
    # case where OpenCV's robust fit gives up.
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    var = (s**2).sum()
    if var == 0:
        return np.array([[1.0, 0.0, md[0] - ms[0]], [0.0, 1.0, md[1] - ms[1]]])
    a = (s * d).sum() / var  # scale * cos
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / var  # scale * sin
    rot = np.array([[a, -b], [b, a]])
    t = md - rot @ ms
    return np.hstack([rot, t[:, None]])


def fit_similarity(
    points_prev: np.ndarray, points_next: np.ndarray, landmarks: tuple[int, ...] = STABLE_LANDMARKS
) -> np.ndarray:
    """Gives the 2x3 similarity matrix M (float64) with next ~ M @ [prev; 1] on ``landmarks``.

    Fitted with ``cv2.estimateAffinePartial2D`` by least median of squares (LMEDS: no
    threshold to tune, and OpenCV seeds its sampler with a constant, so the same points give
    the same matrix), then refined on the inliers. Landmarks that are not finite are skipped;
    fewer than 3 usable ones raise ValueError.
    """
    prev = _points(points_prev, "points_prev")[list(landmarks)]
    nxt = _points(points_next, "points_next")[list(landmarks)]
    return _fit(prev, nxt)


def _fit(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """``fit_similarity`` on (K, 2) float64 point sets that correspond row by row."""
    ok = np.isfinite(prev).all(1) & np.isfinite(nxt).all(1)
    if ok.sum() < 3:
        raise ValueError(f"only {int(ok.sum())} stable landmarks are usable; need at least 3")
    src, dst = (prev, nxt) if ok.all() else (prev[ok], nxt[ok])
    m, _ = cv2.estimateAffinePartial2D(
        src.astype(np.float32), dst.astype(np.float32), method=cv2.LMEDS
    )
    if m is None or not np.isfinite(m).all():
        m = _least_squares_similarity(src, dst)
    return np.asarray(m, dtype=np.float64)


def rigid_flow(
    points_prev: np.ndarray, points_next: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """Gives the float32 (H, W, 2) flow (dx, dy) that the fitted head similarity induces.

    At pixel (x, y): M @ [x, y, 1] - [x, y], with M from ``fit_similarity`` on
    ``STABLE_LANDMARKS``.
    """
    return similarity_field(fit_similarity(points_prev, points_next), shape)


def similarity_field(
    m: np.ndarray, shape: tuple[int, ...], origin: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """Gives the float32 (H, W, 2) flow M @ [x, y, 1] - [x, y] of a 2x3 similarity M.

    ``origin`` (x0, y0) is the image pixel of the field's top-left element: a window of a
    larger field, with the same values as the full field has there.
    """
    h, w = int(shape[0]), int(shape[1])
    x = np.arange(origin[0], origin[0] + w, dtype=np.float64)[None, :]
    y = np.arange(origin[1], origin[1] + h, dtype=np.float64)[:, None]
    out = np.empty((h, w, 2), np.float32)
    out[..., 0] = (m[0, 0] - 1.0) * x + m[0, 1] * y + m[0, 2]
    out[..., 1] = m[1, 0] * x + (m[1, 1] - 1.0) * y + m[1, 2]
    return out


def flow_at(flow: np.ndarray, points: np.ndarray, radius: int = FLOW_SAMPLE_RADIUS) -> np.ndarray:
    """Gives the mean flow (K, 2) in a window around each point; NaN for points off the image.

    The window is (2r+1)^2 pixels around the point's nearest pixel; near the image edge it is
    mirrored as ``cv2.blur`` does (BORDER_REFLECT_101).
    """
    h, w = flow.shape[:2]
    k = 2 * radius + 1
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    out = np.full((pts.shape[0], 2), np.nan)
    xi = np.rint(pts[:, 0])
    yi = np.rint(pts[:, 1])
    inside = np.isfinite(xi) & np.isfinite(yi) & (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    if not inside.any():
        return out
    x, y = xi[inside].astype(np.intp), yi[inside].astype(np.intp)
    if x.min() >= radius and y.min() >= radius and x.max() < w - radius and y.max() < h - radius:
        # every window inside the image (the usual case): sum the windows directly; float64
        # sums of float32 values are exact here, so this equals the box filter below
        off = np.arange(-radius, radius + 1)
        win = flow[(y[:, None] + off)[:, :, None], (x[:, None] + off)[:, None, :]]
        out[inside] = (win.sum(axis=(1, 2), dtype=np.float64) * (1.0 / (k * k))).astype(np.float32)
        return out
    smooth = cv2.blur(np.ascontiguousarray(flow, dtype=np.float32), (k, k))
    out[inside] = smooth[y, x]
    return out


def similarity_from_flow(flow: np.ndarray, points_prev: np.ndarray) -> np.ndarray:
    """Gives the 2x3 similarity that best explains the flow at the stable landmarks."""
    stable = _points(points_prev, "points_prev")[_STABLE_INDEX]
    return _fit(stable, stable + flow_at(flow, stable))


def head_motion(
    flow: np.ndarray, points_prev: np.ndarray, points_next: np.ndarray, mode: str
) -> np.ndarray | None:
    """Gives the 2x3 similarity of the head's motion that ``mode`` removes (None for 'none')."""
    if mode == "none":
        return None
    if mode == "rigid":
        return similarity_from_flow(np.asarray(flow, dtype=np.float32), points_prev)
    if mode == "rigid-landmarks":
        return fit_similarity(points_prev, points_next)
    close = difflib.get_close_matches(str(mode), MOTION_MODES, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(
        f"unknown motion compensation {mode!r}{hint} (valid: {', '.join(MOTION_MODES)})"
    )


def compensate(
    flow: np.ndarray,
    points_prev: np.ndarray,
    points_next: np.ndarray,
    mode: str,
    window: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Gives the flow with the head's motion removed according to ``mode``.

    'none': the flow itself (not copied); 'rigid': flow minus the similarity fitted to the
    flow at the stable landmarks of the first frame; 'rigid-landmarks': flow minus
    ``rigid_flow`` of the landmarks of both frames (new float32 arrays). ``window``
    (x0, y0, x1, y1) gives only ``[y0:y1, x0:x1]`` of the result (the same values; the fit
    still uses the whole flow), for callers that need no more.
    """
    m = head_motion(flow, points_prev, points_next, mode)
    if window is not None:
        x0, y0, x1, y1 = window
        flow = flow[y0:y1, x0:x1]
    if m is None:
        return flow
    flow = np.asarray(flow, dtype=np.float32)
    return flow - similarity_field(m, flow.shape[:2], (window or (0, 0))[:2])
