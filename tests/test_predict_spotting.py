"""meflow predict with a spotter: the model file carries it (sealed), intervals are spotted and
each micro-expression classified with its window centred on the spotted apex; "no expression
found" on a real face with blinks and head motion only."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _fixed_spotter import FixedSpotter
from _untrained_model import CLASSES, save_untrained_model
from conftest import shared_file
from meflow.cli import main
from meflow.errors import MeflowError
from meflow.inference import attach_spotter, load_model, predict_video
from meflow.inference.windows import anchored_order, features_on
from meflow.spotting.baseline import BaselineParams
from meflow.spotting.model import BaselineSpotter, Spotter, save_spotter

INTERVAL_COLUMNS = [
    "type",
    "onset_frame",
    "apex_frame",
    "offset_frame",
    "onset_s",
    "apex_s",
    "offset_s",
    "score",
    "emotion",
    *CLASSES,
]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_spotter() -> Spotter:
    """The spotter these tests attach to the model: swapping it is this one line. The
    baseline's floor (median + 8.5 robust sigmas of its contrast) was chosen on the synthetic
    recordings below (7 to 10 all pass)."""
    return BaselineSpotter(BaselineParams(floor_sigmas=8.5))


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained scale-n model with a meta like train_model's (default extraction)."""
    return save_untrained_model(tmp_path_factory.mktemp("model") / "model.safetensors")


@pytest.fixture(scope="module")
def spotting_model(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``model_path`` with ``make_spotter()`` attached."""
    out = tmp_path_factory.mktemp("spotting") / "model.safetensors"
    return attach_spotter(model_path, make_spotter(), out)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


# --- the model file carries the spotter ----------------------------------------------------


def test_an_attached_spotter_is_loaded_with_the_model(
    model_path: Path, spotting_model: Path
) -> None:
    assert load_model(model_path).spotter is None
    loaded = load_model(spotting_model)
    assert loaded.spotter == make_spotter()
    # the recogniser is the same network, weight for weight
    plain = load_model(model_path).model.state_dict()
    for k, v in loaded.model.state_dict().items():
        assert np.array_equal(v.numpy(), plain[k].numpy())


def test_an_edited_spotter_is_refused(spotting_model: Path, tmp_path: Path) -> None:
    raw = spotting_model.read_bytes()
    old, new = b'\\"floor_sigmas\\":8.5', b'\\"floor_sigmas\\":9.5'
    assert raw.count(old) == 1
    bad = tmp_path / "edited.safetensors"
    bad.write_bytes(raw.replace(old, new))
    with pytest.raises(MeflowError, match="was modified after it was saved"):
        load_model(bad)


def test_attach_spotter_rewrites_the_file_in_place(model_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    path.write_bytes(model_path.read_bytes())
    assert attach_spotter(path, make_spotter()) == path
    assert load_model(path).spotter == make_spotter()
    other = BaselineSpotter(BaselineParams(floor_sigmas=3.0))
    attach_spotter(path, other)  # a second one replaces the first
    assert load_model(path).spotter == other


# --- where a spotted interval's window lies ------------------------------------------------


def _features(frames: int, seed: int = 0) -> Any:
    from meflow.features.sequence import SequenceFeatures

    rng = np.random.default_rng(seed)
    pairs = frames - 1
    vector = rng.normal(size=(pairs, 42, 2)).astype(np.float32)
    return SequenceFeatures(
        np.arctan2(vector[..., 1], vector[..., 0]) % (2 * np.pi),
        np.hypot(vector[..., 0], vector[..., 1]),
        np.ones(pairs, bool),
        np.ones(frames, bool),
        {},
        vector,
        vector.copy(),
    )


@pytest.mark.parametrize("apex", [0, 10, 32, 100, 167, 199])
def test_the_spotted_window_is_centred_on_the_apex(apex: int) -> None:
    """65 frames, the apex the 33rd (as training centres its windows); past the video's ends
    the first or last frame is repeated, so the pairs there carry no motion and the others
    are exactly the video's own."""
    feats = _features(200)
    order = anchored_order(apex, 200, 64)
    assert len(order) == 65 and order[32] == apex
    assert list(order) == [min(max(f, 0), 199) for f in range(apex - 32, apex + 33)]
    win = features_on(feats, order)
    assert win.vector.shape == (64, 42, 2) and win.valid.all()
    for u in range(64):  # pair u joins window frames u and u + 1
        a, b = apex - 32 + u, apex - 32 + u + 1
        if a >= 0 and b <= 199:
            assert np.array_equal(win.vector[u], feats.vector[a])
        else:
            assert not win.vector[u].any() and np.isnan(win.angle[u]).all()


def test_anchor_outside_the_video_is_refused() -> None:
    with pytest.raises(MeflowError, match="outside"):
        anchored_order(200, 200, 64)


@pytest.fixture(scope="module")
def fixed_run(
    shared_data: Path, model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, list[np.ndarray], Path]:
    """predict on single_face.mp4 with a micro interval spotted at analysed frames 12..28
    (apex 20), a macro one at 30..60: (result, the window orders used, output folder)."""
    import meflow.inference.spotting as spotting

    video = shared_file(shared_data, "videos/single_face.mp4")
    out = tmp_path_factory.mktemp("fixed")
    seen: list[np.ndarray] = []
    real = spotting.features_on

    def spy(feats: Any, order: np.ndarray) -> Any:
        seen.append(order.copy())
        return real(feats, order)

    spotter = FixedSpotter((("macro", 30, 45, 60), ("micro", 12, 20, 28)))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(spotting, "features_on", spy)
        res = predict_video(video, model_path, out, spotter=spotter)
    return res, seen, out


def test_a_spotted_micro_expression_is_classified_on_its_own_window(
    fixed_run: tuple[Any, list[np.ndarray], Path],
) -> None:
    res, seen, _ = fixed_run
    [order] = seen  # one window: the micro-expression's (a macro-expression gets none)
    assert list(order) == [max(f, 0) for f in range(20 - 32, 20 + 33)]
    micro, macro = res.intervals[0], res.intervals[1]  # in time order
    assert (micro.type, micro.onset_frame, micro.apex_frame, micro.offset_frame) == (
        "micro",
        12,
        20,
        28,
    )
    assert micro.apex_s == pytest.approx(20 / 30, abs=0.02)
    probs = np.array([micro.probabilities[c] for c in CLASSES])
    assert probs.sum() == pytest.approx(1.0) and micro.emotion == CLASSES[int(probs.argmax())]
    assert macro.type == "macro" and macro.probabilities is None and macro.emotion is None


def test_intervals_json_and_csv_hold_the_same_rows(
    fixed_run: tuple[Any, list[np.ndarray], Path],
) -> None:
    res, _, out = fixed_run
    doc = json.loads((out / "single_face.json").read_text())
    assert doc["spotter"] == "fixed"
    rows = doc["intervals"]
    assert [list(r) for r in rows] == [
        [*INTERVAL_COLUMNS[:8], "probabilities", "emotion"] for _ in rows
    ]
    assert [r["type"] for r in rows] == ["micro", "macro"]
    table = _rows(out / "single_face_intervals.csv")
    with (out / "single_face_intervals.csv").open() as f:
        assert next(csv.reader(f)) == INTERVAL_COLUMNS
    for r, t in zip(rows, table, strict=True):
        for k in ("type", "onset_frame", "apex_frame", "offset_frame"):
            assert str(r[k]) == t[k]
        for k in ("onset_s", "apex_s", "offset_s", "score"):
            assert float(t[k]) == pytest.approx(r[k], abs=1e-6)
        assert t["emotion"] == (r["emotion"] or "")
        for c in CLASSES:
            want = "" if r["probabilities"] is None else f"{r['probabilities'][c]:.6f}"
            assert t[c] == want
    # the windows stay, as without a spotter
    assert len(doc["windows"]) == len(res.windows) == len(_rows(out / "single_face.csv"))
    assert (out / "single_face_timeline.png").stat().st_size > 0


def test_the_command_prints_the_intervals_or_says_none_were_found(
    shared_data: Path,
    model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    video = shared_file(shared_data, "videos/single_face.mp4")
    assert main(["predict", str(video), "--model", str(model_path), "--out", str(tmp_path)]) == 0
    plain = capsys.readouterr().out
    assert "carries no spotter" in plain and "--spotter" in plain
    assert not (tmp_path / "single_face_intervals.csv").exists()
    assert "intervals" not in json.loads((tmp_path / "single_face.json").read_text())
    # a spotter file given beside the model (a floor no motion of this clip reaches)
    spot = save_spotter(
        tmp_path / "spotter.json", BaselineSpotter(BaselineParams(floor_sigmas=1e6))
    )
    out = tmp_path / "with"
    args = ["predict", str(video), "--model", str(model_path), "--spotter", str(spot)]
    assert main([*args, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "no expression found" in text and "carries no spotter" not in text
    assert json.loads((out / "single_face.json").read_text())["intervals"] == []
    assert _rows(out / "single_face_intervals.csv") == []


# --- long recordings: synthetic expressions, and a face with blinks and head motion only ---


def _long_recording(root: Path, expressions: bool) -> tuple[Path, Path]:
    """(the frame folder, the v2.xls) of one synthetic 20 s CAS(ME)^3-layout recording of a
    real face: with expressions (meflow synth, its default rates) or with blinks and head
    motion and no expression (micro and macro rates 0)."""
    from meflow.synth.long import LONG_FILE, generate_long

    if expressions:
        args = ["--layout", "casme3-long", "--seconds", "20", "--recordings", "1"]
        assert main(["synth", *args, "--subjects", "1", "--out", str(root)]) == 0
    else:
        rates = {"micro": 0.0, "macro": 0.0, "blink": 12.0}
        s = generate_long(root, 1, 3, 1, 20.0, progress=False, rates=rates)
        events = s.recordings[0].events
        assert {e.type for e in events} == {"blink"} and len(events) >= 3
        assert s.recordings[0].head_moves  # the head moves too
    [folder] = sorted(root.glob("spNO.*/*/color"))
    return folder, root / LONG_FILE


# The learned spotter meflow demo trains (runs/demo/spot/spotter.json of `meflow demo`: 5
# synthetic subjects of other faces' recordings than these, one 30 s recording each), kept as a
# file so these tests need no long extraction; a new SPOTTER_VERSION makes its load fail here,
# and `meflow demo --out RUN` remakes it (RUN/spot/spotter.json; from a finished demo's RUN
# alone: `meflow spot --dataset casme3 --root RUN/long --features RUN/spot/features --out NEW
# --no-recognition --no-figures`, then NEW/spotter.json).
LEARNED_SPOTTER = Path(__file__).parent / "spotting" / "data" / "learned_spotter.json"


@pytest.fixture(scope="module", params=["baseline", "learned"])
def long_model(
    request: pytest.FixtureRequest, model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The model with the baseline spotter above, or with meflow's learned spotter."""
    from meflow.spotting.model import load_spotter

    spotter = make_spotter() if request.param == "baseline" else load_spotter(LEARNED_SPOTTER)
    out = tmp_path_factory.mktemp(f"long-{request.param}") / "model.safetensors"
    return attach_spotter(model_path, spotter, out)


@pytest.mark.slow
def test_a_synthetic_long_recording_gets_intervals_that_overlap_the_annotated_ones(
    long_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from meflow.spotting.ground_truth import load_casme3

    folder, xls = _long_recording(tmp_path / "synth", expressions=True)
    truth = [i for i in load_casme3(xls).intervals if i.type in ("micro", "macro")]
    assert truth
    capsys.readouterr()
    assert main(["predict", str(folder), "--model", str(long_model), "--out", str(tmp_path)]) == 0
    assert "-expression: frames" in capsys.readouterr().out
    found = json.loads((tmp_path / "color.json").read_text())["intervals"]
    assert found

    def iou(r: dict[str, Any], t: Any) -> float:
        inter = min(r["offset_frame"], t.offset) - max(r["onset_frame"], t.onset) + 1
        union = max(r["offset_frame"], t.offset) - min(r["onset_frame"], t.onset) + 1
        return max(inter, 0) / union

    # every interval lies on an annotated expression, and one matches it as MEGC counts
    assert all(max(iou(r, t) for t in truth) > 0 for r in found)
    assert any(iou(r, t) >= 0.5 and r["type"] == t.type for r in found for t in truth)


@pytest.mark.slow
def test_a_face_with_blinks_and_head_motion_only_gets_no_expression(
    long_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = _long_recording(tmp_path / "synth", expressions=False)
    assert main(["predict", str(folder), "--model", str(long_model), "--out", str(tmp_path)]) == 0
    assert "no expression found" in capsys.readouterr().out
    assert json.loads((tmp_path / "color.json").read_text())["intervals"] == []
