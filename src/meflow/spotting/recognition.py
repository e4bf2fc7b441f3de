"""Spot-then-recognise in the leave-one-subject-out evaluation, and STRS (docs/spotting.md).

In each fold, meflow's recommended recogniser (the ``recommended`` preset: the model input
``vector-bins`` and a logistic regression, trained on every window moved by the shifts of
``train.shifts`` from the annotated apex: position training) is trained on the TRAINING
subjects' annotated micro-expressions of the long recordings, each a window of
``features.window`` frame pairs cut from the recording's region flow around its annotated
apex (the middle of onset..offset where the apex is unknown). It then names the emotion of
every micro-expression the main spotter found in the held-out recordings, the window centred
on the spotted apex, and, for comparison, of every annotated one, centred on its annotated
apex. STRS (MEGC2023-2025) = micro spotting F1 x the analysis F1 of the correctly spotted
micro-expressions (``meflow.spotting.scoring.strs``); recognition on the annotated
intervals is reported beside it (UF1, UAR, analysis F1).

The windows are cut at the recording's analysis rate, which must be ``features.fps`` (as
``meflow extract --video`` gives it), so that a window spans the time it spans in training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from meflow.config import ExperimentConfig
from meflow.errors import MeflowError
from meflow.features.inputs import Batch, build_input
from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.scoring import Interval, StrsScore, strs


def frame_index(rec: RecordingFlow, number: int) -> int:
    """The analysed frame of ``rec`` whose source number is nearest ``number``."""
    if rec.frame_numbers is None:
        return int(np.clip(number - rec.first_frame, 0, rec.frames - 1))
    nums = rec.frame_numbers
    i = int(np.clip(np.searchsorted(nums, number), 0, len(nums) - 1))
    if i > 0 and abs(int(nums[i - 1]) - number) <= abs(int(nums[i]) - number):
        i -= 1
    return i


def centre(iv: Interval) -> int:
    """The frame a window is centred on: the apex, else the middle of onset..offset."""
    return iv.apex if iv.apex is not None else (iv.onset + iv.offset) // 2


def window_batch(
    rec: RecordingFlow, centres: Sequence[int], window: int, shift: int = 0
) -> tuple[Batch, np.ndarray]:
    """(batch of the windows of ``window`` pairs centred on the frames numbered ``centres``
    and moved by ``shift`` pairs, each window's share of valid pairs); a window is moved
    inside the recording at its ends, and a recording shorter than a window is completed
    with pairs without flow (invalid)."""
    vector, valid = rec.vector, rec.valid
    if len(valid) < window:
        pad = window - len(valid)
        vector = np.concatenate([vector, np.zeros((pad, *vector.shape[1:]))])
        valid = np.concatenate([valid, np.zeros(pad, bool)])
    last = len(valid) - window
    starts = [int(np.clip(frame_index(rec, c) - window // 2 + shift, 0, last)) for c in centres]
    batch_vector = np.stack([vector[s : s + window] for s in starts]).astype(np.float32)
    batch_valid = np.stack([valid[s : s + window] for s in starts])
    return {"vector": batch_vector, "valid": batch_valid}, batch_valid.mean(axis=1)


@dataclass
class Recogniser:
    """A recogniser trained on annotated micro-expressions of long recordings."""

    classes: tuple[str, ...]
    fitted: Any  # meflow.training.classify.Fitted
    cfg: ExperimentConfig

    def probabilities(self, rec: RecordingFlow, intervals: Sequence[Interval]) -> np.ndarray:
        """(intervals, classes) probabilities, each window centred on the interval's apex."""
        if not intervals:
            return np.zeros((0, len(self.classes)))
        batch, _ = window_batch(rec, [centre(iv) for iv in intervals], self.window)
        X = build_input(self.cfg.train.inputs[0], batch, self.cfg.train)
        return np.asarray(self.fitted.predict_proba(X))

    @property
    def window(self) -> int:
        """Frame pairs of a window."""
        return int(self.cfg.extract.features.window)

    def label(self, rec: RecordingFlow, intervals: Sequence[Interval]) -> list[Interval]:
        """The intervals, each micro-expression with the emotion it is classified as."""
        micro = [iv for iv in intervals if iv.type == "micro"]
        probs = self.probabilities(rec, micro)
        best = probs.argmax(axis=1)
        named = {id(iv): self.classes[int(k)] for iv, k in zip(micro, best, strict=True)}
        return [replace(iv, emotion=named[id(iv)]) if id(iv) in named else iv for iv in intervals]


def recommended_config() -> ExperimentConfig:
    """The recommended preset's settings (a vector input and a directly fitted classifier)."""
    from meflow.config import with_preset

    return with_preset("recommended")


def train_recogniser(
    recordings: Sequence[RecordingFlow],
    truth: Sequence[Interval],
    subjects: Mapping[str, str],
    cfg: ExperimentConfig | None = None,
) -> Recogniser:
    """The recogniser of ``cfg`` (default: recommended) trained on the annotated micro-
    expressions with an emotion in ``recordings``, every window at each ``train.shifts``.

    Windows with fewer than ``train.min_valid`` valid pairs (centred) are left out.
    MeflowError when fewer than 2 emotions are left to learn.
    """
    cfg = cfg or recommended_config()
    window, fps = cfg.extract.features.window, cfg.extract.features.fps
    by_rec = {r.name: r for r in recordings}
    micro = [g for g in truth if g.type == "micro" and g.emotion and g.recording in by_rec]
    classes = tuple(sorted({str(g.emotion) for g in micro}))
    if len(classes) < 2:
        raise MeflowError(
            f"recognition needs annotated micro-expressions of at least 2 emotions in the "
            f"training recordings, found {len(classes)}"
        )
    xs, ys, groups = [], [], []
    for name, rec in by_rec.items():
        mine = [g for g in micro if g.recording == name]
        if not mine:
            continue
        if abs(rec.fps - fps) > 1e-6:
            raise MeflowError(
                f"recording {name!r} is analysed at {rec.fps:g} fps, not features.fps {fps:g}"
            )
        _, share = window_batch(rec, [centre(g) for g in mine], window)
        keep = [g for g, s in zip(mine, share, strict=True) if s >= cfg.train.min_valid - 1e-12]
        if not keep:
            continue
        for shift in cfg.train.shift_list:
            batch, _ = window_batch(rec, [centre(g) for g in keep], window, shift)
            xs.append(build_input(cfg.train.inputs[0], batch, cfg.train))
            ys += [classes.index(str(g.emotion)) for g in keep]
            groups += [subjects.get(name, name)] * len(keep)
    if not xs:
        raise MeflowError("no annotated micro-expression window has enough valid frame pairs")
    y = np.asarray(ys)
    if len(np.unique(y)) < 2:
        raise MeflowError("recognition needs at least 2 emotions among the usable windows")
    return Recogniser(classes, _fit(cfg, np.concatenate(xs), y, np.asarray(groups), classes), cfg)


def _fit(cfg: ExperimentConfig, X: np.ndarray, y: np.ndarray, groups: np.ndarray,
         classes: tuple[str, ...]) -> Any:  # fmt: skip
    """The classifier of ``train.model`` fitted on (X, y): directly where it is fitted
    directly (no torch import), with meflow's training loop otherwise."""
    from meflow.models import registry

    spec = registry.get(cfg.train.model)
    if spec.fit is not None:
        return spec.fit(X, y, len(classes), cfg.train)
    from meflow.training.classify import fit_classifier

    return fit_classifier(cfg.train.model, X, y, groups, cfg.train, len(classes))


@dataclass
class RecognitionResult:
    """STRS of the spotted micro-expressions, and recognition on the annotated ones."""

    strs: StrsScore  # spotted intervals, classified with their window on the spotted apex
    annotated: StrsScore  # annotated intervals, classified on the annotated apex
    classes: tuple[str, ...]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The figures for results.json."""

        def part(s: StrsScore, spotted: bool = True) -> dict[str, Any]:
            out = {
                "spotting_f1": s.spotting.f1,
                "analysis_precision": s.analysis_precision,
                "analysis_recall": s.analysis_recall,
                "analysis_f1": s.analysis_f1,
                "uf1": s.uf1,
                "uar": s.uar,
                "per_emotion": s.per_emotion,
            }
            return {**out, "strs": s.strs} if spotted else out

        return {
            "emotions": list(self.strs.emotions),
            "spotted": part(self.strs),
            "annotated": part(self.annotated, spotted=False),
            "notes": list(self.notes),
        }


@dataclass
class SpotThenRecognise:
    """The per-fold spot-then-recognise step of ``evaluate_spotting`` (``recognise=``)."""

    truth: Sequence[Interval]
    subjects: Mapping[str, str]
    cfg: ExperimentConfig | None = None
    spotted: list[Interval] = field(default_factory=list)
    annotated: list[Interval] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)

    def fold(
        self,
        train: Sequence[RecordingFlow],
        train_truth: Sequence[Interval],
        tests: Sequence[RecordingFlow],
        found: Mapping[str, list[Interval]],
    ) -> dict[str, list[Interval]]:
        """Trains on the fold's training recordings, names the emotions of the held-out
        recordings' spotted and annotated micro-expressions; gives the spotted intervals
        with their emotions, by recording."""
        try:
            rec = train_recogniser(train, train_truth, self.subjects, self.cfg)
        except MeflowError as exc:
            held = ", ".join(r.name for r in tests)
            self.notes.append(f"held out {held}: no recognition ({exc})")
            for r in tests:
                self.spotted += found.get(r.name, [])
                self.annotated += [g for g in self.truth if g.recording == r.name]
            return {r.name: list(found.get(r.name, [])) for r in tests}
        self.classes |= set(rec.classes)
        out = {}
        for r in tests:
            out[r.name] = rec.label(r, found.get(r.name, []))
            self.spotted += out[r.name]
            gts = [replace(g, emotion=None) for g in self.truth if g.recording == r.name]
            self.annotated += rec.label(r, gts)
        return out

    def result(self) -> RecognitionResult:
        """STRS and recognition on the annotated intervals over all folds."""
        micro = [g for g in self.truth if g.type == "micro"]
        emotions = sorted({str(g.emotion) for g in micro if g.emotion})
        return RecognitionResult(
            strs=strs(self.spotted, micro, emotions),
            annotated=strs([a for a in self.annotated if a.type == "micro"], micro, emotions),
            classes=tuple(emotions),
            notes=list(self.notes),
        )
