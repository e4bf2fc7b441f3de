"""meflow extract on real videos and on a small synthetic dataset (cache, resume, failures)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_file
from meflow.cli import main
from meflow.features.cache import load_npz


def test_single_face_video_gives_a_valid_feature_for_every_pair(
    shared_data: Path, tmp_path: Path
) -> None:
    video = shared_file(shared_data, "videos/single_face.mp4")
    assert main(["extract", "--video", str(video), "--out", str(tmp_path)]) == 0
    arrays, meta = load_npz(tmp_path / "single_face.npz")
    assert arrays["angle"].shape == (71, 42) and arrays["angle"].dtype == np.float32
    assert arrays["magnitude"].shape == (71, 42)
    assert arrays["valid"].all() and arrays["frame_valid"].shape == (72,)
    assert np.isfinite(arrays["angle"]).all()
    assert ((arrays["angle"] >= 0) & (arrays["angle"] < 2 * np.pi)).all()
    assert float(arrays["fps"]) == pytest.approx(30.0)
    assert meta["extract"]["flow"]["backend"] == "lk-dense"


def test_no_face_video_is_one_line_and_non_zero(shared_data: Path, tmp_path: Path, capsys) -> None:
    video = shared_file(shared_data, "videos/no_face.mp4")
    assert main(["extract", "--video", str(video), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no face" in err[0] and "no_face.mp4" in err[0]
    assert not list(tmp_path.glob("*.npz"))


def test_frames_after_the_face_leaves_are_invalid(shared_data: Path, tmp_path: Path) -> None:
    video = shared_file(shared_data, "videos/face_noface.mov")
    assert main(["extract", "--video", str(video), "--out", str(tmp_path)]) == 0
    arrays, _ = load_npz(tmp_path / "face_noface.npz")
    valid, frames = arrays["valid"], arrays["frames"]
    # 72 frames at 30 fps, then 97 at 24 fps: brought to 30 fps, the second part repeats a
    # frame every fifth step (a pair without motion)
    assert float(arrays["analysis_fps"]) == 30.0 and frames.shape == (valid.shape[0] + 1,)
    assert (frames[:72] == np.arange(72)).all() and frames[-1] >= 167
    assert valid.shape[0] > 168 and (np.diff(frames)[72:] == 0).any()
    assert valid[:60].all()  # the face is there until frame 71
    gone = frames[:-1] >= 80
    assert not valid[gone].any()  # and gone from frame 72 on
    assert np.isnan(arrays["angle"][gone]).all()


def test_several_videos_one_bad_does_not_stop_the_others(
    shared_data: Path, tmp_path: Path, capsys
) -> None:
    good = shared_file(shared_data, "videos/single_face.mp4")
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(good.read_bytes()[:2000])
    rc = main(["extract", "--video", str(bad), str(good), "--out", str(tmp_path / "o")])
    assert rc == 2
    assert (tmp_path / "o" / "single_face.npz").exists()
    assert "broken.mp4" in capsys.readouterr().err


@pytest.fixture(scope="module")
def small_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from meflow.synth.generator import generate

    root = tmp_path_factory.mktemp("synth") / "data"
    generate(root, subjects=2, seed=3, progress=False, clips_per_subject=3, frames=70)
    return root


def _cache_bytes(cache: Path) -> dict[str, bytes]:
    files = [*sorted((cache / "samples").iterdir()), cache / "samples.csv", cache / "cache.json"]
    return {f.name: f.read_bytes() for f in files}


def test_dataset_extraction_writes_a_cache_and_a_rerun_skips_it(
    small_synth: Path, tmp_path: Path, capsys
) -> None:
    cache = tmp_path / "cache"
    args = [
        "extract",
        "--dataset",
        "casme3",
        "--root",
        str(small_synth),
        "--out",
        str(cache),
        "--quiet",
    ]
    assert main([*args, "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "6 samples: 0 already in the cache, 6 extracted, 0 failed" in out
    files = sorted((cache / "samples").glob("*.npz"))
    assert len(files) == 6
    arrays, meta = load_npz(files[0])
    # the span: the 64-pair window and 16 pairs (features.margin) on each side
    assert (
        arrays["pseudo_discrete"].shape == (42, 96) and arrays["pseudo_discrete"].dtype == np.uint8
    )
    from meflow.features.discretise import sector_levels

    assert set(np.unique(arrays["pseudo_discrete"])) <= {0, *sector_levels().tolist()}
    disc, cont = arrays["pseudo_discrete"], arrays["pseudo_continuous"]
    assert ((disc == 0) == (cont == 0)).all()
    assert (disc <= cont).all() and (cont <= disc.astype(int) + 32).all()
    assert arrays["frames"].shape == (97,) and arrays["valid"].shape == (96,)
    assert meta["apex"] - meta["window_start"] == 32  # centred on the apex
    assert arrays["frames"][meta["window_index"]] == meta["window_start"]
    # 70 frames hold the window but not the whole span: its ends repeat the first and last
    frames = arrays["frames"]
    assert frames[0] == 0 and frames[-1] == 69 and (np.diff(frames) >= 0).all()
    repeated = frames[1:] == frames[:-1]
    assert repeated.sum() == 96 - 69 and arrays["valid"][repeated].all()
    assert (arrays["vector"][repeated] == 0).all() and np.isnan(arrays["angle"][repeated]).all()
    assert arrays["onset_apex"].shape == (42, 2) and arrays["onset_apex_valid"].shape == (1,)
    assert arrays["onset_apex_parts"].shape == (42, 4, 2) and arrays[
        "apex_offset_strain"
    ].shape == (42,)
    from meflow.features.featureset import DESCRIPTORS, load_features
    from meflow.features.inputs import build_input

    batch = load_features(cache, 0.0).batch()
    assert all(batch[k].shape[0] == 6 for k in DESCRIPTORS)  # the descriptors reach a batch
    assert build_input("onset-apex-offset-parts", batch).shape == (6, 42, 4, 2)
    from meflow.features.windows import place_window

    for f in files:  # every centred window is the window extracted without a margin
        arrays, meta = load_npz(f)
        start = place_window(meta["apex"], 0, 69, 64)
        i = meta["window_index"]
        np.testing.assert_array_equal(arrays["frames"][i : i + 65], np.arange(start, start + 65))
        assert meta["window_start"] == start and arrays["onset_apex_valid"].all()
    assert (cache / "subjects.csv").exists()
    table = (cache / "samples.csv").read_text().splitlines()
    assert len(table) == 7 and all(",ok," in line for line in table[1:])
    before = _cache_bytes(cache)
    assert main([*args, "--workers", "1"]) == 0
    assert "6 already in the cache, 0 extracted" in capsys.readouterr().out
    assert _cache_bytes(cache) == before
    # other settings in the same folder are refused
    assert main([*args, "--flow", "farneback"]) == 2
    assert "other settings" in capsys.readouterr().err
    # so is a cache whose numbers came from another version of the feature code
    import json

    from meflow.features import FEATURES_VERSION
    from meflow.features.featureset import load_features

    manifest = json.loads((cache / "cache.json").read_text())
    assert manifest["features_version"] == FEATURES_VERSION
    assert load_features(cache).features_version == FEATURES_VERSION
    manifest["features_version"] = FEATURES_VERSION + 1
    (cache / "cache.json").write_text(json.dumps(manifest))
    assert main([*args, "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert f"version {FEATURES_VERSION + 1}" in err and "new --out" in err


def test_missing_frames_folder_is_a_recorded_failure(
    small_synth: Path, tmp_path: Path, capsys
) -> None:
    import shutil

    root = tmp_path / "data"
    shutil.copytree(small_synth, root)
    victim = sorted(p for p in root.glob("spNO.*/*") if p.is_dir())[0]
    shutil.rmtree(victim)
    cache = tmp_path / "cache"
    rc = main(
        [
            "extract",
            "--dataset",
            "casme3",
            "--root",
            str(root),
            "--out",
            str(cache),
            "--quiet",
            "--workers",
            "1",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "5 extracted, 1 failed" in out and "does not exist" in out
    rows = (cache / "samples.csv").read_text().splitlines()
    assert sum(",failed," in r for r in rows) == 1


def _finished(cache: Path) -> int:
    return len(list((cache / "samples").glob("*.npz"))) if (cache / "samples").is_dir() else 0


def test_killed_extraction_resumes_to_an_identical_cache(small_synth: Path, tmp_path: Path) -> None:
    """Killed (SIGKILL) each time a new sample has just been written, then finished: the
    resumed cache is byte-identical to an uninterrupted one.

    The kill follows observed progress, not a delay, so the test holds on any machine speed;
    each round checks that the process really was still running when it was killed and that
    the cache was left incomplete.
    """
    cmd = [
        sys.executable,
        "-m",
        "meflow",
        "extract",
        "--dataset",
        "casme3",
        "--root",
        str(small_synth),
        "--quiet",
        "--workers",
        "2",
    ]
    subprocess.run([*cmd, "--out", str(tmp_path / "full")], check=True, capture_output=True)
    total = _finished(tmp_path / "full")
    assert total == 6
    killed = tmp_path / "killed"
    interrupted = 0
    # Each round kills right after one more sample is in; rounds stop while at least 3 are
    # still missing, so a kill never meets a run that has already finished them all.
    while _finished(killed) <= total - 4 and interrupted < 3:
        before = _finished(killed)
        proc = subprocess.Popen(
            [*cmd, "--out", str(killed)],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while proc.poll() is None and _finished(killed) == before:
            time.sleep(0.01)
        alive = proc.poll() is None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert alive, "the extraction ended before it could be interrupted"
        assert before < _finished(killed) < total  # progress was made, and not all of it
        interrupted += 1
    assert interrupted >= 1
    subprocess.run([*cmd, "--out", str(killed)], check=True, capture_output=True)
    assert _cache_bytes(killed) == _cache_bytes(tmp_path / "full")


def test_no_data_never_reads_as_a_direction(small_synth: Path, tmp_path: Path) -> None:
    """A clip whose face is lost for 8 frames: its invalid pairs and its regions without
    pixels have grey 0 in both pseudo-images, a level no direction takes."""
    import shutil

    import cv2

    from meflow.features.discretise import NO_DIRECTION

    root = tmp_path / "data"
    shutil.copytree(small_synth, root)
    clip = sorted(p for p in root.glob("spNO.*/*/color") if p.is_dir())[0]
    for n in range(30, 38):  # longer than face.max_gap (3): not interpolated
        frame = cv2.imread(str(clip / f"{n}.jpg"))
        cv2.imwrite(str(clip / f"{n}.jpg"), np.full_like(frame, 90))
    cache = tmp_path / "cache"
    args = ["extract", "--dataset", "casme3", "--root", str(root), "--out", str(cache)]
    assert main([*args, "--quiet", "--workers", "1"]) == 0
    sid = f"casme3_{clip.parents[1].name}_{clip.parent.name}"
    [npz] = [f for f in (cache / "samples").glob("*.npz") if f.name.startswith(sid)]
    arrays, _ = load_npz(npz)
    valid, angle = arrays["valid"], arrays["angle"]
    lost = np.flatnonzero(~valid)
    frames = arrays["frames"]
    assert len(lost) >= 8 and set(frames[lost].tolist()) >= set(range(30, 37))
    no_data = ~valid[None, :] | np.isnan(angle).T  # (regions, pairs)
    vec = arrays["vector"]
    with np.errstate(invalid="ignore"):
        faint = (np.hypot(vec[..., 0], vec[..., 1]) < 0.1).T  # the default noise floor
    assert no_data.any() and faint[~no_data].any()
    for kind in ("pseudo_discrete", "pseudo_continuous"):
        img = arrays[kind]
        assert (img[no_data] == NO_DIRECTION).all()
        assert (img[faint] == NO_DIRECTION).all()
        assert (img[~no_data & ~faint] != NO_DIRECTION).all()  # a direction has its own grey
    # the per-pair series say the same: NaN where there is no flow
    assert np.isnan(arrays["vector"][lost]).all() and np.isnan(arrays["main"][lost]).all()
    assert np.isfinite(arrays["vector"][valid]).any()
