"""Options shared by the commands that train and evaluate (train, evaluate, reproduce, demo)."""

from __future__ import annotations

import argparse
from pathlib import Path

from meflow.commands.extract import add_set_option
from meflow.config import ExperimentConfig


def add_experiment_settings(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", type=Path, help="YAML file of experiment settings (sections train, evaluate)"
    )
    p.add_argument("--scale", choices=("n", "s", "m"), help="YOLO11 scale (default s, the paper's)")
    p.add_argument("--epochs", type=int, help="training epochs (upper bound with early stopping)")
    p.add_argument("--folds", type=int, help="subject-grouped folds (default 5)")
    p.add_argument(
        "--protocol", choices=("kfold", "loso"), help="kfold (default) or leave-one-subject-out"
    )
    p.add_argument("--seed", type=int, help="seed of splits, initialisation and bootstrap")
    p.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), help="default auto: CUDA when present"
    )
    add_set_option(p, "any setting, e.g. --set train.imbalance=balanced-sampler")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def experiment_settings(args: argparse.Namespace) -> ExperimentConfig:
    """The ExperimentConfig of the command line (YAML, then shortcuts, then --set)."""
    from meflow.config import load_yaml, override

    cfg = (
        load_yaml(ExperimentConfig, args.config)
        if getattr(args, "config", None)
        else ExperimentConfig()
    )
    sets = list(getattr(args, "overrides", []) or [])
    for opt, key in (
        ("scale", "train.scale"),
        ("epochs", "train.epochs"),
        ("folds", "evaluate.folds"),
        ("protocol", "evaluate.protocol"),
        ("device", "train.device"),
    ):
        if getattr(args, opt, None) is not None:
            sets.append(f"{key}={getattr(args, opt)}")
    if getattr(args, "seed", None) is not None:
        sets += [f"train.seed={args.seed}", f"evaluate.seed={args.seed}"]
    return override(cfg, sets) if sets else cfg
