"""Experiments on a feature cache: one cross-validated configuration, and the paper's grid.

The grid is {all, male, female} x {discrete, continuous}: each cell is a subject-grouped
cross-validation of its own YOLO11 models; metrics come with 95% intervals from a bootstrap
over subjects. A stratified cell is also compared with the pooled ('all') model on the same
test samples (paired bootstrap), which tells whether a difference is more than noise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from meflow.config import ExperimentConfig
from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError

# Table 1 of the paper (micro ROC-AUC), for the column beside meflow's numbers.
PAPER_TABLE1: dict[tuple[str, str], float] = {
    ("all", "continuous"): 0.57,
    ("all", "discrete"): 0.59,
    ("male", "continuous"): 0.53,
    ("male", "discrete"): 0.60,
    ("female", "continuous"): 0.55,
    ("female", "discrete"): 0.62,
}
ANGLES = ("discrete", "continuous")


@dataclass
class CellResult:
    """One cross-validated configuration: its out-of-fold predictions and metrics."""

    subset: str
    angle: str
    y: np.ndarray
    probs: np.ndarray
    subjects: np.ndarray
    sample_ids: list[str]
    fold: np.ndarray
    metrics: dict[str, Any]
    histories: list[list[dict[str, Any]]] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        """The results.json row of this cell."""
        return {
            "subset": self.subset,
            "angle": self.angle,
            **self.metrics,
            "paper_micro_roc_auc": PAPER_TABLE1.get((self.subset, self.angle)),
        }


def evaluate_predictions(
    y: np.ndarray, probs: np.ndarray, subjects: np.ndarray, n_boot: int, seed: int
) -> dict[str, Any]:
    """Metrics of out-of-fold predictions, with bootstrap intervals over subjects."""
    from meflow.evaluation.bootstrap import bootstrap_ci
    from meflow.evaluation.metrics import compute_metrics, micro_roc_auc

    m = compute_metrics(y, probs)
    ci = bootstrap_ci(y, probs, subjects, micro_roc_auc, n=n_boot, seed=seed) if n_boot else None
    return {
        "micro_roc_auc": m["micro_auc"],
        "micro_roc_auc_ci": [ci.low, ci.high] if ci is not None else None,
        "macro_roc_auc": m["macro_auc"],
        "uf1": m["uf1"],
        "uar": m["uar"],
        "accuracy": m["accuracy"],
        "n_samples": len(y),
        "n_subjects": int(np.unique(subjects).size),
        "class_counts": {EMOTIONS[c]: int((y == c).sum()) for c in range(len(EMOTIONS))},
    }


def run_cell(
    images: np.ndarray,
    y: np.ndarray,
    subjects: np.ndarray,
    sample_ids: list[str],
    cfg: ExperimentConfig,
    subset: str,
    angle: str,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> CellResult:
    """Cross-validates one (subset, angle) configuration."""
    from meflow.training.loop import cross_validate

    n_subj = np.unique(subjects).size
    ev = cfg.evaluate
    if ev.protocol == "kfold" and n_subj < ev.folds:
        raise MeflowError(f"subset {subset!r} has {n_subj} subjects, fewer than {ev.folds} folds")
    tcfg = dataclasses.replace(cfg.train, angle=angle)
    cv = cross_validate(images, y, subjects, tcfg, ev, progress=progress, log=log)
    metrics = evaluate_predictions(y, cv.probs, subjects, ev.bootstrap, ev.seed)
    metrics["fold_micro_roc_auc"] = cv.fold_micro_auc
    metrics["best_epochs"] = cv.best_epochs
    return CellResult(
        subset, angle, y, cv.probs, subjects, sample_ids, cv.fold, metrics, cv.histories
    )


def subset_masks(
    subjects: np.ndarray, attribute: dict[str, str | None] | None, stratify_by: str = "gender"
) -> dict[str, np.ndarray]:
    """Boolean sample masks: 'all' (every sample with a known attribute) and one per value."""
    if attribute is None:
        return {"all": np.ones(len(subjects), bool)}
    values = np.array([attribute.get(s) for s in subjects], dtype=object)
    known = np.array([v is not None for v in values])
    masks = {"all": known}
    levels = [v for v in ("male", "female") if v in set(values)] if stratify_by == "gender" else []
    levels += sorted({v for v in values if v is not None} - set(levels))
    for v in levels:
        masks[str(v)] = values == v
    return masks


def compare_to_pooled(
    cells: dict[tuple[str, str], CellResult], n_boot: int, seed: int
) -> list[dict[str, Any]]:
    """Paired bootstrap: each stratified cell vs the pooled model on the same test samples."""
    from meflow.evaluation.bootstrap import paired_bootstrap_diff
    from meflow.evaluation.metrics import micro_roc_auc

    rows = []
    for (subset, angle), cell in cells.items():
        pooled = cells.get(("all", angle))
        if subset == "all" or pooled is None:
            continue
        index = {sid: i for i, sid in enumerate(pooled.sample_ids)}
        take = np.array([index[s] for s in cell.sample_ids])
        d = paired_bootstrap_diff(
            cell.y,
            cell.probs,
            pooled.probs[take],
            cell.subjects,
            micro_roc_auc,
            n=max(n_boot, 1),
            seed=seed,
        )
        rows.append(
            {
                "subset": subset,
                "angle": angle,
                "stratified_micro_roc_auc": micro_roc_auc(cell.y, cell.probs),
                "pooled_micro_roc_auc": micro_roc_auc(cell.y, pooled.probs[take]),
                "difference": d.point,
                "difference_ci": [d.low, d.high],
                "verdict": (
                    "stratified better"
                    if d.low > 0
                    else "pooled better"
                    if d.high < 0
                    else "no clear difference (interval spans 0)"
                ),
            }
        )
    return rows


def _with_cache_extract(cfg: ExperimentConfig, extract: dict[str, Any]) -> ExperimentConfig:
    """``cfg`` recording the extraction settings its features were made with (the cache's)."""
    from meflow.config import ExtractConfig, from_dict

    return dataclasses.replace(cfg, extract=from_dict(ExtractConfig, extract, "extract"))


def reproduce(
    cache: Path,
    out: Path,
    cfg: ExperimentConfig,
    *,
    demographics: Path | None = None,
    stratify_by: str = "gender",
    angles: tuple[str, ...] = ANGLES,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    only_all: bool = False,
) -> dict[str, Any]:
    """Runs the grid on a cache and writes results.json/.md/.csv and the report into ``out``."""
    import time

    from meflow.demographics import read_demographics
    from meflow.features.extract import load_features
    from meflow.report import write_results

    say = log or print
    t0 = time.perf_counter()
    feats = load_features(cache, cfg.train.min_valid)
    cfg = _with_cache_extract(cfg, feats.extract)
    table_path = demographics or (Path(cache) / "subjects.csv")
    attribute: dict[str, str | None] | None = None
    excluded: list[str] = []
    if only_all:
        pass
    elif table_path.exists():
        table = read_demographics(table_path, column=stratify_by)
        missing = sorted(set(feats.subjects) - set(table.index))
        if missing:
            raise MeflowError(
                f"{table_path}: {len(missing)} subject(s) of the cache are not in the "
                f"table, e.g. {missing[0]!r}"
            )
        attribute = {
            str(s): (None if v is None or v != v else str(v)) for s, v in table[stratify_by].items()
        }
        excluded = [
            sid
            for sid, s in zip(feats.sample_ids, feats.subjects, strict=True)
            if attribute[s] is None
        ]
    elif demographics is not None:
        raise MeflowError(f"{demographics}: no such demographics table")
    else:
        say(f"no demographics table ({table_path} absent): only the 'all' rows are computed")
    masks = subset_masks(feats.subjects, attribute, stratify_by)
    cells: dict[tuple[str, str], CellResult] = {}
    for subset, mask in masks.items():
        sub = feats.subset(mask)
        for angle in angles:
            say(
                f"[{subset} / {angle}] {len(sub.labels)} samples from "
                f"{np.unique(sub.subjects).size} subjects"
            )
            cells[(subset, angle)] = run_cell(
                sub.images(angle),
                sub.labels,
                sub.subjects,
                sub.sample_ids,
                cfg,
                subset,
                angle,
                progress,
                log,
            )
    comparisons = compare_to_pooled(cells, cfg.evaluate.bootstrap, cfg.evaluate.seed)
    summary = {
        "cache": str(cache),
        "demographics": str(table_path) if attribute is not None else None,
        "stratify_by": stratify_by,
        "excluded_samples": excluded,
        "skipped_samples": [{"sample_id": s, "reason": r} for s, r in feats.skipped],
        "seconds": time.perf_counter() - t0,
    }
    return write_results(out, cells, comparisons, cfg, feats, summary)


def train_model(
    cache: Path,
    model_path: Path,
    cfg: ExperimentConfig,
    *,
    angle: str | None = None,
    subset: str = "all",
    demographics: Path | None = None,
    stratify_by: str = "gender",
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Trains one model on all samples of a cache (held-out subjects stop it early); saves it.

    The model file carries the cache's extraction settings, so ``meflow predict`` processes new
    videos exactly as the training data were processed.
    """
    from meflow.demographics import read_demographics
    from meflow.features.extract import load_features
    from meflow.training.checkpoint import save_checkpoint
    from meflow.training.loop import fit

    feats = load_features(cache, cfg.train.min_valid)
    cfg = _with_cache_extract(cfg, feats.extract)
    if subset != "all":
        table_path = demographics or (Path(cache) / "subjects.csv")
        if not table_path.exists():
            raise MeflowError(f"--subset {subset} needs a demographics table ({table_path} absent)")
        table = read_demographics(table_path, column=stratify_by)
        values = {s: v for s, v in table[stratify_by].items()}
        feats = feats.subset(np.array([values.get(s) == subset for s in feats.subjects]))
        if len(feats.labels) == 0:
            raise MeflowError(f"no sample has {stratify_by} = {subset!r}")
    angle = angle or cfg.train.angle
    tcfg = dataclasses.replace(cfg.train, angle=angle)
    res = fit(feats.images(angle), feats.labels, feats.subjects, tcfg, progress=progress, log=log)
    from meflow.config import to_dict

    meta = {
        "classes": list(EMOTIONS),
        "angle": angle,
        "subset": subset,
        "stratify_by": stratify_by,
        "extract": feats.extract,
        "features_version": feats.features_version,
        "train": to_dict(tcfg),
        "n_samples": len(feats.labels),
        "n_subjects": int(np.unique(feats.subjects).size),
        "best_epoch": res.best_epoch,
        "fps": 30.0,
    }
    save_checkpoint(model_path, res.model, meta)
    return meta
