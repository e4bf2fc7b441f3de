"""The learned spotter's leave-one-subject-out run on the long benchmark (benchmarks/spot.py)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import asdict

from _spot_eval import KINDS, Evaluation, Truth, add_chance
from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.learned import LearnedSpotter
from meflow.spotting.learned_decode import DecodeParams
from meflow.spotting.model import train_spotter
from meflow.spotting.references import interval_lengths
from meflow.spotting.scoring import Interval, score_spotting

LEARNED_FOLD_COLUMNS = ["held out", "recordings", "decoding chosen", "inner F1 (micro/macro/all)",
                        "TP / spotted / annotated", "F1 (micro/macro/all)", "fit s"]  # fmt: skip


def _decoding(decode: DecodeParams, c: float) -> str:
    """A fold's chosen decoding in a few words."""
    d = asdict(decode)
    return (f"C {c:g}, smooth {d['smooth_frames']}, extent {d['extent']:g}, pad {d['pad']:+d}, "
            f"detect {d['detect_micro']:g}/{d['detect_macro']:g}")  # fmt: skip


def evaluate_learned(
    recordings: Sequence[RecordingFlow], truth: Truth, opts: argparse.Namespace
) -> Evaluation:
    """Leave-one-subject-out of the learned spotter: each fold trains on the other subjects'
    recordings, ground truth and blinks only (its decoding chosen on inner folds of those
    subjects), then spots the held-out subject's recordings; chance beside its counts."""
    ev = Evaluation([])
    fit_s = spot_s = 0.0
    for si, subject in enumerate(sorted(set(truth.subject_of.values()))):
        test = [r for r in recordings if truth.subject_of[r.name] == subject]
        train = [r for r in recordings if truth.subject_of[r.name] != subject]
        names = {r.name for r in train}
        gts = [g for g in truth.expressions if g.recording in names]
        blinks = {k: v for k, v in truth.blinks.items() if k in names}
        t0 = time.perf_counter()
        spotter = train_spotter("learned", train, gts, blinks, subjects=truth.subject_of,
                                c_grid=opts.learned_c, stride=opts.learned_stride,
                                inner_folds=opts.inner_folds)  # fmt: skip
        fit = time.perf_counter() - t0
        fit_s += fit
        found: dict[str, list[Interval]] = {}
        for rec in test:
            t1 = time.perf_counter()
            found[rec.name] = spotter.spot(rec)
            spot_s += time.perf_counter() - t1
        add_chance(ev, found, test, truth, interval_lengths(gts), opts, opts.seed + 1000 * si)
        fold = [iv for rec in test for iv in found[rec.name]]
        ev.predictions += fold
        s = score_spotting(
            fold, [g for g in truth.expressions if truth.subject_of[g.recording] == subject]
        )
        assert isinstance(spotter, LearnedSpotter)
        inner = spotter.info.get("inner_f1", {})
        ev.folds.append([subject, str(len(test)), _decoding(spotter.decode, spotter.info['c']),
                         "/".join(f"{inner.get(k, float('nan')):.2f}" for k in KINDS),
                         f"{s.overall.tp} / {s.overall.n_pred} / {s.overall.n_gt}",
                         "/".join(f"{s[k].f1:.2f}" for k in KINDS), f"{fit:.0f}"])  # fmt: skip
        print(" | ".join(ev.folds[-1]), flush=True)
    frames = sum(r.frames for r in recordings)
    ev.seconds = {"fit": fit_s, "spot": spot_s,
                  "spot_x_realtime": frames / recordings[0].fps / spot_s}  # fmt: skip
    return ev
