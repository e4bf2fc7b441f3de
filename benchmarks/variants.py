"""The variant table: what lets meflow see micro-expressions as faint as real ones.

    .venv/bin/python benchmarks/variants.py --work DIR [--data DATA] [--seeds 3] [--skip-slow]
        [--networks gru,yolo11-n,yolo11-s|none] [--threads 1]

Every variant is scored as ``meflow reproduce`` scores a row: the recommended row and the two
baselines come from ``experiments.reproduce`` itself (its defaults: C = 0.1, 1000 bootstrap
draws), every other row from ``cells.run_cell`` with the same settings changed only where
the row says (leave-one-subject-out, 95% interval from a bootstrap over subjects, the class
prior on the same splits and a paired bootstrap of minus-prior); networks are repeated over
``--seeds`` seeds (mean and sd). The recommended settings are then chosen again by nested
leave-one-subject-out (``variants_nested``): for each person, chosen on the other 14 only and
scored on that person. Without ``--data`` the realistic synthetic benchmark is generated into
DIR/data: one subject per distinct person, from the face photographs installed packages ship
and, where present, those of ../shared/data/faces (docs/synthetic.md says what such a set can
and cannot show). Extractions are cached in DIR/<variant>/, each row's out-of-fold
predictions in DIR/oof/ and the inner selections in DIR/nested/ (a rerun reuses them).
Printed: one line per variant, then the tables; written: benchmarks/results/variants.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from _results import write_results
from meflow.config import (
    BASELINES,
    ONSET_APEX_INPUTS,
    ExperimentConfig,
    ExtractConfig,
    override,
    with_preset,
)
from meflow.presets import DEFAULT_PRESET
from variants_nested import nested_tables

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))

# extraction variants: name -> settings over the recommended extraction
EXTRACTIONS: dict[str, tuple[str, ...]] = {
    "recommended": (),
    "paper": ("preset:paper",),
    "no head-motion compensation": ("flow.motion_compensation=none",),
    "flow from the window's first frame": ("flow.reference=first",),
    "dis flow": ("flow.backend=dis",),
    "farneback flow": ("flow.backend=farneback",),
    "crop 128 px": ("face.crop_size=128",),
    "crop 256 px": ("face.crop_size=256",),
}
SLOW_EXTRACTIONS = ("farneback flow", "crop 256 px")
BASELINE_LABELS = {
    "logreg-pseudo": "baseline: logreg on the pseudo-image",
    "mdmo-svm": "baseline: MDMO + linear SVM",
    "logreg-onset-apex": "baseline: logreg on the labelled onset-to-apex flow",
}
RECOMMENDED = "recommended: logreg on vector-bins (8)"
NETWORKS = ("gru", "yolo11-n", "yolo11-s")  # the network rows (--networks)


@dataclasses.dataclass(frozen=True)
class Variant:
    """One row: an extraction, an input and a classifier, and what it changes of reproduce's."""

    label: str
    extraction: str
    input: str
    model: str
    train: tuple[tuple[str, Any], ...] = ()
    floor: float | None = None  # pseudo-images rebuilt under this noise floor
    seeds: int = 1
    reproduce: bool = False  # scored by experiments.reproduce itself
    candidate: bool = True  # one of the configurations the nested selection chooses among

    @property
    def slug(self) -> str:
        """The row's key in the JSON: lower case, every run of other characters one '-'."""
        return re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")

    @property
    def network(self) -> bool:
        """Whether the row trains a network (not a nested candidate: too slow)."""
        return self.model in ("gru", "yolo11")


def reproduce_config() -> ExperimentConfig:
    """The settings ``meflow reproduce`` runs with when given no options, trained on centred
    windows only (``train.shifts=0``): this table compares configurations on windows centred on
    the apex; position training is measured in benchmarks/position.py's table."""
    return override(with_preset(DEFAULT_PRESET), ["train.shifts=0"])


def variant_rows(seeds: int, skip_slow: bool, networks: Sequence[str] = NETWORKS) -> list[Variant]:
    """The table's rows, in its order: every linear one a candidate of the nested choice."""
    V = Variant
    cfg = reproduce_config()
    rows = [V(RECOMMENDED, "recommended", cfg.train.input, cfg.train.model, reproduce=True)]
    for b in cfg.evaluate.baseline_names:
        model, input_name = BASELINES[b]
        rows.append(V(BASELINE_LABELS[b], "recommended", input_name, model, reproduce=True,
                      candidate=input_name not in ONSET_APEX_INPUTS))  # not blind  # fmt: skip
    rows += [V(f"logreg on vector-bins ({n})", "recommended", "vector-bins", "logreg",
               (("bins", n),)) for n in (4, 16)]  # fmt: skip
    rows += [V(f"logreg on vector-bins (8), C={c}", "recommended", "vector-bins", "logreg",
               (("c", c),)) for c in (0.01, 1.0)]  # fmt: skip
    rows += [
        V("linear SVM on vector-bins (8)", "recommended", "vector-bins", "svm"),
        V("logreg on vector-series (every pair)", "recommended", "vector-series", "logreg"),
        V("logreg on pseudo-continuous", "recommended", "pseudo-continuous", "logreg"),
    ]
    rows += [V(f"logreg on the pseudo-image, noise floor {f} px", "recommended",
               "pseudo-discrete", "logreg", floor=f) for f in (0.05, 0.1, 0.2)]  # fmt: skip
    for name in EXTRACTIONS:
        if name not in ("recommended", "paper") and not (skip_slow and name in SLOW_EXTRACTIONS):
            rows.append(V(f"{name}: logreg on vector-bins", name, "vector-bins", "logreg"))
    rows += [
        V("paper extraction: logreg on vector-bins", "paper", "vector-bins", "logreg"),
        V("paper extraction: logreg on the pseudo-image", "paper", "pseudo-discrete", "logreg"),
    ]
    rows += [  # the baselines as the table ran them before (not candidates: references)
        V("baseline at the earlier table's C: logreg on the pseudo-image, C=0.01", "recommended",
          "pseudo-discrete", "logreg", (("c", 0.01),), candidate=False),
        V("baseline at the earlier table's C: MDMO + linear SVM, C=1.0", "recommended", "mdmo",
          "svm", (("c", 1.0),), candidate=False),
    ]  # fmt: skip
    if "gru" in networks:
        rows.append(V("gru on vector-series", "recommended", "vector-series", "gru",
                      (("epochs", 60), ("lr", 3e-3)), seeds=seeds))  # fmt: skip
    if "yolo11-n" in networks:
        rows += [
            V("yolo11-n on the pseudo-image (recommended extraction)", "recommended",
              "pseudo-discrete", "yolo11", (("scale", "n"),), seeds=seeds),
            V("paper: yolo11-n on the discrete pseudo-image", "paper", "pseudo-discrete",
              "yolo11", (("scale", "n"),), seeds=seeds),
        ]  # fmt: skip
    if "yolo11-s" in networks and not skip_slow:
        rows += [
            V(f"paper: yolo11-s on the {kind} pseudo-image", "paper", f"pseudo-{kind}", "yolo11",
              (("scale", "s"),)) for kind in ("discrete", "continuous")
        ]  # fmt: skip
    return rows


def row_config(v: Variant) -> ExperimentConfig:
    """reproduce's settings with the row's classifier, input and changes."""
    cfg = reproduce_config()
    train = dataclasses.replace(cfg.train, model=v.model, input=v.input, **dict(v.train))
    return dataclasses.replace(
        cfg, train=train, evaluate=dataclasses.replace(cfg.evaluate, seeds=v.seeds)
    )


# Frames per clip: room for the cache's span (window + 2 x features.margin pairs) around the
# apex, so that windows moved by up to the margin are cut from real frames, as in a long
# recording (80-frame clips would be completed with repeated frames at both ends).
FRAMES = 112


def make_data(data: Path, seed: int) -> None:
    """The realistic benchmark: one subject per distinct face, 10 clips of FRAMES frames each."""
    from meflow.synth.generator import generate
    from meflow.synth.photos import load_face_photos, packaged_photos

    files = [p.path for p in packaged_photos()]
    files += sorted((SHARED / "faces").glob("*.jpg")) if (SHARED / "faces").is_dir() else []
    faces, warnings = load_face_photos(files)
    for w in warnings:
        print(f"warning: {w}")
    print(f"{len(faces)} distinct faces -> {len(faces)} subjects x 10 clips", flush=True)
    generate(data, subjects=len(faces), seed=seed, progress=False, faces=faces, frames=FRAMES)


def extraction_config(settings: tuple[str, ...]) -> ExtractConfig:
    """The recommended extraction (or a preset's) with ``settings`` applied."""
    base = ExtractConfig()
    sets = []
    for s in settings:
        if s.startswith("preset:"):
            base = with_preset(s.split(":", 1)[1]).extract
        else:
            sets.append(s)
    return override(base, sets) if sets else base


def extract(work: Path, data: Path, name: str, settings: tuple[str, ...]) -> Path:
    """The feature cache of one extraction variant (made once)."""
    from meflow.datasets import load_dataset
    from meflow.features.extract import extract_dataset

    cache = work / name.replace(" ", "_").replace("'", "")
    loaded = load_dataset("casme3", root=data)
    s = extract_dataset(
        loaded.samples, cache, extraction_config(settings), dataset="casme3", workers=2,
        progress=False, subjects_table=data / "subjects.csv",
    )  # fmt: skip
    if s.extracted:
        print(f"  extracted {name}: {s.extracted} clips, {s.frames / s.seconds:.0f} frames/s")
    return cache


def features(cache: Path, v: Variant) -> tuple[np.ndarray, Any]:
    """The row's input X and the cache's features (labels, subjects, sample ids)."""
    from meflow.features.featureset import load_features
    from meflow.features.inputs import build_input

    cfg = row_config(v)
    feats = load_features(cache, cfg.train.min_valid)
    batch = feats.batch() if v.floor is None else gated(feats.batch(), v.floor)
    return build_input(v.input, batch, cfg.train), feats


def gated(b: dict[str, np.ndarray], floor: float) -> dict[str, np.ndarray]:
    """The batch with pseudo-images rebuilt under a noise floor (as extraction would)."""
    from meflow.features.windows import pseudo_images

    disc, cont = zip(
        *(
            pseudo_images(a, v, 8, vec, floor)
            for a, v, vec in zip(b["angle"], b["valid"], b["vector"], strict=True)
        ),
        strict=True,
    )
    return {**b, "pseudo_discrete": np.stack(disc), "pseudo_continuous": np.stack(cont)}


def reproduce_metrics(cache: Path, work: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """``meflow reproduce``'s own rows on the cache, by (input, classifier)."""
    from meflow.experiments import reproduce

    out = reproduce(
        cache, work / "reproduce", reproduce_config(), only_all=True, progress=False,
        log=lambda _msg: None,
    )  # fmt: skip
    return {(r["input"], r["model"]): r for r in out["rows"]}


def score(
    v: Variant, cache: Path, work: Path, by_reproduce: Callable[[], dict] | None
) -> dict[str, Any]:
    """One row's metrics; its out-of-fold predictions saved in work/oof (reused when saved)."""
    from meflow.cells import run_cell

    saved = work / "oof" / f"{v.slug}.json"
    key = {"variant": repr(v), "cache": str(cache)}
    if saved.exists() and json.loads(saved.read_text())["key"] == key:
        m = json.loads(saved.read_text())["metrics"]
        print(f"{v.label:<56} (saved) micro {m['micro_roc_auc']:.3f}", flush=True)
        return m
    X, feats = features(cache, v)
    t0 = time.perf_counter()
    cell = run_cell(
        X, feats.labels, feats.subjects, feats.sample_ids, row_config(v), "all", v.input,
        v.model, progress=False,
    )  # fmt: skip
    m = dict(cell.metrics, seconds=time.perf_counter() - t0)
    if v.reproduce and by_reproduce is not None:  # the same function, the same figures
        r = by_reproduce()[(v.input, v.model)]
        for k in ("micro_roc_auc", "micro_roc_auc_ci", "uf1", "minus_prior", "minus_prior_ci"):
            if r[k] != m[k]:
                raise AssertionError(f"{v.label}: {k} {m[k]} differs from reproduce's {r[k]}")
        m = dict(r, seconds=m["seconds"])
    saved.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        saved.with_suffix(".npz"), y=cell.y, probs=cell.probs, prior=cell.prior,
        subjects=cell.subjects, sample_ids=np.array(cell.sample_ids),
    )  # fmt: skip
    saved.write_text(json.dumps({"key": key, "metrics": m}, default=float) + "\n")
    print(line(v.label, m), flush=True)
    return m


def line(label: str, m: dict[str, Any]) -> str:
    """The printed line of one row."""
    return (
        f"{label:<56} micro {m['micro_roc_auc']:.3f} [{m['micro_roc_auc_ci'][0]:.3f}, "
        f"{m['micro_roc_auc_ci'][1]:.3f}] seeds {m['micro_roc_auc_mean']:.3f}±"
        f"{m['micro_roc_auc_sd']:.3f}  UF1 {m['uf1']:.3f}  prior {m['prior_micro_roc_auc']:.3f}  "
        f"minus prior {m['minus_prior']:+.3f} [{m['minus_prior_ci'][0]:+.3f}, "
        f"{m['minus_prior_ci'][1]:+.3f}]  ({m.get('seconds', 0):.0f} s)"
    )


COLUMNS = ["variant", "micro AUC [95% CI]", "seeds mean ± sd", "UF1", "prior",
           "minus prior [95% CI]"]  # fmt: skip


def cells(label: str, m: dict[str, Any]) -> list[str]:
    """One table row, formatted."""
    lo, hi = m["micro_roc_auc_ci"]
    dlo, dhi = m["minus_prior_ci"]
    seeds = f"{m['micro_roc_auc_mean']:.3f} ± {m['micro_roc_auc_sd']:.3f} ({m['seeds']})"
    return [
        label,
        f"{m['micro_roc_auc']:.3f} [{lo:.3f}, {hi:.3f}]",
        seeds,
        f"{m['uf1']:.3f}",
        f"{m['prior_micro_roc_auc']:.3f}",
        f"{m['minus_prior']:+.3f} [{dlo:+.3f}, {dhi:+.3f}]",
    ]


def row_figures(slug: str, m: dict[str, Any]) -> dict[str, str]:
    """The single figures of one row, keyed ``<slug>.auc`` etc."""
    lo, hi = m["micro_roc_auc_ci"]
    dlo, dhi = m["minus_prior_ci"]
    return {
        f"{slug}.auc": f"{m['micro_roc_auc']:.3f}",
        f"{slug}.ci": f"[{lo:.3f}, {hi:.3f}]",
        f"{slug}.uf1": f"{m['uf1']:.3f}",
        f"{slug}.prior": f"{m['prior_micro_roc_auc']:.3f}",
        f"{slug}.minus_prior": f"{m['minus_prior']:+.3f}",
        f"{slug}.minus_prior_ci": f"[{dlo:+.3f}, {dhi:+.3f}]",
    }


def markdown(columns: list[str], rows: list[list[str]]) -> str:
    """A Markdown table as docs/variants.md shows it."""
    out = ["| " + " | ".join(columns) + " |", "| " + " | ".join(["---"] * len(columns)) + " |"]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])


def main() -> int:
    """Run the table, the nested choice and write variants.json."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--data", type=Path, help="a dataset in CAS(ME)^3's layout (default: make one)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-slow", action="store_true", help="no YOLO11-s, fewer extractions")
    p.add_argument(
        "--networks",
        default=",".join(NETWORKS),
        help=f"the network rows to run, comma-separated ({', '.join(NETWORKS)}) or 'none'",
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads for the networks")
    p.add_argument(
        "--networks-only", action="store_true", help="score (and save) the network rows only"
    )
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)  # one core by default: measured alongside other work
    t_start = time.perf_counter()
    data = args.data or args.work / "data"
    if not (data / "synth.json").exists() and args.data is None:
        make_data(data, args.seed)
    caches = {}
    for name, settings in EXTRACTIONS.items():
        if not (args.skip_slow and name in SLOW_EXTRACTIONS):
            caches[name] = extract(args.work, data, name, settings)
    networks = [n.strip() for n in args.networks.split(",") if n.strip() not in ("", "none")]
    if set(networks) - set(NETWORKS):
        p.error(f"--networks: unknown {sorted(set(networks) - set(NETWORKS))}")
    rows = variant_rows(args.seeds, args.skip_slow, networks)
    if args.networks_only:  # a second process beside the linear rows; a later run reuses them
        for v in rows:
            if v.network:
                score(v, caches[v.extraction], args.work, None)
        return 0
    by_reproduce = functools.cache(lambda: reproduce_metrics(caches["recommended"], args.work))
    linear = [v for v in rows if not v.network]
    results = {v.slug: score(v, caches[v.extraction], args.work, by_reproduce) for v in linear}
    nested = nested_tables(
        args.work, [v for v in linear if v.candidate], results,
        lambda v: features(caches[v.extraction], v), row_config,
    )  # fmt: skip
    for v in rows:
        if v.network:
            results[v.slug] = score(v, caches[v.extraction], args.work, None)
    table = [cells(v.label, results[v.slug]) for v in rows]
    figures: dict[str, str] = {}
    for v in rows:
        figures.update(row_figures(v.slug, results[v.slug]))
    figures.update(nested["figures"])
    figures["seconds"] = f"{time.perf_counter() - t_start:.0f}"
    print("\n" + markdown(COLUMNS, table))
    for key, t in nested["tables"].items():
        print(f"\n{key}:\n" + markdown(t["columns"], t["rows"]))
    write_results(
        "variants",
        tables={"table": {"columns": COLUMNS, "rows": table}, **nested["tables"]},
        figures=figures,
        extra={"rows": {v.slug: {"label": v.label, **results[v.slug]} for v in rows},
               "nested": nested["extra"]},
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
