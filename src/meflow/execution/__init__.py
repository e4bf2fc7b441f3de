"""Executors: where the work per sample (extraction) or per fold (training) runs.

``local`` is meflow's own process pool (or the driver itself for one worker); ``ray`` runs
each task on a Ray cluster (the ``meflow[ray]`` extra). Both give the same files: results come
back to the driver, which alone writes caches and run folders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meflow.errors import MeflowError
from meflow.execution.base import Executor
from meflow.execution.local import LocalExecutor
from meflow.execution.ray_executor import RayExecutor, import_ray


def _ray(**kwargs: Any) -> Executor:
    import_ray()  # without the extra: one line naming it, before any work
    return RayExecutor(**kwargs)


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": LocalExecutor, "ray": _ray}


def make_executor(name: str, **kwargs: Any) -> Executor:
    """The executor registered as ``name``, built with its own keyword arguments."""
    if name not in EXECUTORS:
        raise MeflowError(f"unknown executor {name!r}: use one of {', '.join(EXECUTORS)}")
    return EXECUTORS[name](**kwargs)


def execution_record(executor: Executor | None) -> dict[str, Any]:
    """Where a run's training tasks ran, for run.json: the executor's settings and threads."""
    executor = executor or LocalExecutor()
    return {**executor.describe(), "threads_per_task": executor.task_threads()}


__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "execution_record", "make_executor"]
