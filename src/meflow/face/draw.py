"""Figures of the 42 regions: coloured, numbered regions on a face, and region borders."""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np

from meflow.errors import MeflowError
from meflow.face.landmarks import crop_transform, to_crop
from meflow.face.regions import N_REGIONS, REGIONS, rasterise


def region_colours() -> np.ndarray:
    """Gives a (43, 3) uint8 BGR palette: row 0 (background) black, rows 1..42 distinct colours."""
    out = np.zeros((N_REGIONS + 1, 3), dtype=np.uint8)
    for i in range(1, N_REGIONS + 1):
        hue = (i * 0.618034) % 1.0  # golden-ratio steps keep neighbouring ids apart in hue
        sat = 0.55 + 0.3 * (i % 2)
        val = 0.95 - 0.2 * ((i // 2) % 2)
        r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
        out[i] = (round(b * 255), round(g * 255), round(r * 255))
    return out


def _square_box(points: np.ndarray, margin: float) -> tuple[int, int, int, int]:
    pts = np.asarray(points, dtype=np.float64)
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * (0.5 + margin)
    half = max(half, 1.0)  # not clipped to the image: the crop pads outside it
    return (
        int(np.floor(cx - half)),
        int(np.floor(cy - half)),
        int(np.ceil(cx + half)),
        int(np.ceil(cy + half)),
    )


def draw_region_borders(
    image: np.ndarray,
    labels: np.ndarray,
    colour: tuple[int, int, int] = (255, 255, 255),
    thickness: int = 1,
) -> np.ndarray:
    """Gives a BGR copy of ``image`` with the borders between the regions of ``labels`` drawn.

    ``image`` may be grey or BGR, of any size: ``labels`` (an (H, W) map from
    :func:`meflow.face.rasterise`) is scaled to it by nearest neighbour. A pixel is a border
    pixel where its label differs from its right or lower neighbour and one of them is a region.
    """
    import cv2

    img = np.asarray(image)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.ndim == 3 and img.shape[2] == 1:
        img = cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    else:
        img = img.copy()
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    lab = np.asarray(labels)
    h, w = img.shape[:2]
    if lab.shape != (h, w):
        lab = cv2.resize(lab, (w, h), interpolation=cv2.INTER_NEAREST)
    border = np.zeros((h, w), dtype=bool)
    dx = (lab[:, 1:] != lab[:, :-1]) & ((lab[:, 1:] > 0) | (lab[:, :-1] > 0))
    dy = (lab[1:, :] != lab[:-1, :]) & ((lab[1:, :] > 0) | (lab[:-1, :] > 0))
    border[:, :-1] |= dx
    border[:-1, :] |= dy
    if thickness > 1:
        kernel = np.ones((thickness, thickness), dtype=np.uint8)
        border = cv2.dilate(border.astype(np.uint8), kernel) > 0
    img[border] = colour
    return img


def _label_spots(labels: np.ndarray) -> dict[int, tuple[int, int]]:
    """Gives, per region present, the (x, y) pixel deepest inside it (where its number goes)."""
    import cv2

    spots: dict[int, tuple[int, int]] = {}
    for rid in range(1, N_REGIONS + 1):
        mask = (labels == rid).astype(np.uint8)
        if not mask.any():
            continue
        dist = cv2.distanceTransform(np.pad(mask, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
        y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
        spots[rid] = (int(x), int(y))
    return spots


def draw_regions(
    image_bgr: np.ndarray,
    points: np.ndarray,
    path: str | Path | None = None,
    size: int = 640,
    alpha: float = 0.45,
    numbers: bool = True,
) -> np.ndarray:
    """Gives (and writes to ``path`` as PNG, if given) the face with its 42 regions drawn.

    The face (a square around the landmarks) is cropped from ``image_bgr`` and scaled to
    ``size`` pixels; each region is tinted with its colour, outlined, and numbered with its id.
    """
    import cv2

    img = np.asarray(image_bgr)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    box = _square_box(points, 0.06)
    m = crop_transform(box, size)
    crop = cv2.warpAffine(
        img,
        m,
        (size, size),
        flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(128, 128, 128),
    )
    pts = to_crop(points, m)
    labels = rasterise(pts, (size, size))
    colours = region_colours()
    tint = colours[labels].astype(np.float32)
    inside = labels > 0
    out = crop.astype(np.float32)
    out[inside] = (1 - alpha) * out[inside] + alpha * tint[inside]
    out_u8 = np.clip(out, 0, 255).astype(np.uint8)
    fixed = np.rint(pts * 16).astype(np.int32)
    line = max(1, size // 400)
    for r in REGIONS:
        poly = fixed[list(r.polygon)]
        cv2.polylines(out_u8, [poly], True, (40, 40, 40), line, cv2.LINE_AA, 4)
    if numbers:
        scale = size / 1400
        thick = max(1, size // 500)
        for rid, (x, y) in _label_spots(labels).items():
            text = str(rid)
            (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
            org = (x - tw // 2, y + th // 2)
            cv2.putText(
                out_u8,
                text,
                org,
                cv2.FONT_HERSHEY_SIMPLEX,
                scale,
                (255, 255, 255),
                thick + 2,
                cv2.LINE_AA,
            )
            cv2.putText(
                out_u8, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA
            )
    if path is not None:
        p = Path(path)
        if p.parent and not p.parent.exists():
            raise MeflowError(f"{p}: folder {p.parent} does not exist")
        if not cv2.imwrite(str(p), out_u8, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise MeflowError(
                f"{p}: cannot write the figure (use a .png path in a writable folder)"
            )
    return out_u8
