"""The base face of the synthetic dataset and the per-subject identities made from it.

The base face is scikit-image's ``astronaut`` photograph (public domain, shipped with
scikit-image), 512x512 RGB, or one of the user's photographs (a
:class:`~meflow.synth.photos.FacePhoto`, ``meflow synth --faces``). Every subject is
that face under a geometric transform (scale, aspect, small rotation, translation, optional
mirror) and a photometric one (brightness, contrast, gamma, colour cast); the transform maps
the photo straight into the output frame, so each frame is sampled from the photo once (one
interpolation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from meflow.face.regions import mirror_map

if TYPE_CHECKING:
    from meflow.synth.photos import FacePhoto

FRAME_SIZE = 256  # output frames are FRAME_SIZE x FRAME_SIZE pixels
# The square of the photo that becomes the frame (before the per-subject transform): centred
# on the face, 150 px wide, so the face (about 92x106 px in the photo) fills ~180 px of 256.
BASE_CROP_CENTRE = (224.2, 122.4)
BASE_CROP_SIZE = 150.0

# MediaPipe Face Mesh (refine_landmarks=True, static_image_mode=True) landmarks measured on the
# astronaut photo, in its pixel coordinates (x, y). Only the points the action-unit fields,
# blinks and face axes are anchored on; tests check them against MediaPipe.
BASE_LANDMARKS: dict[int, tuple[float, float]] = {
    0: (223.6, 140.5),
    1: (223.4, 130.0),
    6: (224.7, 105.6),
    9: (225.4, 90.5),
    10: (226.3, 71.7),
    13: (223.5, 143.2),
    14: (223.0, 150.1),
    17: (222.7, 154.6),
    33: (195.2, 100.9),
    37: (217.1, 139.2),
    46: (190.3, 93.0),
    50: (190.3, 118.4),
    55: (216.7, 94.6),
    61: (201.8, 139.2),
    63: (192.4, 88.1),
    66: (206.8, 87.9),
    70: (188.1, 91.1),
    84: (216.2, 153.5),
    105: (198.8, 86.9),
    107: (215.9, 89.8),
    116: (182.7, 109.1),
    129: (208.0, 123.5),
    133: (213.3, 103.7),
    145: (203.4, 104.3),
    152: (221.3, 177.4),
    159: (202.8, 97.6),
    168: (224.9, 100.5),
    198: (214.2, 118.3),
    205: (194.9, 124.6),
    263: (255.8, 104.3),
    267: (230.2, 139.7),
    276: (260.6, 97.5),
    280: (258.4, 122.4),
    285: (234.3, 96.1),
    291: (245.0, 141.0),
    293: (259.0, 92.6),
    296: (245.1, 90.8),
    300: (262.8, 96.0),
    314: (229.2, 154.2),
    334: (253.0, 90.7),
    336: (235.8, 91.5),
    345: (266.8, 114.0),
    358: (240.1, 125.3),
    362: (237.0, 104.9),
    374: (246.6, 106.7),
    386: (248.3, 99.7),
    420: (234.1, 119.3),
    425: (253.2, 128.0),
    468: (203.5, 101.1),
    473: (246.6, 103.5),
}

# Left/right counterparts among those landmarks: a mirrored face swaps them.
MIRROR_PAIRS: tuple[tuple[int, int], ...] = (
    (33, 263),
    (37, 267),
    (46, 276),
    (50, 280),
    (55, 285),
    (61, 291),
    (63, 293),
    (66, 296),
    (70, 300),
    (84, 314),
    (105, 334),
    (107, 336),
    (116, 345),
    (129, 358),
    (133, 362),
    (145, 374),
    (159, 386),
    (198, 420),
    (205, 425),
    (468, 473),
)
_MIRROR = {a: b for a, b in MIRROR_PAIRS} | {b: a for a, b in MIRROR_PAIRS}

# Ranges of the per-subject variation (uniform draws).
SCALE_RANGE = (0.9, 1.1)
ASPECT_RANGE = (0.93, 1.07)  # width/height stretch
ROTATION_DEG = 6.0
TRANSLATION_PX = 8.0
BRIGHTNESS_RANGE = (-18.0, 18.0)  # grey levels added
CONTRAST_RANGE = (0.85, 1.15)
GAMMA_RANGE = (0.8, 1.25)
CAST_RANGE = (0.92, 1.08)  # per-channel gain
NOISE_SIGMA_RANGE = (0.5, 1.0)  # grey levels, Gaussian sensor noise per frame


@lru_cache(maxsize=1)
def base_image() -> np.ndarray:
    """The astronaut photo as a 512x512x3 BGR uint8 array (read-only)."""
    import cv2
    from skimage import data

    img = np.ascontiguousarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    img.setflags(write=False)
    return img


def base_landmarks() -> dict[int, np.ndarray]:
    """The stored anchor landmarks of the photo, as float64 (x, y) arrays."""
    return {k: np.array(v, dtype=np.float64) for k, v in BASE_LANDMARKS.items()}


@dataclass(frozen=True)
class Identity:
    """One synthetic subject: where the photo goes in the frame and how it is coloured.

    ``affine`` (2x3) maps photo pixel coordinates to frame coordinates. ``face`` is the
    photograph (None: the astronaut, with her stored anchor landmarks).
    """

    affine: np.ndarray
    mirrored: bool
    brightness: float
    contrast: float
    gamma: float
    cast: tuple[float, float, float]  # B, G, R gains
    noise_sigma: float
    face: FacePhoto | None = None

    @property
    def inverse(self) -> np.ndarray:
        """The 2x3 affine from frame coordinates back to photo coordinates."""
        m = np.vstack([self.affine, [0.0, 0.0, 1.0]])
        return np.linalg.inv(m)[:2]

    @property
    def scale(self) -> float:
        """Frame pixels per photo pixel."""
        return float(math.sqrt(abs(np.linalg.det(self.affine[:, :2]))))

    def landmarks(self) -> dict[int, np.ndarray]:
        """The anchor landmarks in this subject's frame coordinates, as MediaPipe numbers them.

        A mirrored face's left and right landmarks trade places (MediaPipe's numbering
        follows the face's own sides, not the image's). The astronaut gives the stored
        anchors (BASE_LANDMARKS' keys), a photograph all 478.
        """
        a = self.affine
        if self.face is None:
            moved = {k: a[:, :2] @ v + a[:, 2] for k, v in base_landmarks().items()}
            if self.mirrored:
                moved = {_MIRROR.get(k, k): v for k, v in moved.items()}
            return moved
        pts = self.face.landmarks.astype(np.float64) @ a[:, :2].T + a[:, 2]
        names = mirror_map() if self.mirrored else np.arange(len(pts))
        return {int(names[i]): pts[i] for i in range(len(pts))}

    def source(self) -> np.ndarray:
        """The photo with this subject's photometric variation, BGR uint8."""
        import cv2

        img = base_image() if self.face is None else self.face.image
        v = np.arange(256, dtype=np.float64) / 255.0
        curve = 255.0 * v**self.gamma
        out = np.empty_like(img)
        for ch in range(3):
            lut = (curve - 128.0) * self.contrast * self.cast[ch] + 128.0 + self.brightness
            lut_u8 = np.clip(np.rint(lut), 0, 255).astype(np.uint8)
            out[:, :, ch] = cv2.LUT(np.ascontiguousarray(img[:, :, ch]), lut_u8)
        return out


def neutral_identity() -> Identity:
    """The photo's face centred in the frame with no variation (for tests and figures)."""
    return make_identity(None)


def make_identity(rng: np.random.Generator | None, face: FacePhoto | None = None) -> Identity:
    """A random subject (or the neutral one when ``rng`` is None) of the astronaut or ``face``.

    The draws do not depend on the face: a subject varies its face in the same way whichever
    photograph it is made of.
    """
    k = FRAME_SIZE / (BASE_CROP_SIZE if face is None else face.crop_size)
    if rng is None:
        scale, aspect, rot, tx, ty, mirrored = 1.0, 1.0, 0.0, 0.0, 0.0, False
        brightness, contrast, gamma = 0.0, 1.0, 1.0
        cast = (1.0, 1.0, 1.0)
        noise = 0.0
    else:
        scale = float(rng.uniform(*SCALE_RANGE))
        aspect = float(rng.uniform(*ASPECT_RANGE))
        rot = float(rng.uniform(-ROTATION_DEG, ROTATION_DEG))
        tx, ty = (float(t) for t in rng.uniform(-TRANSLATION_PX, TRANSLATION_PX, size=2))
        mirrored = bool(rng.random() < 0.5)
        brightness = float(rng.uniform(*BRIGHTNESS_RANGE))
        contrast = float(rng.uniform(*CONTRAST_RANGE))
        gamma = float(rng.uniform(*GAMMA_RANGE))
        g = rng.uniform(*CAST_RANGE, size=3)
        cast = (float(g[0]), float(g[1]), float(g[2]))
        noise = float(rng.uniform(*NOISE_SIGMA_RANGE))
    cx, cy = BASE_CROP_CENTRE if face is None else face.crop_centre
    th = math.radians(rot)
    rmat = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    smat = np.diag([k * scale * math.sqrt(aspect), k * scale / math.sqrt(aspect)])
    fmat = np.diag([-1.0, 1.0]) if mirrored else np.eye(2)
    lin = rmat @ smat @ fmat
    centre = np.array([FRAME_SIZE / 2 + tx, FRAME_SIZE / 2 + ty])
    affine = np.hstack([lin, (centre - lin @ np.array([cx, cy]))[:, None]])
    return Identity(affine, mirrored, brightness, contrast, gamma, cast, noise, face)
