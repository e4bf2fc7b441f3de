"""Options shared by the commands that train and evaluate (train, evaluate, reproduce, demo)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from meflow.commands.extract import add_set_option
from meflow.config import ExperimentConfig, TrainConfig
from meflow.models import registry

CV_PROTOCOLS = ("kfold", "loso")


def add_experiment_settings(p: argparse.ArgumentParser, protocols: tuple[str, ...] = ()) -> None:
    p.add_argument(
        "--config", type=Path, help="YAML file of experiment settings (sections train, evaluate)"
    )
    p.add_argument("--scale", choices=("n", "s", "m"), help="YOLO11 scale (default s, the paper's)")
    p.add_argument("--epochs", type=int, help="training epochs (upper bound with early stopping)")
    p.add_argument("--folds", type=int, help="subject-grouped folds (default 5)")
    extra = f", or a standard protocol: {', '.join(protocols)}" if protocols else ""
    p.add_argument(
        "--protocol",
        choices=("kfold", "loso", *protocols),
        help=f"loso (default) or subject-grouped kfold{extra}",
    )
    p.add_argument("--seed", type=int, help="seed of splits, initialisation and bootstrap")
    p.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), help="default auto: CUDA when present"
    )
    add_set_option(p, "any setting, e.g. --set train.imbalance=balanced-sampler")
    p.add_argument(
        "--preset",
        help="named settings: recommended (default) or paper (the published method exactly)",
    )
    default = TrainConfig().model
    others = [n for n in registry.names() if n != default]
    p.add_argument("--model", help=f"classifier: {default} (default), {', '.join(others)}")
    p.add_argument(
        "--input",
        help="what the classifier sees: vector-bins (default), pseudo-discrete, "
        "pseudo-continuous, vector-series, mdmo (a comma list makes grid columns)",
    )
    p.add_argument("--seeds", type=int, help="repeat the cross-validation with this many seeds")
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
    from meflow.features.featureset import read_manifest

    have = read_manifest(cache)["extract"]
    flat = _flatten(have)
    asked: dict[str, Any] = {}
    preset = getattr(args, "preset", None)
    if preset:  # a preset named on the command line brings its extraction settings
        from meflow.config import to_dict, with_preset

        asked.update(_flatten(to_dict(with_preset(preset).extract)))
    asked.update(
        {
            k.removeprefix("extract."): v
            for k, v in explicit_settings(args).items()
            if k.startswith("extract.")
        }
    )
    diffs = [
        f"extract.{k} is {flat.get(k)!r} in the cache, {v!r} asked"
        for k, v in asked.items()
        if flat.get(k) != v
    ]
    if diffs:
        raise MeflowError(
            f"{cache} was extracted with other settings ({'; '.join(diffs)}): the features "
            "are the cache's; re-extract with them (meflow extract --preset/--set ..., a new "
            "--out) or drop them here"
        )
    return dataclasses.replace(cfg, extract=from_dict(ExtractConfig, have, "extract"))


def experiment_settings(args: argparse.Namespace) -> ExperimentConfig:
    """The ExperimentConfig of the command line: defaults, the preset (--preset, or the YAML
    file's ``preset``), the YAML file, the shortcut options, then --set."""
    from meflow.config import merge, override, read_yaml, with_preset
    from meflow.errors import ConfigError
    from meflow.presets import DEFAULT_PRESET

    data = read_yaml(args.config) if getattr(args, "config", None) else {}
    name = getattr(args, "preset", None) or data.get("preset") or DEFAULT_PRESET
    cfg = with_preset(str(name))
    try:
        cfg = merge(cfg, {k: v for k, v in data.items() if k != "preset"})
    except ConfigError as exc:
        raise ConfigError(f"{args.config}: {exc}") from None
    sets = list(getattr(args, "overrides", []) or [])
    shortcuts = [
        ("scale", "train.scale"),
        ("epochs", "train.epochs"),
        ("folds", "evaluate.folds"),
        ("protocol", "evaluate.protocol"),
        ("device", "train.device"),
        ("model", "train.model"),
        ("input", "train.input"),
        ("seeds", "evaluate.seeds"),
    ]
    front = [f"{key}={getattr(args, opt)}" for opt, key in shortcuts if getattr(args, opt, None)]
    # a standard protocol's name (reproduce --protocol megc2019) is not evaluate.protocol
    front = [a for a in front if not a.startswith("evaluate.protocol=") or a[18:] in CV_PROTOCOLS]
    if getattr(args, "seed", None) is not None:
        front += [f"train.seed={args.seed}", f"evaluate.seed={args.seed}"]
    sets = front + sets  # --set wins over a shortcut
    return override(cfg, sets) if sets else cfg


def print_comparisons(result: dict[str, Any]) -> None:
    """The stratified-vs-pooled lines of a grid's result, one per stratified model row."""
    for c in result["comparisons"]:
        lo, hi = c["difference_ci"]
        print(
            f"{c['subset']:>7} / {c['input']} / {c['model']} vs all: {c['difference']:+.3f} "
            f"[{lo:+.3f}, {hi:+.3f}]  {c['verdict']}"
        )
