"""Position training's shifts chosen on some people and reported on others (nested LOSO).

    .venv/bin/python benchmarks/position_nested.py --cache CACHE [--threads 2]

For each person: the training shifts (`train.shifts`: none, every 2 pairs to ±4, ±8 or ±12)
are chosen by leave-one-subject-out on the other people only, by the mean micro AUC over
windows moved by 0, ±4 and ±8 pairs (where the windows of `meflow predict` and of a spotter
put an expression); the recommended classifier is then trained on those people with the chosen
shifts and scores the held-out person's windows at every test shift. Printed and written
(benchmarks/results/position_nested.json): micro AUC and UF1 per test shift of the nested
choice, beside the same figures for each candidate chosen on everyone, how often each
candidate was chosen, and the inflation of choosing on everyone.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from _results import write_results
from meflow.config import with_preset
from meflow.presets import DEFAULT_PRESET
from position import TEST_SHIFTS, Row, n_classes, score_row

CANDIDATES: dict[str, tuple[int, ...]] = {
    "centred only": (0,),
    "every 2 to ±4": tuple(range(-4, 5, 2)),
    "every 2 to ±8": tuple(range(-8, 9, 2)),
    "every 2 to ±12": tuple(range(-12, 13, 2)),
}
OBJECTIVE = (0, -4, 4, -8, 8)  # the shifts the choice is scored on
ROW = Row("recommended", "logreg on vector-bins", "logreg", "vector-bins", True)


def objective(feats, cfg, shifts: tuple[int, ...]) -> float:
    """Mean micro AUC over OBJECTIVE of leave-one-subject-out on ``feats`` with ``shifts``."""
    from meflow.evaluation.metrics import micro_roc_auc

    row = dataclasses.replace(ROW, position=shifts != (0,))
    probs = score_row(row, feats, cfg, OBJECTIVE, shifts)
    return float(np.mean([micro_roc_auc(feats.labels, probs[s]) for s in OBJECTIVE]))


def held_out(feats, cfg, test: np.ndarray, shifts: tuple[int, ...], fold: int) -> dict:
    """{test shift: (n_test, C) probabilities} of the held-out person, trained on the others."""
    from meflow.features.shifted import inputs_at
    from meflow.training.folds import run_fold

    tcfg = dataclasses.replace(cfg.train, model=ROW.model, input=ROW.input,
                               shifts=",".join(map(str, shifts)))  # fmt: skip
    y, groups = np.asarray(feats.labels), np.asarray(feats.subjects)
    tests = dict(zip(TEST_SHIFTS, inputs_at(ROW.input, feats, TEST_SHIFTS, tcfg), strict=True))
    X_train = inputs_at(ROW.input, feats, shifts, tcfg) if shifts != (0,) else None
    tr = np.flatnonzero(~test)
    te = np.flatnonzero(test)
    _, fitted = run_fold(tests[0], y, groups, tr, te, tcfg, fold, n_classes(feats),
                         X_train=X_train)  # fmt: skip
    return {s: fitted.predict_proba(X[te]) for s, X in tests.items()}


def main() -> int:
    from threadpoolctl import threadpool_limits

    from meflow.evaluation.metrics import micro_roc_auc, uf1
    from meflow.features.featureset import load_features

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    cfg = with_preset(DEFAULT_PRESET)
    feats = load_features(args.cache, cfg.train.min_valid)
    y, subjects = np.asarray(feats.labels), np.asarray(feats.subjects)
    people = sorted(set(subjects.tolist()))
    nc = n_classes(feats)
    probs = {s: np.full((len(y), nc), np.nan) for s in TEST_SHIFTS}
    chosen: Counter[str] = Counter()
    t0 = time.perf_counter()
    with threadpool_limits(limits=args.threads):
        for f, person in enumerate(people):
            test = subjects == person
            inner = feats.subset(~test)
            scores = {name: objective(inner, cfg, sh) for name, sh in CANDIDATES.items()}
            best = max(scores, key=lambda k: scores[k])
            chosen[best] += 1
            for s, p in held_out(feats, cfg, test, CANDIDATES[best], f).items():
                probs[s][test] = p
            print(f"{person}: chose {best} ({scores[best]:.3f} inner)", flush=True)
        on_all = {name: score_row(dataclasses.replace(ROW, position=sh != (0,)), feats, cfg,
                                  TEST_SHIFTS, sh) for name, sh in CANDIDATES.items()}  # fmt: skip
    columns = ["configuration", *(f"{s:+d}" if s else "0" for s in TEST_SHIFTS)]
    tables = {}
    figures: dict[str, object] = {"seconds": f"{time.perf_counter() - t0:.0f}"}
    for key, fn in (("auc", micro_roc_auc), ("uf1", uf1)):
        rows = [["nested choice (chosen on the other people)",
                 *(f"{fn(y, probs[s]):.3f}" for s in TEST_SHIFTS)]]  # fmt: skip
        for name, p in on_all.items():
            rows.append([f"{name} (on everyone)", *(f"{fn(y, p[s]):.3f}" for s in TEST_SHIFTS)])
        tables[key] = {"columns": columns, "rows": rows}
        for s in TEST_SHIFTS:
            figures[f"nested.{key}.{s:+d}"] = f"{fn(y, probs[s]):.3f}"
    objective_all = {n: float(np.mean([micro_roc_auc(y, p[s]) for s in OBJECTIVE]))
                     for n, p in on_all.items()}  # fmt: skip
    best_all = max(objective_all, key=lambda k: objective_all[k])
    nested_obj = float(np.mean([micro_roc_auc(y, probs[s]) for s in OBJECTIVE]))
    figures["best_on_everyone"] = best_all
    figures["objective.best_on_everyone"] = f"{objective_all[best_all]:.3f}"
    figures["objective.nested"] = f"{nested_obj:.3f}"
    figures["inflation"] = f"{objective_all[best_all] - nested_obj:+.3f}"
    figures["chosen"] = "; ".join(f"{k} ({v})" for k, v in chosen.most_common())
    for key, t in tables.items():
        print(f"\n{key}:")
        print("| " + " | ".join(t["columns"]) + " |")
        for r in t["rows"]:
            print("| " + " | ".join(r) + " |")
    print({k: v for k, v in figures.items() if "." not in k or k.startswith("objective")})
    write_results("position_nested", tables=tables, figures=figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
