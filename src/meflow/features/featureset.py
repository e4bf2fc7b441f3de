"""Reading a feature cache for training: its manifest, and its finished six-class samples as
a FeatureSet (per-pair series and pseudo-images over each sample's span, windows cut from
them). ``features.extract`` writes caches."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.face.regions import N_REGIONS
from meflow.features import FEATURES_VERSION
from meflow.features.cache import load_npz

# the per-pair arrays of a cache sample that FeatureSet stacks, pairs first; the pseudo-images
# (regions x pairs) have the pairs last
SERIES = ("angle", "magnitude", "vector", "main", "valid")
IMAGES = ("pseudo_discrete", "pseudo_continuous")
# the descriptors of the labelled frames' flows beyond the region means (features.sample
# expression_flows): kept where every sample of a cache has them (caches made before lack them)
DESCRIPTORS = ("onset_apex_parts", "onset_apex_strain", "apex_offset_parts", "apex_offset_strain")


def window_of(per_pair: np.ndarray, meta: dict[str, Any]) -> np.ndarray:
    """The anchor-centred window's part of a cache sample's per-pair array (pairs first)."""
    index = int(meta.get("window_index", 0))
    return per_pair[index : index + int(meta.get("window", len(per_pair)))]


def _cut(a: np.ndarray, first: np.ndarray, window: int, axis: int) -> np.ndarray:
    """(N, ..., W, ...): for each sample n, the ``window`` pairs of ``a`` (pairs on ``axis``)
    from ``first[n]`` on."""
    if len(first) and (first == first[0]).all():
        f = int(first[0])
        return np.ascontiguousarray(a[(slice(None),) * axis + (slice(f, f + window),)])
    idx = first[:, None] + np.arange(window)  # (N, W)
    shape = [len(a)] + [1] * (a.ndim - 1)
    shape[axis] = window
    return np.take_along_axis(a, idx.reshape(shape), axis=axis)


@dataclass
class FeatureSet:
    """A cache's finished samples, ready for training: per-pair series over each sample's span
    (the centred window and ``margin`` pairs on each side), from which windows are cut."""

    labels: np.ndarray  # (N,) int index into classes
    subjects: np.ndarray  # (N,) str
    sample_ids: list[str]
    extract: dict[str, Any]
    skipped: list[tuple[str, str]]
    features_version: int = 1  # of the cache (meflow.features.FEATURES_VERSION)
    # over the span of S pairs: SERIES stacked, angle, magnitude (N, S, 42), vector, main
    # (N, S, 42, 2), valid (N, S), expression (N, S) (the pairs inside the labelled
    # onset..offset), and IMAGES, the pseudo-images (N, 42, S) uint8
    series: dict[str, np.ndarray] = field(default_factory=dict)
    clips: list[str] = field(default_factory=list)  # (N,) the clip of each sample
    window: int = 64  # W, pairs of a window (features.window)
    # (N,) int: the first pair of each sample's anchor-centred window in its span
    window_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # (N, 42, 2) float32: each region's mean flow from the onset to the apex frame (NaN: none)
    onset_apex: np.ndarray = field(default_factory=lambda: np.zeros((0, 42, 2), np.float32))
    onset_apex_valid: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # (N,)
    classes: tuple[str, ...] = EMOTIONS  # the class of each label index (a protocol's own)
    # (N, 42, 2) float32 and (N,) bool: the same from the apex to the offset frame (zeros and
    # False for a cache made before it was extracted)
    apex_offset: np.ndarray = field(default_factory=lambda: np.zeros((0, 42, 2), np.float32))
    apex_offset_valid: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # DESCRIPTORS by name, (N, ...) float32 each, those every sample has
    descriptors: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def span(self) -> int:
        """S, the pairs stored per sample."""
        return int(self.series["valid"].shape[1])

    def _window(self, key: str, shift: int = 0) -> np.ndarray:
        first = np.clip(self.window_index + shift, 0, self.span - self.window)
        return _cut(self.series[key], first, self.window, 2 if key in IMAGES else 1)

    @property
    def discrete(self) -> np.ndarray:
        """(N, 42, W) uint8: the discretised pseudo-images of the centred windows."""
        return self._window("pseudo_discrete")

    @property
    def continuous(self) -> np.ndarray:
        """(N, 42, W) uint8: the continuous pseudo-images of the centred windows."""
        return self._window("pseudo_continuous")

    def images(self, angle: str) -> np.ndarray:
        """The centred windows' pseudo-images of ``angle`` ('discrete' or 'continuous')."""
        return self.discrete if angle == "discrete" else self.continuous

    def batch(self, shift: int = 0) -> dict[str, np.ndarray]:
        """The samples as a batch of windows for ``features.inputs.build_input``: each the W
        pairs from its centred window's first pair + ``shift`` (kept inside its span), with
        the onset-to-apex and apex-to-offset flows (``onset_apex``, ``apex_offset`` and their
        ``_valid``) and their DESCRIPTORS where the cache has them."""
        return {
            **self.descriptors,
            **{k: self._window(k, shift) for k in self.series},
            "onset_apex": self.onset_apex,
            "onset_apex_valid": self.onset_apex_valid,
            **(
                {"apex_offset": self.apex_offset, "apex_offset_valid": self.apex_offset_valid}
                if len(self.apex_offset) == len(self.labels)
                else {}
            ),
        }

    def subset(self, mask: np.ndarray) -> FeatureSet:
        idx = np.flatnonzero(mask)
        return FeatureSet(
            self.labels[idx],
            self.subjects[idx],
            [self.sample_ids[i] for i in idx],
            self.extract,
            self.skipped,
            self.features_version,
            {k: v[idx] for k, v in self.series.items()},
            [self.clips[i] for i in idx] if self.clips else [],
            self.window,
            self.window_index[idx],
            self.onset_apex[idx],
            self.onset_apex_valid[idx],
            self.classes,
            *(
                (self.apex_offset[idx], self.apex_offset_valid[idx])
                if len(self.apex_offset) == len(self.labels)
                else (self.apex_offset, self.apex_offset_valid)
            ),
            {k: v[idx] for k, v in self.descriptors.items()},
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
    """Reads a cache's finished samples of ``classes`` (at least ``min_valid`` valid pairs in
    the centred window).

    Without ``relabel`` a sample's label is the cache's six-class one; with it, the label is
    ``relabel(meta)`` (an index into ``classes``, -1 leaves the sample out), as a protocol
    relabels the dataset's own emotion words (meflow.protocols).
    """
    cache = Path(cache)
    doc = read_manifest(cache)
    extract = doc["extract"]
    labels, subjects, ids, clips, skipped, first = [], [], [], [], [], []
    series: dict[str, list[np.ndarray]] = {k: [] for k in (*IMAGES, *SERIES, "expression")}
    oa: list[np.ndarray] = []
    oa_valid: list[bool] = []
    ao: list[np.ndarray] = []
    ao_valid: list[bool] = []
    desc: dict[str, list[np.ndarray]] = {k: [] for k in DESCRIPTORS}
    for f in sorted((cache / "samples").glob("*.npz")):
        arrays, meta = load_npz(f)
        sid = meta.get("sample_id", f.stem)
        label = relabel(meta) if relabel is not None else int(meta.get("label", -1))
        if label < 0:
            what = "the six classes" if relabel is None else f"the classes {', '.join(classes)}"
            skipped.append((sid, f"emotion {meta.get('emotion')!r} is not one of {what}"))
            continue
        frac = float(window_of(arrays["valid"], meta).mean())
        if frac < min_valid - 1e-12:
            skipped.append((sid, f"only {frac:.0%} valid frame pairs (train.min_valid)"))
            continue
        for k in (*IMAGES, *SERIES):
            series[k].append(arrays[k])
        fr = arrays["frames"]  # the expression's pairs: inside onset..offset
        series["expression"].append((fr[:-1] >= meta["onset"]) & (fr[1:] <= meta["offset"]))
        oa.append(arrays.get("onset_apex", np.zeros((N_REGIONS, 2), np.float32)))
        oa_valid.append(bool(arrays.get("onset_apex_valid", np.zeros(1, bool))[0]))
        ao.append(arrays.get("apex_offset", np.zeros((N_REGIONS, 2), np.float32)))
        ao_valid.append(bool(arrays.get("apex_offset_valid", np.zeros(1, bool))[0]))
        for k in [k for k in desc if k in arrays]:
            desc[k].append(arrays[k])
        first.append(int(meta.get("window_index", 0)))
        labels.append(label)
        subjects.append(str(meta["subject"]))
        clips.append(str(meta.get("clip", "")))
        ids.append(sid)
    if not ids:
        raise MeflowError(f"{cache}: no finished samples of the classes {', '.join(classes)}")
    return FeatureSet(
        np.array(labels),
        np.array(subjects),
        ids,
        extract,
        skipped,
        int(doc.get("features_version", 1)),
        {k: np.stack(v) for k, v in series.items()},
        clips,
        int(extract["features"]["window"]),
        np.array(first, dtype=np.int64),
        np.stack(oa).astype(np.float32),
        np.array(oa_valid, dtype=bool),
        tuple(classes),
        np.stack(ao).astype(np.float32),
        np.array(ao_valid, dtype=bool),
        {k: np.stack(v).astype(np.float32) for k, v in desc.items() if len(v) == len(ids)},
    )
