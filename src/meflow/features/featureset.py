"""Reading a feature cache for training: its manifest, and its finished six-class samples as
a FeatureSet (pseudo-images and per-pair series). ``features.extract`` writes caches."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.features import FEATURES_VERSION
from meflow.features.cache import load_npz

# the per-pair arrays of a cache sample that FeatureSet stacks (besides the pseudo-images)
SERIES = ("angle", "magnitude", "vector", "main", "valid")


@dataclass
class FeatureSet:
    """A cache's finished samples, ready for training: pseudo-images and per-pair series."""

    discrete: np.ndarray  # (N, 42, 64) uint8
    continuous: np.ndarray  # (N, 42, 64) uint8
    labels: np.ndarray  # (N,) int index into classes
    subjects: np.ndarray  # (N,) str
    sample_ids: list[str]
    extract: dict[str, Any]
    skipped: list[tuple[str, str]]
    features_version: int = 1  # of the cache (meflow.features.FEATURES_VERSION)
    # SERIES stacked: angle, magnitude (N, 64, 42), vector, main (N, 64, 42, 2), valid (N, 64),
    # and expression (N, 64): the pairs inside the labelled onset..offset
    series: dict[str, np.ndarray] = field(default_factory=dict)
    clips: list[str] = field(default_factory=list)  # (N,) the clip of each sample
    classes: tuple[str, ...] = EMOTIONS  # the class of each label index (a protocol's own)

    def images(self, angle: str) -> np.ndarray:
        return self.discrete if angle == "discrete" else self.continuous

    def batch(self) -> dict[str, np.ndarray]:
        """The samples as a batch of windows for ``features.inputs.build_input``."""
        return {
            "pseudo_discrete": self.discrete,
            "pseudo_continuous": self.continuous,
            **self.series,
        }

    def subset(self, mask: np.ndarray) -> FeatureSet:
        idx = np.flatnonzero(mask)
        return FeatureSet(
            self.discrete[idx],
            self.continuous[idx],
            self.labels[idx],
            self.subjects[idx],
            [self.sample_ids[i] for i in idx],
            self.extract,
            self.skipped,
            self.features_version,
            {k: v[idx] for k, v in self.series.items()},
            [self.clips[i] for i in idx] if self.clips else [],
            self.classes,
        )


def read_manifest(cache: Path) -> dict[str, Any]:
    """The cache.json of a cache made by this meflow; MeflowError (one line) otherwise."""
    cache = Path(cache)
    manifest = cache / "cache.json"
    if not manifest.exists():
        raise MeflowError(
            f"{cache}: not a meflow feature cache (no cache.json); run meflow extract"
        )
    try:
        doc: dict[str, Any] = json.loads(manifest.read_text())
    except (OSError, ValueError):
        raise MeflowError(f"{manifest}: unreadable cache manifest; re-extract") from None
    version = int(doc.get("features_version", 1))
    if version != FEATURES_VERSION:
        raise MeflowError(
            f"{cache}: the cache holds features of version {version}; this meflow computes "
            f"version {FEATURES_VERSION} (other pseudo-images for the same settings): "
            "re-extract it with meflow extract into a new --out folder"
        )
    return doc


def load_features(
    cache: Path,
    min_valid: float = 0.9,
    classes: tuple[str, ...] = EMOTIONS,
    relabel: Callable[[dict[str, Any]], int] | None = None,
) -> FeatureSet:
    """Reads a cache's finished samples of ``classes`` (at least ``min_valid`` valid pairs).

    Without ``relabel`` a sample's label is the cache's six-class one; with it, the label is
    ``relabel(meta)`` (an index into ``classes``, -1 leaves the sample out), as a protocol
    relabels the dataset's own emotion words (meflow.protocols).
    """
    cache = Path(cache)
    doc = read_manifest(cache)
    extract = doc["extract"]
    disc, cont, labels, subjects, ids, clips, skipped = [], [], [], [], [], [], []
    series: dict[str, list[np.ndarray]] = {k: [] for k in (*SERIES, "expression")}
    for f in sorted((cache / "samples").glob("*.npz")):
        arrays, meta = load_npz(f)
        sid = meta.get("sample_id", f.stem)
        label = relabel(meta) if relabel is not None else int(meta.get("label", -1))
        if label < 0:
            what = "the six classes" if relabel is None else f"the classes {', '.join(classes)}"
            skipped.append((sid, f"emotion {meta.get('emotion')!r} is not one of {what}"))
            continue
        frac = float(arrays["valid"].mean())
        if frac < min_valid - 1e-12:
            skipped.append((sid, f"only {frac:.0%} valid frame pairs (train.min_valid)"))
            continue
        disc.append(arrays["pseudo_discrete"])
        cont.append(arrays["pseudo_continuous"])
        for k in SERIES:
            series[k].append(arrays[k])
        fr = arrays["frames"]  # the expression's pairs: inside onset..offset
        series["expression"].append((fr[:-1] >= meta["onset"]) & (fr[1:] <= meta["offset"]))
        labels.append(label)
        subjects.append(str(meta["subject"]))
        clips.append(str(meta.get("clip", "")))
        ids.append(sid)
    if not ids:
        raise MeflowError(f"{cache}: no finished samples of the classes {', '.join(classes)}")
    return FeatureSet(
        np.stack(disc),
        np.stack(cont),
        np.array(labels),
        np.array(subjects),
        ids,
        extract,
        skipped,
        int(doc.get("features_version", 1)),
        {k: np.stack(v) for k, v in series.items()},
        clips,
        tuple(classes),
    )
