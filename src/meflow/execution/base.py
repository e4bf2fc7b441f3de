"""The executor interface: run a function over tasks somewhere, get results as they finish.

An executor never writes files: the driver (the process that calls ``map``) alone writes
caches and results, so every executor gives the same files.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")

# fn(state, task) -> result. setup(context, alone) -> state runs once per worker process before
# its first task and gives the worker's state, which the executor keeps for that worker and
# hands to each of its tasks (without setup the state is the context itself). alone: the tasks
# run one at a time in the driver's process, which may then use more than one core for a task.
TaskFn = Callable[[Any, Any], Any]
SetupFn = Callable[[Any, bool], Any]
LostFn = Callable[[Any, str], Any]


class Executor(ABC):
    """Runs ``fn(state, task)`` for every task; yields ``(index, result)`` as each finishes.

    ``context`` is sent to each worker once (not once per task): the data every task shares.
    A worker's ``state`` is ``setup(context, alone)``, made once per worker and kept by the
    executor for its tasks (what the worker builds once, e.g. an extractor), or ``context``
    itself without ``setup``.
    ``on_lost(task, reason)`` turns a task whose worker or node died more often than the
    executor retries into a result; without it that raises MeflowError.
    """

    name: str = "executor"
    in_driver: bool = False  # tasks run one at a time in the driver's own process

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    @abstractmethod
    def map(
        self,
        fn: TaskFn,
        tasks: Sequence[Any],
        context: Any = None,
        *,
        setup: SetupFn | None = None,
        on_lost: LostFn | None = None,
    ) -> Iterator[tuple[int, Any]]:
        """``(index into tasks, fn(state, task))`` in order of completion."""

    def task_threads(self) -> int:
        """The torch threads a training task uses (the same on every executor: the results
        depend on it)."""
        if self.threads is not None:
            return self.threads
        import torch

        return torch.get_num_threads()

    def describe(self) -> dict[str, Any]:
        """The settings to record in a run's run.json."""
        return {"executor": self.name}

    def close(self) -> None:
        """Releases what the executor started (processes, a local Ray); idempotent."""
        return None

    def __enter__(self: Any) -> Any:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
