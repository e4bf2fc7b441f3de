"""MEGC's spotting evaluation: interval IoU, one-to-one matching, pooled P / R / F1, and STRS.

Definitions (sources in docs/spotting.md, "Scoring"):

- An interval is ``[onset, offset]`` in frames, both ends included, so its length is
  ``offset - onset + 1`` and ``iou = |overlap| / |union|`` counts frames (MEGC2020's baseline
  ``calc_iou`` and the STRS-Metric script count the same way).
- A spotted interval is a true positive when its IoU with a ground truth of the same type in the
  same recording is at least the threshold (0.5). Each ground truth and each spotted interval is
  matched at most once: per recording and type, the matching with the most pairs; among those,
  the largest summed IoU; then the higher-scored prediction (ties left: the earlier one given).
- Counts are pooled over all recordings, then ``P = TP / predictions``, ``R = TP / ground
  truths``, ``F1 = 2PR / (P + R)``; "overall" pools the micro and macro counts. An undefined
  ratio is 0, as MEGC's scripts return: P = 0 with no prediction, R = 0 with no ground truth,
  F1 = 0 when P + R = 0.
- STRS (MEGC2023-2025's spot-then-recognise score) = micro spotting F1 x analysis F1, where the
  analysis F1 is the harmonic mean of the per-emotion precision and recall, each averaged over
  the emotions, on the correctly spotted micro-expressions (STRS-Metric's ``F1-score analysis``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from meflow.errors import MeflowError

EXPRESSION_TYPES = ("micro", "macro")
IOU_THRESHOLD = 0.5


def _frame(value: Any, name: str) -> int:
    """value as an int frame number; a MeflowError for a fractional or non-numeric one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MeflowError(f"interval {name} must be a frame number, got {value!r}") from None
    if not number.is_integer():
        raise MeflowError(f"interval {name} must be a whole frame number, got {value!r}")
    return int(number)


@dataclass(frozen=True)
class Interval:
    """One micro- or macro-expression interval ``[onset, offset]`` (frames, both included)."""

    recording: str
    onset: int
    offset: int
    type: str
    score: float | None = None
    emotion: str | None = None
    apex: int | None = None  # a spotter's peak frame (same numbering); None where unknown

    def __post_init__(self) -> None:
        onset = _frame(self.onset, "onset")
        offset = _frame(self.offset, "offset")
        if self.apex is not None:
            apex = _frame(self.apex, "apex")
            if not onset <= apex <= offset:
                raise MeflowError(
                    f"interval in {self.recording!r}: apex {apex} outside [{onset}, {offset}]"
                )
            object.__setattr__(self, "apex", apex)
        if offset < onset:
            raise MeflowError(
                f"interval in {self.recording!r} ends before it starts: onset {onset}, "
                f"offset {offset}"
            )
        if self.type not in EXPRESSION_TYPES:
            raise MeflowError(f"interval type must be one of {EXPRESSION_TYPES}, got {self.type!r}")
        object.__setattr__(self, "onset", onset)
        object.__setattr__(self, "offset", offset)

    @property
    def length(self) -> int:
        """Number of frames, both ends included."""
        return self.offset - self.onset + 1


def overlap_union(a: Interval, b: Interval) -> tuple[int, int]:
    """(frames in both, frames in either) of two intervals, both ends included."""
    inter = max(0, min(a.offset, b.offset) - max(a.onset, b.onset) + 1)
    return inter, a.length + b.length - inter


def iou(a: Interval, b: Interval) -> float:
    """Frame IoU of two intervals, both ends included (0 when they share no frame)."""
    inter, union = overlap_union(a, b)
    return inter / union


def _overlaps(
    preds: list[tuple[int, Interval]], gts: list[tuple[int, Interval]]
) -> tuple[np.ndarray, np.ndarray]:
    """(shared frames, frames in either), (predictions, ground truths) int64 matrices."""
    p = np.array([(iv.onset, iv.offset) for _, iv in preds], dtype=np.int64).reshape(-1, 2)
    g = np.array([(iv.onset, iv.offset) for _, iv in gts], dtype=np.int64).reshape(-1, 2)
    first = np.maximum(p[:, None, 0], g[None, :, 0])
    last = np.minimum(p[:, None, 1], g[None, :, 1])
    inter = np.maximum(last - first + 1, 0)
    lengths = (p[:, 1] - p[:, 0] + 1)[:, None] + (g[:, 1] - g[:, 0] + 1)[None, :]
    return inter, lengths - inter


@dataclass(frozen=True)
class Match:
    """A true positive: indices into the predictions and the ground truths, and their IoU."""

    prediction: int
    ground_truth: int
    iou: float


def _match_group(
    preds: list[tuple[int, Interval]], gts: list[tuple[int, Interval]], threshold: Fraction
) -> list[Match]:
    """The matches of one recording and type: most pairs, then most IoU, then higher score."""
    from scipy.optimize import linear_sum_assignment

    if not preds or not gts:
        return []
    inter, union = _overlaps(preds, gts)
    # IoU >= threshold compared exactly in integers (5 of 10 frames is 0.5, not 0.4999...)
    ok = (inter > 0) & (inter * threshold.denominator >= threshold.numerator * union)
    if not ok.any():
        return []
    ious = inter / union
    scores = np.array([p.score if p.score is not None else -np.inf for _, p in preds])
    # rank n-1 = highest score, the earliest given among equal scores; a bonus below any IoU
    # difference of real intervals (1e-9 in all) settles the ties left by pairs and IoU
    order = np.lexsort((-np.arange(len(preds)), scores))
    rank = np.empty(len(preds))
    rank[order] = np.arange(len(preds))
    bonus = 1e-9 * rank[:, None] / (len(preds) * min(len(preds), len(gts)))
    big = float(min(len(preds), len(gts)) + 1)  # one more pair outweighs any IoU sum
    weight = np.where(ok, big + ious + bonus, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [
        Match(preds[r][0], gts[c][0], float(ious[r, c]))
        for r, c in zip(rows, cols, strict=True)
        if ok[r, c]
    ]


def match_intervals(
    predictions: Sequence[Interval],
    ground_truth: Sequence[Interval],
    threshold: float = IOU_THRESHOLD,
) -> list[Match]:
    """The true positives: one-to-one pairs of the same recording and type with IoU >= threshold."""
    if not 0.0 < threshold <= 1.0:
        raise MeflowError(f"IoU threshold must be in (0, 1], got {threshold}")
    frac = Fraction(threshold).limit_denominator(10**6)
    groups: dict[tuple[str, str], tuple[list, list]] = defaultdict(lambda: ([], []))
    for i, p in enumerate(predictions):
        groups[(p.recording, p.type)][0].append((i, p))
    for j, g in enumerate(ground_truth):
        groups[(g.recording, g.type)][1].append((j, g))
    out: list[Match] = []
    for key in sorted(groups):
        out.extend(_match_group(*groups[key], frac))
    return sorted(out, key=lambda m: m.prediction)


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def f1_from_counts(tp: int, n_pred: int, n_gt: int) -> float:
    """F1 = 2PR / (P + R) with MEGC's zeros for undefined ratios (equals 2TP / (n_pred + n_gt))."""
    p, r = _ratio(tp, n_pred), _ratio(tp, n_gt)
    return _ratio(2 * p * r, p + r)


@dataclass(frozen=True)
class Counts:
    """Pooled spotting counts and MEGC's precision, recall and F1 from them."""

    tp: int = 0
    n_pred: int = 0
    n_gt: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.n_pred + other.n_pred, self.n_gt + other.n_gt)

    @property
    def fp(self) -> int:
        """Spotted intervals that matched no ground truth."""
        return self.n_pred - self.tp

    @property
    def fn(self) -> int:
        """Ground truths that no spotted interval matched."""
        return self.n_gt - self.tp

    @property
    def precision(self) -> float:
        """TP / predictions (0 with no prediction)."""
        return _ratio(self.tp, self.n_pred)

    @property
    def recall(self) -> float:
        """TP / ground truths (0 with no ground truth)."""
        return _ratio(self.tp, self.n_gt)

    @property
    def f1(self) -> float:
        """2PR / (P + R) (0 when P + R = 0)."""
        return f1_from_counts(self.tp, self.n_pred, self.n_gt)

    def as_dict(self) -> dict[str, float]:
        """The counts and the three ratios, for a results table or JSON."""
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "n_pred": self.n_pred,
            "n_gt": self.n_gt,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclass(frozen=True)
class SpottingScore:
    """Pooled counts for micro, macro and overall (both pooled), and the matches made."""

    micro: Counts
    macro: Counts
    matches: list[Match] = field(default_factory=list)

    @property
    def overall(self) -> Counts:
        """Micro and macro counts pooled, as MEGC's overall F1 takes them."""
        return self.micro + self.macro

    def __getitem__(self, kind: str) -> Counts:
        if kind not in ("micro", "macro", "overall"):
            raise MeflowError(f"spotting kind must be micro, macro or overall, got {kind!r}")
        return self.overall if kind == "overall" else getattr(self, kind)

    def as_dict(self) -> dict[str, dict[str, float]]:
        """{'micro': ..., 'macro': ..., 'overall': ...} of Counts.as_dict()."""
        return {k: self[k].as_dict() for k in ("micro", "macro", "overall")}


def _counts_by(
    predictions: Sequence[Interval], ground_truth: Sequence[Interval], matches: Iterable[Match]
) -> dict[tuple[str, str], Counts]:
    n_pred: dict[tuple[str, str], int] = defaultdict(int)
    n_gt: dict[tuple[str, str], int] = defaultdict(int)
    tp: dict[tuple[str, str], int] = defaultdict(int)
    for p in predictions:
        n_pred[(p.recording, p.type)] += 1
    for g in ground_truth:
        n_gt[(g.recording, g.type)] += 1
    for m in matches:
        p = predictions[m.prediction]
        tp[(p.recording, p.type)] += 1
    keys = sorted(set(n_pred) | set(n_gt))
    return {k: Counts(tp[k], n_pred[k], n_gt[k]) for k in keys}


def per_recording_counts(
    predictions: Sequence[Interval],
    ground_truth: Sequence[Interval],
    threshold: float = IOU_THRESHOLD,
) -> dict[tuple[str, str], Counts]:
    """Counts of each (recording, type) that has a prediction or a ground truth."""
    matches = match_intervals(predictions, ground_truth, threshold)
    return _counts_by(predictions, ground_truth, matches)


def score_spotting(
    predictions: Sequence[Interval],
    ground_truth: Sequence[Interval],
    threshold: float = IOU_THRESHOLD,
) -> SpottingScore:
    """MEGC's spotting score: counts pooled over all recordings, per type and overall."""
    matches = match_intervals(predictions, ground_truth, threshold)
    by_type = {t: Counts() for t in EXPRESSION_TYPES}
    for (_, kind), c in _counts_by(predictions, ground_truth, matches).items():
        by_type[kind] = by_type[kind] + c
    return SpottingScore(by_type["micro"], by_type["macro"], matches)


@dataclass(frozen=True)
class StrsScore:
    """STRS and its parts: micro spotting counts and the emotion analysis of its true positives."""

    spotting: Counts
    emotions: tuple[str, ...]
    per_emotion: dict[str, dict[str, float]]
    analysis_precision: float
    analysis_recall: float
    analysis_f1: float
    uf1: float
    uar: float

    @property
    def strs(self) -> float:
        """Spotting F1 x analysis F1."""
        return self.spotting.f1 * self.analysis_f1


def _emotion_table(
    pairs: list[tuple[str | None, str]], emotions: Sequence[str]
) -> dict[str, dict[str, float]]:
    """One-vs-rest precision, recall, F1 of each emotion over (predicted, annotated) pairs."""
    table = {}
    for e in emotions:
        tp = sum(1 for p, g in pairs if p == e and g == e)
        fp = sum(1 for p, g in pairs if p == e and g != e)
        fn = sum(1 for p, g in pairs if p != e and g == e)
        c = Counts(tp, tp + fp, tp + fn)
        table[e] = {"tp": tp, "fp": fp, "fn": fn, "precision": c.precision, "recall": c.recall}
        table[e]["f1"] = c.f1
    return table


def strs(
    predictions: Sequence[Interval],
    ground_truth: Sequence[Interval],
    emotions: Sequence[str] | None = None,
    threshold: float = IOU_THRESHOLD,
) -> StrsScore:
    """MEGC2023-2025's spot-then-recognise score on the micro-expressions.

    ``emotions``: the classes analysed (default: those of the micro ground truths, sorted);
    correctly spotted micro-expressions annotated with another emotion are left out of the
    analysis, as STRS-Metric leaves them out. A prediction without an emotion is wrong.
    """
    preds = [p for p in predictions if p.type == "micro"]
    gts = [g for g in ground_truth if g.type == "micro"]
    score = score_spotting(preds, gts, threshold)
    if emotions is None:
        emotions = sorted({g.emotion for g in gts if g.emotion is not None})
    classes = tuple(emotions)
    pairs = [(preds[m.prediction].emotion, gts[m.ground_truth].emotion) for m in score.matches]
    pairs_in = [(p, g) for p, g in pairs if g is not None and g in classes]
    table = _emotion_table(pairs_in, classes)
    k = max(len(classes), 1)
    prec = sum(row["precision"] for row in table.values()) / k
    rec = sum(row["recall"] for row in table.values()) / k
    return StrsScore(
        spotting=score.micro,
        emotions=classes,
        per_emotion=table,
        analysis_precision=prec,
        analysis_recall=rec,
        analysis_f1=_ratio(2 * prec * rec, prec + rec),
        uf1=sum(row["f1"] for row in table.values()) / k,
        uar=rec,
    )
