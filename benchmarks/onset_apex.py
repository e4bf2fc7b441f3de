"""The onset-to-apex table: recognition with the labelled onset, apex and offset given.

    .venv/bin/python benchmarks/onset_apex.py --cache CACHE --data DATA --work DIR
        [--averages 0,1] [--cs 0.03,0.1,0.3] [--nested-averages 0] [--nested-cs 0.1]
        [--nested-inputs A,B,...] [--bootstrap 1000] [--threads 1]

CACHE is the recommended extraction of the dataset DATA (its samples, labels and subjects, and
the blind row's windows). For each k of ``--averages`` the onset-to-apex and apex-to-offset
flows of every sample are computed by extraction's own code
(``features.sample.expression_flows`` with ``features.onset_apex_average=k``: each labelled
frame averaged with its neighbours) into DIR/flows-k.npz (a rerun reuses them; one made
before the region parts and strain were extracted is made again). Rows: logistic regression
on ``onset-apex`` (the onset-to-apex flow), on ``onset-apex-offset`` (the apex's displacement
seen from the onset and from the offset), its ``-bilateral`` form (both sides of the face
averaged), ``onset-apex-offset-parts`` (the same over four parts of each region) and its
``-bilateral`` form, and ``onset-apex-offset-strain`` (the region means with each region's
optical strain magnitude) at every k and C, leave-one-subject-out
as ``meflow reproduce`` scores a row (the same metrics, folds and class prior); the same
inputs at k = 0 standardised per subject (``subject_standardised``: each person's samples
centred on their own mean and divided by their own sd, per feature, without labels); the
ensemble (the mean of the class probabilities of the subject-standardised rows on ENSEMBLE at
k = 0, C = 0.1: the configuration frozen on the first two sets before a third was made); the
baseline (onset-apex, k = 0, C = 0.1: the labelled frames alone) and the blind recommended
row (logreg on the centred window's vector-bins) beside them. Then the nested choice: for
each person, the row (input of ``--nested-inputs``, standardisation or none, k, C) with the
best micro AUC of an inner leave-one-subject-out on the other people only, trained on them
and scored on that person; the person's own samples never choose (their own unlabelled
statistics do standardise them). Printed: the rows, the nested figure and its choices;
written: benchmarks/results/onset_apex.json (``--out`` another folder, ``--name`` another
file name: another set's table beside the benchmark's).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from _results import table, write_results
from meflow.config import ExperimentConfig, with_preset
from meflow.presets import DEFAULT_PRESET

INPUTS = (
    "onset-apex",
    "onset-apex-offset",
    "onset-apex-offset-bilateral",
    "onset-apex-offset-parts",
    "onset-apex-offset-parts-bilateral",
    "onset-apex-offset-strain",
)
# how a person's configuration is chosen from the inner leave-one-subject-out of the others:
# by micro AUC alone, or by micro AUC + UF1 (the two figures the target names)
CRITERIA = ("auc", "auc+uf1")
# per-subject standardisation of an input (no labels: each feature centred on the person's own
# mean and divided by its own sd over that person's samples), rows at k = 0 beside the plain ones
NORMS = ("none", "subject")
SUBJECT_EPS = 1e-3  # px added to a person's sd (a feature that never moves stays finite)
# the configuration frozen on the first two sets before the third was looked at: the mean of
# the class probabilities of three subject-standardised rows (k = 0, C = 0.1)
ENSEMBLE = (
    "onset-apex-offset-bilateral",
    "onset-apex-offset-parts",
    "onset-apex-offset-parts-bilateral",
)
TARGET = (0.98, 0.85)  # issue 21: micro AUC and UF1 with onset and apex given
BASELINE = ("onset-apex", 0, 0.1)  # the labelled frames alone, train.c: logreg-onset-apex


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One row of the grid: logistic regression on an input from flows averaged over k."""

    input: str
    k: int
    c: float
    norm: str = "none"

    @property
    def key(self) -> str:
        return f"{self.input}.k{self.k}.c{self.c:g}" + ("" if self.norm == "none" else ".subject")


def subject_standardised(X: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(N, F) float64: the flattened input with each person's samples centred on their own
    mean and divided by their own sd (+ SUBJECT_EPS) per feature. Uses no label, and a test
    person's statistics come from that person's samples alone (as a new person's unlabelled
    clips would give them), so it is the same inside every fold as before the folds."""
    F = X.reshape(len(X), -1).astype(np.float64)
    out = np.empty_like(F)
    for g in np.unique(groups):
        m = groups == g
        Z = F[m] - F[m].mean(axis=0)
        out[m] = Z / (Z.std(axis=0) + SUBJECT_EPS)
    return out


def flows(work: Path, data: Path, dataset: str, k: int, cfg: ExperimentConfig) -> Path:
    """DIR/flows-k.npz: every sample's arrays of ``expression_flows`` (onset_apex,
    apex_offset, their _parts, _strain and _valid) at features.onset_apex_average = k, by
    sample id (computed once; again where a file lacks the descriptors)."""
    from meflow.datasets import load_dataset
    from meflow.features.sample import expression_flows
    from meflow.features.sequence import SequenceExtractor

    path = work / f"flows-{k}.npz"
    if path.exists() and "onset_apex_parts" in np.load(path).files:  # else made before them
        return path
    extract = dataclasses.replace(
        cfg.extract, features=dataclasses.replace(cfg.extract.features, onset_apex_average=k)
    )
    samples = load_dataset(dataset, root=data).samples
    out: dict[str, list[Any]] = {"sample_id": []}
    t0 = time.perf_counter()
    with SequenceExtractor(extract, threaded=False, keep_warm=True) as ex:
        for s in samples:
            arrays, _ = expression_flows(ex, s, {})
            out["sample_id"].append(s.sample_id)
            for name, a in arrays.items():
                out.setdefault(name, []).append(a)
    print(f"flows k={k}: {len(samples)} samples, {time.perf_counter() - t0:.0f} s", flush=True)
    work.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{n: np.stack(v) if n != "sample_id" else np.array(v) for n, v in out.items()})
    return path


def batches(paths: dict[int, Path], ids: Sequence[str]) -> dict[int, dict[str, np.ndarray]]:
    """{k: a batch of the flows, in the order of ``ids``}."""
    out = {}
    for k, p in paths.items():
        z = np.load(p)
        where = {s: i for i, s in enumerate(z["sample_id"].tolist())}
        idx = np.array([where[s] for s in ids])
        out[k] = {
            n: z[n][idx] if not n.endswith("_valid") else z[n][idx].reshape(len(idx))
            for n in z.files
            if n != "sample_id"
        }
    return out


def oof(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray, idx: np.ndarray, cfg: Any, nc: int
) -> np.ndarray:
    """(len(idx), C) leave-one-subject-out probabilities of the samples ``idx`` (only they
    are seen: the folds are over their subjects)."""
    from meflow.training.folds import run_fold
    from meflow.training.splits import leave_one_subject_out

    probs = np.zeros((len(idx), nc))
    for f, (tr, te) in enumerate(leave_one_subject_out(groups[idx])):
        probs[te], _ = run_fold(X[idx], y[idx], groups[idx], tr, te, cfg, f, nc)
    return probs


def nested(
    Xs: dict[Candidate, np.ndarray], y: np.ndarray, groups: np.ndarray, train: Any, nc: int
) -> dict[str, tuple[np.ndarray, list[str]]]:
    """{criterion: (out-of-fold probabilities, the candidate chosen for each person)}: for
    each person, the candidate with the best inner leave-one-subject-out score on the other
    people (CRITERIA), trained on them and applied to that person."""
    from meflow.evaluation.metrics import compute_metrics
    from meflow.training.folds import run_fold
    from meflow.training.splits import leave_one_subject_out

    out = {c: (np.zeros((len(y), nc)), []) for c in CRITERIA}
    for f, (tr, te) in enumerate(leave_one_subject_out(groups)):
        scores = {}
        for cand, X in Xs.items():
            cfg = dataclasses.replace(train, model="logreg", input=cand.input, c=cand.c)
            m = compute_metrics(y[tr], oof(X, y, groups, tr, cfg, nc))
            scores[cand] = {"auc": m["micro_auc"], "auc+uf1": m["micro_auc"] + m["uf1"]}
        for crit, (probs, chosen) in out.items():
            best = max(Xs, key=lambda c: scores[c][crit])  # the first of equals: grid order
            cfg = dataclasses.replace(train, model="logreg", input=best.input, c=best.c)
            probs[te], _ = run_fold(Xs[best], y, groups, tr, te, cfg, f, nc)
            chosen.append(best.key)
            say = f"inner {crit} {scores[best][crit]:.3f}"
            print(f"  person {groups[te][0]}, by {crit}: {best.key} ({say})", flush=True)
    return out


def blind(feats: Any, cfg: ExperimentConfig) -> np.ndarray:
    """The blind recommended row's out-of-fold probabilities: logreg on the centred window's
    vector-bins (train.shifts=0), as the position table's 'recommended' row."""
    from meflow.features.inputs import build_input

    train = dataclasses.replace(cfg.train, model="logreg", input="vector-bins", shifts="0")
    X = build_input("vector-bins", feats.batch(), train)
    y, groups = np.asarray(feats.labels), np.asarray(feats.subjects)
    return oof(X, y, groups, np.arange(len(y)), train, len(feats.classes))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--cache", type=Path, required=True, help="the recommended extraction")
    p.add_argument("--data", type=Path, required=True, help="the dataset the cache was made of")
    p.add_argument("--work", type=Path, required=True, help="folder of the flows (reused)")
    p.add_argument("--averages", default="0,1", help="features.onset_apex_average values")
    p.add_argument("--nested-averages", default="0", help="those the nested choice considers")
    p.add_argument("--nested-cs", default="0.1", help="the C values the nested choice considers")
    p.add_argument(
        "--nested-inputs", default=",".join(ENSEMBLE), help="the inputs the nested choice considers"
    )
    p.add_argument("--cs", default="0.03,0.1,0.3", help="logistic regression C values")
    p.add_argument("--bootstrap", type=int, default=1000, help="draws of the 95%% intervals")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads")
    p.add_argument(
        "--out", type=Path, help="folder of onset_apex.json (default benchmarks/results)"
    )
    p.add_argument(
        "--name",
        default="onset_apex",
        help="results name: NAME.json (another set's table beside the benchmark's)",
    )
    return p


def _fmt(m: dict[str, Any]) -> list[str]:
    ci = m.get("micro_roc_auc_ci")
    auc = f"{m['micro_roc_auc']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
    return [auc, f"{m['uf1']:.3f}", f"{m['uar']:.3f}"]


def tables(
    res: dict[str, dict[str, Any]],
    grid: Sequence[Candidate],
    base: Candidate,
    chosen: dict[str, list[str]],
) -> dict[str, dict[str, list]]:
    """The rows table and the table of the nested choices."""
    rows = [
        [f"nested choice by inner {crit} (input, standardisation chosen on the other people)",
         "-", "-",
         *_fmt(res[f"nested-{crit}"])]
        for crit in CRITERIA
    ]  # fmt: skip
    rows += [["ensemble: mean of the subject-standardised rows on " + ", ".join(ENSEMBLE),
              "0", "0.1", *_fmt(res["ensemble"])]]  # fmt: skip
    rows += [["baseline: logreg on onset-apex, labelled frames alone", "0", "0.1",
              *_fmt(res[base.key])]]  # fmt: skip
    rows += [[f"logreg on {c.input}" + (", standardised per subject" if c.norm != "none" else ""),
              str(c.k), f"{c.c:g}", *_fmt(res[c.key])] for c in grid]  # fmt: skip
    rows += [["blind: logreg on the centred window's vector-bins", "-", "0.1", *_fmt(res["blind"])],
             ["class prior", "-", "-", *_fmt(res["prior"])]]  # fmt: skip
    cols = ["row", "k (frames averaged)", "C", "micro AUC [95% CI]", "UF1", "UAR"]
    counts = [(crit, key, n) for crit in CRITERIA
              for key, n in sorted(Counter(chosen[crit]).items())]  # fmt: skip
    return {
        "rows": table(cols, rows),
        "chosen": table(["criterion", "row chosen (input.k.C)", "people"], counts),
    }


def target_figures(res: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The issue's target on each nested row's unrounded figures: {nested-CRIT.auc4, .uf1_4,
    .target ('met' or 'missed'), .auc_ci, .uf1_ci (where bootstrapped)}; printed too."""
    out = {}
    for key in ["ensemble", *(f"nested-{crit}" for crit in CRITERIA)]:
        m = res[key]
        out[f"{key}.auc4"], out[f"{key}.uf1_4"] = f"{m['micro_roc_auc']:.4f}", f"{m['uf1']:.4f}"
        met = m["micro_roc_auc"] >= TARGET[0] and m["uf1"] >= TARGET[1]
        out[f"{key}.target"] = "met" if met else "missed"
        for name, ci in (("auc_ci", m.get("micro_roc_auc_ci")), ("uf1_ci", m.get("uf1_ci"))):
            out[f"{key}.{name}"] = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "-"
        print(
            f"{key}: micro AUC {out[f'{key}.auc4']} {out[f'{key}.auc_ci']}, "
            f"UF1 {out[f'{key}.uf1_4']} {out[f'{key}.uf1_ci']}: target {out[f'{key}.target']}"
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Score the rows and the nested choice, print them and write onset_apex.json."""
    from threadpoolctl import threadpool_limits

    from meflow.cells import evaluate_predictions
    from meflow.evaluation.bootstrap import bootstrap_ci
    from meflow.evaluation.metrics import uf1
    from meflow.evaluation.references import prior_probabilities
    from meflow.features.featureset import load_features, read_manifest
    from meflow.features.inputs import build_input
    from meflow.training.splits import leave_one_subject_out

    args = _parser().parse_args(argv)
    ks = [int(v) for v in args.averages.split(",")]
    cs = [float(v) for v in args.cs.split(",")]
    cfg = with_preset(DEFAULT_PRESET)
    t0 = time.perf_counter()
    feats = load_features(args.cache, cfg.train.min_valid)
    dataset = str(read_manifest(args.cache)["dataset"])
    y, groups = np.asarray(feats.labels), np.asarray(feats.subjects)
    nc, ids = len(feats.classes), list(feats.sample_ids)
    print(f"{len(y)} samples, {np.unique(groups).size} subjects", flush=True)
    b = batches({k: flows(args.work, args.data, dataset, k, cfg) for k in sorted({0, *ks})}, ids)
    same = np.nan_to_num(b[0]["onset_apex"]) - np.nan_to_num(feats.onset_apex)
    print(f"k=0 onset_apex against the cache's: largest difference {np.abs(same).max():.4f} px")
    grid = [Candidate(i, k, c) for i in INPUTS for k in ks for c in cs]
    grid += [Candidate(i, 0, c, "subject") for i in INPUTS for c in cs]
    ens = [Candidate(i, 0, 0.1, "subject") for i in ENSEMBLE]
    grid += [e for e in ens if e not in grid]

    def built(cand: Candidate) -> np.ndarray:
        X = build_input(cand.input, b[cand.k], cfg.train)
        return X if cand.norm == "none" else subject_standardised(X, groups)

    Xs = {cand: built(cand) for cand in grid}
    nested_ks = [int(v) for v in args.nested_averages.split(",")]
    nested_cs = [float(v) for v in args.nested_cs.split(",")]
    nested_in = args.nested_inputs.split(",")
    choices = {
        Candidate(i, k, c, n): None for n in NORMS for i in nested_in for k in nested_ks
        for c in nested_cs
    }  # fmt: skip
    choices_X = {cand: Xs[cand] if cand in Xs else built(cand) for cand in choices}
    base = Candidate(*BASELINE)
    Xs_all = {base: built(base), **Xs}

    def metrics(p: np.ndarray) -> dict[str, Any]:
        return evaluate_predictions(y, p, groups, args.bootstrap, cfg.train.seed, feats.classes)

    res: dict[str, dict[str, Any]] = {}
    probs: dict[Candidate, np.ndarray] = {}
    with threadpool_limits(limits=args.threads):
        for cand, X in Xs_all.items():
            tcfg = dataclasses.replace(cfg.train, model="logreg", input=cand.input, c=cand.c)
            probs[cand] = oof(X, y, groups, np.arange(len(y)), tcfg, nc)
            res[cand.key] = m = metrics(probs[cand])
            print(f"{cand.key}: {m['micro_roc_auc']:.3f} UF1 {m['uf1']:.3f}", flush=True)
        p_ens = np.mean([probs[e] for e in ens], axis=0)
        res["ensemble"] = metrics(p_ens)
        res["blind"] = metrics(blind(feats, cfg))
        print("nested choice:", flush=True)
        chosen = {}
        rows = {"ensemble": p_ens}
        for crit, (p_nested, who) in nested(choices_X, y, groups, cfg.train, nc).items():
            res[f"nested-{crit}"], chosen[crit] = metrics(p_nested), who
            rows[f"nested-{crit}"] = p_nested
        if args.bootstrap:  # the target's other figure, with its interval too
            for key, p in rows.items():
                ci = bootstrap_ci(y, p, groups, uf1, args.bootstrap, cfg.train.seed)
                res[key]["uf1_ci"] = [ci.low, ci.high]
    res["prior"] = metrics(prior_probabilities(y, leave_one_subject_out(groups), nc))
    tabs = tables(res, grid, base, chosen)
    for key, t in tabs.items():
        print(f"\n{key}:\n" + "\n".join(" | ".join(r) for r in [t["columns"], *t["rows"]]))
    figures = {"seconds": f"{time.perf_counter() - t0:.0f}", "samples": str(len(y))}
    named = {"baseline": base.key, "blind": "blind", "prior": "prior", "ensemble": "ensemble"}
    named |= {f"nested-{crit}": f"nested-{crit}" for crit in CRITERIA}
    named |= {c.key: c.key for c in grid}
    for name, key in named.items():
        figures[f"{name}.auc"] = f"{res[key]['micro_roc_auc']:.3f}"
        figures[f"{name}.uf1"] = f"{res[key]['uf1']:.3f}"
    figures |= target_figures(res)
    extra = {"chosen": chosen, "metrics": res, "averages": ks, "cs": cs, "nested": nested_ks,
             "nested_cs": nested_cs, "nested_inputs": nested_in,
             "ensemble": [e.key for e in ens]}  # fmt: skip
    write_results(
        args.name, tables=tabs, figures=figures, extra=extra, out_dir=args.out,
        argv=None if argv is None else [__file__, *argv],
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
