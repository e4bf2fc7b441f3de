"""Writes an experiment's results: results.json/.csv/.md, predictions, figures and report.md."""

from __future__ import annotations

import csv
import io
import json
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meflow import __version__
from meflow.config import ExperimentConfig, to_dict
from meflow.evaluation.references import PAPER_PRIOR_MICRO_AUC
from meflow.features.cache import atomic_write_text

if TYPE_CHECKING:
    from meflow.cells import CellResult
    from meflow.features.featureset import FeatureSet

TABLE_FIELDS = (
    "subset",
    "input",
    "model",
    "role",
    "protocol",
    "micro_roc_auc",
    "micro_roc_auc_ci",
    "micro_roc_auc_mean",
    "micro_roc_auc_sd",
    "prior_micro_roc_auc",
    "minus_prior",
    "minus_prior_ci",
    "macro_roc_auc",
    "prior_macro_roc_auc",
    "uf1",
    "uf1_mean",
    "uf1_sd",
    "uar",
    "accuracy",
    "n_samples",
    "n_subjects",
    "paper_micro_roc_auc",
)
PAPER_NOTE = (
    "`paper`: Table 1 of the paper (YOLO11-S on the pseudo-images of CAS(ME)^3 Part A). "
    "Under the paper's own class mix (55/57/187/64/250/86) a model that outputs only the "
    f"class frequencies scores {PAPER_PRIOR_MICRO_AUC:.3f} micro AUC, above every value of "
    "its Table 1: read a micro AUC only beside its prior."
)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, list | tuple) and len(v) == 2:
        return f"[{v[0]:.3f}, {v[1]:.3f}]"
    if isinstance(v, float):
        return "nan" if v != v else f"{v:.3f}"
    return str(v)


def _signed(v: Any, ci: Any) -> str:
    if v is None or ci is None:
        return "-"
    return f"{v:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]"


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The results as a Markdown table (also readable in a terminal), references beside."""
    head = (
        "subset",
        "input",
        "model",
        "micro AUC",
        "95% CI",
        "seeds",
        "prior",
        "minus prior [95% CI]",
        "macro AUC (prior)",
        "UF1",
        "UAR",
        "n",
        "subj",
        "paper",
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        seeds = (
            f"{r['micro_roc_auc_mean']:.3f} ± {r['micro_roc_auc_sd']:.3f} ({r['seeds']})"
            if r.get("seeds", 1) > 1
            else "-"
        )
        model = r.get("model", "")
        if r.get("role") == "baseline":
            model += " (baseline)"
        cells = [
            r.get("subset"),
            r.get("input"),
            model,
            _fmt(r.get("micro_roc_auc")),
            _fmt(r.get("micro_roc_auc_ci")),
            seeds,
            _fmt(r.get("prior_micro_roc_auc")),
            _signed(r.get("minus_prior"), r.get("minus_prior_ci")),
            f"{_fmt(r.get('macro_roc_auc'))} ({_fmt(r.get('prior_macro_roc_auc'))})",
            _fmt(r.get("uf1")),
            _fmt(r.get("uar")),
            _fmt(r.get("n_samples")),
            _fmt(r.get("n_subjects")),
            _fmt(r.get("paper_micro_roc_auc")),
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def versions() -> dict[str, str]:
    """Versions of the libraries that shape the numbers."""
    import importlib.metadata as md

    out = {"meflow": __version__, "python": platform.python_version()}
    for pkg in (
        "numpy",
        "torch",
        "ultralytics",
        "mediapipe",
        "opencv-contrib-python",
        "scikit-learn",
    ):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def write_results(
    out: Path,
    cells: dict[tuple[str, str, str], CellResult],
    comparisons: list[dict[str, Any]],
    cfg: ExperimentConfig,
    feats: FeatureSet,
    summary: dict[str, Any],
) -> dict[str, Any]:
    """Writes every output file of a run into ``out``; returns the run summary."""
    import yaml

    out = Path(out)
    fig = out / "figures"
    fig.mkdir(parents=True, exist_ok=True)
    rows = [c.row() for c in cells.values()]
    atomic_write_text(out / "results.json", json.dumps(rows, indent=2) + "\n")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=TABLE_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({**r, **{k: _fmt(r.get(k)) for k in ("micro_roc_auc_ci", "minus_prior_ci")}})
    atomic_write_text(out / "results.csv", buf.getvalue())
    table = format_table(rows)
    atomic_write_text(out / "results.md", table + "\n\n" + PAPER_NOTE + "\n")
    atomic_write_text(out / "config.yaml", yaml.safe_dump(to_dict(cfg), sort_keys=False))
    run = {
        **summary,
        "comparisons": comparisons,
        "versions": versions(),
        "seed": cfg.train.seed,
        "extract": feats.extract,
        "config": to_dict(cfg),
    }
    atomic_write_text(out / "run.json", json.dumps(run, indent=2, default=str) + "\n")
    _write_predictions(out / "predictions.csv", cells, feats.classes)
    figures = _figures(fig, cells, feats)
    _write_report(out / "report.md", table, rows, comparisons, figures, run)
    return {"rows": rows, "comparisons": comparisons, "table": table, **summary}


def _write_predictions(
    path: Path, cells: dict[tuple[str, str, str], CellResult], classes: Sequence[str]
) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["subset", "input", "model", "sample_id", "subject", "fold", "true", *classes])
    for c in cells.values():
        for i, sid in enumerate(c.sample_ids):
            w.writerow(
                [
                    c.subset,
                    c.input,
                    c.model,
                    sid,
                    c.subjects[i],
                    int(c.fold[i]),
                    classes[int(c.y[i])],
                    *(f"{p:.6f}" for p in c.probs[i]),
                ]
            )
    atomic_write_text(path, buf.getvalue())


def _figures(
    fig: Path, cells: dict[tuple[str, str, str], CellResult], feats: FeatureSet
) -> dict[str, str]:
    from meflow.datasets.stats import plot_class_distribution
    from meflow.evaluation.metrics import confusion
    from meflow.evaluation.plots import (
        plot_confusion,
        plot_pseudo_images,
        plot_roc,
        plot_training_curves,
        plot_versus_prior,
    )

    made: dict[str, str] = {}
    plot_versus_prior([c.row() for c in cells.values()], fig / "versus_prior.png")
    made["every row beside its class prior"] = "figures/versus_prior.png"
    classes = list(feats.classes)
    counts = {e: int((feats.labels == i).sum()) for i, e in enumerate(classes)}
    plot_class_distribution(counts, fig / "class_distribution.png", title="Samples per class")
    made["class distribution"] = "figures/class_distribution.png"
    for angle in ("discrete", "continuous"):
        plot_pseudo_images(
            feats.images(angle), feats.labels, classes, fig / f"pseudo_images_{angle}.png"
        )
        made[f"example pseudo-images ({angle})"] = f"figures/pseudo_images_{angle}.png"
    for c in cells.values():
        if c.role != "model":
            continue
        plot_roc(c.y, c.probs, classes, fig / f"roc_{c.stem}.png", title=f"ROC, {c.label}")
        plot_confusion(
            confusion(c.y, c.probs),
            classes,
            fig / f"confusion_{c.stem}.png",
            title=f"Confusion, {c.label}",
        )
        made[f"ROC {c.label}"] = f"figures/roc_{c.stem}.png"
        made[f"confusion {c.label}"] = f"figures/confusion_{c.stem}.png"
        if c.histories and any(c.histories):
            plot_training_curves(c.histories, fig / f"training_{c.stem}.png")
            made[f"training {c.label}"] = f"figures/training_{c.stem}.png"
    return made


def _write_report(
    path: Path,
    table: str,
    rows: list[dict[str, Any]],
    comparisons: list[dict[str, Any]],
    figures: dict[str, str],
    run: dict[str, Any],
) -> None:
    lines = [
        "# meflow report",
        "",
        f"Preset `{run.get('preset')}`. Micro-averaged one-vs-rest ROC-AUC (the paper's "
        "metric) of out-of-fold predictions of a subject-independent cross-validation "
        f"({rows[0].get('protocol') if rows else '-'}); 95% intervals from a bootstrap over "
        "subjects. Beside every row, on the same splits: the class prior (each test sample "
        "gets its training fold's class frequencies), its micro and macro AUC, and the row's "
        "micro AUC minus the prior's with a paired bootstrap interval over subjects (above 0: "
        "the row learnt something the class frequencies do not give). `(baseline)` rows are the "
        "classical references on the same cache and splits: logistic regression on the "
        "discrete pseudo-image, and MDMO (Liu et al. 2016) with a linear SVM. `seeds`: mean ± "
        "sd of micro AUC over repeated seeds.",
        "",
        table,
        "",
        PAPER_NOTE,
        "",
    ]
    if comparisons:
        lines += [
            "## Stratified vs pooled models (same test samples, paired bootstrap over subjects)",
            "",
            "| subset | input | model | stratified | pooled | difference | 95% CI | verdict |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in comparisons:
            lines.append(
                f"| {c['subset']} | {c['input']} | {c['model']} | "
                f"{c['stratified_micro_roc_auc']:.3f} | "
                f"{c['pooled_micro_roc_auc']:.3f} | {c['difference']:+.3f} | "
                f"{_fmt(c['difference_ci'])} | {c['verdict']} |"
            )
        lines.append("")
    excluded = run.get("excluded_samples") or []
    skipped = run.get("skipped_samples") or []
    lines += [
        "## Data",
        "",
        f"- cache: `{run.get('cache')}`; demographics: `{run.get('demographics')}` "
        f"(stratified by `{run.get('stratify_by')}`)",
        f"- samples excluded for an unknown or uncertain attribute of their subject: "
        f"{len(excluded)}",
        f"- clips excluded for a gender confidence below the threshold (as in the paper): "
        f"{len(run.get('excluded_clips') or [])}",
        f"- samples skipped by the cache reader: {len(skipped)}",
        "",
    ]
    for r in rows:
        if r.get("role") == "model":
            lines.append(f"- {r['subset']} / {r['input']}: classes {r.get('class_counts')}")
    lines += ["", "## Figures", ""]
    lines += [f"### {name}\n\n![{name}]({p})\n" for name, p in figures.items()]
    lines += [
        "## Settings",
        "",
        "```json",
        json.dumps(run.get("config"), indent=2),
        "```",
        "",
        "Extraction settings of the cache:",
        "",
        "```json",
        json.dumps(run.get("extract"), indent=2),
        "```",
        "",
        "## Versions",
        "",
        "```json",
        json.dumps(run.get("versions"), indent=2),
        "```",
        f"\nRun time: {run.get('seconds', 0):.1f} s.",
        "",
    ]
    atomic_write_text(path, "\n".join(lines))
