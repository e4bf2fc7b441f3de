"""meflow predict: windows slid along real videos, invalid stretches, refusals, one-line errors."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from _untrained_model import CLASSES, save_untrained_model
from conftest import shared_file
from meflow.cli import main
from meflow.config import ExtractConfig, TrainConfig, to_dict
from meflow.errors import MeflowError
from meflow.features import FEATURES_VERSION
from meflow.inference import (
    check_settings,
    load_model,
    predict_video,
    unique_names,
    window_starts,
)
from meflow.io.timebase import resample, timed_frames

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained scale-n model with a meta like train_model's (default extraction)."""
    return save_untrained_model(tmp_path_factory.mktemp("model") / "model.safetensors")


@pytest.fixture(scope="module")
def model_path_no_floor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As ``model_path``, with features.noise_floor=0: every pair with any motion has a
    direction, so grey 0 can only come from a pair without motion (or a region without pixels)."""
    import torch

    from meflow.config import override
    from meflow.models import build_model
    from meflow.training.checkpoint import save_checkpoint

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "no_floor.safetensors"
    meta = {
        "classes": CLASSES,
        "angle": "discrete",
        "extract": to_dict(override(ExtractConfig(), ["features.noise_floor=0"])),
        "train": to_dict(TrainConfig(scale="n")),
        "fps": 30.0,
        "features_version": FEATURES_VERSION,
    }
    save_checkpoint(path, build_model("n").eval(), meta)
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _errors(err: str) -> list[str]:
    return [ln for ln in err.strip().splitlines() if ln.strip()]


# --- real videos --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def single_face_run(
    shared_data: Path, model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, Path]:
    video = shared_file(shared_data, "videos/single_face.mp4")
    out = tmp_path_factory.mktemp("pred")
    return main(["predict", str(video), "--model", str(model_path), "--out", str(out)]), out


def test_single_face_rows_hold_six_probabilities_and_a_valid_flag(
    single_face_run: tuple[int, Path],
) -> None:
    rc, out = single_face_run
    assert rc == 0
    rows = _rows(out / "single_face.csv")
    # 72 frames = 71 pairs: windows at pair 0 and one aligned with the end (pair 7)
    assert [(r["start_frame"], r["end_frame"]) for r in rows] == [("0", "64"), ("7", "71")]
    assert float(rows[1]["start_time"]) == pytest.approx(7 / 30, abs=1e-4)
    assert float(rows[1]["end_time"]) == pytest.approx(71 / 30, abs=1e-4)
    for r in rows:
        p = [float(r[c]) for c in CLASSES]
        assert sum(p) == pytest.approx(1.0, abs=1e-4) and min(p) >= 0
        assert r["valid"] == "true" and float(r["valid_fraction"]) == 1.0
        assert r["top_class"] == CLASSES[int(np.argmax(p))]
    doc = json.loads((out / "single_face.json").read_text())
    assert doc["classes"] == CLASSES and doc["model_fps"] == 30.0 and doc["notes"] == []
    assert doc["extract"]["flow"]["backend"] == "lk-dense"
    assert doc["features_version"] == FEATURES_VERSION
    assert [w["valid"] for w in doc["windows"]] == [True, True]
    png = out / "single_face_timeline.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_summary_line_says_how_long_the_video_was_and_took(
    shared_data: Path, model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    video = shared_file(shared_data, "videos/single_face.mp4")
    args = ["predict", str(video), "--model", str(model_path), "--out", str(tmp_path)]
    assert main([*args, "--no-figure"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[0]
    # 72 frames at 30 fps: 2.4 s, however long the machine took
    assert re.search(
        r": 2 windows of 2\.13 s, 2 valid, most often \w+; 2\.4 s of video in \d+\.\d s -> ",
        line,
    )
    assert line.endswith("single_face.csv")


def test_no_face_exits_non_zero_with_one_line(
    shared_data: Path, model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = shared_file(shared_data, "videos/no_face.mp4")
    rc = main(["predict", str(video), "--model", str(model_path), "--out", str(tmp_path)])
    assert rc != 0
    err = _errors(capsys.readouterr().err)
    assert len(err) == 1 and "no_face.mp4" in err[0] and "no face" in err[0]
    assert not list(tmp_path.iterdir())


def test_windows_after_the_face_leaves_are_invalid(
    shared_data: Path, model_path: Path, tmp_path: Path
) -> None:
    video = shared_file(shared_data, "videos/face_noface.mov")
    res = predict_video(video, model_path, tmp_path, figure=False)
    # frames 0-71 have the face (at 30 fps, so resampling keeps them as they are); the file
    # then continues at 24 fps without a face: pairs there repeat frames or lack a face
    assert res.analysis_fps == 30.0
    assert res.windows[0].start_frame == 0 and res.windows[0].valid
    for w in res.windows:
        face_pairs = (
            max(0, min(71, w.start_frame + 64) - w.start_frame) if w.start_frame < 72 else 0
        )
        assert w.valid_fraction == pytest.approx(face_pairs / 64, abs=1.5 / 64), w
        assert w.valid == (w.valid_fraction >= 0.9)
        if w.end_frame >= 72 + 8:  # more than 10% of the window after the face left
            assert not w.valid
        if w.valid:
            assert sum(w.probabilities) == pytest.approx(1.0, abs=1e-6)
        else:
            assert all(math.isnan(p) for p in w.probabilities) and w.top_class == ""
    assert sum(w.valid for w in res.windows) == 2  # starts 0 and 8 (63 of 64 pairs)
    assert any("repeat a frame" in n and "without motion" in n for n in res.notes)
    rows = _rows(tmp_path / "face_noface.csv")
    assert len(rows) == len(res.windows)
    bad = [r for r in rows if r["valid"] == "false"]
    assert bad and all(r[c] == "" and r["top_class"] == "" for r in bad for c in CLASSES)
    doc = json.loads((tmp_path / "face_noface.json").read_text())  # strict JSON: null, no NaN
    assert doc["windows"][-1]["happiness"] is None


def test_a_faster_video_is_resampled_to_the_training_rate(
    shared_data: Path, model_path: Path, tmp_path: Path, single_face_run: tuple[int, Path]
) -> None:
    """Every frame twice at 60 fps gives the 30 fps predictions, with 60 fps frame numbers."""
    import cv2

    video = shared_file(shared_data, "videos/single_face.mp4")
    folder = tmp_path / "frames60"
    folder.mkdir()
    cap = cv2.VideoCapture(str(video))
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        first = folder / f"{2 * n:04d}.bmp"  # lossless and fast to read
        cv2.imwrite(str(first), frame)
        (folder / f"{2 * n + 1:04d}.bmp").hardlink_to(first)
        n += 1
    cap.release()
    fast = predict_video(folder, model_path, None, fps=60.0)
    ref = json.loads((single_face_run[1] / "single_face.json").read_text())["windows"]
    assert [(w.start_frame, w.end_frame) for w in fast.windows] == [(0, 128), (14, 142)]
    assert [w.start_time for w in fast.windows] == pytest.approx([0.0, 7 / 30])
    np.testing.assert_allclose(
        fast.probabilities, [[w[c] for c in CLASSES] for w in ref], atol=1e-6
    )
    assert any("skipped to resample" in note for note in fast.notes)


# --- refusals (fast: they fail before any landmark or flow work) ---------------------------


def _tamper(src: Path, dst: Path, old: bytes, new: bytes) -> None:
    raw = src.read_bytes()
    assert raw.count(old) == 1 and len(old) == len(new)
    dst.write_bytes(raw.replace(old, new))


def test_model_with_hand_edited_settings_is_refused(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "edited.safetensors"
    _tamper(model_path, bad, b'\\"backend\\":\\"lk-dense\\"', b'\\"backend\\":\\"lk-densx\\"')
    rc = main(["predict", "any.mp4", "--model", str(bad), "--out", str(tmp_path / "o")])
    assert rc == 2
    err = _errors(capsys.readouterr().err)
    assert len(err) == 1 and "edited.safetensors" in err[0]
    assert "modified after it was saved" in err[0]


def test_model_of_another_features_version_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a file saved properly (digest intact) by a meflow whose feature code gave other numbers
    from meflow.features import FEATURES_VERSION
    from meflow.models import build_model
    from meflow.training.checkpoint import save_checkpoint

    meta = {
        "classes": CLASSES,
        "angle": "discrete",
        "extract": to_dict(ExtractConfig()),
        "features_version": FEATURES_VERSION + 1,
        "fps": 30.0,
    }
    other = tmp_path / "other.safetensors"
    save_checkpoint(other, build_model("n").eval(), meta)
    rc = main(["predict", "any.mp4", "--model", str(other), "--out", str(tmp_path / "o")])
    assert rc == 2
    err = _errors(capsys.readouterr().err)
    assert len(err) == 1 and "other.safetensors" in err[0]
    assert f"version {FEATURES_VERSION + 1}" in err[0] and "retrain" in err[0]


def test_settings_that_contradict_the_model_are_refused(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["predict", "any.mp4", "--model", str(model_path), "--out", str(tmp_path)]
    assert main([*args, "--flow", "farneback"]) == 2
    err = _errors(capsys.readouterr().err)
    assert len(err) == 1 and "flow.backend is 'lk-dense' in the model, 'farneback' asked" in err[0]
    assert main([*args, "--set", "preprocess.equalisation=clahe"]) == 2
    assert "did you mean 'equalization'" in capsys.readouterr().err
    loaded = load_model(model_path)
    check_settings(loaded, ["flow.backend=lk-dense", "features.angle_average=circular"])  # fine
    with pytest.raises(MeflowError, match=r"features\.sectors is 8 in the model, 4 asked"):
        check_settings(loaded, ["features.sectors=4"])


def _folder(path: Path, n: int) -> Path:
    import cv2

    path.mkdir()
    for i in range(n):
        cv2.imwrite(str(path / f"{i:03d}.png"), np.full((48, 64, 3), i, np.uint8))
    return path


def test_a_short_video_makes_one_completed_window_and_one_frame_is_refused(
    shared_data: Path, model_path: Path, tmp_path: Path
) -> None:
    import cv2

    from meflow.io import open_frames

    video = shared_file(shared_data, "videos/single_face.mp4")
    short = tmp_path / "short"
    short.mkdir()
    for i, frame in open_frames(video):
        if i < 30:  # 1 s of the face: fewer than a window's 65 frames
            cv2.imwrite(str(short / f"{i:03d}.png"), frame)
    result = predict_video(short, model_path, None)
    [window] = result.windows
    assert window.valid and np.isfinite(window.probabilities).all()
    assert (window.start_frame, window.end_frame) == (0, 29)  # the video's own frames
    assert result.used_frames == 65 and any("repeated 17 times" in n for n in result.notes)
    with pytest.raises(MeflowError, match=r"one: too short: 1 frames.*at least 2"):
        predict_video(_folder(tmp_path / "one", 1), model_path, tmp_path / "o")


def test_one_bad_input_does_not_stop_the_others(
    shared_data: Path, model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = shared_file(shared_data, "videos/single_face.mp4")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(good.read_bytes()[:5000])  # truncated: the index is at the end
    short = _folder(tmp_path / "short", 10)
    out = tmp_path / "o"
    args = [str(broken), str(short), str(good), str(tmp_path / "missing.avi")]
    rc = main(["predict", *args, "--model", str(model_path), "--out", str(out), "--no-figure"])
    assert rc == 2
    assert (out / "single_face.csv").exists() and not (out / "single_face_timeline.png").exists()
    err = [ln for ln in _errors(capsys.readouterr().err) if ln.startswith("meflow predict")]
    assert len(err) == 4
    assert "broken.mp4" in err[0] and "unreadable or truncated" in err[0]
    assert "short" in err[1] and "missing.avi" in err[2]
    assert err[3].startswith("meflow predict: 3 of 4 inputs failed")
    assert all(name in err[3] for name in ("broken.mp4", "short", "missing.avi"))


def test_an_error_after_a_good_input_reaches_stderr(
    shared_data: Path, model_path: Path, tmp_path: Path
) -> None:
    # After a good input the extractor starts the next MediaPipe graph in a thread, with file
    # descriptor 2 silenced for its start-up chatter: predict_video waits for it before it
    # returns, so the next input's error line is not swallowed. A real process: pytest's
    # capture does not go through file descriptor 2.
    import subprocess
    import sys

    good = shared_file(shared_data, "videos/single_face.mp4")
    missing = tmp_path / "missing.avi"
    cmd = [sys.executable, "-m", "meflow", "predict", str(good), str(missing)]
    cmd += ["--model", str(model_path), "--out", str(tmp_path / "o"), "--no-figure"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    err = [ln for ln in _errors(proc.stderr) if ln.startswith("meflow predict")]
    assert len(err) == 2, proc.stderr
    assert "missing.avi" in err[0] and "1 of 2 inputs failed" in err[1]


def test_stderr_is_not_silenced_after_predict_video_with_a_kept_graph(
    shared_data: Path,
    model_path: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # MediaPipe's start-up and the graph's reset run with fd 2 silenced (in the landmark
    # thread); predict_video returns only once that is over, so what the caller writes next
    # is seen
    import os

    from meflow.config import ExtractConfig
    from meflow.features.sequence import SequenceExtractor

    monkeypatch.delenv("MEFLOW_MEDIAPIPE_LOGS", raising=False)
    video = shared_file(shared_data, "videos/single_face.mp4")
    with SequenceExtractor(ExtractConfig(), keep_warm=True) as ex:
        first = predict_video(video, model_path, None, extractor=ex)
        os.write(2, b"seen\n")
        again = predict_video(video, model_path, None, extractor=ex)  # on the kept graph
        os.write(2, b"again\n")
    assert capfd.readouterr().err.split()[-2:] == ["seen", "again"]
    np.testing.assert_array_equal(first.probabilities, again.probabilities)


# --- pieces -------------------------------------------------------------------------------


def _picked(times: list[float], fps: float) -> list[int]:
    return [i for i, _, _ in resample([(i, t, None) for i, t in enumerate(times)], fps)]


def test_resample_picks_the_nearest_frame() -> None:
    assert _picked([i / 60 for i in range(10)], 30) == [0, 2, 4, 6, 8]
    assert _picked([i / 30 for i in range(10)], 30) == list(range(10))
    assert _picked([i / 29.97 for i in range(10)], 30) == list(range(10))
    # slower than 30 fps: a step repeats a frame (a pair without motion in predict)
    assert _picked([i / 24 for i in range(10)], 30) == [0, 1, 2, 2, 3, 4, 5, 6, 6, 7, 8, 9]
    # variable rate: 30 fps, then 20 fps
    times = [i / 30 for i in range(4)] + [0.1 + k / 20 for k in range(1, 4)]
    assert _picked(times, 30) == [0, 1, 2, 3, 4, 4, 5, 6]
    assert _picked([0.0], 30) == [0] and _picked([], 30) == []


def test_window_starts_cover_the_end() -> None:
    assert window_starts(71, 64, 8) == [0, 7]
    assert window_starts(64, 64, 8) == [0]
    assert window_starts(63, 64, 8) == []
    assert window_starts(80, 64, 8) == [0, 8, 16]
    assert window_starts(81, 64, 8) == [0, 8, 16, 17]


def test_unique_names() -> None:
    assert unique_names(["a/x.mp4", "b/y.mp4"]) == ["x", "y"]
    assert unique_names(["a/x.mp4", "b/x.mov", "c/x.mp4"]) == ["x_mp4", "x_mov", "x_mp4_2"]


def test_folder_frames_are_timed_by_the_given_rate(tmp_path: Path) -> None:
    from meflow.io import open_frames

    folder = _folder(tmp_path / "f", 3)
    assert [(i, t) for i, t, _ in timed_frames(open_frames(folder))] == [
        (0, 0.0),
        (1, 1 / 30),
        (2, 2 / 30),
    ]
    assert [t for _, t, _ in timed_frames(open_frames(folder, 10.0), 10.0)] == [0.0, 0.1, 0.2]


def test_a_video_read_on_the_capture_opened_for_its_header_gives_every_frame(
    shared_data: Path,
) -> None:
    # the first reading takes the capture FrameSource opened for the header (one open less),
    # later readings open their own: all give the same frames, from the first one
    from meflow.io import open_frames

    source = open_frames(shared_file(shared_data, "videos/single_face.mp4"))
    assert source._cap is not None
    first = list(timed_frames(source))
    assert source._cap is None
    second = list(timed_frames(source))
    again = list(source)
    assert len(first) == len(second) == len(again) == 72
    for (i, t, a), (j, u, b), (k, c) in zip(first, second, again, strict=True):
        assert i == j == k and t == u
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    unread = open_frames(shared_file(shared_data, "videos/single_face.mp4"))
    unread.close()  # never read: the header's capture is released
    assert unread._cap is None and len(list(unread)) == 72


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        # an edit-list offset: the first frame 16.7 ms early is moved onto the grid
        ([-0.0167, 0.0333, 0.0666, 0.0999], [0.0, 0.0333, 0.0666, 0.0999]),
        # a container whose clock starts late: everything shifts to start at 0
        ([0.5, 0.5333, 0.5667], [0.0, 0.0333, 0.0667]),
        ([0.2], [0.0]),
        ([0.2, 0.25], [0.0, 0.05]),
    ],
)
def test_video_timestamps_start_at_zero_on_the_grid_of_frames_1_and_2(
    monkeypatch: pytest.MonkeyPatch, raw: list[float], want: list[float]
) -> None:
    import meflow.io.timebase as timebase

    def fake(path: Path, rate: float, cap: object = None) -> object:
        for i, t in enumerate(raw):
            yield i, t, None

    monkeypatch.setattr(timebase, "_raw_timestamps", fake)
    got = [(i, t) for i, t, _ in timebase._video_timestamps(Path("x.mp4"), 30.0)]
    assert [i for i, _ in got] == list(range(len(raw)))
    np.testing.assert_allclose([t for _, t in got], want, atol=1e-9)


def _retimed(shared_data: Path, path: Path, fps: float) -> Path:
    """single_face.mp4 played forth and back (144 frames at 30 fps), re-timed to ``fps`` by
    the nearest frame in time and written as an MP4 at that rate."""
    import cv2

    src = cv2.VideoCapture(str(shared_file(shared_data, "videos/single_face.mp4")))
    frames = []
    while True:
        ok, f = src.read()
        if not ok:
            break
        frames.append(f)
    src.release()
    loop = frames + frames[::-1]
    h, w = loop[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    for k in range(int(len(loop) / 30 * fps)):
        out.write(loop[min(round(k * 30 / fps), len(loop) - 1)])
    out.release()
    return path


def _spy_batches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, np.ndarray]]:
    """The window batches predict builds its model inputs from, in the order it builds them."""
    import meflow.features.inputs as inputs
    import meflow.inference.windows as predict

    seen: list[dict[str, np.ndarray]] = []
    build = inputs.build_input

    def spy(name: str, batch: dict[str, np.ndarray], cfg: object = None) -> np.ndarray:
        seen.append(batch)
        return build(name, batch, cfg)

    monkeypatch.setattr(inputs, "build_input", spy)
    if hasattr(predict, "build_input"):  # where predict imports it at the top
        monkeypatch.setattr(predict, "build_input", spy)
    return seen


def _repeated_pairs_25_to_30(frames: int) -> np.ndarray:
    """The pairs of a 25 fps video resampled to 30 fps whose two frames are one source frame:
    step k (k / 30 s) takes the nearest source frame (k * 25 / 30), the earlier one on a tie,
    i.e. ceil((50 k - 30) / 60); every sixth pair (2, 8, 14, ...) repeats a frame."""
    src = np.ceil((50 * np.arange(frames) - 30) / 60)
    return src[1:] == src[:-1]


def _check_repeated_pairs_carry_no_motion(
    batch: dict[str, np.ndarray], repeated: np.ndarray
) -> None:
    """Nothing; fails unless, in every window, the repeated pairs are valid pairs with zero
    region vectors and grey 0 (no direction) everywhere, and every other pair moves and has
    a direction somewhere."""
    from meflow.features.discretise import NO_DIRECTION

    starts = window_starts(len(repeated), 64, 8)
    assert len(batch["vector"]) == len(starts) > 1
    for w, s in enumerate(starts):
        rep = repeated[s : s + 64]
        assert 10 <= rep.sum() <= 11  # every sixth of the window's 64 pairs
        vec, grey = batch["vector"][w], batch["pseudo_discrete"][w]  # (64, 42, 2), (42, 64)
        assert batch["valid"][w].all()  # repeated pairs too: valid, without motion
        pixels = np.isfinite(vec).all(axis=-1)  # (64, 42): regions with pixels
        assert pixels[rep].sum(axis=1).min() >= 40
        assert (vec[rep][pixels[rep]] == 0).all()  # exactly zero, not just small
        assert (grey[:, rep] == NO_DIRECTION).all()
        length = np.where(pixels, np.hypot(vec[..., 0], vec[..., 1]), 0.0)
        assert (length[~rep].max(axis=1) > 0).all()
        assert (grey[:, ~rep] != NO_DIRECTION).any(axis=0).all()


def test_a_real_25_fps_video_is_brought_to_the_models_rate(
    shared_data: Path,
    model_path: Path,
    model_path_no_floor: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every sixth step repeats a frame: such pairs stay valid, without motion, a window
    spans 2.13 s as in training, and the outputs say so."""
    video = _retimed(shared_data, tmp_path / "face25.mp4", 25.0)
    res_dir = tmp_path / "o"
    batches = _spy_batches(monkeypatch)
    assert main(["predict", str(video), "--model", str(model_path), "--out", str(res_dir)]) == 0
    text = capsys.readouterr().out
    assert "windows of 2.13 s" in text and "without motion" in text
    doc = json.loads((res_dir / "face25.json").read_text())
    assert doc["fps"] == pytest.approx(25.0) and doc["analysis_fps"] == 30.0
    assert doc["window_seconds"] == pytest.approx(64 / 30)
    assert any("docs/predict.md" in n and "repeat a frame" in n for n in doc["notes"])
    rows = _rows(res_dir / "face25.csv")
    assert rows and all(r["valid"] == "true" for r in rows)
    first = rows[0]
    assert float(first["end_time"]) - float(first["start_time"]) == pytest.approx(2.13, abs=0.03)
    assert (res_dir / "face25_timeline.png").stat().st_size > 1000
    # a repeated pair is a valid pair without motion (zero vectors, no direction); the others
    # move: with the default noise floor, and without one (where a pair with the slightest
    # motion left in it would get a direction)
    repeated = _repeated_pairs_25_to_30(doc["used_frames"])
    assert doc["valid_pairs"] == len(repeated) == 142 and repeated.sum() == 24
    assert len(batches) == 1
    _check_repeated_pairs_carry_no_motion(batches[0], repeated)
    res = predict_video(video, model_path_no_floor, None, figure=False)
    assert res.valid.all() and len(batches) == 2
    _check_repeated_pairs_carry_no_motion(batches[1], repeated)
    # below 15 fps (half the model's 30) the model is not applied: one line says why
    slow = _retimed(shared_data, tmp_path / "face12.mp4", 12.0)
    assert main(["predict", str(slow), "--model", str(model_path), "--out", str(res_dir)]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and "below 15 fps" in err[0] and "face12.mp4" in err[0]


def test_repeated_pairs_have_no_motion_and_no_direction() -> None:
    from meflow.features.sequence import SequenceFeatures

    rng = np.random.default_rng(0)
    feats = SequenceFeatures(
        rng.random((3, 42)).astype(np.float32),
        rng.random((3, 42)).astype(np.float32),
        np.ones(3, bool),
        np.ones(4, bool),
        {},
        rng.random((3, 42, 2)).astype(np.float32),
        rng.random((3, 42, 2)).astype(np.float32),
    )
    feats.vector[1, 5] = np.nan  # a region without pixels stays without
    feats.without_motion(np.array([False, True, False]))
    assert (feats.vector[1, :5] == 0).all() and np.isnan(feats.vector[1, 5]).all()
    assert (feats.main[1] == 0).all() and (feats.magnitude[1] == 0).all()
    assert np.isnan(feats.angle[1]).all() and np.isfinite(feats.angle[[0, 2]]).all()
    assert feats.valid.all()
