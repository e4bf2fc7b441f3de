"""Chunked extraction of a long recording: the features of one pass to the bit, locally (in
this process and in worker processes), and after a run killed part-way."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from _long_recording import BLANK, CHUNK_SECONDS, bitwise_equal, make_recording
from meflow.config import ExtractConfig, FaceConfig
from meflow.errors import MeflowError
from meflow.execution import LocalExecutor
from meflow.features import chunked
from meflow.features.cache import load_npz
from meflow.features.chunk_pass import ChunkTask
from meflow.features.chunked import WORK_FOLDER, chunk_tasks, chunking_seconds, extract_chunked
from meflow.features.extract import extract_video


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the frame folder, its one-pass features file)."""
    base = tmp_path_factory.mktemp("chunked")
    folder = make_recording(base)
    target, _ = extract_video(folder, base / "one-pass")
    return folder, target


STRIDE_3 = ExtractConfig(face=FaceConfig(landmark_stride=3))


def test_the_recording_has_what_the_chunks_must_carry(recording: tuple[Path, Path]) -> None:
    arrays, _ = load_npz(recording[1])
    fv = arrays["frame_valid"]
    assert fv.shape == (120,) and arrays["valid"].shape == (119,)
    assert fv[[14, 15, 44, 45, 46]].all()  # short gaps across chunk edges: filled
    assert not fv[70:76].any() and fv[69] and fv[76]  # a long one: not
    assert not arrays["valid"][99:101].any()  # the pairs of the unreadable frame
    assert set(BLANK) < set(range(120))
    # the direct pairs (t - k, t) of features.spot_lags (default), on every 2nd frame
    lags = ExtractConfig().features.spot_lag_list
    assert lags and arrays["spot_lags"].tolist() == list(lags)
    lv = arrays["lag_vector"]
    assert lv.shape == (119, len(lags), 42, 2)
    computed = np.isfinite(lv).any(axis=(2, 3))  # row u - 1: frames u - k and u
    frame = np.arange(1, 120)
    assert not computed[frame % 2 == 1].any() and not computed[frame < lags[0]].any()
    assert computed[(frame % 2 == 0) & (frame >= 40) & (frame < 70)].all()


@pytest.mark.parametrize("source", ["frame folder", "video file"])
def test_chunked_with_a_landmark_stride_gives_the_one_pass_features(
    recording: tuple[Path, Path], tmp_path: Path, source: str
) -> None:
    # every third frame looked at: 15, 45, 72 and 75 are looked at and blank, so the frames
    # between them and the frames with a face either side are looked at too (by a chunked
    # pass reading them again: by file, or kept from the video's decoding): the same gaps,
    # filled or not, as with every frame
    import cv2

    path = recording[0]
    if source == "video file":
        path = tmp_path / "clip.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (256, 256))
        for i in range(90):
            img = cv2.imread(str(recording[0] / f"{i}.jpg"))
            writer.write(img if img is not None else np.zeros((256, 256, 3), np.uint8))
        writer.release()
    one, _ = extract_video(path, tmp_path / "one", STRIDE_3)
    target, _, _ = extract_chunked(
        path, tmp_path / "chunked", STRIDE_3, chunk_seconds=CHUNK_SECONDS, threads=2
    )
    bitwise_equal(one, target)
    if source == "frame folder":
        every, _ = load_npz(recording[1])
        strided, _ = load_npz(one)
        np.testing.assert_array_equal(strided["frame_valid"], every["frame_valid"])
        np.testing.assert_array_equal(strided["valid"], every["valid"])


def test_chunks_cover_every_pair_once() -> None:
    tasks = chunk_tasks(120, 15)
    pairs = [u for t in tasks for u in range(t.lo, t.hi)]
    assert pairs == list(range(1, 120))
    assert tasks[0] == ChunkTask(0, 1, 15) and tasks[-1] == ChunkTask(7, 105, 120)
    assert [t.index for t in tasks] == list(range(8))
    assert chunk_tasks(31, 15)[-1] == ChunkTask(2, 30, 31)


@pytest.mark.parametrize("where", ["1 thread", "3 threads", "in the driver", "2 processes"])
def test_chunked_gives_the_one_pass_features(
    recording: tuple[Path, Path], tmp_path: Path, where: str
) -> None:
    folder, one_pass = recording
    count = int(where[0]) if where[0].isdigit() else 1
    executor = LocalExecutor(count) if where.endswith(("driver", "processes")) else None
    target, feats, summary = extract_chunked(
        folder, tmp_path, chunk_seconds=CHUNK_SECONDS, executor=executor, threads=count
    )
    assert target == tmp_path / f"{folder.name}.npz"
    assert (summary.chunks, summary.done_before) == (8, 0)
    bitwise_equal(one_pass, target)
    assert feats.frames == 120
    assert not (tmp_path / WORK_FOLDER).exists()  # the work folder goes once the file is written


def test_a_failed_run_resumes_to_the_one_pass_features(
    recording: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, one_pass = recording
    real = chunked.compute_chunk
    computed: list[int] = []

    def failing(w: object, task: ChunkTask) -> object:
        if task.index == 3:
            raise RuntimeError("killed in chunk 3")
        computed.append(task.index)
        return real(w, task)  # type: ignore[arg-type]

    monkeypatch.setattr(chunked, "compute_chunk", failing)
    with pytest.raises(RuntimeError, match="chunk 3"):
        extract_chunked(folder, tmp_path, chunk_seconds=CHUNK_SECONDS)  # on 2 threads
    assert not (tmp_path / f"{folder.name}.npz").exists()
    work = next((tmp_path / WORK_FOLDER).iterdir())
    written = sorted(int(p.stem) for p in (work / "pairs").glob("*.npz"))
    assert {0, 1} <= set(written) and 3 not in written  # (the other thread may have done 2, 4)

    def counting(w: object, task: ChunkTask) -> object:
        computed.append(task.index)
        return real(w, task)  # type: ignore[arg-type]

    computed.clear()
    monkeypatch.setattr(chunked, "compute_chunk", counting)
    target, _, summary = extract_chunked(folder, tmp_path, chunk_seconds=CHUNK_SECONDS)
    assert sorted(computed) == sorted(set(range(8)) - set(written))
    assert summary.done_before == len(written)
    bitwise_equal(one_pass, target)


KILLED = """
import os, sys, time
from pathlib import Path
from meflow.features import chunked
real = chunked.compute_chunk
def dying(w, task):
    if task.index == 5:
        # chunks 0-3 are computed by now (two threads take the chunks in order): wait until
        # the driver has written 0-2, whatever the machine's load, then die
        done = [w.work / "pairs" / f"{{c:05d}}.npz" for c in range(3)]
        t0 = time.monotonic()
        while not all(p.exists() for p in done) and time.monotonic() - t0 < 120:
            time.sleep(0.01)
        os._exit(9)  # no cleanup at all, as a kill
    return real(w, task)
chunked.compute_chunk = dying
chunked.extract_chunked(Path(sys.argv[1]), Path(sys.argv[2]), chunk_seconds={chunk})
"""


def test_a_killed_process_resumes_to_the_one_pass_features(
    recording: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, one_pass = recording
    script = textwrap.dedent(KILLED.format(chunk=CHUNK_SECONDS))
    run = subprocess.run([sys.executable, "-c", script, str(folder), str(tmp_path)], timeout=300)
    assert run.returncode == 9
    work = next((tmp_path / WORK_FOLDER).iterdir())
    written = sorted(int(p.stem) for p in (work / "pairs").glob("*.npz"))
    assert {0, 1, 2} <= set(written) and 5 not in written
    target, _, summary = extract_chunked(folder, tmp_path, chunk_seconds=CHUNK_SECONDS)
    assert summary.done_before == len(written)
    bitwise_equal(one_pass, target)


def test_a_slower_source_gives_the_one_pass_features(
    recording: tuple[Path, Path], tmp_path: Path
) -> None:
    """A 20 fps folder brought to 30 fps repeats frames: pairs without motion, as one pass."""
    folder = recording[0]
    one, _ = extract_video(folder, tmp_path / "one", fps=20.0)
    target, _, _ = extract_chunked(folder, tmp_path / "chunked", fps=20.0, chunk_seconds=0.4)
    bitwise_equal(one, target)
    arrays, _ = load_npz(target)
    assert (np.diff(arrays["frames"]) == 0).any()


def test_bad_settings_and_sources_are_one_line_errors(tmp_path: Path) -> None:
    cfg = ExtractConfig()
    first = type(cfg)(**{**cfg.__dict__, "flow": type(cfg.flow)(reference="first")})
    with pytest.raises(MeflowError, match=r"flow\.reference=previous"):
        extract_chunked(tmp_path, tmp_path / "out", first)
    with pytest.raises(MeflowError, match="no such file"):
        extract_chunked(tmp_path / "absent", tmp_path / "out")
    with pytest.raises(MeflowError, match="chunk-seconds"):
        chunking_seconds(-1.0, 100, 30.0)
    assert chunking_seconds(0.0, 10**6, 30.0) is None
    assert chunking_seconds(None, 60 * 30, 30.0) is None
    assert chunking_seconds(None, 60 * 30 + 1, 30.0) == chunked.DEFAULT_CHUNK_SECONDS


def test_extract_video_with_chunk_seconds(
    recording: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from meflow.cli import main
    from meflow.commands import _chunks

    folder, one_pass = recording
    out = tmp_path / "out"
    args = ["extract", "--video", str(folder), "--out", str(out), "--workers", "1", "--quiet"]
    assert main([*args, "--chunk-seconds", str(CHUNK_SECONDS)]) == 0
    assert "(8 chunks of 0.5 s on local, 0 resumed)" in capsys.readouterr().out
    bitwise_equal(one_pass, out / f"{folder.name}.npz")
    # a 4 s recording is one pass by default; the command line's defaults are the module's
    assert main(args) == 0
    assert "chunks" not in capsys.readouterr().out
    assert _chunks.DEFAULT_CHUNK_SECONDS == chunked.DEFAULT_CHUNK_SECONDS
    assert _chunks.CHUNK_ABOVE_SECONDS == chunked.CHUNK_ABOVE_SECONDS


def test_a_video_file_gives_the_one_pass_features(
    recording: tuple[Path, Path], tmp_path: Path
) -> None:
    """A 25 fps video (decoded again from its start by each chunk) brought to 30 fps."""
    import cv2

    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (256, 256))
    for i in range(60):
        writer.write(cv2.imread(str(recording[0] / f"{i}.jpg")))
    writer.release()
    one, _ = extract_video(video, tmp_path / "one")
    target, _, summary = extract_chunked(video, tmp_path / "chunked", chunk_seconds=0.5)
    assert summary.chunks == 5  # 60 frames at 25 fps: 72 at 30
    bitwise_equal(one, target)
    # extract --video chunks a video file only when asked (each chunk decodes from its start)
    from argparse import Namespace

    from meflow.commands._chunks import chunk_seconds_of

    cfg = ExtractConfig()
    assert chunk_seconds_of(Namespace(chunk_seconds=None, executor="local"), video, cfg) is None
    ray = Namespace(chunk_seconds=None, executor="ray")
    assert chunk_seconds_of(ray, video, cfg) == chunked.DEFAULT_CHUNK_SECONDS
    assert chunk_seconds_of(Namespace(chunk_seconds=2.0, executor="local"), video, cfg) == 2.0


def test_a_recording_without_a_face_is_the_one_pass_error(tmp_path: Path) -> None:
    import cv2

    from meflow.errors import NoFaceError

    folder = tmp_path / "grey"
    folder.mkdir()
    for i in range(12):
        cv2.imwrite(str(folder / f"{i}.jpg"), np.full((64, 64, 3), 128, np.uint8))
    with pytest.raises(NoFaceError) as one:
        extract_video(folder, tmp_path / "one")
    with pytest.raises(NoFaceError) as chunks:
        extract_chunked(folder, tmp_path / "chunked", chunk_seconds=0.2)
    assert str(chunks.value) == str(one.value) == f"{folder}: no face found in any of its 12 frames"
    assert not list((tmp_path / "chunked").glob("*.npz"))
