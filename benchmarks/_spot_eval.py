"""What benchmarks/spot.py scores with: the annotation, a spotter's leave-one-subject-out run,
chance beside it, blinks, and the tables (pooled counts, paired intervals over subjects).

Chance, the per-recording counts, the pooled F1 and the blink test are the package's own
(``meflow.spotting.evaluate_refs``, what ``meflow spot`` reports with); this module only lays
them out as the benchmark's tables (each spotter beside its own chance) and adds the share of
false intervals holding a blink."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from meflow.evaluation.bootstrap import paired_bootstrap_diff
from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.evaluate_refs import (
    ChanceTally,
    _rows,
    blink_share,
    chance_fold,
    on_blink,  # noqa: F401 (the benchmark's tests call it here)
    pooled_f1,
)
from meflow.spotting.scoring import Interval, score_spotting

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
    # chance beside this spotter's counts: expected TP per (recording, type), blink touches
    chance: ChanceTally = field(default_factory=ChanceTally)
    folds: list[list[str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    # the best F1 of any grid setting scored on every recording (chosen on the test subjects:
    # what the grid could reach at best, not a result)
    ceiling: dict[str, float] = field(default_factory=dict)


def holds_blink(iv: Interval, blinks: Mapping[str, Sequence[tuple[int, int]]]) -> bool:
    """Whether a spotted interval holds at least half of an annotated blink's frames."""
    return any(
        2 * (min(hi, iv.offset) - max(lo, iv.onset) + 1) >= hi - lo + 1
        for lo, hi in blinks.get(iv.recording, ())
    )


def add_chance(
    ev: Evaluation,
    found: dict[str, list[Interval]],
    tests: Sequence[RecordingFlow],
    truth: Truth,
    lengths: dict[str, list[int]],
    opts: argparse.Namespace,
    seed: int,
) -> None:
    """Chance beside ``found`` (held-out recording -> spotted intervals) in one fold's held-out
    recordings, as ``meflow spot`` draws it: its expected TP per type and its blink touches into
    ``ev.chance``."""
    truth_of: dict[str, list[Interval]] = {r.name: [] for r in tests}
    for g in truth.expressions:
        if g.recording in truth_of:
            truth_of[g.recording].append(g)
    chance_fold(ev.chance, found, tests, truth_of, lengths, truth.blinks, opts.chance_draws, seed)


def blink_shares(ev: Evaluation, truth: Truth) -> dict[str, float]:
    """Shares of the spotted intervals on blinks (touching one; false and holding half of one)."""
    preds = ev.predictions
    matched = {m.prediction for m in score_spotting(preds, truth.expressions).matches}
    n = max(len(preds), 1)
    false = [iv for i, iv in enumerate(preds) if i not in matched]
    return {
        "touch": blink_share(preds, truth.blinks),
        "false_holding": sum(holds_blink(iv, truth.blinks) for iv in false) / n,
        "of_false": sum(holds_blink(iv, truth.blinks) for iv in false) / max(len(false), 1),
        "chance_touch": float(np.mean(ev.chance.touches)) if ev.chance.touches else 0.0,
    }


def recording_counts(
    ev: Evaluation, truth: Truth, kind: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(annotated, [TP, spotted] of the spotter, [expected TP, spotted] of its chance), one row
    per recording in ``sorted(truth.subject_of)``."""
    names = sorted(truth.subject_of)
    n_gt, found = _rows(ev.predictions, truth.expressions, names, kind)
    _, chance = _rows(ev.predictions, truth.expressions, names, kind, ev.chance.tp)
    return n_gt, found, chance


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
