"""meflow train: train one model on a feature cache and save it for meflow predict."""

from __future__ import annotations

import argparse
from pathlib import Path

from meflow.commands._experiment import (
    add_experiment_settings,
    experiment_settings,
    settle_extract,
)

HELP = "train one model on all samples of a cache and save it (safetensors + settings)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache", type=Path, required=True, help="feature cache made by meflow extract")
    p.add_argument("--out", type=Path, required=True, help="model file to write (.safetensors)")
    p.add_argument(
        "--angle",
        choices=("discrete", "continuous"),
        help="shortcut for --input pseudo-discrete / pseudo-continuous",
    )
    p.add_argument(
        "--subset", default="all", help="all (default), or a value of --stratify-by, e.g. female"
    )
    p.add_argument(
        "--demographics", type=Path, help="subject table (default: the cache's subjects.csv)"
    )
    p.add_argument(
        "--stratify-by", default="gender", help="column of the table that --subset selects on"
    )
    add_experiment_settings(p)


def run(args: argparse.Namespace) -> int:
    from meflow.errors import MeflowError
    from meflow.experiments import train_model
    from meflow.features.cache import ensure_writable

    cfg = settle_extract(experiment_settings(args), args, args.cache)
    if args.out.is_dir():
        raise MeflowError(f"{args.out}: is a folder; --out names the model file to write")
    ensure_writable(args.out.parent)  # fail now, not after the training
    meta = train_model(
        args.cache,
        args.out,
        cfg,
        input_name=f"pseudo-{args.angle}" if args.angle else None,
        subset=args.subset,
        demographics=args.demographics,
        stratify_by=args.stratify_by,
        progress=not args.quiet,
    )
    print(
        f"model: {args.out} ({meta['n_samples']} samples from {meta['n_subjects']} subjects, "
        f"{meta['classifier']} on {meta['input']}, best epoch {meta['best_epoch']})"
    )
    return 0
