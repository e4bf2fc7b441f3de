"""Every face of a photograph, with its 478 Face Mesh landmarks.

MediaPipe's face detector (the short-range model inside Face Mesh) finds faces that fill a
good part of the image: in a group photo of 1000x667 pixels it finds one of five faces, in a
1280x720 one none. So the photo is also searched in overlapping square tiles of several
sizes; a face found in several tiles is kept once, from the largest tile in which it lies
wholly inside (a face cut by a tile's edge gets poor landmarks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from meflow.face.landmarks import N_LANDMARKS, _face_mesh_module, quiet_native_stderr

TILE_SIDES = (512, 384, 256)  # pixels, after the photo is scaled to MAX_SIDE at most
MAX_SIDE = 1280
MIN_FACE = 24  # pixels of face height (forehead 10 to chin 152) at the searched scale


@dataclass(frozen=True)
class FoundFace:
    """One face: 478 landmarks (x, y) in the photo's pixels and where it was found."""

    landmarks: np.ndarray  # (478, 2) float32
    tile: tuple[int, int, int, int]  # x0, y0, x1, y1 of the searched square (photo pixels)

    @property
    def centre(self) -> np.ndarray:
        """The midpoint of forehead (10) and chin (152)."""
        return 0.5 * (self.landmarks[10] + self.landmarks[152]).astype(np.float64)

    @property
    def height(self) -> float:
        """Forehead (10) to chin (152), pixels."""
        return float(np.linalg.norm(self.landmarks[152] - self.landmarks[10]))


def _mesh(max_faces: int, min_confidence: float) -> Any:
    face_mesh = _face_mesh_module()
    with quiet_native_stderr():
        return face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=max_faces,
            refine_landmarks=True,
            min_detection_confidence=min_confidence,
        )


def _detect(mesh: Any, rgb: np.ndarray) -> list[np.ndarray]:
    with quiet_native_stderr():
        faces = mesh.process(rgb).multi_face_landmarks or []
    h, w = rgb.shape[:2]
    out = []
    for f in faces:
        xy = np.array([(p.x, p.y) for p in f.landmark], dtype=np.float32)
        if xy.shape == (N_LANDMARKS, 2):
            out.append(xy * np.array([w, h], dtype=np.float32) - np.float32(0.5))
    return out


def _tiles(h: int, w: int) -> list[tuple[int, int, int]]:
    """Gives (x0, y0, side) of the whole photo's square tiles, largest first, half overlapping."""
    out = [(0, 0, 0)]  # 0: the whole photo, unsquared
    for side in TILE_SIDES:
        if side >= min(h, w):
            continue
        step = side // 2
        ys = sorted({*range(0, max(h - side, 0) + 1, step), max(h - side, 0)})
        xs = sorted({*range(0, max(w - side, 0) + 1, step), max(w - side, 0)})
        out += [(x, y, side) for y in ys for x in xs]
    return out


def _inside(points: np.ndarray, box: tuple[int, int, int, int], shape: tuple[int, int]) -> bool:
    """True when the landmarks keep 2 px from every tile edge that is not the photo's edge."""
    x0, y0, x1, y1 = box
    h, w = shape
    lo, hi = points.min(axis=0), points.max(axis=0)
    return bool(
        (x0 == 0 or lo[0] >= x0 + 2)
        and (y0 == 0 or lo[1] >= y0 + 2)
        and (x1 == w or hi[0] <= x1 - 3)
        and (y1 == h or hi[1] <= y1 - 3)
    )


def find_faces(
    image_bgr: np.ndarray, max_faces: int = 20, min_confidence: float = 0.5
) -> list[FoundFace]:
    """Gives the faces of a BGR photo, ordered left to right (by the centre's x).

    Two detections are one face when their centres lie closer than half the smaller face's
    height. Landmarks are in the photo's own pixels, whatever scale it was searched at.
    """
    import cv2

    h0, w0 = image_bgr.shape[:2]
    scale = min(1.0, MAX_SIDE / max(h0, w0))
    img = image_bgr
    if scale < 1:
        img = cv2.resize(
            image_bgr, (round(w0 * scale), round(h0 * scale)), interpolation=cv2.INTER_AREA
        )
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    kept: list[FoundFace] = []
    mesh = _mesh(max_faces, min_confidence)
    try:
        for x0, y0, side in _tiles(h, w):
            x1, y1 = (w, h) if side == 0 else (x0 + side, y0 + side)
            for pts in _detect(mesh, np.ascontiguousarray(rgb[y0:y1, x0:x1])):
                pts = pts + np.array([x0, y0], dtype=np.float32)
                face = FoundFace(pts, (x0, y0, x1, y1))
                if face.height < MIN_FACE or not _inside(pts, face.tile, (h, w)):
                    continue
                if all(
                    np.linalg.norm(face.centre - k.centre) >= 0.5 * min(face.height, k.height)
                    for k in kept
                ):
                    kept.append(face)
    finally:
        mesh.close()
    if scale < 1:
        kept = [
            FoundFace(
                ((k.landmarks + np.float32(0.5)) / np.float32(scale) - np.float32(0.5)),
                tuple(round(v / scale) for v in k.tile),  # type: ignore[arg-type]
            )
            for k in kept
        ]
    return sorted(kept, key=lambda k: float(k.centre[0]))
