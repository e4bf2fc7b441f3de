"""Options shared by the commands that train and evaluate (train, evaluate, reproduce, demo)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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


def explicit_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the user gave explicitly, as {dotted key: value}: the YAML file's, then the
    --set ones (a later one wins). Shortcut options (--scale, ...) are never extraction ones."""
    import yaml

    from meflow.errors import ConfigError

    given: dict[str, Any] = {}
    if getattr(args, "config", None):
        try:
            data = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            data = {}  # load_yaml reports it
        if isinstance(data, dict):
            given.update(_flatten(data))
    for item in getattr(args, "overrides", []) or []:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected key=value, e.g. train.epochs=10")
        key, raw = item.split("=", 1)
        try:
            given[key.strip()] = yaml.safe_load(raw)
        except yaml.YAMLError:
            given[key.strip()] = raw
    return given


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def settle_extract(
    cfg: ExperimentConfig, args: argparse.Namespace, cache: Path
) -> ExperimentConfig:
    """``cfg`` with the extraction settings of the cache its features come from.

    Extraction settings are the cache's: one given on the command line or in the YAML file
    that differs from the cache's is refused with one line (re-extract), and the run records
    the cache's own, so that run.json never contradicts the features it describes.
    """
    import dataclasses

    from meflow.config import ExtractConfig, from_dict
    from meflow.errors import MeflowError
    from meflow.features.extract import read_manifest

    have = read_manifest(cache)["extract"]
    flat = _flatten(have)
    asked = {
        k.removeprefix("extract."): v
        for k, v in explicit_settings(args).items()
        if k.startswith("extract.")
    }
    diffs = [
        f"extract.{k} is {flat.get(k)!r} in the cache, {v!r} asked"
        for k, v in asked.items()
        if flat.get(k) != v
    ]
    if diffs:
        raise MeflowError(
            f"{cache} was extracted with other settings ({'; '.join(diffs)}): the features "
            "are the cache's; re-extract with them (meflow extract --set ..., a new --out) or "
            "drop them here"
        )
    return dataclasses.replace(cfg, extract=from_dict(ExtractConfig, have, "extract"))


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
