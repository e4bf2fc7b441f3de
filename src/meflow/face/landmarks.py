"""MediaPipe Face Mesh landmarks (478 points) per frame, gap filling and the face crop.

Coordinates are pixels, ``(x, y)``, float32, in the frame the landmarks were found on, with
pixel centres at integer coordinates (OpenCV's convention: pixel ``img[r, c]`` is at x=c, y=r).
MediaPipe's "left" is the subject's left (the right-hand side of an unmirrored image).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any

import numpy as np

from meflow.config import FaceConfig
from meflow.errors import MissingDependencyError, NoFaceError

N_LANDMARKS = 478


def _face_mesh_module() -> Any:
    # MediaPipe and TFLite log start-up chatter to stderr through glog/absl; keep the console
    # for meflow's own messages unless the user asked for those logs.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import mediapipe as mp
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise MissingDependencyError(
            f"mediapipe is needed for face landmarks ({exc}); install meflow's dependencies "
            "(pip install -e .), mediapipe==0.10.21"
        ) from None
    return mp.solutions.face_mesh


_QUIET_LOCK = threading.Lock()
_quiet: list[int] = []  # [fd 2 as it was, number of holders] while fd 2 is silenced


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silences what native code (glog/absl in MediaPipe) writes to fd 2 while it starts up.

    Safe across threads: the first holder silences fd 2 and the last one to leave restores it
    (two threads saving and restoring on their own would leave it silenced for good).
    """
    if os.environ.get("MEFLOW_MEDIAPIPE_LOGS"):
        yield
        return
    with _QUIET_LOCK:
        if _quiet:
            _quiet[1] += 1
        else:
            try:
                sys.stderr.flush()
                saved = os.dup(2)
            except (OSError, ValueError):  # no real stderr (e.g. captured): nothing to silence
                saved = -1
            if saved >= 0:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
            _quiet[:] = [saved, 1]
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet[1] -= 1
            if _quiet[1] == 0:
                saved = _quiet[0]
                _quiet.clear()
                if saved >= 0:
                    os.dup2(saved, 2)
                    os.close(saved)


# One serialised NormalizedLandmark as Face Mesh writes it: field 1 (tag 0x0A) of the list,
# 15 bytes long, holding x (tag 0x0D), y (0x15) and z (0x1D) as little-endian float32.
_RECORD = 17
_TAGS = ((0, 0x0A), (1, 15), (2, 0x0D), (7, 0x15), (12, 0x1D))
_TAG_COLUMNS = np.array([col for col, _ in _TAGS], dtype=np.intp)
_TAG_BYTES = np.array([tag for _, tag in _TAGS], dtype=np.uint8)


def parse_landmark_list(data: bytes, n: int = N_LANDMARKS) -> np.ndarray | None:
    """Gives (n, 2) float32 (x, y) from a serialised NormalizedLandmarkList, or None.

    Reads the fixed 17-byte layout of landmarks with x, y and z set (what Face Mesh writes);
    any other layout (optional fields present, another count) gives None, and the caller
    parses the message with protobuf instead.
    """
    if len(data) != n * _RECORD:
        return None
    rec = np.frombuffer(data, dtype=np.uint8).reshape(n, _RECORD)
    if not (rec[:, _TAG_COLUMNS] == _TAG_BYTES).all():
        return None
    # x at byte 3 of each record, y 5 bytes further: one strided view, copied to float32
    xy: np.ndarray = np.ndarray((n, 2), dtype="<f4", buffer=data, offset=3, strides=(_RECORD, 5))
    return xy.astype(np.float32)


def _landmark_list_type() -> Any:
    from mediapipe.framework.formats import landmark_pb2

    return landmark_pb2.NormalizedLandmarkList


def _has_graph_internals(mesh: Any) -> bool:
    try:
        from mediapipe.python import packet_creator
        from mediapipe.python._framework_bindings import _packet_getter  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the installed MediaPipe
        return False
    info = getattr(mesh, "_input_stream_type_info", None)
    return (
        hasattr(mesh, "_graph")
        and isinstance(getattr(mesh, "_graph_outputs", None), dict)
        and isinstance(getattr(mesh, "_simulated_timestamp", None), int)
        and isinstance(info, dict)
        and list(info) == ["image"]
        and hasattr(packet_creator, "create_image")
    )


def _run_graph(mesh: Any, rgb: np.ndarray) -> list[bytes]:
    """What ``FaceMesh.process`` does (mediapipe 0.10.21), without building Python protos:
    the serialised landmark lists of the faces found (empty if none)."""
    from mediapipe.python import packet_creator
    from mediapipe.python._framework_bindings import _packet_getter, image_frame

    mesh._graph_outputs.clear()
    mesh._simulated_timestamp += 33333  # as process(): a 30 fps clock
    packet = packet_creator.create_image(rgb, image_format=image_frame.ImageFormat.SRGB)
    mesh._graph.add_packet_to_input_stream(
        stream="image", packet=packet.at(mesh._simulated_timestamp)
    )
    mesh._graph.wait_until_idle()
    out = mesh._graph_outputs.get("multi_face_landmarks")
    if out is None or out.is_empty():
        return []
    return list(_packet_getter._get_serialized_proto_list(out))


class LandmarkTracker:
    """Gives 478 Face Mesh landmarks per frame, tracking one face from frame to frame.

    Use as a context manager (or call :meth:`close`). ``static=True`` detects afresh on every
    image (for single photographs); the default tracking mode is faster on video and steadier.
    """

    def __init__(
        self, cfg: FaceConfig | None = None, static: bool = False, fast: bool = True
    ) -> None:
        cfg = cfg or FaceConfig()
        face_mesh = _face_mesh_module()
        with quiet_native_stderr():
            self._mesh = face_mesh.FaceMesh(
                static_image_mode=static,
                max_num_faces=1,
                refine_landmarks=True,
                min_detection_confidence=cfg.min_detection_confidence,
                min_tracking_confidence=cfg.min_tracking_confidence,
            )
        self._first = True
        self.fast = fast and _has_graph_internals(self._mesh)

    def __call__(self, frame_bgr: np.ndarray) -> np.ndarray | None:
        """The (478, 2) float32 pixel landmarks (x, y) of the face in a BGR frame, or None."""
        import cv2

        if frame_bgr.ndim == 2:
            rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2RGB)
        else:
            rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        if self._first:  # the graph logs its start-up warnings on the first frame
            with quiet_native_stderr():
                xy = self._landmarks(rgb)
            self._first = False
        else:
            xy = self._landmarks(rgb)
        if xy is None:
            return None
        h, w = rgb.shape[:2]
        # MediaPipe's normalised 0..1 spans the image's outer edges; shift to pixel centres
        return xy * np.array([w, h], dtype=np.float32) - np.float32(0.5)

    def _landmarks(self, rgb: np.ndarray) -> np.ndarray | None:
        """(478, 2) float32 normalised (x, y) of the first face, or None."""
        if self.fast:
            serialised = _run_graph(self._mesh, rgb)
            if not serialised:
                return None
            xy = parse_landmark_list(serialised[0])
            if xy is not None:
                return xy
            faces = [_landmark_list_type().FromString(serialised[0])]
        else:
            faces = self._mesh.process(rgb).multi_face_landmarks
            if not faces:
                return None
        xy = np.array([(p.x, p.y) for p in faces[0].landmark], dtype=np.float32)
        return xy if xy.shape == (N_LANDMARKS, 2) else None

    def reset(self) -> bool:
        """Forgets the face being tracked, for a new sequence; True when it did.

        A blank grey image goes through the graph: the landmark model finds no face on it, so
        the next frame is searched afresh by face detection, as on a new graph. The landmarks
        that follow are those of a new graph to the bit (tested on the real videos, in any
        order); this costs about 5 ms, against 40-50 ms for starting a new graph. False (a
        face reported on the blank, never seen) means the caller should start a new tracker.
        """
        return self(np.full((256, 256, 3), 128, np.uint8)) is None

    def close(self) -> None:
        """Releases the MediaPipe graph."""
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None

    def __enter__(self) -> LandmarkTracker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def fill_gaps(points: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Gives (points, valid): short gaps interpolated linearly, the rest left NaN and invalid.

    ``points`` is (T, 478, 2) (any trailing shape works) with NaN in frames without a face.
    A gap of at most ``max_gap`` frames with a detection on both sides is filled by linear
    interpolation between those two detections; longer gaps and frames before the first or
    after the last detection stay NaN. ``valid`` is a (T,) bool array.
    """
    pts = np.array(points, dtype=np.float32, copy=True)
    if pts.ndim < 1 or pts.shape[0] == 0:
        return pts, np.zeros(0, dtype=bool)
    flat = pts.reshape(pts.shape[0], -1)
    valid = ~np.isnan(flat).any(axis=1)
    found = np.flatnonzero(valid)
    for a, b in itertools.pairwise(found):
        gap = int(b - a - 1)
        if 0 < gap <= max_gap:
            t = (np.arange(1, gap + 1, dtype=np.float64) / (gap + 1))[:, None]
            fa = flat[a].astype(np.float64)
            fb = flat[b].astype(np.float64)
            flat[a + 1 : b] = (fa + t * (fb - fa)).astype(np.float32)
            valid[a + 1 : b] = True
    flat[~valid] = np.nan
    return flat.reshape(pts.shape), valid


def track_video(
    frames: Iterable[np.ndarray] | Iterable[tuple[int, np.ndarray]],
    cfg: FaceConfig | None = None,
    name: str = "video",
) -> tuple[np.ndarray, np.ndarray]:
    """Gives (points (T, 478, 2) float32, valid (T,) bool) for a stream of BGR frames.

    ``frames`` may yield arrays or the ``(index, frame)`` pairs of
    :func:`meflow.io.open_frames`. Gaps are filled as in :func:`fill_gaps` with
    ``cfg.max_gap``. Raises :class:`NoFaceError` naming ``name`` if no frame holds a face.
    """
    cfg = cfg or FaceConfig()
    rows: list[np.ndarray] = []
    missing = np.full((N_LANDMARKS, 2), np.nan, dtype=np.float32)
    with LandmarkTracker(cfg) as tracker:
        for item in frames:
            frame = item[1] if isinstance(item, tuple) else item
            pts = tracker(frame)
            rows.append(missing if pts is None else pts)
    n = len(rows)
    points = np.stack(rows) if rows else np.empty((0, N_LANDMARKS, 2), dtype=np.float32)
    points, valid = fill_gaps(points, cfg.max_gap)
    if not valid.any():
        raise NoFaceError(f"{name}: no face found in any of {n} frames")
    return points, valid


def face_box(
    points: np.ndarray, shape: tuple[int, ...], margin: float = 0.15
) -> tuple[int, int, int, int]:
    """Gives the (x0, y0, x1, y1) int box around the landmarks, widened and clipped to the image.

    The landmarks' bounding box grows by ``margin`` times its width (height) on each side;
    ``x1``/``y1`` are exclusive, so ``image[y0:y1, x0:x1]`` is the crop.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(pts).all():  # frames of a face have all 478, so this is rare
        pts = pts[~np.isnan(pts).any(axis=1)]
        if pts.size == 0:
            raise ValueError("face_box: no finite landmark")
    h, w = int(shape[0]), int(shape[1])
    (xmin, ymin), (xmax, ymax) = pts.min(axis=0).tolist(), pts.max(axis=0).tolist()
    mx, my = margin * (xmax - xmin), margin * (ymax - ymin)
    x0 = min(max(math.floor(xmin - mx), 0), w - 1)
    y0 = min(max(math.floor(ymin - my), 0), h - 1)
    x1 = min(max(math.ceil(xmax + mx) + 1, x0 + 1), w)
    y1 = min(max(math.ceil(ymax + my) + 1, y0 + 1), h)
    return x0, y0, x1, y1


def crop_transform(box: tuple[int, int, int, int], size: int) -> np.ndarray:
    """Gives the 2x3 float64 affine that maps image pixels of ``box`` into a size x size crop.

    Use with ``cv2.warpAffine(image, M, (size, size))``. One scale for x and y (the face's
    aspect ratio is kept, so a flow direction in the crop is the direction in the frame): the
    box's longer side spans the crop, the shorter one is centred in it. Pixel centres map to
    pixel centres: ``u + 0.5 = s * (x - x0 + 0.5) + (size - s * width) / 2``.

    A box stretched to the square (x and y scaled apart) bent every flow angle toward the
    box's longer axis, by a different amount for each face: up to 6 degrees on real faces
    whose box is 0.78-0.94 as wide as it is tall (docs/method.md).
    """
    x0, y0, x1, y1 = box
    w, h = float(x1 - x0), float(y1 - y0)
    s = size / max(w, h)
    ox, oy = (size - s * w) / 2.0, (size - s * h) / 2.0
    return np.array(
        [[s, 0.0, s * (0.5 - x0) + ox - 0.5], [0.0, s, s * (0.5 - y0) + oy - 0.5]],
        dtype=np.float64,
    )


def to_crop(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Gives the landmarks (..., 2) mapped by a 2x3 affine (e.g. into crop coordinates), float32."""
    pts = np.asarray(points, dtype=np.float64)
    m = np.asarray(matrix, dtype=np.float64)
    out = pts @ m[:, :2].T + m[:, 2]
    return out.astype(np.float32)


def crop_face(
    image: np.ndarray, points: np.ndarray, cfg: FaceConfig | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """Gives (crop, landmarks in crop pixels, box): the face scaled into a cfg.crop_size square
    (its aspect ratio kept, see :func:`crop_transform`)."""
    import cv2

    cfg = cfg or FaceConfig()
    box = face_box(points, image.shape, cfg.crop_margin)
    m = crop_transform(box, cfg.crop_size)
    crop = cv2.warpAffine(
        image,
        m,
        (cfg.crop_size, cfg.crop_size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return crop, to_crop(points, m), box
