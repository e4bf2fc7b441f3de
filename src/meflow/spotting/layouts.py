"""Long recordings on disk as the spotting datasets ship them, and their region flow.

Layouts (``root`` is the dataset folder given to ``meflow spot --root``):

* ``casme3`` (CAS(ME)^3 Part A) and ``synthetic`` (``meflow synth --layout casme3-long``):
  ``root/<Subject>/<Filename>/color/<n>.jpg`` (``spNO.1/a/color/0.jpg``), 30 fps; the
  ground truth ``CAS(ME)3_part_A_v2.xls`` (and, for the micro-expressions' emotions,
  ``cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx``) in ``root``.
* ``casme2-long`` (CAS(ME)^2, as MEGC's spotting code reads it): ``root/rawpic/<sNN>/
  <NN>_<code><name>/img<n>.jpg`` (``rawpic/s15/15_0101disgustingteeth/img1.jpg``; ``root``
  may also be the ``rawpic`` folder), 30 fps; recording = the 4-digit video code (``0101``),
  as ``CASME_sq_gt.xlsx``'s naming sheets give it; ground truth ``CASME_sq_gt.xlsx`` (or
  ``CAS(ME)^2code_final.xlsx``) in ``root``.
* ``samm-lv`` (SAMM Long Videos): ``root/SAMM_longvideos/<sss>_<v>/<sss>_<v>_<nnnn>.jpg``
  (``SAMM_longvideos/006_1/006_1_0001.jpg``; ``root`` may also be ``SAMM_longvideos``),
  200 fps; subject = ``sss``; ground truth ``SAMMLV_gt.xlsx`` (or
  ``SAMM_LongVideos_V*_Release.xlsx``) in ``root``.

Frame numbers: the number in each image's name (its last run of digits), which is the
number the annotation files use; the extraction analyses the frames at ``features.fps``
(every frame at 30 fps, the frame nearest each 1/30 s at 200 fps) and the intervals come out
in the images' numbers.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from meflow.errors import MeflowError
from meflow.io.frames import IMAGE_SUFFIXES
from meflow.spotting.baseline import RecordingFlow, read_video_features

DATASETS = ("casme3", "casme2-long", "samm-lv", "synthetic")
# the ground-truth loader (meflow.spotting.ground_truth) of each dataset
LOADER = {"casme3": "casme3", "synthetic": "casme3", "casme2-long": "casme2-long",
          "samm-lv": "samm-lv"}  # fmt: skip
FPS = {"casme3": 30.0, "synthetic": 30.0, "casme2-long": 30.0, "samm-lv": 200.0}
ANNOTATION_FILES: dict[str, tuple[str, ...]] = {
    "casme3": (r"cas\(me\)3_part_a_v2\.xls",),
    "synthetic": (r"cas\(me\)3_part_a_v2\.xls",),
    "casme2-long": (r"casme_sq_gt\.xlsx", r"cas\(me\)\^?2code_final\.xlsx"),
    "samm-lv": (r"sammlv_gt\.xlsx", r"samm_longvideos_v\d+_release\.xlsx"),
}


@dataclass(frozen=True)
class LongRecording:
    """One long recording on disk: its subject, its name in the annotation, its frames."""

    subject: str
    recording: str
    frames: Path  # the folder of its images
    fps: float  # the native frame rate

    @property
    def name(self) -> str:
        """``subject/recording``: the recording's name in the evaluation."""
        return f"{self.subject}/{self.recording}"


def _has_images(folder: Path) -> bool:
    return any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())


def _dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _casme3(root: Path) -> list[LongRecording]:
    return [
        LongRecording(s.name, r.name, r / "color", 30.0)
        for s in _dirs(root)
        for r in _dirs(s)
        if (r / "color").is_dir() and _has_images(r / "color")
    ]


def _casme2(root: Path) -> list[LongRecording]:
    base = root / "rawpic" if (root / "rawpic").is_dir() else root
    out = []
    for s in _dirs(base):
        for v in _dirs(s):
            m = re.match(r"\d+_(\d{4})", v.name)
            if m and _has_images(v):
                out.append(LongRecording(s.name, m.group(1), v, 30.0))
    return out


def _samm(root: Path) -> list[LongRecording]:
    base = root / "SAMM_longvideos" if (root / "SAMM_longvideos").is_dir() else root
    return [
        LongRecording(v.name.split("_")[0], v.name, v, 200.0)
        for v in _dirs(base)
        if re.fullmatch(r"\d+_\d+", v.name) and _has_images(v)
    ]


FINDERS: dict[str, Callable[[Path], list[LongRecording]]] = {
    "casme3": _casme3,
    "synthetic": _casme3,
    "casme2-long": _casme2,
    "samm-lv": _samm,
}


def check_dataset(dataset: str) -> None:
    """MeflowError naming the known datasets for an unknown one."""
    if dataset not in FINDERS:
        raise MeflowError(f"unknown spotting dataset {dataset!r} (known: {', '.join(DATASETS)})")


def find_recordings(dataset: str, root: Path) -> list[LongRecording]:
    """The long recordings under ``root`` in ``dataset``'s layout; MeflowError if none."""
    check_dataset(dataset)
    if not root.is_dir():
        raise MeflowError(f"{root}: no such dataset folder")
    found = FINDERS[dataset](root)
    if not found:
        raise MeflowError(
            f"{root}: no {dataset} long recordings found (layout: see docs/spotting.md, "
            "'meflow spot')"
        )
    return found


def find_annotation(dataset: str, root: Path) -> Path:
    """The dataset's ground-truth file in ``root``; MeflowError naming it when absent."""
    check_dataset(dataset)
    patterns = ANNOTATION_FILES[dataset]
    if root.is_dir():
        for pattern in patterns:
            for p in sorted(root.iterdir()):
                if p.is_file() and re.fullmatch(pattern, p.name.lower()):
                    return p
    wanted = " or ".join(p.replace("\\", "") for p in patterns)
    raise MeflowError(f"{root}: no ground-truth file {wanted} (give it with --labels FILE)")


def frame_numbers(folder: Path) -> np.ndarray:
    """The number in each image's name (its last run of digits), in the order meflow reads
    the folder (natural order); MeflowError for an image without one."""
    from meflow.io.frames import _natural_key

    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                   key=_natural_key)  # fmt: skip
    numbers = []
    for p in files:
        digits = re.findall(r"\d+", p.stem)
        if not digits:
            raise MeflowError(f"{p}: the image name holds no frame number")
        numbers.append(int(digits[-1]))
    return np.asarray(numbers, dtype=np.int64)


def features_path(features: Path, rec: LongRecording) -> Path:
    """Where a recording's extracted region flow is kept."""
    return features / rec.subject / rec.recording / f"{rec.frames.name}.npz"


def extract_task(cfg: Any, task: tuple[str, float]) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) of one recording's region flow (``meflow extract --video``'s), made in a
    temporary folder: the driver writes the file (executors never write files)."""
    from meflow.features.cache import load_npz
    from meflow.features.extract import extract_video

    frames, fps = task
    with tempfile.TemporaryDirectory() as tmp:
        target, _ = extract_video(Path(frames), Path(tmp), cfg, fps=fps)
        return load_npz(target)


def load_flow(rec: LongRecording, npz: Path) -> RecordingFlow:
    """The recording's region flow numbered with its images' frame numbers."""
    flow = read_video_features(npz, name=rec.name)
    numbers = frame_numbers(rec.frames)
    taken = flow.frame_numbers  # indices into the folder's images, in reading order
    assert taken is not None
    if taken.size and int(taken.max()) >= numbers.size:
        raise MeflowError(
            f"{npz}: frame {int(taken.max())} beyond the {numbers.size} images of {rec.frames} "
            "(delete the file to extract it again)"
        )
    return RecordingFlow(rec.name, flow.vector, flow.valid, flow.fps,
                         frame_numbers=numbers[taken], lag_vector=flow.lag_vector,
                         spot_lags=flow.spot_lags)  # fmt: skip


@dataclass
class Truth:
    """The ground truth as the evaluation takes it, keyed by the recordings' names."""

    expressions: list[Any]  # meflow.spotting.scoring.Interval, micro and macro
    blinks: dict[str, list[tuple[int, int]]]
    subjects: dict[str, str]
    notes: list[str]


def truth_for(gt: Any, recordings: list[LongRecording]) -> Truth:
    """The intervals of ``gt`` (a GroundTruth) of the recordings found on disk; annotated
    recordings without frames are left out with a note, recordings without any annotation
    are kept (everything spotted there is a false positive)."""
    from meflow.spotting.evaluate import expressions_of

    names = {r.name for r in recordings}
    every, every_blink = expressions_of(gt)
    expressions = [g for g in every if g.recording in names]
    blinks = {k: v for k, v in every_blink.items() if k in names}
    absent = ({g.recording for g in every} | set(every_blink)) - names
    notes = []
    if absent:
        shown = ", ".join(sorted(absent)[:5]) + (" ..." if len(absent) > 5 else "")
        notes.append(
            f"{len(absent)} annotated recording(s) have no frames here: left out ({shown})"
        )
    bare = sorted(names - {e.recording for e in expressions})
    if bare:
        notes.append(f"{len(bare)} recording(s) without annotated expressions: kept (all false)")
    if gt.issues:
        notes.append(
            f"ground truth: {len(gt.repaired)} row(s) repaired, {len(gt.dropped)} dropped "
            "(docs/spotting.md lists the rules)"
        )
    return Truth(expressions, blinks, {r.name: r.subject for r in recordings}, notes)
