"""The leave-one-subject-out spotting evaluation that ``meflow spot`` runs (docs/spotting.md).

For each subject in turn, every spotter of ``spotters`` is trained
(``meflow.spotting.model.train_spotter``) on the OTHER subjects' recordings, their ground
truth and their blinks, and spots the held-out subject's recordings; the held-out
predictions of all folds are pooled and scored as MEGC scores them (``score_spotting``).
References on the same splits: every other spotter, and chance (per held-out recording, as
many intervals of each type as the main spotter, the first of ``spotters``, spotted there,
with the lengths of the fold's training ground truths, placed at random; its expected
counts over ``chance_draws`` draws). The paired bootstrap over subjects gives the main
spotter's F1 minus each reference's. Finally every spotter is trained on all subjects: the
model a user keeps (``final``).

Results are computed here; ``meflow.spotting.report`` writes them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from meflow.errors import MeflowError
from meflow.evaluation.bootstrap import paired_bootstrap_diff
from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.model import Blinks, Spotter, train_spotter
from meflow.spotting.references import chance_intervals, chance_reference, interval_lengths
from meflow.spotting.scoring import (
    EXPRESSION_TYPES,
    Counts,
    Interval,
    SpottingScore,
    per_recording_counts,
    score_spotting,
)

KINDS = ("micro", "macro", "overall")
PREFERRED_SPOTTERS = ("learned", "baseline")
Progress = Callable[[str], None]


def available_spotters(wanted: Sequence[str] | None = None) -> tuple[tuple[str, ...], list[str]]:
    """(the spotters to evaluate, notes): ``wanted`` (default: learned, then baseline), without
    the kinds this meflow does not know, each left out with a note (MeflowError if none is
    left)."""
    from meflow.spotting import model

    model._load_kinds()
    names = tuple(wanted) if wanted else PREFERRED_SPOTTERS
    known = tuple(n for n in names if n in model.TRAINERS)
    known_text = ", ".join(sorted(model.TRAINERS))
    notes = [
        f"spotter {n!r} is not available in this meflow (known: {known_text}): left out"
        + ("; using baseline" if n == "learned" and "baseline" in known else "")
        for n in names
        if n not in model.TRAINERS
    ]
    if wanted and len(known) < len(names):
        raise MeflowError(notes[0])
    if not known:
        raise MeflowError("no spotter to evaluate")
    return known, notes


class FoldRecogniser(Protocol):
    """Spot-then-recognise per fold (``meflow.spotting.recognition.SpotThenRecognise``)."""

    def fold(
        self,
        train: Sequence[RecordingFlow],
        train_truth: Sequence[Interval],
        tests: Sequence[RecordingFlow],
        found: Mapping[str, list[Interval]],
    ) -> dict[str, list[Interval]]:
        """Trains on the fold's training data; gives the held-out spotted intervals with the
        micro-expressions' emotions."""
        ...

    def result(self) -> Any:
        """The figures over all folds."""
        ...


@dataclass
class SpotterResult:
    """One spotter's held-out predictions (all folds pooled) and their score."""

    name: str
    predictions: list[Interval]
    score: SpottingScore
    on_blinks: float  # share of its spotted intervals that share a frame with an annotated blink


@dataclass
class Fold:
    """One fold: the held-out subject, its recordings, and the recordings trained on."""

    subject: str
    test: list[str]
    train: list[str]
    counts: dict[str, Counts]  # spotter -> overall counts on the held-out recordings


@dataclass
class SpottingEvaluation:
    """What ``evaluate_spotting`` computed (``meflow.spotting.report`` writes it)."""

    spotters: list[SpotterResult]  # the main spotter first
    chance: dict[str, dict[str, float]]  # kind -> tp (expected), n_pred, n_gt, precision, ...
    chance_on_blinks: float
    # "<main> - <reference>" -> kind -> (F1 difference, low, high) over subjects
    differences: dict[str, dict[str, tuple[float, float, float]]]
    folds: list[Fold]
    final: dict[str, Spotter]  # each spotter trained on every subject
    truth: list[Interval]
    blinks: dict[str, list[tuple[int, int]]]
    subjects: dict[str, str]
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    recognition: Any = None  # meflow.spotting.recognition.RecognitionResult when run

    @property
    def main(self) -> SpotterResult:
        """The main spotter's result (the first of ``spotters``)."""
        return self.spotters[0]


def on_blink(iv: Interval, blinks: Mapping[str, Sequence[tuple[int, int]]]) -> bool:
    """Whether a spotted interval shares at least one frame with an annotated blink."""
    return any(lo <= iv.offset and iv.onset <= hi for lo, hi in blinks.get(iv.recording, ()))


def blink_share(
    intervals: Sequence[Interval], blinks: Mapping[str, Sequence[tuple[int, int]]]
) -> float:
    """Share of ``intervals`` on an annotated blink (0 with no interval)."""
    return sum(on_blink(iv, blinks) for iv in intervals) / len(intervals) if intervals else 0.0


def _check(
    recordings: Sequence[RecordingFlow], truth: Sequence[Interval], subjects: Mapping[str, str]
) -> None:
    names = [r.name for r in recordings]
    if len(set(names)) != len(names):
        raise MeflowError("two recordings share a name")
    missing = [n for n in names if n not in subjects]
    if missing:
        raise MeflowError(f"no subject given for recording {missing[0]!r}")
    if len({subjects[n] for n in names}) < 2:
        raise MeflowError("leave-one-subject-out needs recordings of at least 2 subjects")
    unknown = sorted({g.recording for g in truth} - set(names))
    if unknown:
        raise MeflowError(f"ground truth names recording {unknown[0]!r}, which is not given")


def _span(rec: RecordingFlow) -> tuple[int, int]:
    return rec.number(0), rec.number(rec.frames - 1)


@dataclass
class _Chance:
    """Chance's expected TP per (recording, type) and its blink touches, over all folds."""

    tp: dict[tuple[str, str], float] = field(default_factory=dict)
    touches: list[bool] = field(default_factory=list)


def _chance_fold(
    chance: _Chance,
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
        span = {rec.name: _span(rec)}
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


def _chance_counts(
    main: Sequence[Interval], truth: Sequence[Interval], names: list[str], chance: _Chance
) -> dict[str, dict[str, float]]:
    out = {}
    for kind in KINDS:
        n_gt, rows = _rows(main, truth, names, kind, chance.tp)
        tp, pred, gt = float(rows[:, 0].sum()), float(rows[:, 1].sum()), float(n_gt.sum())
        p, r = (tp / pred if pred else 0.0), (tp / gt if gt else 0.0)
        f1 = 2 * tp / (pred + gt) if pred + gt else 0.0
        out[kind] = {"tp": tp, "n_pred": pred, "n_gt": gt, "precision": p, "recall": r, "f1": f1}
    return out


def _differences(
    results: list[SpotterResult],
    truth: Sequence[Interval],
    subjects: Mapping[str, str],
    chance: _Chance,
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


def _fold_data(
    recordings: Sequence[RecordingFlow],
    truth: Sequence[Interval],
    blinks: Blinks,
    names: set[str],
) -> tuple[list[RecordingFlow], list[Interval], dict[str, Sequence[tuple[int, int]]]]:
    """The recordings named, their ground truth and their blinks (nothing of the others)."""
    recs = [r for r in recordings if r.name in names]
    return (
        recs,
        [g for g in truth if g.recording in names],
        {k: v for k, v in blinks.items() if k in names},
    )


def evaluate_spotting(
    recordings: Sequence[RecordingFlow],
    truth: Sequence[Interval],
    blinks: Blinks,
    subjects: Mapping[str, str],
    spotters: Sequence[str] | None = None,
    *,
    chance_draws: int = 200,
    bootstrap: int = 1000,
    seed: int = 0,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    recognise: FoldRecogniser | None = None,
    progress: Progress | None = None,
) -> SpottingEvaluation:
    """The leave-one-subject-out evaluation of ``spotters`` (main first) with its references.

    ``truth``: the micro and macro intervals (recording = a recording's name; the emotion set
    on micro-expressions where known); ``blinks``: annotated blinks per recording (training
    data for spotters that learn to ignore them, and the blink share); ``subjects``: each
    recording's subject; ``options``: per spotter kind, keyword options of its trainer;
    ``recognise``: spot-then-recognise, run per fold on the fold's training data and the main
    spotter's held-out intervals (which then carry the micro-expressions' emotions); its
    ``result()`` becomes ``recognition``.
    """
    names_wanted, notes = available_spotters(spotters)
    truth = [g for g in truth if g.type in EXPRESSION_TYPES]
    _check(recordings, truth, subjects)
    say = progress or (lambda _msg: None)
    options = options or {}
    truth_of: dict[str, list[Interval]] = defaultdict(list)
    for g in truth:
        truth_of[g.recording].append(g)
    found: dict[str, dict[str, list[Interval]]] = {n: {} for n in names_wanted}
    folds: list[Fold] = []
    chance = _Chance()
    people = sorted({subjects[r.name] for r in recordings})
    for k, subject in enumerate(people):
        test_names = {r.name for r in recordings if subjects[r.name] == subject}
        train_recs, train_truth, train_blinks = _fold_data(
            recordings, truth, blinks, {r.name for r in recordings} - test_names
        )
        tests = [r for r in recordings if r.name in test_names]
        counts = {}
        for name in names_wanted:
            opts = options.get(name, {})
            spotter = train_spotter(name, train_recs, train_truth, train_blinks, **opts)
            for rec in tests:
                found[name][rec.name] = spotter.spot(rec)
            held = [iv for rec in tests for iv in found[name][rec.name]]
            counts[name] = score_spotting(held, [g for g in truth if g.recording in test_names])
        lengths = interval_lengths(train_truth)
        _chance_fold(
            chance, found[names_wanted[0]], tests, truth_of, lengths, blinks, chance_draws,
            seed + 1000 * k,
        )  # fmt: skip
        if recognise is not None:
            found[names_wanted[0]].update(
                recognise.fold(train_recs, train_truth, tests, found[names_wanted[0]])
            )
        train_names = sorted(r.name for r in train_recs)
        overall = {n: c.overall for n, c in counts.items()}
        folds.append(Fold(subject, sorted(test_names), train_names, overall))
        main = overall[names_wanted[0]]
        say(
            f"fold {k + 1}/{len(people)} {subject}: {len(tests)} recording(s), "
            f"{names_wanted[0]} TP {main.tp} / spotted {main.n_pred} / annotated {main.n_gt}"
        )
    ev = _finish(recordings, truth, blinks, subjects, names_wanted, found, folds, chance,
                 options, (chance_draws, bootstrap, seed), notes, say)  # fmt: skip
    if recognise is not None:
        ev.recognition = recognise.result()
    return ev


def _finish(
    recordings: Sequence[RecordingFlow],
    truth: list[Interval],
    blinks: Blinks,
    subjects: Mapping[str, str],
    names_wanted: tuple[str, ...],
    found: dict[str, dict[str, list[Interval]]],
    folds: list[Fold],
    chance: _Chance,
    options: Mapping[str, Mapping[str, Any]],
    numbers: tuple[int, int, int],
    notes: list[str],
    say: Progress,
) -> SpottingEvaluation:
    """The pooled results, the references' figures and the final spotters."""
    chance_draws, bootstrap, seed = numbers
    order = [r.name for r in recordings]
    results = []
    for name in names_wanted:
        preds = [iv for rec in order for iv in found[name].get(rec, [])]
        results.append(
            SpotterResult(name, preds, score_spotting(preds, truth), blink_share(preds, blinks))
        )
    say("training the final spotter(s) on every subject")
    final = {
        n: train_spotter(n, list(recordings), truth, blinks, **options.get(n, {}))
        for n in names_wanted
    }
    rec_subjects = {r.name: subjects[r.name] for r in recordings}
    return SpottingEvaluation(
        spotters=results,
        chance=_chance_counts(results[0].predictions, truth, sorted(rec_subjects), chance),
        chance_on_blinks=float(np.mean(chance.touches)) if chance.touches else 0.0,
        differences=_differences(results, truth, rec_subjects, chance, bootstrap, seed),
        folds=folds,
        final=final,
        truth=list(truth),
        blinks={k: list(v) for k, v in blinks.items()},
        subjects=rec_subjects,
        settings={
            "spotters": list(names_wanted),
            "chance_draws": chance_draws,
            "bootstrap": bootstrap,
            "seed": seed,
            "iou": 0.5,
        },
        notes=notes,
    )
