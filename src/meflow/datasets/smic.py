"""SMIC loader (``smic`` = HS, ``smic-vis``, ``smic-nir``): the folder tree is the annotation.

SMIC ships no label file. Its cropped release (``SMIC_all_cropped``) holds one folder per
camera, ``HS`` (100 fps), ``VIS`` and ``NIR`` (25 fps), each laid out as
``<camera>/s<k>/micro/<class>/s<k>_<ne|po|sur>_NN/<frames>``: subject folders ``s1``..``s20``,
class folders ``negative``, ``positive``, ``surprise``, and one clip folder per
micro-expression holding its frames from onset to offset, named ``reg_image<6-digit n>.bmp``
in HS and ``image<6-digit n>.bmp`` in VIS and NIR (any ``<prefix><digits>.<ext>`` image name
is read; the prefix and width are those of the clip's own files). ``--root`` is the release
folder (holding ``HS``/``VIS``/``NIR``) or the camera folder itself. A subject's
``non_micro`` folder (or anything but ``micro``) is not read.

Frames: onset and offset are the clip's first and last frame numbers. SMIC gives no apex:
the loader takes the middle frame of the clip (the middle one of its frame files, which is
the midpoint of onset..offset in a complete clip), as MEGC2019 works do.

Emotions: the class folder's word. ``surprise`` is one of the six classes; ``negative`` and
``positive`` are kept only with ``six_classes=False`` (the 3-class protocols use them).
Subjects and clips keep their folder names (``s1``, ``s1_ne_01``); the MEGC2019 list writes
them ``s01`` and ``s01_ne_01`` (see :mod:`meflow.protocols`). A clip folder without frame
images, or under a class folder of another name, is dropped and reported.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from meflow.datasets.base import EMOTIONS, LoadResult, RowIssue, Sample
from meflow.errors import MeflowError

CAMERAS: dict[str, tuple[str, float]] = {  # dataset name -> (camera folder, native fps)
    "smic": ("HS", 100.0),
    "smic-vis": ("VIS", 25.0),
    "smic-nir": ("NIR", 25.0),
}
CLASSES = ("negative", "positive", "surprise")
_SUBJECT = re.compile(r"^s(\d+)$", re.IGNORECASE)
_FRAME = re.compile(r"^(.*?)(\d+)\.(bmp|jpg|jpeg|png)$", re.IGNORECASE)


def camera_folder(root: Path, dataset: str = "smic") -> Path:
    """Gives the folder of the dataset's camera inside ``root`` (or ``root`` if it is it)."""
    camera = CAMERAS[dataset][0]
    if not root.is_dir():
        raise MeflowError(f"{root}: dataset folder not found")
    for child in sorted(root.iterdir()):
        if child.is_dir() and child.name.upper() == camera:
            return child
    if root.name.upper() == camera or any(_SUBJECT.match(c.name) for c in root.iterdir()):
        return root
    raise MeflowError(f"{root}: no SMIC {camera} folder (like {root / camera / 's1' / 'micro'})")


def _frame_files(clip: Path) -> tuple[list[int], str]:
    """Gives the clip's sorted frame numbers and their file-name pattern ('' if none)."""
    numbers: list[int] = []
    pattern = ""
    for f in sorted(clip.iterdir()):
        m = _FRAME.match(f.name)
        if not m or not f.is_file():
            continue
        if not pattern:
            prefix = m.group(1).replace("{", "{{").replace("}", "}}")
            pattern = f"{prefix}{{n:0{len(m.group(2))}d}}.{m.group(3)}"
        numbers.append(int(m.group(2)))
    return sorted(numbers), pattern


def _subjects(camera: Path) -> list[Path]:
    found = [d for d in camera.iterdir() if d.is_dir() and _SUBJECT.match(d.name)]
    return sorted(found, key=lambda d: int(_SUBJECT.match(d.name).group(1)))  # type: ignore[union-attr]


def load(
    labels: Path | None, root: Path | None = None, six_classes: bool = True, dataset: str = "smic"
) -> LoadResult:
    """Gives the SMIC samples of one camera from its folder tree (see the module rules)."""
    base = root if root is not None else labels
    if base is None:
        raise MeflowError(f"{dataset}: the folder tree is the annotation; give the dataset folder")
    camera = camera_folder(Path(base), dataset)
    fps = CAMERAS[dataset][1]
    samples: list[Sample] = []
    issues: list[RowIssue] = []
    excluded: Counter[str] = Counter()
    number = 0
    for subject in _subjects(camera):
        micro = next((d for d in subject.iterdir() if d.name.lower() == "micro"), None)
        if micro is None or not micro.is_dir():
            continue
        for cls in sorted(d for d in micro.iterdir() if d.is_dir()):
            for clip in sorted(d for d in cls.iterdir() if d.is_dir()):
                number += 1
                where = str(clip.relative_to(camera))
                word = cls.name.lower()
                if word not in CLASSES:
                    reason = f"class folder {cls.name!r} is not one of {', '.join(CLASSES)}"
                    issues.append(RowIssue(where, number, "dropped", reason))
                    continue
                frames, pattern = _frame_files(clip)
                if not frames:
                    issues.append(RowIssue(where, number, "dropped", "no frame images"))
                    continue
                if six_classes and word not in EMOTIONS:
                    excluded[word] += 1
                    continue
                samples.append(
                    Sample(
                        dataset=dataset,
                        subject=subject.name,
                        clip=clip.name,
                        onset=frames[0],
                        apex=frames[(len(frames) - 1) // 2],
                        offset=frames[-1],
                        emotion=word,
                        frames_dir=clip,
                        frame_pattern=pattern,
                        first_frame=frames[0],
                        last_frame=frames[-1],
                        fps=fps,
                    )
                )
    return LoadResult(
        samples=samples,
        issues=issues,
        label_file=None,
        dataset=dataset,
        root=camera,
        excluded=dict(sorted(excluded.items())),
    )


def load_vis(labels: Path | None, root: Path | None = None, six_classes: bool = True) -> LoadResult:
    """Gives the SMIC VIS samples."""
    return load(labels, root, six_classes, dataset="smic-vis")


def load_nir(labels: Path | None, root: Path | None = None, six_classes: bool = True) -> LoadResult:
    """Gives the SMIC NIR samples."""
    return load(labels, root, six_classes, dataset="smic-nir")
