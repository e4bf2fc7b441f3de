"""The MDMD-like baseline spotter on synthetic region flow: noise, injected bumps, gaps."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from meflow.errors import MeflowError
from meflow.features.cache import save_npz
from meflow.spotting.baseline import (
    BaselineParams,
    RecordingFlow,
    contrast_curve,
    interval_k,
    motion_curve,
    read_video_features,
    spot_baseline,
)
from meflow.spotting.baseline_grid import baseline_grid, choose_params
from meflow.spotting.scoring import Interval, iou, score_spotting

FPS = 30.0
REGIONS = 42
# bumps of 7 frames (micro) and 31 frames (macro): k = 4 and 16 at 30 fps
PARAMS = BaselineParams(micro_length_s=7 / FPS, macro_length_s=31 / FPS)
NOISE = 0.08  # px per pair and region, a real still face's region flow is of this order


def bump(pos: np.ndarray, onset: int, length: int, regions: slice, amp: float) -> None:
    """Adds a rise-and-return of ``amp`` px (sin^2, frames onset..onset+length-1) in place."""
    j = np.arange(length)
    shape = amp * np.sin(np.pi * j / (length - 1)) ** 2
    direction = np.array([0.6, -0.8])  # up and to the side, as a brow or a lip corner
    pos[onset : onset + length, regions] += shape[:, None, None] * direction


def recording(
    name: str,
    frames: int,
    rng: np.random.Generator,
    micro: list[int] = (),  # type: ignore[assignment]
    macro: list[int] = (),  # type: ignore[assignment]
) -> tuple[RecordingFlow, list[Interval]]:
    """Noise with micro bumps (7 frames, 1.5 px, 6 regions) and macro ones (31, 4 px, 10)."""
    pos = np.zeros((frames, REGIONS, 2))
    truth = []
    for o in micro:
        bump(pos, o, 7, slice(0, 6), 1.5)
        truth.append(Interval(name, o, o + 6, "micro"))
    for o in macro:
        bump(pos, o, 31, slice(20, 30), 4.0)
        truth.append(Interval(name, o, o + 30, "macro"))
    vector = np.diff(pos, axis=0) + rng.normal(0, NOISE, (frames - 1, REGIONS, 2))
    return RecordingFlow(name, vector, np.ones(frames - 1, bool), FPS), truth


def test_k_is_mdmd_half_length() -> None:
    # MEGC2020's CAS(ME)^2 micro k = 12: N = 23 frames -> (23 + 1) / 2
    assert interval_k(23 / 30, 30) == 12
    assert interval_k(7 / 30, 30) == 4  # (7 + 1) / 2
    assert interval_k(6 / 30, 30) == 4  # 3.5 halves up
    assert interval_k(0.001, 30) == 1


def test_motion_curve_peaks_at_the_apex() -> None:
    # one region moves 2 px right over frames 10..16 and back; k = 3: at the apex frame 13,
    # d(10, 13) = 2 px and d(10, 16) = 0, so |near| - |far| = 2 in that region, 0 elsewhere
    pos = np.zeros((40, 3, 2))
    pos[10:17, 0, 0] = [0, 1, 1.5, 2, 1.5, 1, 0]
    vec = np.diff(pos, axis=0)
    f = motion_curve(vec, np.ones(39, bool), k=3, top_fraction=1 / 3, max_missing=0.2)
    assert np.isnan(f[:3]).all() and np.isnan(f[-3:]).all()
    assert int(np.nanargmax(f)) == 13 and f[13] == pytest.approx(2.0)
    c = contrast_curve(f, 3)  # m = 2: C(13) = 2 - (F(11) + F(15)) / 2
    assert c[13] == pytest.approx(2.0 - (f[11] + f[15]) / 2)
    assert int(np.nanargmax(c)) == 13


def test_micro_and_macro_bumps_are_spotted_with_their_types() -> None:
    rng = np.random.default_rng(1)
    rec, truth = recording("r1", 400, rng, micro=[80], macro=[240])
    found = spot_baseline(rec, PARAMS)
    assert sorted(iv.type for iv in found) == ["macro", "micro"]
    for gt in truth:
        (hit,) = [iv for iv in found if iv.type == gt.type]
        assert iou(hit, gt) >= 0.5
        assert hit.score is not None and hit.score > 0
    s = score_spotting(found, truth)
    assert (s.micro.tp, s.macro.tp, s.overall.n_pred) == (1, 1, 2)


def test_frame_numbers_follow_the_first_frame() -> None:
    rng = np.random.default_rng(1)
    rec, _ = recording("r1", 400, rng, micro=[80], macro=[240])
    moved = RecordingFlow("r1", rec.vector, rec.valid, FPS, first_frame=1000)
    a, b = spot_baseline(rec, PARAMS), spot_baseline(moved, PARAMS)
    assert [(i.onset + 1000, i.offset + 1000, i.type) for i in a] == [
        (i.onset, i.offset, i.type) for i in b
    ]


def test_an_extracted_video_file_is_read_and_numbered_as_its_source(tmp_path: Path) -> None:
    # a 60 fps source analysed at 30 fps: analysed frame j is the source's frame 2j + 5
    rec, _ = recording("r1", 400, np.random.default_rng(1), micro=[80], macro=[240])
    taken = (2 * np.arange(rec.frames) + 5).astype(np.int32)
    arrays = {"vector": rec.vector.astype(np.float32), "valid": rec.valid}
    path = tmp_path / "clip.npz"
    save_npz(path, {**arrays, "analysis_fps": np.array(FPS), "frames": taken}, {"source": "x"})
    read = read_video_features(path)
    assert read.name == "clip" and read.fps == FPS and read.frames == 400
    a, b = spot_baseline(rec, PARAMS), spot_baseline(read, PARAMS)
    assert len(a) == 2
    assert [(2 * i.onset + 5, 2 * i.offset + 5, i.type) for i in a] == [
        (i.onset, i.offset, i.type) for i in b
    ]
    save_npz(path, arrays)
    with pytest.raises(MeflowError, match="analysis_fps, frames"):
        read_video_features(path)
    with pytest.raises(MeflowError, match="non-decreasing"):
        RecordingFlow("r", rec.vector, rec.valid, FPS, frame_numbers=taken[::-1])


def test_pure_noise_gives_nothing_with_a_high_p_and_the_floor() -> None:
    rng = np.random.default_rng(2)
    rec, _ = recording("noise", 600, rng)
    # MDMD's own threshold lies below the recording's maximum whenever p < 1: it spots the
    # highest noise peak; the noise floor (robust sigmas of the contrast) removes it
    assert spot_baseline(rec, BaselineParams(p_micro=0.9, p_macro=0.9))
    quiet = BaselineParams(p_micro=0.9, p_macro=0.9, floor_sigmas=8.0)
    assert spot_baseline(rec, quiet) == []
    assert spot_baseline(rec, BaselineParams(p_micro=1.0, p_macro=1.0)) == []
    # the floor does not hide real bumps
    bumps, truth = recording("r1", 400, np.random.default_rng(1), micro=[80], macro=[240])
    floored = BaselineParams(micro_length_s=7 / FPS, macro_length_s=31 / FPS, floor_sigmas=8.0)
    assert score_spotting(spot_baseline(bumps, floored), truth).overall.tp == 2


def test_missing_flow_neither_crashes_nor_spots() -> None:
    rng = np.random.default_rng(3)
    rec, truth = recording("r1", 400, rng, micro=[80], macro=[240])
    vector, valid = rec.vector.copy(), rec.valid.copy()
    valid[150:170] = False  # face lost for 20 pairs
    vector[150:170] = 50.0  # whatever lies there must not count
    vector[300:310] = np.nan  # no flow at all, pairs still marked valid
    vector[:, 40] = np.nan  # one region never has pixels
    gappy = RecordingFlow("r1", vector, valid, FPS)
    found = spot_baseline(gappy, PARAMS)
    assert score_spotting(found, truth).overall.tp == 2
    assert not any(iv.onset <= 165 and iv.offset >= 155 for iv in found)
    # nothing valid at all, or a recording shorter than the curves need: no interval
    dead = RecordingFlow("d", np.full((100, REGIONS, 2), np.nan), np.zeros(100, bool), FPS)
    assert spot_baseline(dead, PARAMS) == []
    short = RecordingFlow("s", np.zeros((5, REGIONS, 2)), np.ones(5, bool), FPS)
    assert spot_baseline(short, PARAMS) == []


def test_macro_apex_is_not_also_a_micro_expression() -> None:
    rng = np.random.default_rng(4)
    rec, _ = recording("r1", 400, rng, macro=[200])
    keep_all = BaselineParams(
        micro_length_s=7 / FPS,
        macro_length_s=31 / FPS,
        p_micro=0.3,
        drop_micro_in_macro=False,
    )
    # the micro detector also fires at the macro bump's apex (the face moves within 2k there)
    assert any(iv.type == "micro" and 200 <= iv.onset <= 230 for iv in spot_baseline(rec, keep_all))
    dropped = spot_baseline(rec, replace(keep_all, drop_micro_in_macro=True))
    assert not any(iv.type == "micro" and 200 <= iv.onset <= 230 for iv in dropped)


def _subjects(seed: int) -> list[tuple[RecordingFlow, list[Interval]]]:
    rng = np.random.default_rng(seed)
    out = []
    for n in range(4):
        micro = [60 + 10 * n, 330]
        out.append(recording(f"s{seed}_{n}", 500, rng, micro=micro, macro=[160 + 5 * n]))
    return out


def test_p_is_chosen_on_training_recordings_only() -> None:
    train = _subjects(10)
    recs = [r for r, _ in train]
    gts = [g for _, t in train for g in t]
    held, held_truth = recording("held", 500, np.random.default_rng(99), micro=[100], macro=[300])
    # the held-out recording's annotation given too: ignored, it is not a training recording
    choice = choose_params(recs, gts + held_truth, PARAMS, p_grid=(0.2, 0.4, 0.6, 0.8))
    assert len(choice.grid) == 16
    assert choice.f1["overall"] == max(row["overall"] for row in choice.grid)
    assert choice.f1["overall"] >= 0.8
    # changing the held-out recording changes nothing chosen
    _, other_truth = recording("held", 500, np.random.default_rng(7), micro=[50, 400])
    again = choose_params(recs, gts + other_truth, PARAMS, p_grid=(0.2, 0.4, 0.6, 0.8))
    assert again.params == choice.params and again.f1 == choice.f1
    # and the chosen parameters spot the held-out recording
    s = score_spotting(spot_baseline(held, choice.params), held_truth)
    assert s.overall.tp == 2


def test_one_grid_serves_every_fold_without_the_held_out_recording() -> None:
    train = _subjects(12)
    recs = [r for r, _ in train]
    gts = [g for _, t in train for g in t]
    held, held_truth = recording("held", 500, np.random.default_rng(5), micro=[100], macro=[300])
    grid = baseline_grid([*recs, held], gts + held_truth, PARAMS, p_grid=(0.2, 0.5, 0.8))
    assert grid.counts.shape == (5, 9, 2, 3)
    fold = grid.choose(r.name for r in recs)
    alone = choose_params(recs, gts, PARAMS, p_grid=(0.2, 0.5, 0.8))
    assert fold.params == alone.params and fold.f1 == alone.f1 and fold.grid == alone.grid
    # the held-out recording replaced by pure noise, its annotation by two other intervals
    noise, _ = recording("held", 500, np.random.default_rng(6))
    other = [Interval("held", 10, 30, "micro"), Interval("held", 200, 260, "macro")]
    grid2 = baseline_grid([*recs, noise], gts + other, PARAMS, p_grid=(0.2, 0.5, 0.8))
    assert not np.array_equal(grid2.counts[4], grid.counts[4])
    again = grid2.choose(r.name for r in recs)
    assert again.params == fold.params and again.f1 == fold.f1
    # the counts pool as MEGC's score does: the whole grid's best equals a direct score
    best = grid.choose(grid.names)
    preds = [iv for r in [*recs, held] for iv in spot_baseline(r, best.params)]
    direct = score_spotting(preds, gts + held_truth)
    assert best.f1["overall"] == pytest.approx(direct.overall.f1)
    with pytest.raises(MeflowError, match="not in the baseline grid"):
        grid.choose(["nobody"])


def test_length_scales_and_floors_are_searched() -> None:
    train = _subjects(11)
    recs = [r for r, _ in train]
    gts = [g for _, t in train for g in t]
    choice = choose_params(
        recs, gts, PARAMS, p_grid=(0.4, 0.6), length_scales=(1.0, 3.0), floor_grid=(None, 4.0)
    )
    assert len(choice.grid) == 2 * 2 * 2 * 2
    # 3x the lengths makes intervals 3x too long (IoU < 0.5): scale 1 must win
    assert choice.params.micro_length_s == pytest.approx(7 / FPS)


def test_bad_inputs_are_one_line_errors() -> None:
    with pytest.raises(MeflowError, match="vector must be"):
        RecordingFlow("r", np.zeros((10, 42)), np.ones(10, bool), FPS)
    with pytest.raises(MeflowError, match="valid must be"):
        RecordingFlow("r", np.zeros((10, 42, 2)), np.ones(9, bool), FPS)
    with pytest.raises(MeflowError, match="fps"):
        RecordingFlow("r", np.zeros((10, 42, 2)), np.ones(10, bool), 0.0)
    with pytest.raises(MeflowError, match="p_micro"):
        BaselineParams(p_micro=1.5)
    with pytest.raises(MeflowError, match="training recordings"):
        choose_params([], [])
    rec = RecordingFlow("r", np.zeros((10, 42, 2)), np.ones(10, bool), FPS)
    with pytest.raises(MeflowError, match="distinct"):
        choose_params([rec, rec], [])
