"""benchmarks/spot.py without synthesis or extraction: frame numbers from the images' names,
leave-one-subject-out on made-up region flow (baseline and learned spotter), the pooled table,
chance, the paired differences and blink shares."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from _benchmarks import benchmark_helper
from meflow.features.cache import save_npz
from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.scoring import Interval, score_spotting

benchmark_helper("_results")  # spot.py imports these by name
spot_eval = benchmark_helper("_spot_eval")
spot_learned = benchmark_helper("_spot_learned")
spot = benchmark_helper("spot")
FRAMES = 450


def _bump(vector: np.ndarray, onset: int, offset: int, px: float) -> None:
    """A movement out to the apex and back: +px per pair up to the middle, -px after it."""
    apex = (onset + offset) // 2
    vector[onset:apex, :, 0] += px
    vector[apex:offset, :, 0] -= px


def _made_up(subjects: int = 3) -> tuple[list[RecordingFlow], spot.Truth]:
    """Two recordings per subject, each a micro (21 frames) and a macro (73), plus a blink."""
    rng = np.random.default_rng(5)
    recordings, expressions, blinks = [], [], {}
    for s in range(subjects):
        for r, shift in enumerate((0, 40)):
            name = f"sp{s}/{'ab'[r]}"
            v = rng.normal(0.0, 0.02, (FRAMES - 1, 42, 2))
            micro, macro = (60 + shift + 7 * s, 80 + shift + 7 * s), (250 + shift, 322 + shift)
            _bump(v, *micro, 0.4)
            _bump(v, *macro, 0.8)
            # frames numbered from 1, as a folder of 1.jpg .. 450.jpg
            numbers = np.arange(1, FRAMES + 1)
            recordings.append(RecordingFlow(name, v, np.ones(FRAMES - 1, bool), 30.0, 0, numbers))
            expressions += [
                Interval(name, micro[0] + 1, micro[1] + 1, "micro"),
                Interval(name, macro[0] + 1, macro[1] + 1, "macro"),
            ]
            blinks[name] = [(micro[0] - 2, micro[0] + 5), (400, 408)]
    subject_of = {r.name: r.name.split("/")[0] for r in recordings}
    return recordings, spot.Truth(expressions, blinks, subject_of)


def _opts(**kw: object) -> argparse.Namespace:
    base = spot.parse_args(["--work", "unused", "--chance-draws", "20", "--bootstrap", "50"])
    return argparse.Namespace(**{**vars(base), **kw})


@pytest.fixture(scope="module")
def evaluated() -> tuple:
    recordings, truth = _made_up()
    opts = _opts()
    ev = spot.evaluate(recordings, truth, opts)
    return recordings, truth, ev, spot.spotting_rows({"baseline (MDMD)": ev}, truth, opts)


def test_the_table_pools_the_held_out_predictions_and_chance_spots_as_many(evaluated) -> None:
    recordings, truth, ev, rows = evaluated
    assert [r[:2] for r in rows] == [
        [who, kind]
        for who in ("baseline (MDMD)", "chance (baseline's counts)")
        for kind in spot.KINDS
    ]
    score = score_spotting(ev.predictions, truth.expressions)
    for row, kind in zip(rows[:3], spot.KINDS, strict=True):
        c = score[kind]
        assert row[2:8] == [str(c.tp), str(c.n_pred), str(c.n_gt),
                            f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}"]  # fmt: skip
    # chance spots as many as the baseline, on the same ground truths
    assert [r[3:5] for r in rows[3:]] == [r[3:5] for r in rows[:3]]
    # the made-up expressions are clean: the baseline finds them, chance hardly
    assert score["overall"].f1 > 0.8
    assert float(rows[5][7]) < 0.3
    diff, low, _ = (float(v.strip("[],")) for v in rows[2][8].split())
    assert diff == pytest.approx(float(rows[2][7]) - float(rows[5][7]), abs=2e-3) and low > 0
    # every recording is spotted once, by its own fold, in the annotation's numbers (from 1)
    assert {p.recording for p in ev.predictions} == {r.name for r in recordings}
    assert min(p.onset for p in ev.predictions) >= 1
    assert [f[0] for f in ev.folds] == ["sp0", "sp1", "sp2"]


def test_the_learned_spotter_is_evaluated_fold_by_fold_beside_the_baseline(evaluated) -> None:
    recordings, truth, ev, _ = evaluated
    opts = _opts(learned_stride=3, inner_folds=2)
    lv = spot_learned.evaluate_learned(recordings, truth, opts)
    # every recording spotted once, by the fold that held its subject out
    assert {p.recording for p in lv.predictions} <= {r.name for r in recordings}
    assert [f[0] for f in lv.folds] == ["sp0", "sp1", "sp2"]
    assert all(f[2].startswith("C ") for f in lv.folds)  # the fold's own choice, printed
    diffs = spot_eval.difference_rows(("learned", lv), ("baseline", ev), truth, opts)
    assert [d[0] for d in diffs] == ["learned - baseline", "learned - chance", "baseline - chance"]
    assert all(len(d) == 4 for d in diffs)


def test_blink_shares_count_touching_and_half_held_blinks() -> None:
    blinks = {"x": [(10, 19)]}
    touching = Interval("x", 19, 40, "micro")  # one frame of the blink
    holding = Interval("x", 15, 40, "micro")  # 5 of its 10 frames
    away = Interval("x", 20, 40, "micro")
    assert [spot_eval.on_blink(iv, blinks) for iv in (touching, holding, away)] == [
        True,
        True,
        False,
    ]
    assert [spot_eval.holds_blink(iv, blinks) for iv in (touching, holding, away)] == [
        False,
        True,
        False,
    ]
    truth = spot.Truth([Interval("x", 20, 40, "micro")], blinks, {"x": "s"})
    ev = spot.Evaluation([away, holding, touching])  # 'away' matches the ground truth
    shares = spot_eval.blink_shares(ev, truth)
    assert shares["touch"] == pytest.approx(2 / 3)
    assert shares["false_holding"] == pytest.approx(1 / 3)
    assert shares["of_false"] == pytest.approx(1 / 2)


def test_a_recording_is_numbered_as_its_images_are_named(tmp_path: Path) -> None:
    color = tmp_path / "spNO.1" / "a" / "color"
    color.mkdir(parents=True)
    for n in range(1, 13):  # 1.jpg .. 12.jpg: natural order, not 1, 10, 11, 12, 2, ...
        (color / f"{n}.jpg").write_bytes(b"")
    npz = tmp_path / "color.npz"
    arrays = {"vector": np.zeros((11, 42, 2)), "valid": np.ones(11, bool)}
    save_npz(npz, {**arrays, "analysis_fps": np.array(30.0), "frames": np.arange(12)})
    assert spot.recording_folders(tmp_path) == [("spNO.1", "a", color)]
    rec = spot.load_recording("spNO.1", "a", color, npz)
    assert rec.name == "spNO.1/a"
    assert [rec.number(0), rec.number(9), rec.number(11)] == [1, 10, 12]


def test_features_extracted_with_other_settings_are_never_reused(tmp_path: Path) -> None:
    from dataclasses import replace

    from meflow.config import ExtractConfig, FaceConfig, to_dict

    color = tmp_path / "data" / "sp1" / "a" / "color"
    color.mkdir(parents=True)
    npz = tmp_path / "features" / "sp1_a" / "color.npz"
    npz.parent.mkdir(parents=True)
    other = replace(ExtractConfig(), face=FaceConfig(landmark_stride=3))
    save_npz(npz, {"valid": np.ones(3, bool)}, {"extract": to_dict(other)})
    with pytest.raises(SystemExit, match="extracted with other settings"):
        spot.extract_all([("sp1", "a", color)], tmp_path / "features", workers=1)
    # the defaults' own file is reused: nothing to extract
    save_npz(npz, {"valid": np.ones(3, bool)}, {"extract": to_dict(ExtractConfig())})
    assert spot.extract_all([("sp1", "a", color)], tmp_path / "features", workers=1) == 0
