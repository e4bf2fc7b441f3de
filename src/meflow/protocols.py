"""The field's standard recognition protocols: their classes, how each dataset's emotion words
map onto them, and the reading of their samples from one or several feature caches.

A protocol relabels a cache's samples at load time from their ``emotion`` (the loader's
normalised word) and ``dataset``; a word it does not map leaves the sample out. The caches
must hold those samples: extract with ``meflow extract --all-classes`` (without it only the
six classes of the method are extracted, and e.g. CASME II's repression and SMIC's
negative/positive clips are absent). Every protocol is leave-one-subject-out; its metrics
(micro AUC, the class prior, UF1, UAR) are over its own classes only.

Mappings (checked on the real label files, /work/shared/data):

* ``megc2019`` -- MEGC2019 composite (CASME II + SAMM + SMIC HS), 3 classes. CASME II:
  disgust, repression -> negative; happiness -> positive; surprise -> surprise (its 4 sadness
  and 2 fear clips are not in the composite). SAMM: anger, contempt, disgust, fear, sadness ->
  negative; happiness -> positive; surprise -> surprise. SMIC: its own three classes. 'others'
  is never used. The composite's list (``megc2019/combined_3_class2_for_optical_flow.csv``,
  442 clips: CASME II 145 / SAMM 133 / SMIC 164, 68 subjects) then filters each dataset whose
  clips it names: on the real CASME II sheet the words alone give 150 clips (2 disgust and 3
  surprise clips are not in the list), on SAMM exactly the list's 133. A dataset none of whose
  clips the list names (synthetic data) is decided by the words alone; the run says which.
* ``casme2-5`` -- CASME II: happiness, disgust, repression, surprise, others (246 clips;
  sadness and fear, 6 clips, left out).
* ``samm-5`` -- SAMM: anger, contempt, happiness, surprise, others ('Other'; 136 clips;
  disgust, fear, sadness left out).
* ``casme3-3`` -- CAS(ME)^3 Part A: disgust, fear, anger, sadness -> negative; happiness ->
  positive; surprise -> surprise; 'others' left out (699 clips on the official label file;
  HTNet's edited file ``cas(me)3_part_A_edited.csv`` keeps 687 of them: 449/54/184).
* ``casme3-7`` -- CAS(ME)^3 Part A, the dataset paper's 7 classes: others, happiness, surprise,
  sadness, disgust, fear, anger (the order of HTNet's ``label_for_7``, whose edited file holds
  no 'others' row: there the protocol is six-class).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from meflow.errors import MeflowError
from meflow.features.featureset import FeatureSet, load_features, read_manifest

MEGC2019_LIST = "megc2019/combined_3_class2_for_optical_flow.csv"
_NEG_POS_SUR = ("negative", "positive", "surprise")


@dataclass(frozen=True)
class Protocol:
    """A standard protocol: its classes and, per dataset, the emotion words of each class."""

    name: str
    title: str
    classes: tuple[str, ...]
    words: Mapping[str, Mapping[str, str]]  # dataset -> {normalised emotion word: class}
    clip_list: str | None = None  # the protocol's clip list, relative to the shared data

    def label(self, dataset: str, emotion: str) -> int:
        """Gives the class index of a dataset's emotion word; -1 if the protocol leaves it out."""
        cls = self.words.get(dataset, {}).get(emotion)
        return self.classes.index(cls) if cls is not None else -1


def _same(*words: str) -> dict[str, str]:
    return {w: w for w in words}


PROTOCOLS: dict[str, Protocol] = {
    "megc2019": Protocol(
        "megc2019",
        "MEGC2019 composite (CASME II + SAMM + SMIC HS, 3 classes)",
        _NEG_POS_SUR,
        {
            "casme2": {
                "disgust": "negative",
                "repression": "negative",
                "happiness": "positive",
                "surprise": "surprise",
            },
            "samm": {
                **{w: "negative" for w in ("anger", "contempt", "disgust", "fear", "sadness")},
                "happiness": "positive",
                "surprise": "surprise",
            },
            "smic": _same(*_NEG_POS_SUR),
        },
        clip_list=MEGC2019_LIST,
    ),
    "casme2-5": Protocol(
        "casme2-5",
        "CASME II, 5 classes",
        ("happiness", "disgust", "repression", "surprise", "others"),
        {"casme2": _same("happiness", "disgust", "repression", "surprise", "others")},
    ),
    "samm-5": Protocol(
        "samm-5",
        "SAMM, 5 classes",
        ("anger", "contempt", "happiness", "surprise", "others"),
        {"samm": _same("anger", "contempt", "happiness", "surprise", "others")},
    ),
    "casme3-3": Protocol(
        "casme3-3",
        "CAS(ME)^3 Part A, 3 classes",
        _NEG_POS_SUR,
        {
            "casme3": {
                **{w: "negative" for w in ("disgust", "fear", "anger", "sadness")},
                "happiness": "positive",
                "surprise": "surprise",
            }
        },
    ),
    "casme3-7": Protocol(
        "casme3-7",
        "CAS(ME)^3 Part A, 7 classes",
        ("others", "happiness", "surprise", "sadness", "disgust", "fear", "anger"),
        {"casme3": _same("others", "happiness", "surprise", "sadness", "disgust", "fear", "anger")},
    ),
}


def get_protocol(name: str) -> Protocol:
    """Gives the protocol called ``name``; MeflowError naming the valid ones otherwise."""
    key = name.strip().lower()
    if key not in PROTOCOLS:
        raise MeflowError(f"unknown protocol {name!r} (valid: {', '.join(PROTOCOLS)})")
    return PROTOCOLS[key]


def shared_data() -> Path:
    """Gives the shared data folder: $MEFLOW_SHARED_DATA, else ../shared/data of the project."""
    env = os.environ.get("MEFLOW_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"


def clip_key(dataset: str, subject: str, clip: str) -> tuple[str, str, str]:
    """Gives a clip's name as the MEGC2019 list writes it (SMIC: s1, s1_ne_01 -> s01, s01_ne_01)."""
    if dataset == "smic":
        m = re.match(r"^s(\d+)$", subject, re.IGNORECASE)
        if m:
            subject = f"s{int(m.group(1)):02d}"
        clip = re.sub(r"^s(\d+)_", lambda c: f"s{int(c.group(1)):02d}_", clip, flags=re.IGNORECASE)
    return dataset, subject, clip


def read_clip_list(path: Path) -> dict[tuple[str, str, str], int]:
    """Gives {(dataset, subject, clip): label} of a MEGC2019-style list (dataset, sub,
    filename_o, label)."""
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MeflowError(f"{path}: cannot read the clip list ({exc})") from None
    need = ("dataset", "sub", "filename_o", "label")
    if any(c not in df.columns for c in need):
        raise MeflowError(f"{path}: a clip list needs the columns {', '.join(need)}")
    return {
        clip_key(d.strip().lower(), s.strip(), f.strip()): int(lab)
        for d, s, f, lab in zip(
            df["dataset"], df["sub"], df["filename_o"], df["label"], strict=True
        )
    }


def concat(parts: Sequence[FeatureSet]) -> FeatureSet:
    """Gives the FeatureSets of several caches as one (same extraction settings required)."""
    first = parts[0]
    for p in parts[1:]:
        if p.extract != first.extract or p.features_version != first.features_version:
            raise MeflowError(
                "the caches were extracted with different settings: extract every dataset "
                "with the same preset and settings"
            )
    values: dict[str, Any] = {}
    for f in dataclasses.fields(FeatureSet):
        vals = [getattr(p, f.name) for p in parts]
        v0 = vals[0]
        if isinstance(v0, np.ndarray):
            values[f.name] = np.concatenate(vals)
        elif isinstance(v0, list):  # sample_ids, clips, skipped
            values[f.name] = [x for v in vals for x in v]
        elif isinstance(v0, dict) and all(isinstance(a, np.ndarray) for a in v0.values()):
            values[f.name] = {k: np.concatenate([v[k] for v in vals]) for k in v0}
        else:
            values[f.name] = v0
    return FeatureSet(**values)


LIST_MATCH = 0.9  # share of a dataset's clips the list must name, with its labels, to apply


def _list_filter(
    dataset: str,
    in_d: np.ndarray,
    keys: Sequence[tuple[str, str, str]],
    labels: np.ndarray,
    listed: Mapping[tuple[str, str, str], int],
) -> tuple[np.ndarray, str]:
    """Gives the dataset's samples the list keeps, and a note on how that was decided.

    The list applies to the dataset when it names at least LIST_MATCH of its clips of the
    protocol's words and gives at least LIST_MATCH of those the same class: the data are then
    the list's (real CASME II: 145 of 150, labels all equal). Otherwise (synthetic clips whose
    names happen to be the list's, another release) the emotion words alone decide.
    """
    on_list = np.array([k in listed for k in keys]) & in_d
    n, hit = int(in_d.sum()), int(on_list.sum())
    same = sum(listed[k] == lab for k, lab, m in zip(keys, labels, on_list, strict=True) if m)
    want = sum(1 for k in listed if k[0] == dataset)
    if hit >= LIST_MATCH * n and same >= LIST_MATCH * hit and hit > 0:
        note = f"{dataset}: the protocol's list keeps {hit} of {n} clips ({want} listed)"
        return on_list, note + (
            f"; {hit - same} labelled otherwise by the list" if same < hit else ""
        )
    why = f"{hit} of its {n} clips named by the list, {same} with the list's class"
    return in_d, f"{dataset}: not the list's data ({why}): the emotion words decide"


@dataclass
class ProtocolData:
    """A protocol's samples from its caches, their datasets, and what decided them."""

    feats: FeatureSet  # labels index protocol.classes; subjects 'dataset/subject'
    datasets: np.ndarray  # (N,) the dataset of each sample
    notes: list[str]


def load_protocol(
    caches: Sequence[Path],
    protocol: Protocol,
    min_valid: float = 0.9,
    clip_list: Path | None = None,
) -> ProtocolData:
    """Gives a protocol's samples from ``caches``, relabelled into its classes.

    ``clip_list`` (default: the protocol's own list in the shared data, if present) filters
    every dataset whose clips it names; the other datasets keep every clip of a mapped word.
    """
    listed: dict[tuple[str, str, str], int] | None = None
    notes: list[str] = []
    own = shared_data() / protocol.clip_list if protocol.clip_list is not None else None
    path = Path(clip_list) if clip_list is not None else own
    if path is not None:
        if path.exists():
            listed = read_clip_list(path)
        elif clip_list is not None:
            raise MeflowError(f"{path}: clip list not found")
        else:
            notes.append(f"clip list {path} absent: the emotion words alone decide")
    seen: dict[str, tuple[str, tuple[str, str, str]]] = {}

    def relabel(meta: dict[str, Any]) -> int:
        dataset, emotion = str(meta.get("dataset", "")), str(meta.get("emotion", ""))
        label = protocol.label(dataset, emotion)
        sid = str(meta.get("sample_id", ""))
        key = clip_key(dataset, str(meta.get("subject", "")), str(meta.get("clip", "")))
        if label >= 0:
            seen[sid] = (dataset, key)
        return label

    parts = []
    for c in caches:
        try:
            parts.append(load_features(c, min_valid, protocol.classes, relabel))
        except MeflowError as exc:
            if not Path(c, "cache.json").exists():
                raise
            held = read_manifest(c).get("dataset")
            raise MeflowError(
                f"{c}: no sample of the protocol {protocol.name} (the cache holds {held!r}; the "
                f"protocol reads {', '.join(protocol.words)}, extracted with --all-classes)"
            ) from exc
    feats = concat(parts)
    datasets = np.array([seen[s][0] for s in feats.sample_ids])
    unknown = sorted(set(datasets) - set(protocol.words))
    if unknown:
        raise MeflowError(f"protocol {protocol.name} has no mapping for dataset {unknown[0]!r}")
    keep = np.ones(len(datasets), bool)
    for d in sorted(set(datasets)):
        in_d = datasets == d
        if listed is None:
            continue
        keys = [seen[sid][1] for sid in feats.sample_ids]
        on_list, note = _list_filter(d, in_d, keys, feats.labels, listed)
        notes.append(note)
        keep &= ~in_d | on_list
    feats = feats.subset(keep)
    datasets = datasets[keep]
    for d in sorted(set(datasets)):
        have = set(feats.labels[datasets == d].tolist())
        absent = [c for i, c in enumerate(protocol.classes) if i not in have]
        if absent:
            notes.append(
                f"{d}: no sample of {', '.join(absent)} (a cache extracted without "
                "--all-classes holds only the six classes' words)"
            )
    subjects = np.array([f"{d}/{s}" for d, s in zip(datasets, feats.subjects, strict=True)])
    feats = dataclasses.replace(feats, subjects=subjects)
    return ProtocolData(feats, datasets, notes)
