"""Chunked extraction of a long recording on a local Ray of 2 CPUs: the features of one pass
to the bit, and a run stopped part-way resumed on Ray."""

from __future__ import annotations

from pathlib import Path

import pytest

from _long_recording import CHUNK_SECONDS, bitwise_equal, make_recording
from execution.conftest import NEEDS_RAY
from meflow.execution.ray_executor import RayExecutor
from meflow.features.chunked import WORK_FOLDER, extract_chunked
from meflow.features.extract import extract_video

pytestmark = [NEEDS_RAY, pytest.mark.usefixtures("local_ray")]


def test_chunked_on_ray_gives_the_one_pass_features_and_resumes(tmp_path: Path) -> None:
    folder = make_recording(tmp_path)
    one_pass, _ = extract_video(folder, tmp_path / "one-pass")
    out = tmp_path / "ray"
    target, _, summary = extract_chunked(
        folder, out, chunk_seconds=CHUNK_SECONDS, executor=RayExecutor(), keep_work=True
    )
    assert (summary.chunks, summary.done_before) == (8, 0)
    bitwise_equal(one_pass, target)
    # stopped part-way (three chunks lost, the features file not yet written): Ray computes
    # only those three, from the landmarks the first run left
    work = next((out / WORK_FOLDER).iterdir())
    for npz in sorted((work / "pairs").glob("*.npz"))[2:5]:
        npz.unlink()
    target.unlink()
    target, _, summary = extract_chunked(
        folder, out, chunk_seconds=CHUNK_SECONDS, executor=RayExecutor()
    )
    assert summary.done_before == 5 and summary.landmarks_resumed
    bitwise_equal(one_pass, target)
    assert not (out / WORK_FOLDER).exists()
