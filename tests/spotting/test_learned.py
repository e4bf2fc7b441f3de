"""The learned spotter on made-up recordings: micro and macro bumps, blinks, head motion, noise."""

from __future__ import annotations

import json

import numpy as np
import pytest

from meflow.errors import MeflowError
from meflow.spotting.baseline import RecordingFlow
from meflow.spotting.learned import LearnedSpotter, train_learned
from meflow.spotting.learned_decode import DecodeParams, decode, smooth
from meflow.spotting.learned_features import feature_names, frame_features, frame_labels
from meflow.spotting.learned_linear import fit_linear, predict_proba
from meflow.spotting.model import (
    spotter_from_json,
    spotter_from_state,
    spotter_to_json,
    train_spotter,
)
from meflow.spotting.scoring import Interval, score_spotting

FRAMES = 900
MOUTH = [29, 30, 31, 32, 33, 34]  # 0-based: lip and lip-corner regions
BROWS = [6, 7, 8, 9, 10]
LIDS = [11, 12, 15, 16]  # upper and lower eyelids


def _bump(vec: np.ndarray, onset: int, length: int, regions: list[int], amp: float) -> None:
    """A rise to ``amp`` px (y) at a third of the interval and back, in pairs onset..offset."""
    t = np.arange(length + 1, dtype=float)
    apex = length / 3
    pos = np.where(t <= apex, t / apex, (length - t) / (length - apex)) * amp
    pos = np.sin(np.clip(pos / amp, 0, 1) * np.pi / 2) * amp
    for r in regions:
        vec[onset : onset + length, r, 1] += np.diff(pos)


def _recording(name: str, seed: int) -> tuple[RecordingFlow, list[Interval], list[tuple]]:
    """One recording: 3 micro, 3 macro, 4 blinks, 2 head moves, noise; frames from 1000."""
    rng = np.random.default_rng(seed)
    vec = rng.normal(0, 0.08, (FRAMES - 1, 42, 2))
    slots = rng.permutation(12)[:12] * 70 + 20  # event starts 70 frames apart at least
    events = ["micro"] * 3 + ["macro"] * 3 + ["blink"] * 4 + ["head"] * 2
    truth, blinks = [], []
    for start, kind in zip(slots, events, strict=True):
        start = int(start + rng.integers(0, 5))
        if kind == "micro":
            n = int(rng.integers(14, 26))
            _bump(vec, start, n, MOUTH if rng.random() < 0.5 else BROWS, 1.2)
            truth.append(Interval(name, 1000 + start, 1000 + start + n, "micro"))
        elif kind == "macro":
            n = int(rng.integers(45, 65))
            _bump(vec, start, n, MOUTH + BROWS, 4.0)
            truth.append(Interval(name, 1000 + start, 1000 + start + n, "macro"))
        elif kind == "blink":
            n = int(rng.integers(10, 16))
            _bump(vec, start, n, LIDS, 3.0)
            blinks.append((1000 + start, 1000 + start + n))
        else:  # a head move: every region shifts together
            vec[start : start + 20, :, 0] += rng.normal(0, 0.4)
    rec = RecordingFlow(name, vec, np.ones(FRAMES - 1, bool), 30.0, first_frame=1000)
    return rec, truth, blinks


@pytest.fixture(scope="module")
def data() -> tuple[list[RecordingFlow], list[Interval], dict[str, list[tuple]]]:
    recs, truth, blinks = [], [], {}
    for s in range(5):
        for r in range(2):
            rec, t, b = _recording(f"s{s}/{'ab'[r]}", 10 * s + r)
            recs.append(rec)
            truth += t
            blinks[rec.name] = b
    return recs, truth, blinks


@pytest.fixture(scope="module")
def trained(data) -> LearnedSpotter:
    recs, truth, blinks = data
    train = [r for r in recs if not r.name.startswith("s4/")]
    spotter = train_spotter("learned", train, truth, blinks, stride=3)
    assert isinstance(spotter, LearnedSpotter)
    return spotter


def test_finds_the_held_out_subjects_expressions_and_not_its_blinks(data, trained) -> None:
    recs, truth, blinks = data
    test = [r for r in recs if r.name.startswith("s4/")]
    found = [iv for r in test for iv in trained.spot(r)]
    gt = [g for g in truth if g.recording.startswith("s4/")]
    s = score_spotting(found, gt)
    # chance places these few intervals with F1 near 0; a spotter typing every interval
    # macro, or missing the short ones, gives micro F1 0
    assert s.micro.f1 >= 0.35 and s.macro.f1 >= 0.8, s
    on_blink = [
        iv for iv in found for lo, hi in blinks[iv.recording] if lo <= iv.offset and iv.onset <= hi
    ]
    assert not on_blink
    assert all(iv.onset <= iv.apex <= iv.offset and 0 < iv.score <= 1 for iv in found)
    assert all(iv.onset >= 1000 for iv in found)  # numbered as the recording numbers frames


def test_decoding_was_chosen_on_inner_folds(trained) -> None:
    assert trained.info["inner_folds"] == 3
    assert trained.info["recordings"] == 8
    assert set(trained.info["inner_f1"]) == {"micro", "macro", "overall"}


def test_state_and_json_round_trip(data, trained) -> None:
    rec = data[0][-1]
    arrays, meta = trained.state()
    assert meta["spotter"] == "learned" and meta["version"] == 1
    assert spotter_from_state(arrays, meta).spot(rec) == trained.spot(rec)
    again = spotter_from_json(json.loads(json.dumps(spotter_to_json(trained))))
    assert again.spot(rec) == trained.spot(rec)
    broken = dict(meta, decode={**meta["decode"], "extent": 2.0})
    with pytest.raises(MeflowError, match="extent"):
        spotter_from_state(arrays, broken)
    with pytest.raises(MeflowError, match="classifier"):
        spotter_from_state({k: v for k, v in arrays.items() if k != "coef"}, meta)


def test_training_is_deterministic(data, trained) -> None:
    recs, truth, blinks = data
    train = [r for r in recs if not r.name.startswith("s4/")]
    again = train_learned(train, truth, blinks, stride=3)
    assert again.decode == trained.decode
    assert all(np.array_equal(again.model[k], trained.model[k]) for k in trained.model)


def test_linear_model_gives_the_estimators_probabilities() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5)) * [1, 2, 3, 4, 5] + 3
    y = (x[:, 0] > 3).astype(int) + 2 * (x[:, 1] > 5)
    model = fit_linear(x, y)
    clf = LogisticRegression(max_iter=300, class_weight="balanced")
    clf.fit((x - x.mean(axis=0)) / x.std(axis=0), y)
    probe = rng.normal(size=(200, 5)) * 3
    expected = clf.predict_proba((probe - x.mean(axis=0)) / x.std(axis=0))
    assert np.allclose(predict_proba(model, probe), expected, atol=1e-6)
    assert (predict_proba(model, probe).argmax(axis=1) == expected.argmax(axis=1)).all()


def test_features_labels_and_decoding_on_a_tiny_case() -> None:
    vec = np.zeros((59, 42, 2))
    vec[:, :, 0] = 1.0  # the whole face moves: global motion, removed
    feats = frame_features(vec, np.ones(59, bool), 30.0)
    assert feats.shape == (60, len(feature_names())) and np.allclose(feats, 0)
    y = frame_labels(10, np.arange(10) + 5, [(7, 8, "micro"), (10, 12, "macro")], [(13, 13)])
    assert y.tolist() == [0, 0, 1, 1, 0, 2, 2, 2, 3, 0]
    assert np.allclose(smooth(np.array([0, 3.0, 0]), 3), [1.5, 1, 1.5])
    prob = np.zeros((30, 4))
    prob[:, 0] = 1
    prob[5:12] = [0, 0.9, 0.1, 0]  # a micro run
    prob[20:28] = [0.3, 0.2, 0.5, 0]  # a macro run (peak 0.7)
    params = DecodeParams(smooth_frames=1, extent=0.5, detect_micro=0.8, detect_macro=0.8)
    assert decode(prob, params) == [(5, 11, "micro", 1.0, 5)]
    params = DecodeParams(smooth_frames=1, extent=0.5, detect_micro=0.8, detect_macro=0.6, pad=1)
    assert [d[:3] for d in decode(prob, params)] == [(4, 12, "micro"), (19, 28, "macro")]


def test_bad_input_is_refused_in_one_line(data) -> None:
    recs, truth, blinks = data
    micro_only = [g for g in truth if g.type == "micro"]
    with pytest.raises(MeflowError, match="micro and macro"):
        train_learned(recs[:4], micro_only, blinks)
    with pytest.raises(MeflowError, match="inner_folds"):
        train_learned(recs[:4], truth, blinks, inner_folds=1)
    with pytest.raises(MeflowError, match="smooth_frames"):
        DecodeParams(smooth_frames=4)
    with pytest.raises(MeflowError, match="region vectors"):
        frame_features(np.zeros((5, 40, 2)), np.ones(5, bool), 30.0)
    for exc in (MeflowError,):
        with pytest.raises(exc) as info:
            train_spotter("learned", recs[:2], micro_only, blinks)
        assert "\n" not in str(info.value)


def test_nothing_is_spotted_where_no_valid_pair_touches_a_frame() -> None:
    """Frames without a face (no valid pair on either side) are 'neither' for certain."""
    from meflow.spotting.learned import unseen_as_neither

    prob = np.full((6, 4), 0.25)
    valid = np.array([False, False, True, False, False])  # pairs 0..4 join frames t, t + 1
    out = unseen_as_neither(prob, valid)
    assert out[[0, 1, 4, 5]].tolist() == [[1.0, 0.0, 0.0, 0.0]] * 4
    assert np.array_equal(out[[2, 3]], prob[[2, 3]])  # pair 2 touches frames 2 and 3
    assert np.array_equal(prob, np.full((6, 4), 0.25))  # the input is left as it was
