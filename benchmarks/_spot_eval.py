"""What benchmarks/spot.py scores with: the annotation, a spotter's leave-one-subject-out run,
chance beside it, blinks, and the tables (pooled counts, paired intervals over subjects)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from meflow.evaluation.bootstrap import paired_bootstrap_diff
from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.references import chance_intervals, chance_reference
from meflow.spotting.scoring import Interval, per_recording_counts, score_spotting

KINDS = ("micro", "macro", "overall")
COLUMNS = ["spotter", "type", "TP", "spotted", "annotated", "P", "R", "F1", "F1 - chance [95% CI]"]
DIFF_COLUMNS = ["comparison", "micro [95% CI]", "macro [95% CI]", "overall [95% CI]"]


@dataclass
class Truth:
    """The annotation as the evaluation takes it: expressions, blinks, and each subject."""

    expressions: list[Interval]
    blinks: dict[str, list[tuple[int, int]]]
    subject_of: dict[str, str]


@dataclass
class Evaluation:
    """What a spotter's leave-one-subject-out run gives (pooled over every held-out recording)."""

    predictions: list[Interval]
    chance_tp: dict[tuple[str, str], float]  # expected TP of chance per (recording, type)
    folds: list[list[str]] = field(default_factory=list)
    chance_blink_touch: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)
    # the best F1 of any grid setting scored on every recording (chosen on the test subjects:
    # what the grid could reach at best, not a result)
    ceiling: dict[str, float] = field(default_factory=dict)


def on_blink(iv: Interval, blinks: Mapping[str, Sequence[tuple[int, int]]]) -> bool:
    """Whether a spotted interval shares at least one frame with an annotated blink."""
    return any(lo <= iv.offset and iv.onset <= hi for lo, hi in blinks.get(iv.recording, ()))


def holds_blink(iv: Interval, blinks: Mapping[str, Sequence[tuple[int, int]]]) -> bool:
    """Whether a spotted interval holds at least half of an annotated blink's frames."""
    return any(
        2 * (min(hi, iv.offset) - max(lo, iv.onset) + 1) >= hi - lo + 1
        for lo, hi in blinks.get(iv.recording, ())
    )


def add_chance(
    ev: Evaluation,
    found: Sequence[Interval],
    rec: RecordingFlow,
    truth: Truth,
    lengths: dict[str, list[int]],
    opts: argparse.Namespace,
    seed: int,
    rng: np.random.Generator,
) -> list[bool]:
    """Chance beside ``found`` in one held-out recording: its expected TP per type into
    ``ev.chance_tp``; gives whether each of a few chance draws' intervals touches a blink."""
    gts = [g for g in truth.expressions if g.recording == rec.name]
    span = {rec.name: (rec.number(0), rec.number(rec.frames - 1))}
    ref = chance_reference(found, gts, lengths, span, opts.chance_draws, seed)
    for kind in ("micro", "macro"):
        ev.chance_tp[(rec.name, kind)] = ref.mean[kind]["tp"]
    touch: list[bool] = []
    for _ in range(opts.chance_draws // 10 or 1):  # chance's own rate of touching blinks
        drawn = chance_intervals(found, lengths, span, rng)
        touch += [on_blink(iv, truth.blinks) for iv in drawn]
    return touch


def blink_shares(ev: Evaluation, truth: Truth) -> dict[str, float]:
    """Shares of the spotted intervals on blinks (touching one; false and holding half of one)."""
    preds = ev.predictions
    matched = {m.prediction for m in score_spotting(preds, truth.expressions).matches}
    n = max(len(preds), 1)
    false = [iv for i, iv in enumerate(preds) if i not in matched]
    return {
        "touch": sum(on_blink(iv, truth.blinks) for iv in preds) / n,
        "false_holding": sum(holds_blink(iv, truth.blinks) for iv in false) / n,
        "of_false": sum(holds_blink(iv, truth.blinks) for iv in false) / max(len(false), 1),
        "chance_touch": ev.chance_blink_touch,
    }


def recording_counts(
    ev: Evaluation, truth: Truth, kind: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(annotated, [TP, spotted] of the spotter, [expected TP, spotted] of its chance), one row
    per recording in ``sorted(truth.subject_of)``."""
    counts = per_recording_counts(ev.predictions, truth.expressions)
    names = sorted(truth.subject_of)
    types = ("micro", "macro") if kind == "overall" else (kind,)
    n_gt = np.zeros(len(names))
    found, chance = np.zeros((len(names), 2)), np.zeros((len(names), 2))
    for i, name in enumerate(names):
        for t in types:
            c = counts.get((name, t))
            if c is not None:
                n_gt[i] += c.n_gt
                found[i] += (c.tp, c.n_pred)
                chance[i] += (ev.chance_tp.get((name, t), 0.0), c.n_pred)
    return n_gt, found, chance


def pooled_f1(n_gt: np.ndarray, tp_pred: np.ndarray) -> float:
    """2 TP / (spotted + annotated) of pooled counts (NaN when nothing is annotated)."""
    if n_gt.sum() == 0:
        return float("nan")
    return float(2 * tp_pred[:, 0].sum() / (tp_pred[:, 1].sum() + n_gt.sum()))


def _diff(
    truth: Truth, n_gt: np.ndarray, a: np.ndarray, b: np.ndarray, opts: argparse.Namespace
) -> str:
    """F1(a) - F1(b) [95% CI] by the paired bootstrap over subjects."""
    groups = np.array([truth.subject_of[n] for n in sorted(truth.subject_of)])
    d = paired_bootstrap_diff(n_gt, a, b, groups, pooled_f1, n=opts.bootstrap, seed=opts.seed)
    return f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]"


def _row(label: str, kind: str, tp: float, pred: float, gt: float, diff: str, whole: bool):
    p, r = (tp / pred if pred else 0.0), (tp / gt if gt else 0.0)
    f1 = 2 * tp / (pred + gt) if pred + gt else 0.0
    tp_text = f"{tp:.0f}" if whole else f"{tp:.2f}"
    return [label, kind, tp_text, f"{pred:.0f}", f"{gt:.0f}", f"{p:.3f}", f"{r:.3f}",
            f"{f1:.3f}", diff]  # fmt: skip


def spotting_rows(
    evs: Mapping[str, Evaluation], truth: Truth, opts: argparse.Namespace
) -> list[list[str]]:
    """The table: each spotter's pooled counts, P, R, F1 and F1 - its chance, then each
    spotter's chance (as many intervals as it spotted, placed at random)."""
    rows: list[list[str]] = []
    chance_rows: list[list[str]] = []
    for label, ev in evs.items():
        short = label.split()[0]
        for kind in KINDS:
            n_gt, found, chance = recording_counts(ev, truth, kind)
            diff = _diff(truth, n_gt, found, chance, opts)
            (tp, pred), (ctp, _) = found.sum(axis=0), chance.sum(axis=0)
            rows.append(_row(label, kind, tp, pred, n_gt.sum(), diff, True))
            chance_rows.append(
                _row(f"chance ({short}'s counts)", kind, ctp, pred, n_gt.sum(), "", False)
            )
    return rows + chance_rows


def difference_rows(
    a: tuple[str, Evaluation], b: tuple[str, Evaluation], truth: Truth, opts: argparse.Namespace
) -> list[list[str]]:
    """F1 differences with their paired 95% intervals over subjects: a - b, a - a's chance."""
    (la, ea), (lb, eb) = a, b
    out = [[f"{la} - {lb}"], [f"{la} - chance"], [f"{lb} - chance"]]
    for kind in KINDS:
        n_gt, fa, ca = recording_counts(ea, truth, kind)
        _, fb, cb = recording_counts(eb, truth, kind)
        out[0].append(_diff(truth, n_gt, fa, fb, opts))
        out[1].append(_diff(truth, n_gt, fa, ca, opts))
        out[2].append(_diff(truth, n_gt, fb, cb, opts))
    return out


def print_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table on stdout."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print("| " + " | ".join(r) + " |")
