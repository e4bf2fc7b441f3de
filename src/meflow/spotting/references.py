"""References for a spotting score: chance placement, and a paired subject bootstrap of F1.

Chance (issue 22): in each recording, as many intervals of each type as the spotter gave there,
each with a length drawn (with replacement) from the training set's lengths of that type and an
onset drawn uniformly among those that keep it inside the recording. Since the number of
predictions is fixed, TP is the only random count, so the mean P, R and F1 over draws are the
P, R and F1 of the mean counts (F1 = 2 TP / (predictions + ground truths)).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from meflow.errors import MeflowError
from meflow.evaluation.bootstrap import BootstrapResult, paired_bootstrap_diff
from meflow.spotting.scoring import (
    EXPRESSION_TYPES,
    IOU_THRESHOLD,
    Interval,
    f1_from_counts,
    per_recording_counts,
    score_spotting,
)

KINDS = ("micro", "macro", "overall")


def interval_lengths(intervals: Sequence[Interval]) -> dict[str, list[int]]:
    """{type: [length in frames, ...]} of the intervals (e.g. the training ground truths)."""
    out: dict[str, list[int]] = {t: [] for t in EXPRESSION_TYPES}
    for iv in intervals:
        out[iv.type].append(iv.length)
    return out


def chance_intervals(
    predictions: Sequence[Interval],
    lengths: Mapping[str, Sequence[int]],
    spans: Mapping[str, tuple[int, int]],
    rng: np.random.Generator,
) -> list[Interval]:
    """One chance draw: the predictions' number per recording and type, placed at random.

    ``spans``: each recording's first and last frame (both included). A drawn length longer than
    the recording is cut to the recording.
    """
    wanted: dict[tuple[str, str], int] = defaultdict(int)
    for p in predictions:
        wanted[(p.recording, p.type)] += 1
    out: list[Interval] = []
    for (rec, kind), k in sorted(wanted.items()):
        if rec not in spans:
            raise MeflowError(f"no frame span given for recording {rec!r}")
        pool = np.asarray(lengths.get(kind, ()), dtype=np.int64)
        if pool.size == 0 or pool.min() < 1:
            raise MeflowError(f"chance needs positive training lengths of {kind} intervals")
        first, last = (int(v) for v in spans[rec])
        if last < first:
            raise MeflowError(f"recording {rec!r} span ends before it starts: {spans[rec]}")
        drawn = np.minimum(rng.choice(pool, size=k, replace=True), last - first + 1)
        onsets = rng.integers(first, last - drawn + 2)
        out.extend(
            Interval(rec, int(o), int(o + n - 1), kind) for o, n in zip(onsets, drawn, strict=True)
        )
    return out


@dataclass(frozen=True)
class ChanceReference:
    """Chance's figures over ``n_draws`` seeded draws: per kind, the mean and each draw's F1."""

    n_draws: int
    seed: int
    mean: dict[str, dict[str, float]]
    f1_draws: dict[str, np.ndarray]

    def f1(self, kind: str = "overall") -> float:
        """Expected F1 of chance (mean over draws)."""
        return self.mean[kind]["f1"]


def chance_reference(
    predictions: Sequence[Interval],
    ground_truth: Sequence[Interval],
    lengths: Mapping[str, Sequence[int]],
    spans: Mapping[str, tuple[int, int]],
    n_draws: int = 200,
    seed: int = 0,
    threshold: float = IOU_THRESHOLD,
) -> ChanceReference:
    """Chance's expected TP, P, R and F1 (micro, macro, overall), reproducible from ``seed``."""
    if n_draws < 1:
        raise MeflowError(f"chance needs at least one draw, got n_draws={n_draws}")
    rng = np.random.default_rng(seed)
    rows: dict[str, list[tuple[float, float, float, float]]] = {k: [] for k in KINDS}
    for _ in range(n_draws):
        score = score_spotting(
            chance_intervals(predictions, lengths, spans, rng), ground_truth, threshold
        )
        for kind in KINDS:
            c = score[kind]
            rows[kind].append((c.tp, c.precision, c.recall, c.f1))
    mean = {}
    for kind in KINDS:
        arr = np.asarray(rows[kind], dtype=float)
        c = score_spotting([], ground_truth)[kind]
        n_pred = sum(1 for p in predictions if kind in ("overall", p.type))
        mean[kind] = {
            "tp": float(arr[:, 0].mean()),
            "n_pred": n_pred,
            "n_gt": c.n_gt,
            "precision": float(arr[:, 1].mean()),
            "recall": float(arr[:, 2].mean()),
            "f1": float(arr[:, 3].mean()),
        }
    f1s = {k: np.asarray(rows[k], dtype=float)[:, 3] for k in KINDS}
    return ChanceReference(n_draws, seed, mean, f1s)


def _recording_rows(
    predictions: Sequence[Interval],
    ground_truth: Sequence[Interval],
    recordings: list[str],
    kind: str,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(ground truths per recording, [TP, predictions] per recording) of one kind."""
    counts = per_recording_counts(predictions, ground_truth, threshold)
    types = EXPRESSION_TYPES if kind == "overall" else (kind,)
    n_gt = np.zeros(len(recordings))
    tp_pred = np.zeros((len(recordings), 2))
    for i, rec in enumerate(recordings):
        for t in types:
            c = counts.get((rec, t))
            if c is not None:
                n_gt[i] += c.n_gt
                tp_pred[i] += (c.tp, c.n_pred)
    return n_gt, tp_pred


def _pooled_f1(n_gt: np.ndarray, tp_pred: np.ndarray) -> float:
    """F1 of the pooled counts; NaN (a skipped resample) when no ground truth was drawn."""
    gt = float(n_gt.sum())
    if gt == 0:
        return float("nan")
    return f1_from_counts(int(tp_pred[:, 0].sum()), int(tp_pred[:, 1].sum()), int(gt))


def paired_f1_difference(
    predictions_a: Sequence[Interval],
    predictions_b: Sequence[Interval],
    ground_truth: Sequence[Interval],
    subjects: Mapping[str, str],
    kind: str = "overall",
    n: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    threshold: float = IOU_THRESHOLD,
) -> BootstrapResult:
    """(F1(a) - F1(b), low, high): pooled F1 difference, subjects resampled with all recordings.

    ``subjects`` maps every recording to its subject. The resampling is meflow.evaluation's
    paired subject bootstrap (same seeds, percentile interval); a resample that draws no ground
    truth of this kind is skipped.
    """
    if kind not in KINDS:
        raise MeflowError(f"spotting kind must be one of {KINDS}, got {kind!r}")
    recordings = sorted(
        {iv.recording for group in (predictions_a, predictions_b, ground_truth) for iv in group}
    )
    missing = [r for r in recordings if r not in subjects]
    if missing:
        raise MeflowError(f"no subject given for recording {missing[0]!r}")
    n_gt, a = _recording_rows(predictions_a, ground_truth, recordings, kind, threshold)
    _, b = _recording_rows(predictions_b, ground_truth, recordings, kind, threshold)
    groups = np.array([subjects[r] for r in recordings])
    return paired_bootstrap_diff(n_gt, a, b, groups, _pooled_f1, n=n, seed=seed, alpha=alpha)
