"""Local execution: in the driver's process (one worker), or a pool of spawned processes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from meflow.execution.base import Executor, LostFn, SetupFn, TaskFn

_STATE: Any = None  # in a spawned worker process: its state (see Executor)


def _init_process(setup: SetupFn | None, context: Any) -> None:
    global _STATE
    _STATE = context if setup is None else setup(context, False)


def _call(fn: TaskFn, task: Any) -> Any:
    return fn(_STATE, task)


class LocalExecutor(Executor):
    """meflow's own execution: ``workers`` spawned processes, or the driver itself for one
    worker (or one task). Processes are spawned, not forked: no MediaPipe or OpenCV state is
    inherited; the context is sent to each process once, with its initializer, which makes the
    process's state. Nothing is
    retried here: a worker process that dies stops the run (BrokenProcessPool; ``on_lost``
    is not used), and a rerun resumes."""

    name = "local"

    def __init__(self, workers: int = 1, threads: int | None = None) -> None:
        super().__init__(threads)
        self.workers = max(1, int(workers))
        self.in_driver = self.workers == 1

    def map(
        self,
        fn: TaskFn,
        tasks: Sequence[Any],
        context: Any = None,
        *,
        setup: SetupFn | None = None,
        on_lost: LostFn | None = None,
    ) -> Iterator[tuple[int, Any]]:
        if not tasks:
            return
        if self.workers <= 1 or len(tasks) <= 1:
            state = context if setup is None else setup(context, True)
            try:
                for i, task in enumerate(tasks):
                    yield i, fn(state, task)
            finally:  # a state made here with resources (an extractor's kept graph) ends here
                close = getattr(state, "close", None) if setup is not None else None
                if close is not None:
                    close()
            return
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(
            min(self.workers, len(tasks)),
            mp_context=ctx,
            initializer=_init_process,
            initargs=(setup, context),
        ) as pool:
            futures = {pool.submit(_call, fn, t): i for i, t in enumerate(tasks)}
            try:
                for f in as_completed(futures):
                    yield futures[f], f.result()
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.workers}
