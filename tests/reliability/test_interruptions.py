"""Interruptions and unwritable outputs: a killed run loses nothing finished and corrupts
nothing; an output that cannot be written is reported before the work starts.
(The killed extraction is tests/features/test_extract.py::
test_killed_extraction_resumes_to_an_identical_cache.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from meflow.cli import main
from meflow.errors import MeflowError
from meflow.training.checkpoint import load_checkpoint
from reliability._helpers import one_line_error

TINY = ["--model", "yolo11", "--input", "pseudo-discrete", "--scale", "n", "--epochs", "1"]
TINY += ["--quiet"]

# A child saves a model completely, then saves another over it with a checkpoint writer that
# is killed (SIGKILL: no clean-up handler runs) after half of the new file's bytes are written.
KILL_DURING_SAVE = textwrap.dedent(
    """
    import os, signal, sys
    import safetensors.torch as st
    import torch
    from meflow.models import build_model
    from meflow.training.checkpoint import save_checkpoint

    torch.manual_seed(0)
    save_checkpoint(sys.argv[1], build_model("n"), {"run": 1})
    real = st.save_file

    def half_then_die(tensors, filename, metadata=None):
        real(tensors, filename, metadata=metadata)
        raw = open(filename, "rb").read()
        with open(filename, "wb") as fh:
            fh.write(raw[: len(raw) // 2])
        os.kill(os.getpid(), signal.SIGKILL)

    st.save_file = half_then_die
    save_checkpoint(sys.argv[1], build_model("n"), {"run": 2})
    """
)


def _train_cmd(cache: Path, out: Path) -> list[str]:
    return ["train", "--cache", str(cache), "--out", str(out), *TINY]


def test_killed_checkpoint_write_keeps_the_previous_complete_model(tmp_path: Path) -> None:
    out = tmp_path / "models" / "model.safetensors"
    child = subprocess.run(
        [sys.executable, "-c", KILL_DURING_SAVE, str(out)], capture_output=True, text=True
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    _, meta = load_checkpoint(out)  # complete and verified by its digest
    assert meta["run"] == 1
    [leftover] = [p for p in out.parent.iterdir() if p != out]
    assert leftover.name.startswith(".model.safetensors.") and leftover.name.endswith(".tmp")
    with pytest.raises(MeflowError, match="truncated or not a meflow model"):
        load_checkpoint(leftover)  # the half-written temporary file is never taken for a model


@pytest.mark.slow
def test_train_killed_mid_run_leaves_no_model_file(fake_cache: Path, tmp_path: Path) -> None:
    """A real `meflow train` process, killed while it trains (after start-up, before saving)."""
    out = tmp_path / "model.safetensors"
    proc = subprocess.Popen(
        [sys.executable, "-m", "meflow", *_train_cmd(fake_cache, out)[:-1], "--epochs", "50"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    # Wait until the cache is read and the training has begun (the progress bar's first line).
    assert proc.stderr is not None
    while time.time() < deadline and proc.poll() is None:
        line = proc.stderr.readline()
        if "epoch" in line.lower() or "it/s" in line or "%" in line:
            break
    alive = proc.poll() is None  # killed on observed progress, not after a delay
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert alive, "the training ended before it could be interrupted"
    assert not out.exists() or load_checkpoint(out)
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".safetensors" and p != out]
    # a rerun beside whatever the killed one left writes a complete, loadable model
    assert main(_train_cmd(fake_cache, out)) == 0
    _, meta = load_checkpoint(out)
    from meflow.features import FEATURES_VERSION

    assert meta["features_version"] == FEATURES_VERSION  # predict checks it against its own


# --- unwritable outputs: one line, before any work --------------------------------------------


@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    """A folder that cannot be created, even by root: it would lie below a regular file."""
    wall = tmp_path / "a_file"
    wall.write_text("not a folder")
    return wall / "sub"


@pytest.mark.parametrize("command", ["train", "evaluate", "reproduce"])
def test_unwritable_out_fails_fast_with_one_line(
    fake_cache: Path,
    blocked: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    import meflow.experiments

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the output folder was checked")

    monkeypatch.setattr(meflow.experiments, "train_model", no_work)
    monkeypatch.setattr(meflow.experiments, "reproduce", no_work)
    out = blocked / "model.safetensors" if command == "train" else blocked
    assert main([command, "--cache", str(fake_cache), "--out", str(out), *TINY]) == 2
    one_line_error(capsys.readouterr().err, f"meflow {command}: error:", "cannot write there")


def test_train_out_naming_a_folder_fails_fast(
    fake_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--cache", str(fake_cache), "--out", str(tmp_path), *TINY]) == 2
    one_line_error(capsys.readouterr().err, "is a folder")


@pytest.mark.parametrize("source", ["dataset", "video"])
def test_unwritable_extract_out_fails_fast_with_one_line(
    synth_root: Path, blocked: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    video = next(synth_root.glob("spNO.*/*/color"))
    args = (
        ["--dataset", "casme3", "--root", str(synth_root)]
        if source == "dataset"
        else ["--video", str(video)]
    )
    assert main(["extract", *args, "--out", str(blocked), "--quiet"]) == 2
    one_line_error(capsys.readouterr().err, "cannot write there", str(blocked))


def test_ensure_writable_names_a_full_or_read_only_target(tmp_path: Path) -> None:
    from meflow.features.cache import ensure_writable

    assert ensure_writable(tmp_path / "new" / "deep") == tmp_path / "new" / "deep"
    assert not list((tmp_path / "new" / "deep").iterdir())  # the probe is removed
    if Path("/dev/full").exists():  # writes there fail with ENOSPC, as on a full disk
        with pytest.raises(MeflowError, match="cannot write there"):
            ensure_writable(Path("/dev/full") / "x")
    if Path("/proc/version").exists():  # a read-only file system, even for root
        with pytest.raises(MeflowError, match="cannot write there"):
            ensure_writable(Path("/proc/meflow-test"))
