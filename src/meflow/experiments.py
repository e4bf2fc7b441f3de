"""Experiments on a feature cache: the grid of a preset, and the final model of one input.

The grid is {all, male, female} x the preset's inputs (the paper's: the discrete and the
continuous pseudo-image); each cell is a subject-independent cross-validation of its own
classifiers (``cells.run_cell``), with the class prior on the same splits. Beside every
subset the classical baselines (``evaluate.baselines``: logistic regression on the
pseudo-images, MDMO with a linear SVM) run on the same cache and splits. A stratified cell is
also compared with the pooled ('all') one on the same test samples (paired bootstrap).

Gender exclusion, as in the paper: subjects the demographics table marks excluded and, where
the table has its per-clip detail beside it (``TABLE.clips.csv``, written by meflow gender),
clips whose gender confidence fell below the threshold are left out of every cell and counted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from meflow.cells import CellResult, compare_to_pooled, run_cell
from meflow.config import (
    BASELINES,
    ONSET_APEX_INPUTS,
    ExperimentConfig,
    ExtractConfig,
    from_dict,
    to_dict,
)
from meflow.demographics import read_demographics
from meflow.errors import MeflowError
from meflow.execution import execution_record
from meflow.features.featureset import load_features
from meflow.features.inputs import build_input, onset_apex_note
from meflow.features.shifted import stack_copies, training_inputs
from meflow.models import registry
from meflow.report import write_results
from meflow.training.checkpoint import save_checkpoint
from meflow.training.classify import fit_classifier

__all__ = ["CellResult", "reproduce", "subset_masks", "train_model"]


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


def excluded_clips(table: Path) -> dict[str, str]:
    """{sample_id: reason} of the clips the table's per-clip detail (TABLE.clips.csv) excludes;
    empty when there is none (a table given by hand decides per subject only)."""
    import pandas as pd

    clips = table.with_name(table.stem + ".clips.csv")
    if not clips.exists():
        return {}
    try:
        df = pd.read_csv(clips, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MeflowError(f"{clips}: cannot read the per-clip table ({exc})") from None
    if "sample_id" not in df.columns or "excluded" not in df.columns:
        raise MeflowError(f"{clips}: needs the columns sample_id and excluded")
    return {s: e for s, e in zip(df["sample_id"], df["excluded"], strict=True) if e.strip()}


def _with_cache_extract(cfg: ExperimentConfig, extract: dict[str, Any]) -> ExperimentConfig:
    """``cfg`` recording the extraction settings its features were made with (the cache's)."""

    return dataclasses.replace(cfg, extract=from_dict(ExtractConfig, extract, "extract"))


def _attributes(
    feats: Any, table_path: Path, demographics: Path | None, stratify_by: str, say: Any
) -> tuple[dict[str, str | None] | None, list[str], dict[str, str]]:
    """(subject -> attribute or None, samples excluded by subject, samples excluded by clip)."""

    if not table_path.exists():
        if demographics is not None:
            raise MeflowError(f"{demographics}: no such demographics table")
        say(f"no demographics table ({table_path} absent): only the 'all' rows are computed")
        return None, [], {}
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
    by_subject = [
        sid for sid, s in zip(feats.sample_ids, feats.subjects, strict=True) if attribute[s] is None
    ]
    clips = excluded_clips(table_path) if stratify_by == "gender" else {}
    by_clip = {s: r for s, r in clips.items() if s in set(feats.sample_ids)}
    return attribute, by_subject, by_clip


def preset_jobs(
    cfg: ExperimentConfig,
    inputs: tuple[str, ...] | None,
    batch: dict[str, np.ndarray],
    left_out: list[str],
    say: Callable[[str], None],
) -> list[tuple[str, str, str]]:
    """(input, classifier, role) of a subset's rows: the preset's, then the baselines; a row
    on the onset-to-apex flow is left out (one line said, and kept in ``left_out``) where the
    samples do not carry it."""
    jobs = [(i, cfg.train.model, "model") for i in (inputs or cfg.train.inputs)]
    jobs += [(BASELINES[b][1], BASELINES[b][0], "baseline") for b in cfg.evaluate.baseline_names]
    note = onset_apex_note(batch)
    if note is None:
        return jobs
    for input_name, model, _ in jobs:
        if input_name in ONSET_APEX_INPUTS:
            line = f"{model} on {input_name} left out: {note}"
            if line not in left_out:
                say(line)
            left_out.append(line)
    return [j for j in jobs if j[0] not in ONSET_APEX_INPUTS]


def reproduce(
    cache: Path,
    out: Path,
    cfg: ExperimentConfig,
    *,
    demographics: Path | None = None,
    stratify_by: str = "gender",
    inputs: tuple[str, ...] | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    only_all: bool = False,
    executor: Any = None,
) -> dict[str, Any]:
    """Runs the grid on a cache and writes results.json/.md/.csv and the report into ``out``."""
    import time

    say = log or print
    t0 = time.perf_counter()
    feats = load_features(cache, cfg.train.min_valid)
    cfg = _with_cache_extract(cfg, feats.extract)
    table_path = demographics or (Path(cache) / "subjects.csv")
    attribute, excluded, by_clip = (
        (None, [], {})
        if only_all
        else _attributes(feats, table_path, demographics, stratify_by, say)
    )
    masks = subset_masks(feats.subjects, attribute, stratify_by)
    if by_clip:
        keep = np.array([s not in by_clip for s in feats.sample_ids])
        masks = {k: m & keep for k, m in masks.items()}
        say(f"{len(by_clip)} clip(s) excluded: gender confidence below the threshold")
    cells: dict[tuple[str, str, str], CellResult] = {}
    left_out: list[str] = []
    for subset, mask in masks.items():
        sub = feats.subset(mask)
        batch = sub.batch()
        n_subj = np.unique(sub.subjects).size
        for input_name, model, role in preset_jobs(cfg, inputs, batch, left_out, say):
            say(
                f"[{subset} / {input_name} / {model}] {len(sub.labels)} samples from "
                f"{n_subj} subjects"
            )
            X = build_input(input_name, batch, cfg.train)
            # position training (train.shifts) for the preset's rows; references as published
            X_train = training_inputs(input_name, sub, cfg.train) if role == "model" else None
            cells[(subset, input_name, model)] = run_cell(
                X,
                sub.labels,
                sub.subjects,
                sub.sample_ids,
                cfg,
                subset,
                input_name,
                model,
                role,
                progress and role == "model",
                log,
                executor,
                classes=sub.classes,
                X_train=X_train,
            )
    comparisons = compare_to_pooled(cells, cfg.evaluate.bootstrap, cfg.evaluate.seed)
    summary = {
        "cache": str(cache),
        "preset": cfg.preset,
        "demographics": str(table_path) if attribute is not None else None,
        "stratify_by": stratify_by,
        "excluded_samples": excluded,
        "excluded_clips": [{"sample_id": s, "reason": r} for s, r in sorted(by_clip.items())],
        "skipped_samples": [{"sample_id": s, "reason": r} for s, r in feats.skipped],
        "left_out_rows": sorted(set(left_out)),
        "seconds": time.perf_counter() - t0,
        "execution": execution_record(executor),  # where the folds ran (meflow.execution)
    }
    return write_results(out, cells, comparisons, cfg, feats, summary)


def train_model(
    cache: Path,
    model_path: Path,
    cfg: ExperimentConfig,
    *,
    input_name: str | None = None,
    subset: str = "all",
    demographics: Path | None = None,
    stratify_by: str = "gender",
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Trains one model on all samples of a cache (held-out subjects stop it early); saves it.

    The model file carries the cache's extraction settings and the frame rate of its
    features, so ``meflow predict`` processes new videos exactly as the training data were.
    """

    if not registry.get(cfg.train.model).saveable:
        raise MeflowError(f"train.model={cfg.train.model} is a reference and cannot be saved")
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
    name = input_name or cfg.train.inputs[0]
    tcfg = dataclasses.replace(cfg.train, input=name)
    X, y, groups = build_input(name, feats.batch(), tcfg), feats.labels, feats.subjects
    X_train = training_inputs(name, feats, tcfg)  # position training (train.shifts)
    if X_train is not None:
        X, y, groups = stack_copies(X_train, y, groups, np.arange(len(y)))
    res = fit_classifier(tcfg.model, X, y, groups, tcfg, len(feats.classes), progress, log)
    if res.module is None:
        raise MeflowError(f"train.model={tcfg.model} is a reference and cannot be saved")
    meta = {
        "classes": list(feats.classes),
        "input": name,
        "classifier": tcfg.model,
        "preset": cfg.preset,
        "subset": subset,
        "stratify_by": stratify_by,
        "extract": feats.extract,
        "features_version": feats.features_version,
        "train": to_dict(tcfg),
        "n_samples": len(feats.labels),
        "n_subjects": int(np.unique(feats.subjects).size),
        "best_epoch": res.best_epoch,
        "fps": float(feats.extract["features"]["fps"]),
    }
    save_checkpoint(model_path, res.module, meta)
    return meta
