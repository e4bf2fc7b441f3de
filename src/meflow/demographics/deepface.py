"""DeepFace's gender model as an analyser, with an offline check of its weights file.

DeepFace downloads its weights on first use; meflow lets it only with ``allow_download``
(``meflow gender --allow-download``). Before anything of DeepFace is
imported, :func:`check_deepface` finds where DeepFace will look for the gender weights (the
same logic as deepface.commons.folder_utils / weight_utils / backend_utils) and stops with a
one-line error naming that path when the file is absent.

Recent DeepFace releases (0.0.103 here) run on tensorflow, pytorch or onnxruntime
(``DEEPFACE_BACKEND_ENGINE`` forces one; else the first installed in that order) and each
has its own weights file; older releases use tensorflow and the .h5 file.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from pathlib import Path

import numpy as np

from meflow.demographics.decision import Analyser
from meflow.errors import MeflowError, MissingDependencyError, NoFaceError

WEIGHTS_FILES = {
    "tensorflow": "gender_model_weights.h5",
    "pytorch": "gender_model_weights.pth",
    "onnx": "gender_model_weights.onnx",
}
_RELEASE = "https://github.com/serengil/deepface_models/releases/download/v1.0/"
_BACKEND_PACKAGES = {"tensorflow": "tensorflow", "pytorch": "torch", "onnx": "onnxruntime"}
# face detectors that need no file downloaded at run time (opencv's haar cascades ship with
# opencv 4.x wheels; mediapipe 0.10.21 ships its models; skip analyses the whole frame)
OFFLINE_DETECTORS = ("opencv", "mediapipe", "skip")


def deepface_home() -> Path:
    """Gives the folder DeepFace puts ``.deepface/weights`` under ($DEEPFACE_HOME or ~)."""
    return Path(os.environ.get("DEEPFACE_HOME") or os.path.expanduser("~"))


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _multi_backend() -> bool:
    """True when the installed DeepFace chooses among backends (has commons/backend_utils)."""
    try:
        files = importlib.metadata.distribution("deepface").files or []
    except importlib.metadata.PackageNotFoundError:
        return True
    return any(
        str(f).replace("\\", "/").endswith("deepface/commons/backend_utils.py") for f in files
    )


def deepface_backend() -> str:
    """Gives the engine DeepFace will run on: tensorflow, pytorch or onnx."""
    if not _multi_backend():
        return "tensorflow"
    forced = os.environ.get("DEEPFACE_BACKEND_ENGINE", "").strip().lower()
    if forced:
        if forced not in _BACKEND_PACKAGES:
            raise MeflowError(
                f"DEEPFACE_BACKEND_ENGINE={forced!r}: expected one of "
                f"{', '.join(_BACKEND_PACKAGES)}"
            )
        return forced
    for engine, package in _BACKEND_PACKAGES.items():
        if _installed(package):
            return engine
    raise MissingDependencyError(
        'DeepFace needs tensorflow, torch or onnxruntime: pip install -e ".[gender]"'
    )


def weights_file() -> Path:
    """Gives the path DeepFace reads its gender weights from, for the engine it will use."""
    return deepface_home() / ".deepface" / "weights" / WEIGHTS_FILES[deepface_backend()]


def check_deepface(detector_backend: str = "opencv", allow_download: bool = False) -> Path:
    """Gives the gender weights file after checking, without importing DeepFace, that it exists.

    Raises MissingDependencyError without DeepFace, MeflowError (one line naming the path and
    the file's source) without the weights file or with a detector that downloads its own.
    With ``allow_download`` (``meflow gender --allow-download``) both are let through: DeepFace
    fetches what it lacks, which needs a machine that is online.
    """
    if not _installed("deepface"):
        raise MissingDependencyError(
            'the deepface gender estimator needs DeepFace: pip install -e ".[gender]" '
            "(or use --estimator table)"
        )
    if allow_download:
        return weights_file()
    if detector_backend not in OFFLINE_DETECTORS:
        raise MeflowError(
            f"detector {detector_backend!r} downloads its model at run time; "
            f"use one of {', '.join(OFFLINE_DETECTORS)}"
        )
    path = weights_file()
    if not path.is_file():
        raise MeflowError(
            f"DeepFace's gender weights are missing: put {path.name} at {path} "
            f"(from {_RELEASE}{path.name}; the folder is $DEEPFACE_HOME/.deepface/weights, "
            "DEEPFACE_HOME defaulting to your home; or let DeepFace fetch it: --allow-download)"
        )
    return path


def deepface_analyser(
    detector_backend: str = "opencv", enforce_detection: bool = True, allow_download: bool = False
) -> Analyser:
    """Gives an analyser BGR frame -> {'Man': %, 'Woman': %} backed by DeepFace.analyze.

    With several faces in a frame the largest is used; a frame where DeepFace finds no face
    raises NoFaceError (so the decision rule skips it).
    """
    check_deepface(detector_backend, allow_download)
    from deepface import DeepFace  # heavy: imports the backend engine

    def analyse(frame: np.ndarray) -> dict[str, float]:
        try:
            result = DeepFace.analyze(
                frame,
                actions=("gender",),
                enforce_detection=enforce_detection,
                detector_backend=detector_backend,
                silent=True,
            )
        except ValueError as exc:  # DeepFace's "Face could not be detected ..."
            raise NoFaceError(str(exc).splitlines()[0] if str(exc) else "no face") from None
        faces = result if isinstance(result, list) else [result]
        if not faces:
            raise NoFaceError("no face")
        face = max(
            faces,
            key=lambda f: (f.get("region") or {}).get("w", 0) * (f.get("region") or {}).get("h", 0),
        )
        return {str(k): float(v) for k, v in face["gender"].items()}

    return analyse
