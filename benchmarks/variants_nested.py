"""Chosen on some, reported on others: the variant table's choices by nested leave-one-subject-out.

For each person (the outer test subject), every candidate configuration is cross-validated
leave-one-subject-out on the other people only (the inner loop) and the one with the best
inner micro AUC is chosen; that configuration, trained on those other people, scores the
held-out person. That is exactly the candidate's own fold of the ordinary leave-one-subject-out
run, so the held-out predictions are taken from the row's saved out-of-fold predictions
(DIR/oof/<row>.npz) and only the inner loops are new (saved in DIR/nested/<row>.json). The
held-out predictions of all people, each from the configuration chosen without them, are
pooled and scored as a row is (micro AUC with its bootstrap interval over subjects, UF1, the
class prior on the same splits, minus-prior). Beside it: the best of the same candidates on all
people (how the settings were chosen before) and the difference, the inflation.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meflow.cells import evaluate_predictions
from meflow.datasets.base import EMOTIONS
from meflow.evaluation.metrics import micro_roc_auc
from meflow.evaluation.references import versus_prior

ALL = "every configuration of the table"
# each choice docs/variants.md made from the table: its options (row labels; absent ones skipped)
DECISIONS: dict[str, tuple[str, ...]] = {
    "input": (
        "recommended: logreg on vector-bins (8)",
        "logreg on vector-series (every pair)",
        "baseline: logreg on the pseudo-image",
        "logreg on pseudo-continuous",
        "baseline: MDMO + linear SVM",
    ),
    "stretches (bins)": (
        "recommended: logreg on vector-bins (8)",
        "logreg on vector-bins (4)",
        "logreg on vector-bins (16)",
    ),
    "classifier and C": (
        "recommended: logreg on vector-bins (8)",
        "logreg on vector-bins (8), C=0.01",
        "logreg on vector-bins (8), C=1.0",
        "linear SVM on vector-bins (8)",
    ),
    "flow backend": (
        "recommended: logreg on vector-bins (8)",
        "dis flow: logreg on vector-bins",
        "farneback flow: logreg on vector-bins",
    ),
    "head motion and reference": (
        "recommended: logreg on vector-bins (8)",
        "no head-motion compensation: logreg on vector-bins",
        "flow from the window's first frame: logreg on vector-bins",
    ),
    "crop": (
        "recommended: logreg on vector-bins (8)",
        "crop 128 px: logreg on vector-bins",
        "crop 256 px: logreg on vector-bins",
    ),
    "noise floor (pseudo-image)": (
        "logreg on the pseudo-image, noise floor 0.05 px",
        "logreg on the pseudo-image, noise floor 0.1 px",
        "logreg on the pseudo-image, noise floor 0.2 px",
    ),
}
NUM_CLASSES = len(EMOTIONS)
N_BOOT, SEED = 1000, 0  # as reproduce scores a row (evaluate.bootstrap, evaluate.seed)


def slugify(text: str) -> str:
    """Lower case, every run of other characters one '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def inner_aucs(
    work: Path, v: Any, features_of: Callable[[Any], tuple], config_of: Callable[[Any], Any]
) -> dict[str, float]:
    """Subject -> the row's inner leave-one-subject-out micro AUC without that subject."""
    import hashlib

    X, feats = features_of(v)
    cfg = config_of(v)
    y, subjects = np.asarray(feats.labels), np.asarray(feats.subjects)
    digest = hashlib.sha256(np.ascontiguousarray(X).tobytes() + repr(cfg.train).encode())
    key = digest.hexdigest()[:16]  # rows with the same input and settings share their loops
    path = work / "nested" / f"{key}.json"
    if path.exists():
        return {str(k): float(a) for k, a in json.loads(path.read_text())["inner"].items()}
    t0 = time.perf_counter()
    if cfg.train.model == "logreg":
        done = _inner_by_pairs(X, y, subjects, cfg.train)
    else:
        done = _inner_by_cross_validation(X, y, subjects, cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"row": v.label, "inner": done}, indent=1) + "\n")
    print(f"  inner loops of {v.label}: {time.perf_counter() - t0:.0f} s", flush=True)
    return done


def _inner_by_cross_validation(
    X: np.ndarray, y: np.ndarray, subjects: np.ndarray, cfg: Any
) -> dict[str, float]:
    """Subject s -> micro AUC of leave-one-subject-out on everyone but s (training.loop)."""
    from meflow.training import cross_validate

    done = {}
    for s in sorted(set(subjects.tolist())):
        keep = subjects != s
        cv = cross_validate(X[keep], y[keep], subjects[keep], cfg.train, cfg.evaluate, False)
        done[str(s)] = micro_roc_auc(y[keep], cv.probs)
    return done


def _inner_by_pairs(
    X: np.ndarray, y: np.ndarray, subjects: np.ndarray, train: Any
) -> dict[str, float]:
    """As ``_inner_by_cross_validation`` for a seed-free classifier (logistic regression),
    with half the fits: the inner fold of outer s that tests t trains on everyone but s and t,
    as does the inner fold of outer t that tests s, so one fit serves both."""
    from meflow.execution import LocalExecutor
    from meflow.training.folds import FoldData, FoldTask, run_fold_task

    people = sorted(set(subjects.tolist()))
    data = FoldData(X, y.astype(np.int64), subjects)
    threads = LocalExecutor().task_threads()
    probs = {s: np.full((len(y), NUM_CLASSES), np.nan) for s in people}  # outer s -> inner
    for i, a in enumerate(people):
        for b in people[i + 1 :]:
            pair = (subjects == a) | (subjects == b)
            te = np.flatnonzero(pair)
            task = FoldTask(0, 1, np.flatnonzero(~pair), te, train, NUM_CLASSES, threads)
            p = run_fold_task(data, task).probs
            in_b = subjects[te] == b
            probs[a][te[in_b]] = p[in_b]  # outer a, inner test b
            probs[b][te[~in_b]] = p[~in_b]  # outer b, inner test a
    return {str(s): micro_roc_auc(y[subjects != s], probs[s][subjects != s]) for s in people}


def load_oof(work: Path, slug: str) -> dict[str, np.ndarray]:
    """A row's saved out-of-fold predictions."""
    with np.load(work / "oof" / f"{slug}.npz") as z:
        return {k: z[k] for k in z.files}


def select(
    labels: Sequence[str],
    slug_of: dict[str, str],
    oof: dict[str, dict[str, np.ndarray]],
    inner: dict[str, dict[str, float]],
    all_auc: dict[str, float],
) -> dict[str, Any]:
    """Nested choice among ``labels``: pooled held-out metrics, choices, all-people best."""
    ref = oof[slug_of[labels[0]]]
    y, subjects, prior = ref["y"], ref["subjects"], ref["prior"]
    probs = np.full_like(ref["probs"], np.nan)
    chosen: dict[str, str] = {}
    for s in sorted(set(subjects.tolist())):
        best = max(labels, key=lambda lab: inner[slug_of[lab]][s])  # ties: the first listed
        chosen[s] = best
        test = subjects == s
        probs[test] = oof[slug_of[best]]["probs"][test]
    m = evaluate_predictions(y, probs, subjects, N_BOOT, SEED)
    m.update(versus_prior(y, probs, prior, subjects, N_BOOT, SEED))
    best_all = max(labels, key=lambda lab: all_auc[lab])
    return {
        "metrics": m,
        "chosen": chosen,
        "counts": Counter(chosen.values()),
        "best_all": best_all,
        "best_all_auc": all_auc[best_all],
        "inflation": all_auc[best_all] - m["micro_roc_auc"],
    }


def _check_aligned(oof: dict[str, dict[str, np.ndarray]]) -> None:
    """Every candidate scored the same samples in the same order, with the same prior."""
    first = next(iter(oof.values()))
    for slug, o in oof.items():
        for k in ("sample_ids", "y", "subjects", "prior"):
            if not np.array_equal(o[k], first[k]):
                raise ValueError(f"{slug}: {k} differs from the other rows' (samples not aligned)")


def _fmt(m: dict[str, Any]) -> list[str]:
    """A row's micro AUC [CI], UF1, prior and minus prior [CI], formatted."""
    lo, hi = m["micro_roc_auc_ci"]
    dlo, dhi = m["minus_prior_ci"]
    return [
        f"{m['micro_roc_auc']:.3f} [{lo:.3f}, {hi:.3f}]",
        f"{m['uf1']:.3f}",
        f"{m['prior_micro_roc_auc']:.3f}",
        f"{m['minus_prior']:+.3f} [{dlo:+.3f}, {dhi:+.3f}]",
    ]


def _counts(counts: Counter) -> str:
    """How often each configuration was chosen, most often first."""
    return "; ".join(f"{lab} ({n})" for lab, n in counts.most_common())


def _figures(top: dict[str, Any], res: dict[str, dict[str, Any]], n_candidates: int) -> dict:
    """The single figures of the nested choice (``nested.*``)."""
    n = len(top["chosen"])
    figures = {
        "nested.auc": f"{top['metrics']['micro_roc_auc']:.3f}",
        "nested.ci": "[{:.3f}, {:.3f}]".format(*top["metrics"]["micro_roc_auc_ci"]),
        "nested.uf1": f"{top['metrics']['uf1']:.3f}",
        "nested.prior": f"{top['metrics']['prior_micro_roc_auc']:.3f}",
        "nested.minus_prior": f"{top['metrics']['minus_prior']:+.3f}",
        "nested.minus_prior_ci": "[{:+.3f}, {:+.3f}]".format(*top["metrics"]["minus_prior_ci"]),
        "nested.all_best": f"{top['best_all_auc']:.3f}",
        "nested.all_best_variant": top["best_all"],
        "nested.inflation": f"{top['inflation']:+.3f}",
        "nested.candidates": str(n_candidates),
        "nested.distinct_chosen": str(len(top["counts"])),
        "nested.most_chosen": top["counts"].most_common(1)[0][0],
        "nested.most_chosen_count": str(top["counts"].most_common(1)[0][1]),
        "nested.people": str(n),
    }
    for d, r in res.items():
        if d != ALL:
            figures[f"nested.{slugify(d)}.auc"] = f"{r['metrics']['micro_roc_auc']:.3f}"
            figures[f"nested.{slugify(d)}.inflation"] = f"{r['inflation']:+.3f}"
    return figures


def nested_tables(
    work: Path,
    candidates: Sequence[Any],
    metrics: dict[str, dict[str, Any]],
    features_of: Callable[[Any], tuple],
    config_of: Callable[[Any], Any],
) -> dict[str, Any]:
    """The nested tables, figures and per-subject choices of the candidate rows."""
    slug_of = {v.label: v.slug for v in candidates}
    oof = {v.slug: load_oof(work, v.slug) for v in candidates}
    _check_aligned(oof)
    inner = {v.slug: inner_aucs(work, v, features_of, config_of) for v in candidates}
    all_auc = {v.label: metrics[v.slug]["micro_roc_auc"] for v in candidates}
    groups = {ALL: tuple(v.label for v in candidates)}
    groups.update({d: tuple(x for x in opts if x in slug_of) for d, opts in DECISIONS.items()})
    res = {d: select(labs, slug_of, oof, inner, all_auc) for d, labs in groups.items() if labs}
    top = res[ALL]
    best = metrics[slug_of[top["best_all"]]]
    cols = ["how the configuration was chosen", "configuration", "micro AUC [95% CI]", "UF1",
            "prior", "minus prior [95% CI]"]  # fmt: skip
    n = len(top["chosen"])
    rec = candidates[0]  # the table's first row: the recommended configuration
    summary = [
        [f"the recommended configuration (the defaults), on all {n}", rec.label,
         *_fmt(metrics[rec.slug])],
        [f"the best of the table on all {n} people, reported on the same {n}", top["best_all"],
         *_fmt(best)],
        [f"nested: chosen on the other {n - 1} people, reported on the held-out one",
         f"chosen per person ({len(top['counts'])} distinct)", *_fmt(top["metrics"])],
    ]  # fmt: skip
    choices = [
        [v.label, f"{all_auc[v.label]:.3f}",
         f"{np.mean(list(inner[v.slug].values())):.3f}", str(top["counts"].get(v.label, 0))]
        for v in candidates
    ]  # fmt: skip
    decisions = [
        [d, str(len(groups[d])), r["best_all"], f"{r['best_all_auc']:.3f}",
         _fmt(r["metrics"])[0], f"{r['inflation']:+.3f}", _counts(r["counts"])]
        for d, r in res.items() if d != ALL
    ]  # fmt: skip
    figures = _figures(top, res, len(candidates))
    return {
        "tables": {
            "nested": {"columns": cols, "rows": summary},
            "nested_choices": {
                "columns": [
                    "configuration",
                    f"micro AUC, all {n}",
                    "mean inner micro AUC",
                    f"chosen (of {n})",
                ],
                "rows": choices,
            },
            "nested_decisions": {
                "columns": [
                    "choice",
                    "options",
                    f"best on all {n}",
                    "its micro AUC",
                    "nested micro AUC [95% CI]",
                    "inflation",
                    "chosen per person",
                ],
                "rows": decisions,
            },
        },
        "figures": figures,
        "extra": {
            "inner_micro_auc": inner,
            "chosen": {d: r["chosen"] for d, r in res.items()},
            "metrics": {d: r["metrics"] for d, r in res.items()},
        },
    }
