"""Faults on Ray: a worker node removed mid-extraction (a simulated two-node cluster), and a
driver killed mid-extraction. Every interruption follows observed progress, never a delay."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from execution.conftest import NEEDS_RAY, cache_bytes, check_loopback, finished

pytestmark = [NEEDS_RAY, pytest.mark.slow]


@pytest.fixture(scope="module")
def local_cache(tiny_synth: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference: the tiny set extracted by local processes."""
    from meflow.datasets import load_dataset
    from meflow.features.extract import extract_dataset

    cache = tmp_path_factory.mktemp("faults") / "local"
    samples = load_dataset("casme3", root=tiny_synth).samples
    summary = extract_dataset(samples, cache, dataset="casme3", workers=2, progress=False)
    assert summary.extracted == 6
    return cache


@pytest.fixture
def two_nodes() -> Iterator[tuple[Any, Any]]:
    """A head without CPUs (only the driver's services) and two worker nodes of 1 CPU each;
    yields (cluster, the node to remove)."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False}
    )
    try:
        cluster.add_node(num_cpus=1)
        victim = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        yield cluster, victim
    finally:
        import ray

        ray.shutdown()
        cluster.shutdown()


def _wait(condition: Any, thread: threading.Thread) -> None:
    while thread.is_alive() and not condition():
        time.sleep(0.01)


def _marked(fn: Any, marks: str, victim: str) -> Any:
    """``fn`` that leaves files in ``marks`` saying which node ran which sample: a task writes
    ``<node>~<sample>~<unique>.start`` before and ``.done`` after the work. The first task of
    the other node waits until the victim has done one, so the victim surely runs one to the
    end; the victim's next task waits for the file ``release`` (written at the test's end), so
    it is surely running when the victim is removed."""

    def marked(context: Any, task: Any) -> Any:  # in a Ray worker: pickled by value
        import os
        import time
        import uuid
        from pathlib import Path

        import ray

        d = Path(marks)
        node = ray.get_runtime_context().get_node_id()
        stem = f"{node}~{task.sample_id}~{os.getpid()}-{uuid.uuid4().hex}"
        (d / f"{stem}.start").touch()
        victim_done = any(d.glob(f"{victim}~*.done"))
        while (node != victim and not victim_done) or (node == victim and victim_done):
            if (d / "release").exists():
                break
            time.sleep(0.01)
            victim_done = victim_done or any(d.glob(f"{victim}~*.done"))
        out = fn(context, task)
        (d / f"{stem}.done").touch()
        return out

    return marked


def _ran(marks: Path, node: str, kind: str) -> set[str]:
    """The samples with a ``kind`` (start, done) mark of ``node``."""
    return {f.name.split("~")[1] for f in marks.glob(f"{node}~*.{kind}")}


def test_removed_worker_node_loses_nothing_and_writes_each_sample_once(
    two_nodes: tuple[Any, Any],
    tiny_synth: Path,
    local_cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ray

    import meflow.features.extract as extract_mod
    from meflow.datasets import load_dataset
    from meflow.execution.ray_executor import RayExecutor

    cluster, victim = two_nodes
    writes: collections.Counter[str] = collections.Counter()
    save = extract_mod.save_npz

    def counting_save(path: Path, *args: Any, **kwargs: Any) -> None:
        writes[path.name] += 1
        save(path, *args, **kwargs)

    monkeypatch.setattr(extract_mod, "save_npz", counting_save)
    marks = tmp_path / "marks"
    marks.mkdir()
    gone = victim.node_id

    class MarkingRayExecutor(RayExecutor):
        def map(self, fn: Any, tasks: Any, context: Any = None, **kw: Any) -> Any:
            return super().map(_marked(fn, str(marks), gone), tasks, context, **kw)

    samples = load_dataset("casme3", root=tiny_synth).samples
    cache = tmp_path / "ray"
    done: dict[str, Any] = {}
    executor = MarkingRayExecutor(address=cluster.address)

    def run() -> None:
        try:
            done["summary"] = extract_mod.extract_dataset(
                samples, cache, dataset="casme3", progress=False, executor=executor
            )
        except BaseException as exc:  # handed to the test's thread
            done["error"] = exc

    def victim_ran_one_and_runs_another() -> bool:
        # a sample the victim finished is in the cache, and it is running another one
        finished_there = _ran(marks, gone, "done")
        return any((cache / "samples" / f"{s}.npz").exists() for s in finished_there) and bool(
            _ran(marks, gone, "start") - finished_there
        )

    worker = threading.Thread(target=run)
    worker.start()
    removed = False
    try:
        _wait(ray.is_initialized, worker)
        check_loopback()
        assert gone in {n["NodeID"] for n in ray.nodes()}  # the marks name nodes by this id
        _wait(victim_ran_one_and_runs_another, worker)
        assert worker.is_alive(), f"the extraction ended before the node was removed: {done}"
        at_removal = finished(cache)
        ran_there, running_there = _ran(marks, gone, "done"), _ran(marks, gone, "start")
        cluster.remove_node(victim, allow_graceful=False)
        removed = True
        worker.join()
        # read before any waiting task is released below
        done_there = _ran(marks, gone, "done")
        done_elsewhere = {f.name.split("~")[0] for f in marks.glob("*.done")} - {gone}
    finally:
        (marks / "release").touch()  # no task waits beyond the test
        if not removed and worker.is_alive():
            # the test failed (or timed out) before: without the victim the run ends on the
            # node left, instead of waiting for a task held there
            cluster.remove_node(victim, allow_graceful=False)
        worker.join()
        executor.close()
    assert "error" not in done, done.get("error")
    assert at_removal < len(samples)  # the run really was interrupted
    # the removed node ran a task to the end before it went, and was running another
    assert len(ran_there) == 1 and len(running_there) == 2
    (interrupted,) = running_there - ran_there
    assert done_there == ran_there  # the node went before finishing the other
    assert len(done_elsewhere) == 1  # the one node left finished all the rest, and that one
    assert interrupted in _ran(marks, done_elsewhere.pop(), "done")
    summary = done["summary"]
    assert summary.extracted == len(samples) == 6 and not summary.failed
    assert sorted(writes) == sorted(f"{s.sample_id}.npz" for s in samples)
    assert set(writes.values()) == {1}  # nothing written twice
    assert cache_bytes(cache) == cache_bytes(local_cache)


def test_killed_ray_driver_resumes_to_the_local_cache(
    tiny_synth: Path, local_cache: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "ray"
    cmd = [sys.executable, "-m", "meflow", "extract", "--dataset", "casme3", "--root",
           str(tiny_synth), "--quiet", "--executor", "ray", "--out", str(cache)]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    while proc.poll() is None and finished(cache) == 0:
        time.sleep(0.01)
    alive = proc.poll() is None
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local Ray it started
    proc.wait()
    assert alive, "the extraction ended before it could be interrupted"
    assert 0 < finished(cache) < 6
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    assert cache_bytes(cache) == cache_bytes(local_cache)
