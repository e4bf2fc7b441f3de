"""Prints the networks' parameter counts and the time of a 1000-draw bootstrap of micro AUC.

Run: ``.venv/bin/python benchmarks/models.py [--repeats 3]``. Parameters: the YOLO11
classification networks as ``build_model(scale, 6, 1)`` builds them (one grey channel, six
classes) and the bidirectional GRU of ``train.model=gru``. Bootstrap: ``bootstrap_ci`` of
micro ROC-AUC with n = 1000 draws on 700 random samples of 6 classes from 88 subjects (the
size of CAS(ME)^3 Part A's six classes), the minimum over the repeats in seconds (one thread).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _results import write_results  # benchmarks/ is on sys.path when a script runs
from meflow.evaluation.bootstrap import bootstrap_ci
from meflow.evaluation.metrics import micro_roc_auc
from meflow.models import SCALES, TemporalGRU, build_model


def parameters(model) -> int:
    """The number of trainable parameters of a torch module."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    rows, figures = [], {}
    for scale in SCALES:
        n = parameters(build_model(scale, 6, 1))
        rows.append([f"yolo11{scale}-cls", f"{n / 1e6:.2f} M"])
        figures[f"yolo11{scale}.params"] = f"{n / 1e6:.2f} M"
    n = parameters(TemporalGRU())
    rows.append(["gru (48 units, bidirectional)", f"{n / 1e3:.0f} k"])
    figures["gru.params"] = f"{n / 1e3:.0f} k"
    rng = np.random.default_rng(0)
    y = rng.integers(0, 6, 700)
    probs = rng.dirichlet(np.ones(6), 700) + 0.3 * np.eye(6)[y]
    groups = rng.integers(0, 88, 700)
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        bootstrap_ci(y, probs, groups, micro_roc_auc, n=1000)
        times.append(time.perf_counter() - t)
    figures["bootstrap_s"] = f"{min(times):.1f}"
    for name, value in rows:
        print(f"{name:<32}{value:>10}")
    print(f"bootstrap_ci, micro AUC, 1000 draws, 700 samples: {figures['bootstrap_s']} s (min)")
    write_results(
        "models",
        tables={"parameters": {"columns": ["network (6 classes)", "parameters"], "rows": rows}},
        figures=figures,
    )


if __name__ == "__main__":
    main()
