"""Dataset loaders behind one registry: ``load_dataset(name, labels=..., root=...)``.

Names: ``casme3`` (CAS(ME)^3 Part A), ``casme3c`` (CAS(ME)^3 Part C), ``casme2`` (CASME II),
``samm`` (SAMM), ``smic`` / ``smic-vis`` / ``smic-nir`` (SMIC's HS, VIS and NIR cameras). Each
loader reads the dataset's own label file unchanged (SMIC has none: its folder tree is the
annotation) and gives a :class:`LoadResult`: the samples kept, and every row it repaired or
dropped with the reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from meflow.datasets import casme2, casme3, samm, smic
from meflow.datasets.base import EMOTIONS, LoadResult, RowIssue, Sample
from meflow.datasets.labels import find_file
from meflow.errors import MeflowError

__all__ = [
    "DATASETS",
    "EMOTIONS",
    "LoadResult",
    "RowIssue",
    "Sample",
    "check_frames",
    "find_label_file",
    "load_dataset",
]


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset: its loader, how its label file is recognised, a description."""

    load: Callable[[Path, Path | None, bool], LoadResult]
    is_label_file: Callable[[str], bool]
    title: str
    label_hint: str  # the label file's usual name, for messages
    tree_only: bool = False  # no label file: the folder tree is the annotation (SMIC)


DATASETS: dict[str, DatasetEntry] = {
    "casme3": DatasetEntry(
        casme3.load_part_a,
        casme3.is_part_a_label,
        "CAS(ME)^3 Part A",
        "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx",
    ),
    "casme3c": DatasetEntry(
        casme3.load_part_c,
        casme3.is_part_c_label,
        "CAS(ME)^3 Part C",
        "CAS(ME)3_part_C_ME.xlsx",
    ),
    "casme2": DatasetEntry(
        casme2.load, casme2.is_label_file, "CASME II", "CASME2-coding-20190701.xlsx"
    ),
    "samm": DatasetEntry(samm.load, samm.is_label_file, "SAMM", "SAMM_Micro_FACS_Codes_v2.xlsx"),
    "smic": DatasetEntry(smic.load, lambda _n: False, "SMIC (HS)", "", tree_only=True),
    "smic-vis": DatasetEntry(smic.load_vis, lambda _n: False, "SMIC (VIS)", "", tree_only=True),
    "smic-nir": DatasetEntry(smic.load_nir, lambda _n: False, "SMIC (NIR)", "", tree_only=True),
}


def get_entry(name: str) -> DatasetEntry:
    """Gives the registry entry of a dataset name; MeflowError with a suggestion if unknown."""
    key = name.strip().lower()
    if key in DATASETS:
        return DATASETS[key]
    close = difflib.get_close_matches(key, list(DATASETS), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise MeflowError(f"unknown dataset {name!r}{hint} (valid: {', '.join(DATASETS)})")


def find_label_file(name: str, root: Path) -> Path:
    """Gives the label file of dataset ``name`` inside the dataset folder ``root``.

    Looks in root, then its sub-folders two levels deep (e.g. root/annotation/partA/).
    """
    entry = get_entry(name)
    if entry.tree_only:
        raise MeflowError(f"{entry.title} has no label file: its folder tree is the annotation")
    root = Path(root)
    if not root.is_dir():
        raise MeflowError(f"{root}: dataset folder not found")
    found = find_file(root, entry.is_label_file, max_depth=2)
    if not found:
        raise MeflowError(
            f"{root}: no {entry.title} label file (like {entry.label_hint}) in this folder or "
            "two levels below; give it with --labels"
        )
    return found[0]


def load_dataset(
    name: str,
    *,
    labels: Path | None = None,
    root: Path | None = None,
    six_classes: bool = True,
) -> LoadResult:
    """Gives the samples of dataset ``name`` read from its label file.

    ``labels`` is the label file; without it the file is looked for in ``root``. With
    ``root`` the samples' frame folders lie under it, else under ``Path('.')``.
    ``six_classes`` keeps only the six classes of EMOTIONS; False keeps every sample with its
    normalised own word.
    """
    entry = get_entry(name)
    root = Path(root) if root is not None else None
    if root is not None and not root.is_dir():
        raise MeflowError(f"{root}: dataset folder not found")
    if entry.tree_only:
        if root is None:
            raise MeflowError(f"{name}: the folder tree is the annotation; give the dataset folder")
        return entry.load(root, root, six_classes)
    if labels is not None:
        label_file = Path(labels)
    elif root is not None:
        label_file = find_label_file(name, root)
    else:
        raise MeflowError(f"{name}: give the label file or the dataset folder")
    return entry.load(label_file, root, six_classes)


def check_frames(result: LoadResult) -> list[tuple[str, str]]:
    """Gives (sample_id, reason) for every sample whose frames are not where they should be.

    Nothing is checked without a dataset folder (``result.root`` None). A missing frames
    folder, or a missing onset/apex/offset frame file in an existing folder, is reported.
    """
    if result.root is None:
        return []
    problems: list[tuple[str, str]] = []
    for s in result.samples:
        if not s.frames_dir.is_dir():
            problems.append((s.sample_id, f"frames folder {s.frames_dir} does not exist"))
            continue
        absent = [
            f"{what} {n}"
            for what, n in (("onset", s.onset), ("apex", s.apex), ("offset", s.offset))
            if not s.frame_path(n).is_file()
        ]
        if absent:
            problems.append(
                (s.sample_id, f"frame files missing in {s.frames_dir}: {', '.join(absent)}")
            )
    return problems
