"""The span a cache sample holds: CASME II's and SAMM's short clips with the default settings,
completed with pairs without motion; the onset-to-apex flow; windows cut by FeatureSet."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from meflow.cli import main
from meflow.config import ExtractConfig, TrainConfig, override
from meflow.datasets.base import Sample
from meflow.features.cache import load_npz
from meflow.features.featureset import FeatureSet, load_features

CLIP = 24  # frames: CASME II's and SAMM's shortest clips (0.12 s at 200 fps)


@pytest.fixture(scope="module")
def synth_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], int]:
    """CLIP consecutive frames of a synthetic micro-expression around its apex, and the apex's
    position among them."""
    from meflow.synth.generator import generate

    root = tmp_path_factory.mktemp("synth") / "data"
    summary = generate(root, subjects=1, seed=4, progress=False, clips_per_subject=6, frames=40)
    clip = summary.clips[0]
    first = min(max(clip.apex - CLIP // 2, 0), clip.frames - CLIP)
    folder = root / clip.subject.name / clip.clip / "color"
    return [folder / f"{first + k}.jpg" for k in range(CLIP)], clip.apex - first


def _xlsx(path: Path, sheet: str, notes: int, rows: list[list[object]]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    for k in range(notes):  # SAMM's notes above its header
        ws.append([f"note {k}"] if k % 2 == 0 else [])
    for row in rows:
        ws.append(row)
    wb.save(path)


def _casme2(root: Path, frames: list[Path], apex: int) -> None:
    """A CASME II tree: the coding sheet, and sub01/EP02_01f/img<n>.jpg holding onset..offset."""
    onset = 46
    folder = root / "sub01" / "EP02_01f"
    folder.mkdir(parents=True)
    for k, f in enumerate(frames):
        shutil.copyfile(f, folder / f"img{onset + k}.jpg")
    header = ["Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None]
    row = ["01", "EP02_01f", None, onset, onset + apex, onset + len(frames) - 1, None]
    _xlsx(
        root / "CASME2-coding-20190701.xlsx",
        "Sheet1",
        0,
        [[*header, "Action Units", "Estimated Emotion"], [*row, "12", "happiness"]],
    )


def _samm(root: Path, frames: list[Path], apex: int) -> None:
    """A SAMM tree: the FACS codes sheet (notes above the header) and 006/006_1_2/006_<n>.jpg."""
    onset = 5562
    folder = root / "006" / "006_1_2"
    folder.mkdir(parents=True)
    for k, f in enumerate(frames):
        shutil.copyfile(f, folder / f"006_{onset + k:05d}.jpg")
    header = ["Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame"]
    header += ["Offset Frame", "Duration", "Micro", "Action Units", "Estimated Emotion"]
    row = [6, "006_1_2", 1, onset, onset + apex, onset + len(frames) - 1, len(frames), 1]
    _xlsx(
        root / "SAMM_Micro_FACS_Codes_v2.xlsx",
        "MICRO_ONLY",
        13,
        [header, [*row, "R14", "Happiness"]],
    )


@pytest.mark.parametrize("dataset", ["casme2", "samm"])
def test_a_24_frame_clip_at_200_fps_runs_with_the_defaults(
    dataset: str, synth_clip: tuple[list[Path], int], tmp_path: Path, capsys
) -> None:
    frames, apex = synth_clip
    root, cache = tmp_path / dataset, tmp_path / "cache"
    (_casme2 if dataset == "casme2" else _samm)(root, frames, apex)
    args = ["extract", "--dataset", dataset, "--root", str(root), "--out", str(cache)]
    assert main([*args, "--quiet", "--workers", "1"]) == 0
    assert "1 extracted, 0 failed" in capsys.readouterr().out
    [npz] = (cache / "samples").glob("*.npz")
    arrays, meta = load_npz(npz)
    taken, valid, vector = arrays["frames"], arrays["valid"], arrays["vector"]
    index = meta["window_index"]
    assert taken.shape == (97,) and index == 16
    # 0.12 s at 30 fps: 5 of the clip's frames (every 6.67th), its first and last repeated
    distinct = np.unique(taken)
    assert len(distinct) == 5 and distinct[0] == meta["onset"] and distinct[-1] == meta["offset"]
    assert taken[index + 32] == meta["apex"]  # the window centred on the apex
    assert meta["window_start"] == taken[index] == meta["onset"]  # its first frame, repeated
    moving = np.flatnonzero(taken[1:] != taken[:-1])
    assert moving.tolist() == list(range(index + 30, index + 34))  # around the window's centre
    # every pair is valid: the repeated ones are pairs without motion
    assert valid.all()
    still = np.ones(96, bool)
    still[moving] = False
    assert (vector[still] == 0).all() and (arrays["magnitude"][still] == 0).all()
    assert np.isnan(arrays["angle"][still]).all()
    assert (arrays["pseudo_discrete"][:, still] == 0).all()  # no direction
    assert np.nanmax(arrays["magnitude"][moving]) > 0.1  # the expression's motion
    assert arrays["onset_apex_valid"].tolist() == [True]
    feats = load_features(cache, TrainConfig().min_valid)  # not skipped by train.min_valid
    assert feats.sample_ids == [meta["sample_id"]] and not feats.skipped
    assert feats.batch()["valid"].shape == (1, 64)


@pytest.fixture(scope="module")
def moving_face(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 frames (PNG) of the astronaut's face moving 0.8 px a frame up and to the right."""
    import cv2

    from features.test_sequence import _translated_face

    folder = tmp_path_factory.mktemp("moving")
    for n, img in enumerate(_translated_face(np.deg2rad(30.0), 20, 0.8)):
        cv2.imwrite(str(folder / f"{n}.png"), img)
    return folder


def _sample(folder: Path, onset: int, apex: int) -> Sample:
    return Sample("t", "s1", "c", onset, apex, 19, "happiness", folder, "{n}.png", 0, 19, fps=30.0)


def test_onset_to_apex_flow_points_the_way_the_face_moves(moving_face: Path) -> None:
    from meflow.features.sample import compute_sample
    from meflow.features.sequence import SequenceExtractor

    cfg = override(ExtractConfig(), ["flow.motion_compensation=none"])
    extractor = SequenceExtractor(cfg, threaded=False)
    out = compute_sample(extractor, _sample(moving_face, 2, 10))
    assert out.arrays is not None, out.result.reason
    oa, oa_valid = out.arrays["onset_apex"], out.arrays["onset_apex_valid"]
    assert oa.shape == (42, 2) and oa.dtype == np.float32 and oa_valid.tolist() == [True]
    # image axes: up on screen is -y; the face moves at 30 degrees
    angle = np.rad2deg(np.arctan2(-oa[:, 1], oa[:, 0]))
    assert np.nanmedian(np.abs(angle - 30.0)) < 10
    # 8 frames of motion in one flow: longer than any single pair's
    length = np.hypot(oa[:, 0], oa[:, 1])
    pair = np.hypot(out.arrays["vector"][..., 0], out.arrays["vector"][..., 1])
    assert np.nanmedian(length) > 4 * np.nanmax(pair)
    same = compute_sample(extractor, _sample(moving_face, 10, 10))
    assert same.arrays is not None and same.arrays["onset_apex_valid"].tolist() == [False]
    assert np.isnan(same.arrays["onset_apex"]).all()


def _featureset(window_index: list[int]) -> FeatureSet:
    n, s = len(window_index), 12
    rng = np.random.default_rng(0)
    series = {
        "angle": rng.random((n, s, 42), np.float32),
        "magnitude": rng.random((n, s, 42), np.float32),
        "vector": rng.random((n, s, 42, 2), np.float32),
        "main": rng.random((n, s, 42, 2), np.float32),
        "valid": rng.random((n, s)) > 0.2,
        "expression": rng.random((n, s)) > 0.5,
        "pseudo_discrete": rng.integers(0, 256, (n, 42, s), np.uint8),
        "pseudo_continuous": rng.integers(0, 256, (n, 42, s), np.uint8),
    }
    oa = rng.random((n, 42, 2), np.float32)
    return FeatureSet(
        np.zeros(n, int),
        np.array(["a"] * n),
        [f"s{i}" for i in range(n)],
        {},
        [],
        3,
        series,
        [],
        6,
        np.array(window_index),
        oa,
        np.ones(n, bool),
    )


def test_featureset_cuts_each_samples_window_moved_by_a_shift() -> None:
    feats = _featureset([3, 1, 0])  # spans of 12 pairs, windows of 6
    centred = feats.batch()
    for k, first in enumerate([3, 1, 0]):
        np.testing.assert_array_equal(
            centred["vector"][k], feats.series["vector"][k, first : first + 6]
        )
        np.testing.assert_array_equal(
            centred["pseudo_discrete"][k], feats.series["pseudo_discrete"][k, :, first : first + 6]
        )
    np.testing.assert_array_equal(feats.discrete, centred["pseudo_discrete"])
    np.testing.assert_array_equal(feats.images("continuous"), centred["pseudo_continuous"])
    moved = feats.batch(shift=2)
    for k, first in enumerate([5, 3, 2]):
        want = feats.series["valid"][k, first : first + 6]
        np.testing.assert_array_equal(moved["valid"][k], want)
    # kept inside the span: 3 + 5 and 1 + 5 > 12 - 6, 0 - 5 < 0
    ends = feats.batch(shift=5)["angle"]
    np.testing.assert_array_equal(ends[0], feats.series["angle"][0, 6:12])
    np.testing.assert_array_equal(feats.batch(shift=-5)["angle"][1], feats.series["angle"][1, :6])
    assert centred["magnitude"].shape == (3, 6, 42) and centred["main"].shape == (3, 6, 42, 2)
    assert centred["onset_apex"].shape == (3, 42, 2) and centred["onset_apex_valid"].all()
    sub = feats.subset(np.array([False, True, True]))
    assert sub.window_index.tolist() == [1, 0] and sub.onset_apex.shape == (2, 42, 2)
    np.testing.assert_array_equal(sub.batch()["vector"], centred["vector"][1:])


def test_flow_from_the_first_frame_keeps_its_reference_in_a_completed_window(
    moving_face: Path,
) -> None:
    from meflow.features.sample import compute_sample
    from meflow.features.sequence import SequenceExtractor

    cfg = override(ExtractConfig(), ["flow.motion_compensation=none", "flow.reference=first"])
    out = compute_sample(SequenceExtractor(cfg, threaded=False), _sample(moving_face, 2, 10))
    assert out.arrays is not None and out.meta is not None, out.result.reason
    taken, vector = out.arrays["frames"], out.arrays["vector"]
    # no margin: every pair is the flow from the window's first frame (frame 0, repeated)
    assert taken.shape == (65,) and out.meta["window_index"] == 0 and taken[32] == 10
    length = np.nanmedian(np.hypot(vector[..., 0], vector[..., 1]), axis=1)  # (pairs,)
    second = taken[1:]
    assert out.arrays["valid"].all() and (length[second == 0] == 0).all()
    # then the displacement to each pair's second frame: n frames' motion (while the flow can
    # follow it: lk-dense saturates past about 15 px), and kept at the last frame
    moved = np.array([np.mean(length[second == n]) for n in range(1, 11)])
    np.testing.assert_allclose(moved, moved[0] * np.arange(1, 11), rtol=0.1)
    np.testing.assert_array_equal(vector[second == 19][0], vector[second == 19][-1])
