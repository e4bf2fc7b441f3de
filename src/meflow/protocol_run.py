"""``meflow reproduce --protocol NAME``: a standard protocol on one or several caches.

Leave-one-subject-out over every subject of the protocol's samples (subjects are told apart
by their dataset: ``casme2/sub01``). Each of the preset's inputs and each baseline is one row,
with the class prior on the same splits, all over the protocol's classes only. Beside the
usual results (results.json/.md/.csv, report.md, predictions, figures) the protocol table
``protocol.json`` / ``protocol.md`` gives every row per dataset and overall: UF1 and UAR as
MEGC2019 defines them (UF1 = mean over classes of the per-class F1 of the pooled out-of-fold
predictions; UAR = mean per-class recall), micro AUC with its 95% interval (bootstrap over
subjects), the prior's micro AUC, the number of samples and subjects.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meflow.cells import CellResult, run_cell
from meflow.config import ExperimentConfig, ExtractConfig, from_dict
from meflow.evaluation.bootstrap import bootstrap_ci
from meflow.evaluation.metrics import micro_roc_auc, uar, uf1
from meflow.execution import execution_record
from meflow.experiments import preset_jobs
from meflow.features.cache import atomic_write_text
from meflow.features.inputs import build_input
from meflow.features.shifted import training_inputs
from meflow.protocols import Protocol, load_protocol
from meflow.report import write_results

OVERALL = "overall"


def dataset_rows(
    cell: CellResult, datasets: np.ndarray, n_boot: int, seed: int
) -> list[dict[str, Any]]:
    """Gives a cell's protocol rows: one per dataset, then the overall one."""
    index = {sid: i for i, sid in enumerate(cell.sample_ids)}
    rows = []
    names = sorted(set(datasets.tolist()))
    for name in [*names, OVERALL] if len(names) > 1 else [OVERALL]:
        mask = np.ones(len(datasets), bool) if name == OVERALL else datasets == name
        take = np.array([index[s] for s, m in zip(cell.sample_ids, mask, strict=True) if m])
        y, p, prior, subj = cell.y[take], cell.probs[take], cell.prior[take], cell.subjects[take]
        ci = bootstrap_ci(y, p, subj, micro_roc_auc, n=n_boot, seed=seed) if n_boot else None
        rows.append(
            {
                "dataset": name,
                "input": cell.input,
                "model": cell.model,
                "role": cell.role,
                "uf1": uf1(y, p),
                "uar": uar(y, p),
                "micro_roc_auc": micro_roc_auc(y, p),
                "micro_roc_auc_ci": [ci.low, ci.high] if ci is not None else None,
                "prior_micro_roc_auc": micro_roc_auc(y, prior),
                "prior_uf1": uf1(y, prior),
                "n_samples": int(take.size),
                "n_subjects": int(np.unique(subj).size),
            }
        )
    return rows


def format_protocol_table(protocol: Protocol, rows: Sequence[dict[str, Any]]) -> str:
    """Gives the protocol table in Markdown: per dataset and overall."""

    def f(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, list):
            return f"[{v[0]:.3f}, {v[1]:.3f}]"
        return "nan" if v != v else f"{v:.3f}"

    head = ("dataset", "input", "model", "UF1", "UAR", "micro AUC", "95% CI", "prior", "n", "subj")
    lines = [
        f"**{protocol.title}** ({protocol.name}; classes {', '.join(protocol.classes)}; "
        "leave-one-subject-out)",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        model = r["model"] + (" (baseline)" if r["role"] == "baseline" else "")
        cells = [r["dataset"], r["input"], model, f(r["uf1"]), f(r["uar"])]
        cells += [f(r["micro_roc_auc"]), f(r["micro_roc_auc_ci"]), f(r["prior_micro_roc_auc"])]
        cells += [str(r["n_samples"]), str(r["n_subjects"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_protocol(
    caches: Sequence[Path],
    out: Path,
    cfg: ExperimentConfig,
    protocol: Protocol,
    *,
    clip_list: Path | None = None,
    inputs: tuple[str, ...] | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    executor: Any = None,
) -> dict[str, Any]:
    """Runs ``protocol`` on ``caches`` and writes its results and protocol table into ``out``."""
    say = log or print
    t0 = time.perf_counter()
    data = load_protocol(caches, protocol, cfg.train.min_valid, clip_list)
    feats = data.feats
    for note in data.notes:
        say(note)
    evaluate = dataclasses.replace(cfg.evaluate, protocol="loso")
    extract = from_dict(ExtractConfig, feats.extract, "extract")
    cfg = dataclasses.replace(cfg, evaluate=evaluate, extract=extract)
    batch = feats.batch()
    left_out: list[str] = []
    jobs = preset_jobs(cfg, inputs, batch, left_out, say)
    cells: dict[tuple[str, str, str], CellResult] = {}
    n_subj = np.unique(feats.subjects).size
    for input_name, model, role in jobs:
        say(
            f"[{protocol.name} / {input_name} / {model}] {len(feats.labels)} samples, "
            f"{n_subj} subjects"
        )
        X = build_input(input_name, batch, cfg.train)
        # position training (train.shifts) for the preset's rows; references as published
        X_train = training_inputs(input_name, feats, cfg.train) if role == "model" else None
        cells[(protocol.name, input_name, model)] = run_cell(
            X,
            feats.labels,
            feats.subjects,
            feats.sample_ids,
            cfg,
            protocol.name,
            input_name,
            model,
            role,
            progress and role == "model",
            log,
            executor,
            classes=feats.classes,
            X_train=X_train,
        )
    ev = cfg.evaluate
    rows = [
        r for c in cells.values() for r in dataset_rows(c, data.datasets, ev.bootstrap, ev.seed)
    ]
    table = format_protocol_table(protocol, rows)
    counts = {
        d: {
            c: int(((data.datasets == d) & (feats.labels == i)).sum())
            for i, c in enumerate(feats.classes)
        }
        for d in sorted(set(data.datasets.tolist()))
    }
    doc: dict[str, Any] = {"protocol": protocol.name, "classes": list(protocol.classes)}
    doc.update(notes=data.notes, class_counts=counts, rows=rows)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "protocol.json", json.dumps(doc, indent=2) + "\n")
    notes = "".join(f"- {n}\n" for n in data.notes)
    atomic_write_text(out / "protocol.md", table + "\n\n" + notes)
    summary = {
        "cache": [str(c) for c in caches],
        "preset": cfg.preset,
        "protocol": protocol.name,
        "protocol_notes": data.notes,
        "left_out_rows": left_out,
        "demographics": None,
        "stratify_by": None,
        "excluded_samples": [],
        "excluded_clips": [],
        "skipped_samples": [{"sample_id": s, "reason": r} for s, r in feats.skipped],
        "seconds": time.perf_counter() - t0,
        "execution": execution_record(executor),
    }
    result = write_results(out, cells, [], cfg, feats, summary)
    report = out / "report.md"
    text = report.read_text(encoding="utf-8")
    head, sep, rest = text.partition("\n## Data\n")
    section = f"## Protocol {protocol.name}: per dataset and overall\n\n{table}\n\n{notes}"
    atomic_write_text(report, head + "\n" + section + sep + rest if sep else text + section)
    return {**result, "protocol_table": table, "protocol_rows": rows, "notes": data.notes}
