"""The learned spotter with the direct pairs' columns (features.spot_lags): trained and spotting
on made-up recordings that carry them, its state, and one-line refusals without them."""

from __future__ import annotations

import numpy as np
import pytest

from meflow.errors import MeflowError
from meflow.features.cache import save_npz
from meflow.spotting.baseline import RecordingFlow, read_video_features
from meflow.spotting.learned import LearnedSpotter, train_learned
from meflow.spotting.learned_features import lag_feature_names, lag_features, raw_lag_features
from meflow.spotting.model import spotter_from_json, spotter_to_json
from meflow.spotting.scoring import Interval, score_spotting

FRAMES = 600
LAGS = (6, 9)
MOUTH = [29, 30, 31, 32, 33, 34]
LIDS = [11, 12, 15, 16]


def _direct(vec: np.ndarray, lags: tuple[int, ...]) -> np.ndarray:
    """(pairs, lags, 42, 2): the vectors of pairs u-k+1..u summed plus one flow's noise, on
    every 2nd frame (NaN elsewhere and before k), as extraction stores them."""
    rng = np.random.default_rng(1)
    pos = np.zeros((vec.shape[0] + 1, *vec.shape[1:]))
    pos[1:] = np.cumsum(vec, axis=0)
    out = np.full((vec.shape[0], len(lags), *vec.shape[1:]), np.nan)
    for j, k in enumerate(lags):
        for u in range(k, vec.shape[0] + 1, 2):
            out[u - 1, j] = pos[u] - pos[u - k] + rng.normal(0, 0.05, vec.shape[1:])
    return out


def _recording(name: str, seed: int) -> tuple[RecordingFlow, list[Interval], list[tuple]]:
    """Micro-expressions seen only by the direct pairs (the consecutive pairs are noise-bound
    there), macro-expressions and blinks seen by both."""
    rng = np.random.default_rng(seed)
    vec = rng.normal(0, 0.1, (FRAMES - 1, 42, 2))
    truth, blinks = [], []
    starts = rng.permutation(8) * 70 + 20
    for i, start in enumerate(starts):
        start = int(start)
        kind = ("micro", "micro", "micro", "macro", "macro", "blink", "blink", "blink")[i]
        n = {"micro": 18, "macro": 50, "blink": 12}[kind]
        amp = {"micro": 2.0, "macro": 5.0, "blink": 3.0}[kind]
        t = np.arange(n + 1) / n
        pos = np.sin(np.pi * t) * amp
        for r in LIDS if kind == "blink" else MOUTH:
            vec[start : start + n, r, 1] += np.diff(pos)
        if kind == "blink":
            blinks.append((start, start + n))
        else:
            truth.append(Interval(name, start, start + n, kind))
    rec = RecordingFlow(name, vec, np.ones(FRAMES - 1, bool), 30.0,
                        lag_vector=_direct(vec, LAGS), spot_lags=LAGS)  # fmt: skip
    return rec, truth, blinks


@pytest.fixture(scope="module")
def data() -> tuple[list[RecordingFlow], list[Interval], dict[str, list[tuple]]]:
    recs, truth, blinks = [], [], {}
    for s in range(4):
        for r in range(2):
            rec, t, b = _recording(f"s{s}/{'ab'[r]}", 10 * s + r)
            recs.append(rec)
            truth += t
            blinks[rec.name] = b
    return recs, truth, blinks


@pytest.fixture(scope="module")
def trained(data) -> LearnedSpotter:
    recs, truth, blinks = data
    return train_learned([r for r in recs if not r.name.startswith("s3/")], truth, blinks,
                         stride=3, inner_folds=3)  # fmt: skip


def _without_lags(rec: RecordingFlow) -> RecordingFlow:
    return RecordingFlow(rec.name, rec.vector, rec.valid, rec.fps)


def test_trains_on_the_lags_every_recording_has_and_spots(data, trained) -> None:
    recs, truth, _ = data
    assert trained.spot_lags == LAGS
    test = [r for r in recs if r.name.startswith("s3/")]
    pred = [iv for r in test for iv in trained.spot(r)]
    s = score_spotting(pred, [g for g in truth if g.recording.startswith("s3/")])
    assert s["macro"].f1 >= 0.5 and s["overall"].f1 >= 0.5
    # one recording without the direct pairs: none are used
    plain = train_learned([_without_lags(recs[0]), *recs[1:6]], truth, stride=3, c_grid=(0.01,))
    assert plain.spot_lags == ()


def test_state_keeps_the_lags_and_a_spotter_needing_them_refuses_features_without(
    data, trained
) -> None:
    recs = data[0]
    back = spotter_from_json(spotter_to_json(trained))
    assert isinstance(back, LearnedSpotter) and back.spot_lags == LAGS
    np.testing.assert_array_equal(back.probabilities(recs[-1]), trained.probabilities(recs[-1]))
    with pytest.raises(MeflowError, match=r"lags \[6, 9\].*none: extract them again") as err:
        trained.spot(_without_lags(recs[-1]))
    assert "\n" not in str(err.value)
    short = RecordingFlow("x", recs[0].vector, recs[0].valid, 30.0,
                          lag_vector=recs[0].lag_vector[:, :1], spot_lags=(6,))  # fmt: skip
    with pytest.raises(MeflowError, match=r"these features have \[6\]"):
        trained.spot(short)


def test_lag_columns_fill_the_frames_not_computed_and_look_forward() -> None:
    lv = np.full((20, 1, 42, 2), np.nan)
    lv[3::2, 0] = 0.0  # frames 4, 6, ... computed
    lv[9, 0, :14, 1] = 3.0  # frame 10: the largest third of the regions moved 3 px
    raw = raw_lag_features(lv, (4,), (4,))
    names = lag_feature_names((4,))
    assert raw.shape == (21, len(names)) and np.isfinite(raw).all()
    top = names.index("top_third:direct_back:4")
    # the median vector over the regions (0) is removed: the moved third keeps its 3 px
    assert raw[10, top] == pytest.approx(3.0)
    assert raw[9, top] == pytest.approx(1.5) and raw[8, top] == pytest.approx(0.0)
    assert raw[6, names.index("top_third:direct_fwd:4")] == pytest.approx(3.0)  # (6, 10)
    assert lag_features(lv, (4,), (4,)).shape == (21, len(names))
    with pytest.raises(MeflowError, match="extract them again"):
        raw_lag_features(lv, (4,), (4, 6))


def test_read_video_features_with_and_without_direct_pairs(tmp_path) -> None:
    base = {
        "vector": np.zeros((5, 42, 2), np.float32),
        "valid": np.ones(5, bool),
        "analysis_fps": np.array(30.0),
        "frames": np.arange(6, dtype=np.int32),
    }
    save_npz(tmp_path / "old.npz", base)
    old = read_video_features(tmp_path / "old.npz")
    assert old.lag_vector is None and old.spot_lags == ()
    lags = {"lag_vector": np.zeros((5, 2, 42, 2), np.float32), "spot_lags": np.array([6, 9])}
    save_npz(tmp_path / "new.npz", {**base, **lags})
    new = read_video_features(tmp_path / "new.npz")
    assert new.spot_lags == (6, 9) and new.lag_vector is not None
    assert new.lag_vector.shape == (5, 2, 42, 2)
    with pytest.raises(MeflowError, match="lag_vector must be"):
        RecordingFlow("x", base["vector"], base["valid"], 30.0,
                      lag_vector=np.zeros((4, 2, 42, 2)), spot_lags=(6, 9))  # fmt: skip
