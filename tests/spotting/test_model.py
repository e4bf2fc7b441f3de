"""The Spotter interface: the baseline as a spotter, its state round trip, unknown kinds."""

from __future__ import annotations

import numpy as np
import pytest

from meflow.errors import MeflowError
from meflow.spotting.baseline import BaselineParams, RecordingFlow
from meflow.spotting.model import BaselineSpotter, spotter_from_state, train_spotter
from meflow.spotting.scoring import Interval


def _recording(name: str, peaks: list[int], frames: int = 400, seed: int = 0) -> RecordingFlow:
    rng = np.random.default_rng(seed)
    vec = rng.normal(0, 0.02, (frames - 1, 42, 2))
    for p in peaks:  # a rise and fall of 20 frames in the lower face
        for t in range(p - 10, p + 10):
            vec[t, 20:, 1] += 0.4 if t < p else -0.4
    return RecordingFlow(name, vec, np.ones(frames - 1, bool), 30.0, first_frame=100)


def test_baseline_spotter_sets_apex_and_round_trips() -> None:
    rec = _recording("s1/a", [150, 300])
    spotter = BaselineSpotter(BaselineParams(p_micro=0.6, p_macro=0.6, floor_sigmas=4.0))
    found = spotter.spot(rec)
    assert found and all(iv.apex is not None and iv.onset <= iv.apex <= iv.offset for iv in found)
    assert all(iv.onset >= 100 for iv in found)  # numbered as the recording
    arrays, meta = spotter.state()
    assert spotter_from_state(arrays, meta).spot(rec) == found


def test_train_baseline_and_unknown_kinds() -> None:
    recs = [_recording(f"s{i}/a", [150, 300], seed=i) for i in range(2)]
    truth = [
        Interval(r.name, 100 + p - 10, 100 + p + 10, "micro") for r in recs for p in (150, 300)
    ]
    spotter = train_spotter("baseline", recs, truth)
    assert spotter.name == "baseline"
    with pytest.raises(MeflowError, match="unknown spotter"):
        train_spotter("nope", recs, truth)
    with pytest.raises(MeflowError, match="version"):
        spotter_from_state({}, {"spotter": "baseline", "version": 99, "params": {}})


def test_apex_outside_interval_is_refused() -> None:
    with pytest.raises(MeflowError, match="apex"):
        Interval("r", 10, 20, "micro", apex=25)


def test_spotter_file_round_trip_and_seal(tmp_path) -> None:
    from meflow.spotting.model import load_spotter, save_spotter, spotter_from_json, spotter_to_json

    spotter = BaselineSpotter(BaselineParams(p_micro=0.3))
    assert spotter_from_json(spotter_to_json(spotter)) == spotter
    path = save_spotter(tmp_path / "spotter.json", spotter)
    assert load_spotter(path) == spotter
    path.write_text(path.read_text().replace("0.3", "0.4"))
    with pytest.raises(MeflowError, match="altered"):
        load_spotter(path)
    with pytest.raises(MeflowError, match="no such"):
        load_spotter(tmp_path / "missing.json")
