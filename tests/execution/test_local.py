"""The executor interface on local processes, and what --executor does without the Ray extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meflow.cli import main
from meflow.errors import MeflowError
from meflow.execution import LocalExecutor, make_executor

_SEEN: list[Any] = []


def _setup(context: int, alone: bool) -> dict[str, int]:
    """A worker's state: what its tasks use in place of the context, counting them."""
    _SEEN.append(("setup", context, alone))
    return {"context": context, "tasks": 0}


def _square(state: dict[str, int], task: int) -> tuple[int, int, int, int]:
    import os

    state["tasks"] += 1
    return task * task + state["context"], os.getpid(), len(_SEEN), state["tasks"]


def _plain(context: int, task: int) -> int:
    return task + context


def test_in_driver_runs_setup_once_then_every_task_in_order_with_its_state() -> None:
    _SEEN.clear()
    out = list(LocalExecutor(1).map(_square, [1, 2, 3], 10, setup=_setup))
    assert [(i, r[0]) for i, r in out] == [(0, 11), (1, 14), (2, 19)]
    assert _SEEN == [("setup", 10, True)]  # alone: one task at a time, in this process
    assert [r[3] for _, r in out] == [1, 2, 3]  # one state, kept from task to task
    import os

    assert {r[1] for _, r in out} == {os.getpid()}


def test_without_setup_every_task_gets_the_context() -> None:
    assert list(LocalExecutor(1).map(_plain, [1, 2], 10)) == [(0, 11), (1, 12)]
    assert sorted(LocalExecutor(2).map(_plain, [1, 2, 3], 10)) == [(0, 11), (1, 12), (2, 13)]


def test_process_pool_gives_every_result_once_from_other_processes() -> None:
    import os

    out = list(LocalExecutor(2).map(_square, list(range(6)), 100, setup=_setup))
    assert sorted(i for i, _ in out) == list(range(6))
    assert {i: r[0] for i, r in out} == {i: i * i + 100 for i in range(6)}
    assert os.getpid() not in {r[1] for _, r in out}
    # each spawned process ran the setup once (its own _SEEN), none in this process
    assert all(r[2] == 1 for _, r in out)
    # and kept its state for its tasks: a process's tasks counted 1, 2, ... on it
    by_process: dict[int, list[int]] = {}
    for _, r in out:
        by_process.setdefault(r[1], []).append(r[3])
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in by_process.values())


def test_unknown_executor_is_one_line() -> None:
    with pytest.raises(MeflowError, match="unknown executor 'dask'"):
        make_executor("dask")


@pytest.mark.parametrize("command", ["extract", "reproduce"])
def test_without_the_extra_executor_ray_is_one_line_naming_it(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    if command == "extract":
        args = ["extract", "--dataset", "casme3", "--root", str(tmp_path), "--out",
                str(tmp_path / "cache"), "--executor", "ray"]  # fmt: skip
    else:
        args = ["reproduce", "--cache", str(tmp_path), "--out", str(tmp_path / "run"),
                "--executor", "ray"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert 'pip install "meflow[ray]"' in err[0] and err[0].startswith(f"meflow {command}: error")
    assert not (tmp_path / "cache").exists() and not (tmp_path / "run").exists()


def test_address_without_executor_ray_is_one_line(tmp_path: Path, capsys) -> None:
    args = ["reproduce", "--cache", str(tmp_path), "--out", str(tmp_path / "run"),
            "--address", "127.0.0.1:6379"]  # fmt: skip
    assert main(args) == 2
    assert "--executor ray" in capsys.readouterr().err


def test_a_local_run_never_imports_ray(tiny_synth: Path, tmp_path: Path) -> None:
    code = f"""
import sys
from pathlib import Path
from meflow.cli import main
assert main(["extract", "--dataset", "casme3", "--root", {str(tiny_synth)!r}, "--out",
             {str(tmp_path / "c")!r}, "--quiet", "--workers", "1",
             "--set", "features.window=8"]) == 0
import meflow.api, meflow.experiments, meflow.training.loop, meflow.execution
print(sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
