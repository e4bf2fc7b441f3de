"""The position table: micro AUC and UF1 with the window's centre moved off the anchor (apex).

    .venv/bin/python benchmarks/position.py --cache CACHE [--rows KEY,...] [--shifts 0,4,8,12]
        [--train-shifts=-8,-6,-4,-2,0,2,4,6,8] [--bootstrap 1000] [--fast] [--threads 1]

Every row is cross-validated leave-one-subject-out on the cache's samples, as ``meflow
reproduce`` scores a row (``cells.evaluate_predictions``: the same metrics, the same folds, the
same fold seeds, the class prior on the same splits); a fold's classifier is trained once and
then tested on its test subject's windows moved by each test shift (a shift of +k pairs: the
window starts k pairs later, the expression sits k pairs earlier in it). Each sign is reported
separately, and the mean of +-8 minus the centred figure beside them. Rows trained with position
training see every training sample at each of ``--train-shifts``; the others are trained on
the centred windows only. Rows on the labelled onset-to-apex flow are left out (with a note)
when the cache's samples do not carry it. Printed: one line per row, then the tables;
written: benchmarks/results/position.json (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from _results import write_results
from meflow.config import ONSET_APEX_INPUTS, ExperimentConfig, with_preset
from meflow.presets import DEFAULT_PRESET

TRAIN_SHIFTS = (-8, -6, -4, -2, 0, 2, 4, 6, 8)  # measured: every 2 pairs beat every 4 to +-12
TEST_SHIFTS = (0, -4, 4, -8, 8, -12, 12)


@dataclasses.dataclass(frozen=True)
class Row:
    """One row: a classifier on an input, trained at the centre or with position training."""

    key: str
    label: str
    model: str
    input: str
    position: bool = False  # trained at every --train-shifts shift


ROWS = (
    Row("recommended", "blind, centred training only (train.shifts=0): logreg on vector-bins",
        "logreg", "vector-bins"),
    Row("recommended-position", "recommended (blind; position training): logreg on vector-bins",
        "logreg", "vector-bins", True),
    Row("vector-peak", "position-invariant: logreg on vector-peak", "logreg", "vector-peak"),
    Row("displacement-bins", "logreg on displacement-bins", "logreg", "displacement-bins"),
    Row("displacement-bins-position", "logreg on displacement-bins, position training",
        "logreg", "displacement-bins", True),
    Row("onset-apex", "baseline: logreg on onset-apex", "logreg", "onset-apex"),
    Row("bins-onset-apex", "logreg on vector-bins+onset-apex", "logreg",
        "vector-bins+onset-apex"),
    Row("bins-onset-apex-position", "logreg on vector-bins+onset-apex, position training",
        "logreg", "vector-bins+onset-apex", True),
    Row("logreg-pseudo", "baseline: logreg on the pseudo-image", "logreg", "pseudo-discrete"),
    Row("mdmo-svm", "baseline: MDMO + linear SVM", "svm", "mdmo"),
)  # fmt: skip
# the paper preset's own rows (YOLO11-S on its two pseudo-images, centred training as
# published), scored on a cache extracted with --preset paper (--paper-cache)
PAPER_ROWS = (
    Row(
        "paper-discrete",
        "paper preset: YOLO11-S on the discrete pseudo-image",
        "yolo11",
        "pseudo-discrete",
    ),
    Row(
        "paper-continuous",
        "paper preset: YOLO11-S on the continuous pseudo-image",
        "yolo11",
        "pseudo-continuous",
    ),
)
FAST_ROWS = ("recommended", "recommended-position", "vector-peak", "onset-apex",
             "bins-onset-apex-position", "mdmo-svm")  # fmt: skip
PRIOR = "class prior"


def n_classes(feats: Any) -> int:
    """The classes the samples' labels index (the FeatureSet's, or meflow's six)."""
    from meflow.datasets.base import EMOTIONS

    return len(getattr(feats, "classes", EMOTIONS))


def score_row(
    row: Row,
    feats: Any,
    cfg: ExperimentConfig,
    test_shifts: Sequence[int],
    train_shifts: Sequence[int],
) -> dict[int, np.ndarray]:
    """{test shift: (N, C) out-of-fold probabilities} of one row, leave-one-subject-out; a
    fold's classifier is trained once (seed train.seed + fold, as reproduce's) and tested at
    every shift."""
    from meflow.features.shifted import inputs_at
    from meflow.training.folds import run_fold
    from meflow.training.splits import leave_one_subject_out

    shifts = ",".join(map(str, train_shifts if row.position else (0,)))
    tcfg = dataclasses.replace(cfg.train, model=row.model, input=row.input, shifts=shifts)
    y, groups = np.asarray(feats.labels), np.asarray(feats.subjects)
    nc = n_classes(feats)
    tests = dict(zip(test_shifts, inputs_at(row.input, feats, test_shifts, tcfg), strict=True))
    centre = tests[0] if 0 in tests else inputs_at(row.input, feats, (0,), tcfg)[0]
    X_train = inputs_at(row.input, feats, train_shifts, tcfg) if row.position else None
    probs = {s: np.full((len(y), nc), np.nan) for s in test_shifts}
    for f, (tr, te) in enumerate(leave_one_subject_out(groups)):
        _, fitted = run_fold(centre, y, groups, tr, te, tcfg, f, nc, X_train=X_train)
        for s, X in tests.items():
            probs[s][te] = fitted.predict_proba(X[te])
    return probs


def row_metrics(
    probs: dict[int, np.ndarray], y: np.ndarray, subjects: np.ndarray, n_boot: int, seed: int
) -> dict[int, dict[str, Any]]:
    """{test shift: metrics} as ``meflow reproduce`` computes them (cells.evaluate_predictions)."""
    from meflow.cells import evaluate_predictions

    return {s: evaluate_predictions(y, p, subjects, n_boot, seed) for s, p in probs.items()}


def prior_probs(y: np.ndarray, subjects: np.ndarray, nc: int) -> np.ndarray:
    """The class prior's out-of-fold probabilities on the leave-one-subject-out splits."""
    from meflow.evaluation.references import prior_probabilities
    from meflow.training.splits import leave_one_subject_out

    return prior_probabilities(y, leave_one_subject_out(subjects), nc)


def position_results(
    feats: Any,
    rows: Sequence[Row],
    cfg: ExperimentConfig,
    test_shifts: Sequence[int] = TEST_SHIFTS,
    train_shifts: Sequence[int] = TRAIN_SHIFTS,
    n_boot: int = 1000,
    say: Any = print,
) -> dict[str, Any]:
    """{'rows': {key: {shift: metrics}}, 'prior': {shift: metrics}, 'left_out': [notes],
    'seconds': {key: s}} of the rows on a FeatureSet (or one with its attributes)."""
    from meflow.features.inputs import onset_apex_note
    from meflow.features.shifted import batch_at

    y, subjects = np.asarray(feats.labels), np.asarray(feats.subjects)
    nc = n_classes(feats)
    note = onset_apex_note(batch_at(feats, 0))
    out: dict[str, Any] = {"rows": {}, "left_out": [], "seconds": {}}
    for row in rows:
        if note is not None and row.input in ONSET_APEX_INPUTS:
            out["left_out"].append(f"{row.label}: left out, {note}")
            say(out["left_out"][-1])
            continue
        t0 = time.perf_counter()
        probs = score_row(row, feats, cfg, test_shifts, train_shifts)
        out["rows"][row.key] = row_metrics(probs, y, subjects, n_boot, cfg.evaluate.seed)
        out["seconds"][row.key] = time.perf_counter() - t0
        say(line(row.label, out["rows"][row.key], out["seconds"][row.key]))
    prior = prior_probs(y, subjects, nc)
    out["prior"] = row_metrics({s: prior for s in test_shifts}, y, subjects, 0, 0)
    return out


def line(label: str, m: dict[int, dict[str, Any]], seconds: float) -> str:
    """The printed line of one row: micro AUC / UF1 at every test shift."""
    cells = "  ".join(f"{s:+d}: {v['micro_roc_auc']:.3f}/{v['uf1']:.3f}" for s, v in m.items())
    return f"{label:<56} {cells}  ({seconds:.0f} s)"


def tables(
    res: dict[str, Any], rows: Sequence[Row], test_shifts: Sequence[int]
) -> dict[str, dict[str, Any]]:
    """The 'auc' and 'uf1' tables: a row per scored row and the prior, a column per shift,
    the change at +-8 (mean of -8 and +8 minus 0) and the row's prior."""
    labels = {r.key: r.label for r in (*rows, *PAPER_ROWS)}
    shifts = [f"{s:+d}" if s else "0" for s in test_shifts]
    out = {}
    for key, metric in (("auc", "micro_roc_auc"), ("uf1", "uf1")):
        columns = ["row", *shifts, "change at ±8", "prior"]
        body = []
        scored = [(labels[k], m) for k, m in res["rows"].items()]
        for label, m in [*scored, (PRIOR, res["prior"])]:
            vals = [m[s][metric] for s in test_shifts]
            off = [m[s][metric] for s in (-8, 8) if s in m]
            change = f"{np.mean(off) - m[0][metric]:+.3f}" if off and 0 in m else "-"
            prior = res["prior"][test_shifts[0]][metric]
            body.append([label, *(f"{v:.3f}" for v in vals), change, f"{prior:.3f}"])
        out[key] = {"columns": columns, "rows": body}
    return out


def markdown(t: dict[str, Any]) -> str:
    """A Markdown table as docs/variants.md shows it."""
    cols = t["columns"]
    out = ["| " + " | ".join(cols) + " |", "| " + " | ".join(["---"] * len(cols)) + " |"]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in t["rows"]])


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(",") if v.strip())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--cache", type=Path, required=True, help="a feature cache (meflow extract)")
    p.add_argument("--rows", help=f"comma-separated row keys ({', '.join(r.key for r in ROWS)})")
    p.add_argument("--shifts", default="0,4,8,12", help="test shifts k: 0 and -k, +k each")
    p.add_argument(
        "--train-shifts",
        default=",".join(map(str, TRAIN_SHIFTS)),
        help="position training's shifts (write --train-shifts=-8,0,8: they start with '-')",
    )
    p.add_argument("--bootstrap", type=int, default=1000, help="draws of the 95%% intervals")
    p.add_argument("--fast", action="store_true", help=f"rows {','.join(FAST_ROWS)}, no CI")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads")
    p.add_argument("--paper-cache", type=Path, help="a --preset paper cache: the paper's rows too")
    p.add_argument("--out", type=Path, help="folder of position.json (default benchmarks/results)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Score the rows on the cache, print the tables and write position.json."""
    from threadpoolctl import threadpool_limits

    from meflow.features.featureset import load_features

    args = _parser().parse_args(argv)
    keys = args.rows.split(",") if args.rows else (FAST_ROWS if args.fast else None)
    rows = [r for r in ROWS if keys is None or r.key in keys]
    if keys is not None and len(rows) != len(set(keys)):
        _parser().error(f"--rows: unknown {sorted(set(keys) - {r.key for r in ROWS})}")
    ks = sorted({abs(k) for k in _ints(args.shifts)} - {0})
    test_shifts = (0, *(s for k in ks for s in (-k, k)))
    cfg = with_preset(DEFAULT_PRESET)
    t0 = time.perf_counter()
    feats = load_features(args.cache, cfg.train.min_valid)
    print(f"{len(feats.labels)} samples, {np.unique(feats.subjects).size} subjects", flush=True)
    with threadpool_limits(limits=args.threads):
        res = position_results(
            feats, rows, cfg, test_shifts, _ints(args.train_shifts),
            0 if args.fast else args.bootstrap, lambda s: print(s, flush=True),
        )  # fmt: skip
    if args.paper_cache is not None:  # the paper preset's rows on its own extraction
        pcfg = with_preset("paper")
        pfeats = load_features(args.paper_cache, pcfg.train.min_valid)
        if list(pfeats.sample_ids) != list(feats.sample_ids):
            _parser().error("--paper-cache holds other samples than --cache")
        with threadpool_limits(limits=args.threads):
            pres = position_results(
                pfeats, PAPER_ROWS, pcfg, test_shifts, (0,),
                0 if args.fast else args.bootstrap, lambda s: print(s, flush=True),
            )  # fmt: skip
        res["rows"].update(pres["rows"])
        res["seconds"].update(pres["seconds"])
    tabs = tables(res, rows, test_shifts)
    for key, t in tabs.items():
        print(f"\n{key} (test shift in frame pairs, each sign separately):\n" + markdown(t))
    figures = {"seconds": f"{time.perf_counter() - t0:.0f}", "samples": str(len(feats.labels))}
    for key, m in [*res["rows"].items(), ("prior", res["prior"])]:
        for s, v in m.items():
            figures[f"{key}.auc.{s:+d}"] = f"{v['micro_roc_auc']:.3f}"
            figures[f"{key}.uf1.{s:+d}"] = f"{v['uf1']:.3f}"
    extra = {"left_out": res["left_out"], "train_shifts": list(_ints(args.train_shifts)),
             "rows": {k: {str(s): v for s, v in m.items()} for k, m in res["rows"].items()},
             "prior": {str(s): v for s, v in res["prior"].items()}}  # fmt: skip
    write_results(
        "position", tables=tabs, figures=figures, extra=extra, out_dir=args.out,
        argv=None if argv is None else [__file__, *argv],
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
