"""Options that choose where the work runs (extract, reproduce, demo): local processes or Ray."""

from __future__ import annotations

import argparse

from meflow.execution.base import Executor


def add_executor_options(p: argparse.ArgumentParser, training: bool) -> None:
    """``--executor``, ``--address``, the Ray task shares and (training) ``--threads``."""
    g = p.add_argument_group("where the work runs")
    g.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local processes (default) or Ray: one task per sample or fold (meflow[ray])",
    )
    g.add_argument(
        "--address",
        help="a running Ray cluster (host:port, or 'auto'); default: a local Ray started here",
    )
    g.add_argument(
        "--ray-cpus-per-task", type=float, default=1.0, help="CPUs a Ray task reserves (default 1)"
    )
    g.add_argument(
        "--ray-gpus-per-task",
        type=float,
        default=0.0,
        help="GPUs a Ray task reserves, e.g. 0.25 for a quarter of a GPU (default 0)",
    )
    if training:
        g.add_argument(
            "--threads",
            type=int,
            help="threads per training, torch and BLAS (default: torch's own locally, the "
            "task's CPUs on Ray); the numbers depend on it, so give the same to compare executors",
        )


def make_executor_from_args(args: argparse.Namespace, workers: int = 1) -> Executor:
    """The executor the options name (nothing is started yet)."""
    from meflow.errors import MeflowError
    from meflow.execution import make_executor

    threads = getattr(args, "threads", None)
    if threads is not None and threads < 1:
        raise MeflowError(f"--threads must be at least 1, got {threads}")
    if args.executor != "ray":
        if args.address is not None:
            raise MeflowError("--address names a Ray cluster: give it with --executor ray")
        return make_executor("local", workers=workers, threads=threads)
    return make_executor(
        "ray",
        address=args.address,
        cpus_per_task=args.ray_cpus_per_task,
        gpus_per_task=args.ray_gpus_per_task,
        threads=threads,
    )
