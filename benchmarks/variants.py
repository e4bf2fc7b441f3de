"""The variant table: what lets meflow see micro-expressions as faint as real ones.

    .venv/bin/python benchmarks/variants.py --work DIR [--data DATA] [--seeds 3] [--skip-slow]

Every variant is scored the way ``meflow reproduce`` scores a row (``cells.run_cell``):
leave-one-subject-out, 95% interval from a bootstrap over subjects, the class prior on the
same splits and a paired bootstrap of minus-prior; networks are repeated over ``--seeds``
seeds (mean and sd). Without ``--data`` the realistic synthetic benchmark is generated into
DIR/data: one subject per distinct person, from the face photographs installed packages ship
and, where present, those of ../shared/data/faces (docs/synthetic.md says what such a set can
and cannot show). Extraction variants are cached in DIR/<variant>/ (a rerun reuses them).
Printed: one line per variant, then a Markdown table for docs/variants.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

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


def make_data(data: Path, seed: int) -> None:
    """The realistic benchmark: one subject per distinct face, 10 clips each."""
    from meflow.synth.generator import generate
    from meflow.synth.photos import load_face_photos, packaged_photos

    files = [p.path for p in packaged_photos()]
    files += sorted((SHARED / "faces").glob("*.jpg")) if (SHARED / "faces").is_dir() else []
    faces, warnings = load_face_photos(files)
    for w in warnings:
        print(f"warning: {w}")
    print(f"{len(faces)} distinct faces -> {len(faces)} subjects x 10 clips", flush=True)
    generate(data, subjects=len(faces), seed=seed, progress=False, faces=faces)


def extraction_config(settings: tuple[str, ...]) -> object:
    from meflow.config import ExtractConfig, override, with_preset

    base = ExtractConfig()
    sets = []
    for s in settings:
        if s.startswith("preset:"):
            base = with_preset(s.split(":", 1)[1]).extract
        else:
            sets.append(s)
    return override(base, sets) if sets else base


def extract(work: Path, data: Path, name: str, settings: tuple[str, ...]) -> Path:
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


def score(cache: Path, label: str, input_name: str, model: str, seeds: int, **train: object):
    """One row: the cell's metrics dict, scored as reproduce scores it."""
    from meflow.cells import run_cell
    from meflow.config import ExperimentConfig
    from meflow.features.featureset import load_features
    from meflow.features.inputs import build_input

    floor = train.pop("noise_floor_gate", None)
    cfg = ExperimentConfig()
    cfg = dataclasses.replace(
        cfg,
        train=dataclasses.replace(cfg.train, model=model, input=input_name, **train),
        evaluate=dataclasses.replace(cfg.evaluate, seeds=seeds, bootstrap=500),
    )
    feats = load_features(cache, cfg.train.min_valid)
    batch = feats.batch()
    if floor is not None:
        batch = gated(feats, float(floor))  # type: ignore[arg-type]
    X = build_input(input_name, batch, cfg.train)
    t0 = time.perf_counter()
    cell = run_cell(
        X, feats.labels, feats.subjects, feats.sample_ids, cfg, "all", input_name, model,
        progress=False,
    )  # fmt: skip
    m = cell.metrics
    print(
        f"{label:<52} micro {m['micro_roc_auc']:.3f} [{m['micro_roc_auc_ci'][0]:.3f}, "
        f"{m['micro_roc_auc_ci'][1]:.3f}] seeds {m['micro_roc_auc_mean']:.3f}±"
        f"{m['micro_roc_auc_sd']:.3f}  UF1 {m['uf1']:.3f}  prior {m['prior_micro_roc_auc']:.3f}  "
        f"minus prior {m['minus_prior']:+.3f} [{m['minus_prior_ci'][0]:+.3f}, "
        f"{m['minus_prior_ci'][1]:+.3f}]  ({time.perf_counter() - t0:.0f} s)",
        flush=True,
    )
    return m


def gated(feats: object, floor: float) -> dict[str, np.ndarray]:
    """The batch with pseudo-images rebuilt under a noise floor (as extraction would)."""
    from meflow.features.windows import pseudo_images

    b = feats.batch()  # type: ignore[attr-defined]
    disc, cont = zip(
        *(
            pseudo_images(a, v, 8, vec, floor)
            for a, v, vec in zip(b["angle"], b["valid"], b["vector"], strict=True)
        ),
        strict=True,
    )
    return {**b, "pseudo_discrete": np.stack(disc), "pseudo_continuous": np.stack(cont)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--data", type=Path, help="a dataset in CAS(ME)^3's layout (default: make one)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-slow", action="store_true", help="no YOLO11-s, fewer extractions")
    p.add_argument("--threads", type=int, default=1, help="torch threads for the networks")
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)  # one core by default: measured alongside other work
    data = args.data or args.work / "data"
    if not (data / "synth.json").exists() and args.data is None:
        make_data(data, args.seed)
    caches = {}
    for name, settings in EXTRACTIONS.items():
        if args.skip_slow and name in SLOW_EXTRACTIONS:
            continue
        caches[name] = extract(args.work, data, name, settings)
    rec, paper = caches["recommended"], caches["paper"]
    rows: list[tuple[str, dict]] = []

    def add(label: str, cache: Path, input_name: str, model: str, seeds: int = 1, **kw: object):
        rows.append((label, score(cache, label, input_name, model, seeds, **kw)))

    add("recommended: logreg on vector-bins (8)", rec, "vector-bins", "logreg")
    add("baseline: logreg on the pseudo-image", rec, "pseudo-discrete", "logreg", c=0.01)
    add("baseline: MDMO + linear SVM", rec, "mdmo", "svm", c=1.0)
    for bins in (4, 16):
        add(f"logreg on vector-bins ({bins})", rec, "vector-bins", "logreg", bins=bins)
    for c in (0.01, 1.0):
        add(f"logreg on vector-bins (8), C={c}", rec, "vector-bins", "logreg", c=c)
    add("linear SVM on vector-bins (8)", rec, "vector-bins", "svm", c=0.01)
    add("logreg on vector-series (every pair)", rec, "vector-series", "logreg", c=0.01)
    add("logreg on pseudo-continuous", rec, "pseudo-continuous", "logreg", c=0.01)
    for floor in (0.05, 0.1, 0.2):
        add(
            f"logreg on the pseudo-image, noise floor {floor} px", rec, "pseudo-discrete",
            "logreg", c=0.01, noise_floor_gate=floor,
        )  # fmt: skip
    for name, cache in caches.items():
        if name not in ("recommended", "paper"):
            add(f"{name}: logreg on vector-bins", cache, "vector-bins", "logreg")
    add("paper extraction: logreg on vector-bins", paper, "vector-bins", "logreg")
    add("paper extraction: logreg on the pseudo-image", paper, "pseudo-discrete", "logreg", c=0.01)
    add("gru on vector-series", rec, "vector-series", "gru", args.seeds, epochs=60, lr=3e-3)
    add(
        "yolo11-n on the pseudo-image (recommended extraction)", rec, "pseudo-discrete",
        "yolo11", args.seeds, scale="n",
    )  # fmt: skip
    add("paper: yolo11-n on the discrete pseudo-image", paper, "pseudo-discrete", "yolo11",
        args.seeds, scale="n")  # fmt: skip
    if not args.skip_slow:
        add("paper: yolo11-s on the discrete pseudo-image", paper, "pseudo-discrete", "yolo11",
            1, scale="s")  # fmt: skip
        add("paper: yolo11-s on the continuous pseudo-image", paper, "pseudo-continuous",
            "yolo11", 1, scale="s")  # fmt: skip
    print(
        "\n| variant | micro AUC [95% CI] | seeds mean ± sd | UF1 | prior | minus prior [95% CI] |"
    )
    print("|---|---|---|---|---|---|")
    for label, m in rows:
        lo, hi = m["micro_roc_auc_ci"]
        dlo, dhi = m["minus_prior_ci"]
        seeds = f"{m['micro_roc_auc_mean']:.3f} ± {m['micro_roc_auc_sd']:.3f} ({m['seeds']})"
        print(
            f"| {label} | {m['micro_roc_auc']:.3f} [{lo:.3f}, {hi:.3f}] | {seeds} | "
            f"{m['uf1']:.3f} | {m['prior_micro_roc_auc']:.3f} | {m['minus_prior']:+.3f} "
            f"[{dlo:+.3f}, {dhi:+.3f}] |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
