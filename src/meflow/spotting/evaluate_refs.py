"""The references of a spotting evaluation: chance on the same splits, the paired bootstrap
over subjects of the main spotter's F1 minus each reference's, and the share of spotted
intervals on annotated blinks (used by ``meflow.spotting.evaluate``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from meflow.evaluation.bootstrap import paired_bootstrap_diff
from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.model import Blinks
from meflow.spotting.references import chance_intervals, chance_reference
from meflow.spotting.scoring import EXPRESSION_TYPES, Interval, per_recording_counts


class Predictions(Protocol):
    """A spotter's name and held-out intervals (``evaluate.SpotterResult``)."""

    name: str
    predictions: list[Interval]


KINDS = ("micro", "macro", "overall")


def on_blink(iv: Interval, blinks: Mapping[str, Sequence[tuple[int, int]]]) -> bool:
    """Whether a spotted interval shares at least one frame with an annotated blink."""
    return any(lo <= iv.offset and iv.onset <= hi for lo, hi in blinks.get(iv.recording, ()))


def blink_share(
    intervals: Sequence[Interval], blinks: Mapping[str, Sequence[tuple[int, int]]]
) -> float:
    """Share of ``intervals`` on an annotated blink (0 with no interval)."""
    return sum(on_blink(iv, blinks) for iv in intervals) / len(intervals) if intervals else 0.0


def span_of(rec: RecordingFlow) -> tuple[int, int]:
    return rec.number(0), rec.number(rec.frames - 1)


@dataclass
class ChanceTally:
    """Chance's expected TP per (recording, type) and its blink touches, over all folds."""

    tp: dict[tuple[str, str], float] = field(default_factory=dict)
    touches: list[bool] = field(default_factory=list)


def chance_fold(
    chance: ChanceTally,
    found: dict[str, list[Interval]],
    tests: Sequence[RecordingFlow],
    truth_of: Mapping[str, list[Interval]],
    lengths: dict[str, list[int]],
    blinks: Blinks,
    draws: int,
    seed: int,
) -> None:
    """Adds the chance reference of one fold's held-out recordings to ``chance``."""
    rng = np.random.default_rng([seed, 7])
    for i, rec in enumerate(tests):
        preds = [p for p in found[rec.name] if lengths.get(p.type)]
        span = {rec.name: span_of(rec)}
        if preds:
            ref = chance_reference(preds, truth_of[rec.name], lengths, span, draws, seed + i)
            for kind in EXPRESSION_TYPES:
                chance.tp[(rec.name, kind)] = ref.mean[kind]["tp"]
            for _ in range(max(1, draws // 10)):  # chance's own rate of touching blinks
                drawn = chance_intervals(preds, lengths, span, rng)
                chance.touches += [on_blink(iv, blinks) for iv in drawn]


def _rows(
    predictions: Sequence[Interval],
    truth: Sequence[Interval],
    names: list[str],
    kind: str,
    chance_tp: Mapping[tuple[str, str], float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(annotated per recording, [TP, spotted] per recording) of one kind; with ``chance_tp``
    the TP column is chance's expected TP for the same number spotted."""
    counts = per_recording_counts(predictions, truth)
    types = EXPRESSION_TYPES if kind == "overall" else (kind,)
    n_gt, rows = np.zeros(len(names)), np.zeros((len(names), 2))
    for i, name in enumerate(names):
        for t in types:
            c = counts.get((name, t))
            if c is not None:
                tp = c.tp if chance_tp is None else chance_tp.get((name, t), 0.0)
                n_gt[i] += c.n_gt
                rows[i] += (tp, c.n_pred)
    return n_gt, rows


def pooled_f1(n_gt: np.ndarray, tp_pred: np.ndarray) -> float:
    """2 TP / (spotted + annotated) of pooled counts (NaN, a skipped resample, when nothing is
    annotated)."""
    if n_gt.sum() == 0:
        return float("nan")
    return float(2 * tp_pred[:, 0].sum() / (tp_pred[:, 1].sum() + n_gt.sum()))


def chance_counts(
    main: Sequence[Interval], truth: Sequence[Interval], names: list[str], chance: ChanceTally
) -> dict[str, dict[str, float]]:
    out = {}
    for kind in KINDS:
        n_gt, rows = _rows(main, truth, names, kind, chance.tp)
        tp, pred, gt = float(rows[:, 0].sum()), float(rows[:, 1].sum()), float(n_gt.sum())
        p, r = (tp / pred if pred else 0.0), (tp / gt if gt else 0.0)
        f1 = 2 * tp / (pred + gt) if pred + gt else 0.0
        out[kind] = {"tp": tp, "n_pred": pred, "n_gt": gt, "precision": p, "recall": r, "f1": f1}
    return out


def differences(
    results: Sequence[Predictions],
    truth: Sequence[Interval],
    subjects: Mapping[str, str],
    chance: ChanceTally,
    n: int,
    seed: int,
) -> dict[str, dict[str, tuple[float, float, float]]]:
    """Main spotter minus each reference: pooled F1 difference, subjects resampled."""
    names = sorted(subjects)
    groups = np.array([subjects[r] for r in names])
    main = results[0]
    out: dict[str, dict[str, tuple[float, float, float]]] = {}
    for ref in [*results[1:], None]:
        label = f"{main.name} - {ref.name if ref else 'chance'}"
        out[label] = {}
        for kind in KINDS:
            n_gt, a = _rows(main.predictions, truth, names, kind)
            if ref is None:
                _, b = _rows(main.predictions, truth, names, kind, chance.tp)
            else:
                _, b = _rows(ref.predictions, truth, names, kind)
            d = paired_bootstrap_diff(n_gt, a, b, groups, pooled_f1, n=n, seed=seed)
            out[label][kind] = (float(d[0]), float(d[1]), float(d[2]))
    return out
