"""What a model trained at 30 fps is worth on slower videos, under two rules (meflow predict).

    .venv/bin/python benchmarks/low_fps.py --work DIR [--rates 30 27.5 25 24 20 15]

A realistic synthetic set of 4.3-s clips (one subject per distinct face) is extracted at
30 fps; the recommended model is trained on two thirds of the subjects and applied to the
clips of the others, re-timed to each rate by taking the frame nearest in time (what a camera
at that rate records). Each test clip's window is centred on its apex, as in training.

- repeats (meflow predict's rule): the clip resampled back to 30 fps by repeating frames, the
  repeated pairs kept as pairs without motion, so a window keeps its 2.13 s;
- own rate (the alternative, not kept): every frame once, a window of 64 pairs spans
  64 / rate seconds instead of 2.13.

Printed per rate and rule: micro ROC-AUC, accuracy and UF1 over the test clips, and the
same at 30 fps for reference.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np

from _results import write_results  # benchmarks/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))
FRAMES = 130


def make(work: Path) -> tuple[Path, Path]:
    from meflow.datasets import load_dataset
    from meflow.features.extract import extract_dataset
    from meflow.synth.generator import generate
    from meflow.synth.photos import load_face_photos, packaged_photos

    data, cache = work / "data", work / "cache"
    if not (data / "synth.json").exists():
        files = [p.path for p in packaged_photos()]
        files += sorted((SHARED / "faces").glob("*.jpg")) if (SHARED / "faces").is_dir() else []
        faces, _ = load_face_photos(files)
        generate(data, subjects=len(faces), seed=1, progress=False, faces=faces, frames=FRAMES)
    loaded = load_dataset("casme3", root=data)
    extract_dataset(loaded.samples, cache, dataset="casme3", workers=2, progress=False)
    return data, cache


def retimed(folder: Path, rate: float) -> list[np.ndarray]:
    """The clip's frames as a camera at ``rate`` fps records them (nearest frame in time)."""
    import cv2

    n = len(list(folder.glob("*.jpg")))
    count = math.floor((n - 1) / 30.0 * rate) + 1
    return [cv2.imread(str(folder / f"{round(k * 30.0 / rate)}.jpg")) for k in range(count)]


def window_of(frames: list[np.ndarray], apex_s: float, rate: float, extractor: object) -> dict:
    """The batch of the one window centred on the apex time, frames analysed as given."""
    feats = extractor.run(lambda: frames)  # type: ignore[attr-defined]
    w = 64
    centre = round(apex_s * rate)
    s = int(min(max(centre - w // 2, 0), feats.frames - 1 - w))
    return {
        "vector": feats.vector[None, s : s + w],
        "main": feats.main[None, s : s + w],
        "valid": feats.valid[None, s : s + w],
    }


def main() -> int:
    from meflow.config import ExperimentConfig
    from meflow.datasets import load_dataset
    from meflow.evaluation.metrics import accuracy, micro_roc_auc, uf1
    from meflow.features.featureset import load_features
    from meflow.features.inputs import build_input
    from meflow.features.sequence import SequenceExtractor
    from meflow.training.classify import fit_classifier

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--rates", type=float, nargs="+", default=[30, 27.5, 25, 24, 20, 15])
    args = p.parse_args()
    data, cache = make(args.work)
    cfg = ExperimentConfig()
    feats = load_features(cache, cfg.train.min_valid)
    subjects = sorted(set(feats.subjects), key=lambda s: int(s.split(".")[1]))
    test_subjects = set(subjects[len(subjects) * 2 // 3 :])
    train = np.array([s not in test_subjects for s in feats.subjects])
    tr = feats.subset(train)
    model = fit_classifier(
        "logreg", build_input("vector-bins", tr.batch(), cfg.train), tr.labels, tr.subjects,
        cfg.train, 6,
    )  # fmt: skip
    samples = [s for s in load_dataset("casme3", root=data).samples if s.subject in test_subjects]
    samples = [s for s in samples if s.sample_id in set(feats.sample_ids)]
    y = np.array([feats.labels[feats.sample_ids.index(s.sample_id)] for s in samples])
    print(f"trained on {int(train.sum())} clips of {len(subjects) - len(test_subjects)} subjects;"
          f" tested on {len(samples)} clips of {len(test_subjects)} others")  # fmt: skip
    print(f"{'rate':>6} {'rule':<8} {'micro AUC':>9} {'accuracy':>9} {'UF1':>6}")
    rows = []
    with SequenceExtractor(cfg.extract, keep_warm=True) as ext:
        for rate in args.rates:
            rules = ("own rate",) if rate >= 30 else ("own rate", "repeats")
            for rule in rules:
                probs = []
                for s in samples:
                    frames = retimed(s.frames_dir, rate)
                    if rule == "repeats":  # back to 30 fps: the nearest recorded frame
                        n = math.floor((len(frames) - 1) / rate * 30.0) + 1
                        frames = [frames[min(round(k * rate / 30.0), len(frames) - 1)]
                                  for k in range(n)]  # fmt: skip
                        at = 30.0
                    else:
                        at = rate
                    batch = window_of(frames, s.apex / 30.0, at, ext)
                    probs.append(model.predict_proba(build_input("vector-bins", batch, cfg.train)))
                pr = np.concatenate(probs)
                rows.append(
                    [f"{rate:g}", rule]
                    + [f"{f(y, pr):.3f}" for f in (micro_roc_auc, accuracy, uf1)]
                )
                print(
                    f"{rate:6.1f} {rule:<8} {micro_roc_auc(y, pr):9.3f} {accuracy(y, pr):9.3f} "
                    f"{uf1(y, pr):6.3f}",
                    flush=True,
                )
    write_results(
        "low_fps",
        tables={
            "rates": {"columns": ["fps", "rule", "micro AUC", "accuracy", "UF1"], "rows": rows}
        },
        figures={
            "train_clips": int(train.sum()),
            "train_subjects": len(subjects) - len(test_subjects),
            "test_clips": len(samples),
            "test_subjects": len(test_subjects),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
