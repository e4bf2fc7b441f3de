"""meflow evaluate: cross-validate one configuration on a feature cache."""

from __future__ import annotations

import argparse
from pathlib import Path

from meflow.commands._experiment import (
    add_experiment_settings,
    experiment_settings,
    settle_extract,
)

HELP = "cross-validate one configuration (subject-independent) and write its metrics and report"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache", type=Path, required=True, help="feature cache made by meflow extract")
    p.add_argument("--out", type=Path, required=True, help="run folder")
    p.add_argument(
        "--angle",
        choices=("discrete", "continuous"),
        help="shortcut for --input pseudo-discrete / pseudo-continuous",
    )
    add_experiment_settings(p)


def run(args: argparse.Namespace) -> int:
    from meflow.experiments import reproduce
    from meflow.features.cache import ensure_writable

    cfg = settle_extract(experiment_settings(args), args, args.cache)
    ensure_writable(args.out)  # fail now, not after the training
    inputs = (f"pseudo-{args.angle}",) if args.angle else cfg.train.inputs[:1]
    # One cell: the pooled subset, one input (and the references); no demographics needed.
    result = reproduce(
        args.cache,
        args.out,
        cfg,
        demographics=None,
        inputs=inputs,
        progress=not args.quiet,
        only_all=True,
    )
    print(result["table"])
    print(f"results: {args.out / 'results.json'}   report: {args.out / 'report.md'}")
    return 0
