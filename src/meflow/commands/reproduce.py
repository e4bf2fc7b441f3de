"""meflow reproduce: the paper's Table 1 grid on a feature cache."""

from __future__ import annotations

import argparse
from pathlib import Path

from meflow.commands._executor import add_executor_options, make_executor_from_args
from meflow.commands._experiment import (
    add_experiment_settings,
    experiment_settings,
    print_comparisons,
    settle_extract,
)

HELP = "run the grid {all, male, female} x {discrete, continuous} and write results + report"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache", type=Path, required=True, help="feature cache made by meflow extract")
    p.add_argument("--out", type=Path, required=True, help="run folder for results and report")
    p.add_argument(
        "--demographics",
        type=Path,
        help="subject table (default: subjects.csv in the cache, if present)",
    )
    p.add_argument("--stratify-by", default="gender", help="per-subject column to stratify on")
    add_experiment_settings(p)
    add_executor_options(p, training=True)


def run(args: argparse.Namespace) -> int:
    from meflow.experiments import reproduce
    from meflow.features.cache import ensure_writable

    executor = make_executor_from_args(args)  # without the Ray extra: one line, first
    cfg = settle_extract(experiment_settings(args), args, args.cache)
    ensure_writable(args.out)  # fail now, not after the training
    with executor:
        result = reproduce(
            args.cache,
            args.out,
            cfg,
            demographics=args.demographics,
            stratify_by=args.stratify_by,
            progress=not args.quiet,
            executor=executor,
        )
    print()
    print(result["table"])
    print_comparisons(result)
    print(f"\nresults: {args.out / 'results.json'}   report: {args.out / 'report.md'}")
    return 0
