"""The Ray executor on a local Ray of 2 CPUs (one per module): the same cache and the same
numbers as the local executor, and its one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from execution.conftest import NEEDS_RAY, cache_bytes
from meflow.cli import main
from meflow.errors import MeflowError

pytestmark = [NEEDS_RAY, pytest.mark.usefixtures("local_ray")]

SMALL = ["--set", "features.window=16", "--quiet"]


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread: None) -> None:
    """The trainings here use the threads they are given; the driver keeps one."""


def _extract(root: Path, cache: Path, *extra: str) -> int:
    return main(["extract", "--dataset", "casme3", "--root", str(root), "--out", str(cache),
                 *SMALL, *extra])  # fmt: skip


def test_ray_extraction_writes_the_local_cache_byte_for_byte_and_resumes(
    tiny_synth: Path, tmp_path: Path, capsys
) -> None:
    root = tmp_path / "data"
    shutil.copytree(tiny_synth, root)
    shutil.rmtree(sorted(p for p in root.glob("spNO.*/*") if p.is_dir())[0])  # one bad sample
    assert _extract(root, tmp_path / "local", "--workers", "2") == 0
    local = cache_bytes(tmp_path / "local")
    assert sum(name.endswith(".failed.json") for name in local) == 1
    ray_cache = tmp_path / "ray"
    capsys.readouterr()
    assert _extract(root, ray_cache, "--executor", "ray") == 0
    out = capsys.readouterr().out
    assert "0 already in the cache, 5 extracted, 1 failed" in out and "does not exist" in out
    assert cache_bytes(ray_cache) == local
    # stopped part-way (two samples gone): a rerun computes only those two
    for npz in sorted((ray_cache / "samples").glob("*.npz"))[:2]:
        npz.unlink()
    assert _extract(root, ray_cache, "--executor", "ray") == 0
    assert "4 already in the cache, 2 extracted, 0 failed" in capsys.readouterr().out
    assert cache_bytes(ray_cache) == local
    # a failed sample is retried only when asked, and fails again the same way
    assert _extract(root, ray_cache, "--executor", "ray", "--retry-failed") == 0
    assert "5 already in the cache, 0 extracted, 1 failed" in capsys.readouterr().out
    assert cache_bytes(ray_cache) == local


def _separable(subjects: int = 6, per_class: int = 2) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    xs, ys, gs = [], [], []
    for s in range(subjects):
        for k in range(6):
            for _ in range(per_class):
                img = np.zeros((42, 64), np.uint8)
                img[7 * k : 7 * k + 7, 16:48] = 32 * (k + 1)
                noise = rng.random((42, 64)) < 0.2
                img[noise] = rng.integers(0, 8, int(noise.sum())) * 32
                xs.append(img)
                ys.append(k)
                gs.append(f"s{s}")
    return np.stack(xs), np.array(ys), np.array(gs)


@pytest.mark.parametrize("model", ["yolo11", "logreg"])
def test_ray_folds_give_bit_identical_probabilities_for_the_same_threads(model: str) -> None:
    import torch

    from meflow.config import EvalConfig, TrainConfig
    from meflow.execution import LocalExecutor
    from meflow.execution.ray_executor import RayExecutor
    from meflow.training import cross_validate

    X, y, g = _separable(subjects=4)
    cfg = TrainConfig(
        model=model,
        input="pseudo-discrete",  # the uint8 images of _separable, for both classifiers
        scale="n",
        epochs=1,
        batch_size=16,
        val_fraction=0.0,
        device="cpu",
    )
    ev = EvalConfig(protocol="kfold", folds=2)

    def run(executor: Any) -> Any:
        return cross_validate(X, y, g, cfg, ev, progress=False, executor=executor)

    torch.set_num_threads(2)  # the fold tasks set their own count (1), whatever the process has
    local = run(LocalExecutor(threads=1))
    assert torch.get_num_threads() == 2  # and give the caller's back
    torch.set_num_threads(1)
    with RayExecutor(cpus_per_task=2, threads=1) as ex:
        remote = run(ex)
    assert np.isfinite(local.probs).all()
    assert np.array_equal(local.probs, remote.probs)  # bit for bit
    assert np.array_equal(local.fold, remote.fold)
    assert local.histories == remote.histories and local.best_epochs == remote.best_epochs
    if model == "yolo11":  # the thread count does shape the numbers: the tasks carry it
        two = run(LocalExecutor(threads=2))
        assert not np.array_equal(two.probs, local.probs)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ("seconds", "execution")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def test_ray_reproduce_gives_the_local_results_and_records_the_shares(
    tmp_path: Path, capsys
) -> None:
    from reliability._helpers import write_fake_cache

    cache = write_fake_cache(tmp_path / "cache")
    # YOLO11 on the pseudo-image (torch), and beside it the two baselines (scikit-learn)
    common = ["reproduce", "--cache", str(cache), "--set", "train.model=yolo11",
              "--set", "train.input=pseudo-discrete", "--scale", "n", "--epochs", "2",
              "--protocol", "kfold", "--folds", "2", "--seed", "3",
              "--set", "evaluate.bootstrap=20", "--threads", "1", "--quiet"]  # fmt: skip
    assert main([*common, "--out", str(tmp_path / "local")]) == 0
    assert main([*common, "--out", str(tmp_path / "ray"), "--executor", "ray",
                 "--ray-cpus-per-task", "1"]) == 0  # fmt: skip
    runs = {k: tmp_path / k for k in ("local", "ray")}
    res = {k: json.loads((d / "results.json").read_text()) for k, d in runs.items()}
    assert [(r["model"], r["role"]) for r in res["ray"]] == [
        ("yolo11", "model"),
        ("logreg", "baseline"),
        ("svm", "baseline"),
    ]
    assert res["ray"][0]["micro_roc_auc_ci"] is not None
    assert res["ray"] == res["local"]
    preds = {k: (d / "predictions.csv").read_bytes() for k, d in runs.items()}
    assert preds["ray"] == preds["local"]
    meta = {k: json.loads((d / "run.json").read_text()) for k, d in runs.items()}
    assert _strip(meta["ray"]) == _strip(meta["local"])
    ex = meta["ray"]["execution"]
    assert ex["executor"] == "ray" and ex["cpus_per_task"] == 1.0 and ex["gpus_per_task"] == 0.0
    assert ex["threads_per_task"] == 1 and ex["nodes"] == 1
    assert meta["local"]["execution"]["executor"] == "local"
    assert sorted(p.name for p in (runs["ray"] / "figures").iterdir()) == sorted(
        p.name for p in (runs["local"] / "figures").iterdir()
    )


def test_a_gpu_share_the_cluster_lacks_is_one_line() -> None:
    from meflow.execution.ray_executor import RayExecutor

    _by_value()
    with (
        RayExecutor(gpus_per_task=0.25) as ex,
        pytest.raises(MeflowError, match=r"asks for 0.25 GPU\(s\) but the Ray cluster has 0"),
    ):
        list(ex.map(_double, [1]))


def _by_value() -> None:
    """Ray workers cannot import this test module: its task functions travel by value."""
    import sys

    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _double(_context: Any, task: int) -> int:
    if task < 0:
        raise MeflowError(f"task {task} is negative")
    return 2 * task


def test_a_user_error_in_a_task_stays_one_line() -> None:
    from meflow.execution.ray_executor import RayExecutor

    _by_value()
    with RayExecutor() as ex:
        assert sorted(r for _, r in ex.map(_double, [1, 2, 3])) == [2, 4, 6]
        with pytest.raises(MeflowError) as info:
            list(ex.map(_double, [1, -1]))
    assert str(info.value) == "task -1 is negative"


def _make_state(context: int, alone: bool) -> dict[str, Any]:
    return {"context": context, "alone": alone, "tasks": 0}


def _count(state: dict[str, Any], task: int) -> tuple[int, int, int, bool]:
    import os

    state["tasks"] += 1
    return task + state["context"], os.getpid(), state["tasks"], state["alone"]


def test_each_ray_worker_makes_its_state_once_per_context_and_keeps_it() -> None:
    from meflow.execution.ray_executor import RayExecutor

    _by_value()
    with RayExecutor() as ex:
        for context in (100, 200):  # a new context: a new state in every worker
            out = dict(ex.map(_count, list(range(8)), context, setup=_make_state))
            assert {i: r[0] for i, r in out.items()} == {i: i + context for i in range(8)}
            assert not any(r[3] for r in out.values())  # never alone on Ray
            by_worker: dict[int, list[int]] = {}
            for r in out.values():
                by_worker.setdefault(r[1], []).append(r[2])
            # a state made per task would count 1 every time: each worker counted 1, 2, ...
            assert all(sorted(n) == list(range(1, len(n) + 1)) for n in by_worker.values())


def _crash(_context: Any, task: int) -> int:
    import os

    if task == 1:
        os._exit(1)  # the worker process dies, as with a segfault or the OOM killer
    return task


@pytest.mark.slow
def test_a_task_that_kills_its_worker_every_time_becomes_a_lost_result() -> None:
    from meflow.execution.ray_executor import RETRIES, RayExecutor

    _by_value()
    with RayExecutor() as ex:
        out = dict(ex.map(_crash, [0, 1, 2], on_lost=lambda task, why: f"lost {task}: {why}"))
        assert out[0] == 0 and out[2] == 2
        assert out[1].startswith(f"lost 1: lost after {RETRIES} retries")
        with pytest.raises(MeflowError, match="a Ray task was lost"):
            list(ex.map(_crash, [1]))
