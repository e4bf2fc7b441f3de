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
from meflow.datasets.base import EMOTIONS
from meflow.features.cache import atomic_write_text

if TYPE_CHECKING:
    from meflow.experiments import CellResult
    from meflow.features.extract import FeatureSet

TABLE_FIELDS = (
    "subset",
    "angle",
    "micro_roc_auc",
    "micro_roc_auc_ci",
    "macro_roc_auc",
    "uf1",
    "uar",
    "accuracy",
    "n_samples",
    "n_subjects",
    "paper_micro_roc_auc",
)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, list | tuple) and len(v) == 2:
        return f"[{v[0]:.3f}, {v[1]:.3f}]"
    if isinstance(v, float):
        return "nan" if v != v else f"{v:.3f}"
    return str(v)


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The results as a Markdown table (also readable in a terminal)."""
    head = (
        "subset",
        "angle",
        "micro AUC",
        "95% CI",
        "macro AUC",
        "UF1",
        "UAR",
        "acc",
        "n",
        "subj",
        "paper",
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(k)) for k in TABLE_FIELDS) + " |")
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
    cells: dict[tuple[str, str], CellResult],
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
        w.writerow({**r, "micro_roc_auc_ci": _fmt(r.get("micro_roc_auc_ci"))})
    atomic_write_text(out / "results.csv", buf.getvalue())
    table = format_table(rows)
    atomic_write_text(out / "results.md", table + "\n")
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
    _write_predictions(out / "predictions.csv", cells)
    figures = _figures(fig, cells, feats)
    _write_report(out / "report.md", table, rows, comparisons, figures, run)
    return {"rows": rows, "comparisons": comparisons, "table": table, **summary}


def _write_predictions(path: Path, cells: dict[tuple[str, str], CellResult]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["subset", "angle", "sample_id", "subject", "fold", "true", *EMOTIONS])
    for c in cells.values():
        for i, sid in enumerate(c.sample_ids):
            w.writerow(
                [
                    c.subset,
                    c.angle,
                    sid,
                    c.subjects[i],
                    int(c.fold[i]),
                    EMOTIONS[int(c.y[i])],
                    *(f"{p:.6f}" for p in c.probs[i]),
                ]
            )
    atomic_write_text(path, buf.getvalue())


def _figures(
    fig: Path, cells: dict[tuple[str, str], CellResult], feats: FeatureSet
) -> dict[str, str]:
    from meflow.datasets.stats import plot_class_distribution
    from meflow.evaluation.metrics import confusion
    from meflow.evaluation.plots import (
        plot_confusion,
        plot_pseudo_images,
        plot_roc,
        plot_training_curves,
    )

    made: dict[str, str] = {}
    counts = {e: int((feats.labels == i).sum()) for i, e in enumerate(EMOTIONS)}
    plot_class_distribution(counts, fig / "class_distribution.png", title="Samples per class")
    made["class distribution"] = "figures/class_distribution.png"
    for angle in ("discrete", "continuous"):
        plot_pseudo_images(
            feats.images(angle), feats.labels, list(EMOTIONS), fig / f"pseudo_images_{angle}.png"
        )
        made[f"example pseudo-images ({angle})"] = f"figures/pseudo_images_{angle}.png"
    for (subset, angle), c in cells.items():
        stem = f"{subset}_{angle}"
        plot_roc(
            c.y, c.probs, list(EMOTIONS), fig / f"roc_{stem}.png", title=f"ROC, {subset} / {angle}"
        )
        plot_confusion(
            confusion(c.y, c.probs),
            list(EMOTIONS),
            fig / f"confusion_{stem}.png",
            title=f"Confusion, {subset} / {angle}",
        )
        made[f"ROC {subset} / {angle}"] = f"figures/roc_{stem}.png"
        made[f"confusion {subset} / {angle}"] = f"figures/confusion_{stem}.png"
        if c.histories:
            plot_training_curves(c.histories, fig / f"training_{stem}.png")
            made[f"training {subset} / {angle}"] = f"figures/training_{stem}.png"
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
        "Micro-averaged one-vs-rest ROC-AUC (the paper's metric) of out-of-fold predictions of a "
        "subject-independent cross-validation; 95% intervals from a bootstrap over subjects. "
        "`paper` is the paper's Table 1.",
        "",
        table,
        "",
    ]
    if comparisons:
        lines += [
            "## Stratified vs pooled models (same test samples, paired bootstrap over subjects)",
            "",
            "| subset | angle | stratified | pooled | difference | 95% CI | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in comparisons:
            lines.append(
                f"| {c['subset']} | {c['angle']} | {c['stratified_micro_roc_auc']:.3f} | "
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
        f"- samples excluded for an unknown or uncertain attribute: {len(excluded)}",
        f"- samples skipped by the cache reader: {len(skipped)}",
        "",
    ]
    for r in rows:
        lines.append(f"- {r['subset']} / {r['angle']}: classes {r.get('class_counts')}")
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
