"""meflow reproduce: the paper's Table 1 grid on a feature cache, or a standard protocol."""

from __future__ import annotations

import argparse
from pathlib import Path

from meflow.commands._executor import add_executor_options, make_executor_from_args
from meflow.commands._experiment import (
    CV_PROTOCOLS,
    add_experiment_settings,
    experiment_settings,
    print_comparisons,
    settle_extract,
)
from meflow.config import ExperimentConfig
from meflow.errors import MeflowError
from meflow.execution import Executor
from meflow.protocols import PROTOCOLS

HELP = (
    "run the grid {all, male, female} x {discrete, continuous}, or a standard protocol "
    "(--protocol megc2019, ...), and write results + report"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cache",
        type=Path,
        action="append",
        required=True,
        help="feature cache made by meflow extract; repeat it for a protocol over several "
        "datasets (megc2019: the CASME II, SAMM and SMIC caches, extracted with --all-classes)",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder for results and report")
    p.add_argument(
        "--demographics",
        type=Path,
        help="subject table (default: subjects.csv in the cache, if present)",
    )
    p.add_argument("--stratify-by", default="gender", help="per-subject column to stratify on")
    p.add_argument(
        "--clip-list",
        type=Path,
        help="a standard protocol's clip list (default for megc2019: "
        "$MEFLOW_SHARED_DATA/megc2019/combined_3_class2_for_optical_flow.csv, if present)",
    )
    add_experiment_settings(p, protocols=tuple(PROTOCOLS))
    add_executor_options(p, training=True)


def run(args: argparse.Namespace) -> int:
    from meflow.features.cache import ensure_writable

    named = args.protocol if args.protocol not in (None, *CV_PROTOCOLS) else None
    if named is None and len(args.cache) > 1:
        raise MeflowError("several --cache are read only by a standard protocol (--protocol NAME)")
    if named is None and args.clip_list is not None:
        raise MeflowError("--clip-list applies to a standard protocol (--protocol NAME)")
    executor = make_executor_from_args(args)  # without the Ray extra: one line, first
    cfg = experiment_settings(args)
    for cache in args.cache:
        cfg = settle_extract(cfg, args, cache)
    ensure_writable(args.out)  # fail now, not after the training
    if named is not None:
        return _run_protocol(args, cfg, named, executor)
    from meflow.experiments import reproduce

    with executor:
        result = reproduce(
            args.cache[0],
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


def _run_protocol(
    args: argparse.Namespace, cfg: ExperimentConfig, name: str, executor: Executor
) -> int:
    from meflow.protocol_run import run_protocol

    with executor:
        result = run_protocol(
            args.cache,
            args.out,
            cfg,
            PROTOCOLS[name],
            clip_list=args.clip_list,
            progress=not args.quiet,
            executor=executor,
        )
    print()
    print(result["table"])
    print()
    print(result["protocol_table"])
    print(f"\nresults: {args.out / 'protocol.md'}   report: {args.out / 'report.md'}")
    return 0
