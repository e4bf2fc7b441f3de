"""Execution on Ray: one Ray task per sample or fold, on a running cluster or a local Ray.

Ray is imported here only, when a RayExecutor first runs work. A task whose worker process or
node dies is retried elsewhere by Ray (up to RETRIES times); the driver receives each task's
result exactly once, so nothing is written twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from meflow.errors import MeflowError, MissingDependencyError
from meflow.execution.base import Executor, LostFn, SetupFn, TaskFn

RETRIES = 3  # re-runs of a task whose worker or node died (Ray's max_retries)
IN_FLIGHT_PER_SLOT = 2  # tasks submitted ahead per task slot of the cluster: bounded memory

# in a Ray worker process: (the context's key, the state its setup made from it)
_STATE: tuple[str, Any] | None = None


def import_ray() -> Any:
    """The ``ray`` module, or a one-line MissingDependencyError naming the extra."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError(
            'the ray executor needs Ray: pip install "meflow[ray]"'
        ) from None
    return ray


def _run_task(fn: TaskFn, setup: SetupFn | None, key: str, context: Any, task: Any) -> Any:
    """In a Ray worker: makes the state once per worker process and context, then runs the task."""
    global _STATE
    if setup is None:
        return fn(context, task)
    if _STATE is None or _STATE[0] != key:
        _STATE = None  # the previous context's state is released before the new one is made
        _STATE = (key, setup(context, False))
    return fn(_STATE[1], task)


class RayExecutor(Executor):
    """Tasks on Ray: ``address`` of a running cluster ('auto' for the one this machine is part
    of), or None for a local Ray started here (and stopped by ``close``).

    Each task reserves ``cpus_per_task`` CPUs and ``gpus_per_task`` GPUs (a fraction shares a
    GPU); a training task uses ``threads`` torch threads (default: its whole CPUs).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        cpus_per_task: float = 1.0,
        gpus_per_task: float = 0.0,
        threads: int | None = None,
        num_cpus: int | None = None,
    ) -> None:
        super().__init__(threads)
        if cpus_per_task <= 0 or gpus_per_task < 0:
            raise MeflowError(
                f"a Ray task needs cpus_per_task > 0 and gpus_per_task >= 0, "
                f"got {cpus_per_task} and {gpus_per_task}"
            )
        self.address = address
        self.cpus_per_task = float(cpus_per_task)
        self.gpus_per_task = float(gpus_per_task)
        self.num_cpus = num_cpus
        self._ray: Any = None
        self._owned = False

    def task_threads(self) -> int:
        return self.threads if self.threads is not None else max(1, int(self.cpus_per_task))

    def _connect(self) -> Any:
        if self._ray is not None:
            return self._ray
        ray = import_ray()
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": "WARNING",
            }
            if self.address is None and self.num_cpus is not None:
                kwargs["num_cpus"] = self.num_cpus
            try:
                # 'local': a new Ray here, even where `ray start` left one running (ray.init
                # would join that one); RAY_ADDRESS in the environment still wins, as in Ray
                ray.init(address=self.address or "local", **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                where = f"connect to Ray at {self.address}" if self.address else "start Ray"
                raise MeflowError(f"cannot {where}: {first}") from None
            self._owned = True
        self._ray = ray
        self._check_resources()
        return ray

    def _slots(self) -> int:
        """How many tasks the cluster runs at once (at least 1)."""
        res = self._ray.cluster_resources()
        slots = res.get("CPU", 0.0) / self.cpus_per_task
        if self.gpus_per_task > 0:
            slots = min(slots, res.get("GPU", 0.0) / self.gpus_per_task)
        return max(1, math.floor(slots))

    def _check_resources(self) -> None:
        res = self._ray.cluster_resources()
        for kind, need in (("CPU", self.cpus_per_task), ("GPU", self.gpus_per_task)):
            if need > 0 and res.get(kind, 0.0) < need:
                raise MeflowError(
                    f"a task asks for {need:g} {kind}(s) but the Ray cluster has "
                    f"{res.get(kind, 0.0):g}: lower --ray-{kind.lower()}s-per-task or add nodes"
                )

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
        ray = self._connect()
        remote = ray.remote(_run_task).options(
            num_cpus=self.cpus_per_task,
            num_gpus=self.gpus_per_task,
            max_retries=RETRIES,
            retry_exceptions=False,
        )
        ctx_ref = ray.put(context)  # sent to each node once, not once per task
        key = ctx_ref.hex()
        pending: dict[Any, int] = {}
        queue = iter(enumerate(tasks))

        def submit() -> None:
            # re-read at every refill: nodes that join (or leave) change the window
            window = IN_FLIGHT_PER_SLOT * self._slots()
            for i, task in queue:
                pending[remote.remote(fn, setup, key, ctx_ref, task)] = i
                if len(pending) >= window:
                    return

        submit()
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    i = pending.pop(ref)
                    yield i, self._result(ref, tasks[i], on_lost)
                submit()
        finally:
            for ref in pending:  # interrupted (an error, Ctrl-C, a consumer that stopped)
                ray.cancel(ref)

    def _result(self, ref: Any, task: Any, on_lost: LostFn | None) -> Any:
        ray = self._ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            # raised by the task's own code, not a lost worker: a user's error stays one line
            if isinstance(exc.cause, MeflowError):
                raise exc.cause from None
            raise
        except ray.exceptions.RayError as exc:
            reason = f"lost after {RETRIES} retries ({type(exc).__name__})"
            if on_lost is None:
                raise MeflowError(f"a Ray task was {reason}") from None
            return on_lost(task, reason)

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "executor": self.name,
            "address": self.address,
            "cpus_per_task": self.cpus_per_task,
            "gpus_per_task": self.gpus_per_task,
        }
        if self._ray is not None:
            info["ray"] = self._ray.__version__
            info["nodes"] = sum(1 for n in self._ray.nodes() if n.get("Alive"))
        return info

    def close(self) -> None:
        if self._ray is not None and self._owned:
            self._ray.shutdown()
        self._ray, self._owned = None, False
