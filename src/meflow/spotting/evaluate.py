"""The leave-one-subject-out spotting evaluation that ``meflow spot`` runs (docs/spotting.md).

For each subject in turn, every spotter of ``spotters`` is trained
(``meflow.spotting.model.train_spotter``) on the OTHER subjects' recordings, their ground
truth and their blinks, and spots the held-out subject's recordings; the held-out
predictions of all folds are pooled and scored as MEGC scores them (``score_spotting``).
References on the same splits: every other spotter, and chance (per held-out recording, as
many intervals of each type as the main spotter, the first of ``spotters``, spotted there,
with the lengths of the fold's training ground truths, placed at random; its expected
counts over ``chance_draws`` draws). The paired bootstrap over subjects gives the main
spotter's F1 minus each reference's. Finally the main spotter is trained on all subjects: the
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
from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.evaluate_refs import (
    ChanceTally,
    blink_share,
    chance_counts,
    chance_fold,
    differences,
)
from meflow.spotting.ground_truth_rows import GroundTruth
from meflow.spotting.model import Blinks, Spotter, train_spotter
from meflow.spotting.references import interval_lengths
from meflow.spotting.scoring import (
    EXPRESSION_TYPES,
    Counts,
    Interval,
    SpottingScore,
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
    final: dict[str, Spotter]  # the main spotter trained on every subject
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


def expressions_of(gt: GroundTruth) -> tuple[list[Interval], dict[str, list[tuple[int, int]]]]:
    """(micro and macro intervals, blinks) of a loaded ground truth, each recording named
    ``subject/recording``; micro-expressions keep their emotion and every interval its apex."""
    expressions: list[Interval] = []
    blinks: dict[str, list[tuple[int, int]]] = {}
    for i in gt.intervals:
        name = f"{i.subject}/{i.recording}"
        if i.type == "blink":
            blinks.setdefault(name, []).append((i.onset, i.offset))
        else:
            emotion = i.emotion if i.type == "micro" else None
            expressions.append(
                Interval(name, i.onset, i.offset, i.type, emotion=emotion, apex=i.apex)
            )
    return expressions, blinks


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
    truth: Sequence[Interval] | GroundTruth,
    blinks: Blinks | None,
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
    on micro-expressions where known), or a loaded ``GroundTruth`` (recordings named
    ``subject/recording``); ``blinks``: annotated blinks per recording (training data for
    spotters that learn to ignore them, and the blink share; None: the GroundTruth's, or
    none); only the recordings given are evaluated and their ground truth kept; ``subjects``: each
    recording's subject; ``options``: per spotter kind, keyword options of its trainer;
    ``recognise``: spot-then-recognise, run per fold on the fold's training data and the main
    spotter's held-out intervals (which then carry the micro-expressions' emotions); its
    ``result()`` becomes ``recognition``.
    """
    names_wanted, notes = available_spotters(spotters)
    given = {r.name for r in recordings}
    if isinstance(truth, GroundTruth):
        truth, gt_blinks = expressions_of(truth)
        truth = [g for g in truth if g.recording in given]
        blinks = blinks if blinks is not None else gt_blinks
    blinks = {k: v for k, v in (blinks or {}).items() if k in given}
    truth = [g for g in truth if g.type in EXPRESSION_TYPES]
    _check(recordings, truth, subjects)
    say = progress or (lambda _msg: None)
    options = options or {}
    truth_of: dict[str, list[Interval]] = defaultdict(list)
    for g in truth:
        truth_of[g.recording].append(g)
    found: dict[str, dict[str, list[Interval]]] = {n: {} for n in names_wanted}
    folds: list[Fold] = []
    chance = ChanceTally()
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
        chance_fold(
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
    chance: ChanceTally,
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
    main = names_wanted[0]
    say(f"training the final {main} spotter on every subject")
    final = {main: train_spotter(main, list(recordings), truth, blinks, **options.get(main, {}))}
    rec_subjects = {r.name: subjects[r.name] for r in recordings}
    return SpottingEvaluation(
        spotters=results,
        chance=chance_counts(results[0].predictions, truth, sorted(rec_subjects), chance),
        chance_on_blinks=float(np.mean(chance.touches)) if chance.touches else 0.0,
        differences=differences(results, truth, rec_subjects, chance, bootstrap, seed),
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
