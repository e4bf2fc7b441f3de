"""The synthetic dataset: layout, determinism, counts, faces MediaPipe can find, motion."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from meflow.datasets.base import EMOTIONS
from meflow.errors import MeflowError
from meflow.synth.generator import (
    SynthSummary,
    expression_displacement,
    generate,
    identity_for,
)
from meflow.synth.identity import (
    BASE_LANDMARKS,
    FRAME_SIZE,
    base_image,
    neutral_identity,
)
from meflow.synth.layout import (
    CASME3_WORD,
    LABEL_COLUMNS,
    LABEL_FILE,
    deterministic_xlsx,
    label_rows,
)
from meflow.synth.motion import (
    FaceAxes,
    blink_field,
    expression_field,
    temporal_profile,
)
from meflow.synth.plan import ClipPlan, class_counts, plan
from meflow.synth.profiles import PROFILES
from meflow.synth.render import render_clip

FRAMES = 40  # short clips keep the tests fast; the default is 80
WORD_TO_EMOTION = {v: k for k, v in CASME3_WORD.items()}


def _small(out: Path, seed: int = 0, subjects: int = 2) -> SynthSummary:
    return generate(
        out, subjects=subjects, seed=seed, progress=False, frames=FRAMES, clips_per_subject=6
    )


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    return _small(tmp_path_factory.mktemp("synth") / "a")


def _read_labels(path: Path):  # -> pandas.DataFrame
    import pandas as pd

    return pd.read_excel(path, sheet_name="label")


def test_layout_and_columns(small: SynthSummary) -> None:
    out = small.out
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["spNO.1", "spNO.2", LABEL_FILE, "subjects.csv", "synth.json"]
    )
    df = _read_labels(out / LABEL_FILE)
    assert tuple(df.columns) == LABEL_COLUMNS
    assert len(df) == small.samples == 12
    assert set(df["emotion"]) <= {"happy", "sad", "surprise", "anger", "disgust", "fear"}
    for row in df.itertuples(index=False):
        folder = out / row.Subject / row.Filename / "color"
        names = sorted(int(p.stem) for p in folder.glob("*.jpg"))
        assert names == list(range(FRAMES))  # frame files 0..frames-1 are the annotated numbers
        assert 0 < row.Onset < row.Apex < row.Offset < FRAMES - 1
        assert row.Filename in "abcdefghijklm"
        assert row.AU.replace("+", "").isdigit()
    lines = (out / "subjects.csv").read_text().splitlines()
    assert lines[0] == "subject,gender"
    assert {ln.split(",")[1] for ln in lines[1:]} <= {"male", "female"}
    assert [ln.split(",")[0] for ln in lines[1:]] == ["spNO.1", "spNO.2"]
    meta = json.loads((out / "synth.json").read_text())
    assert meta["generator"] == "meflow synth" and meta["complete"] is True
    assert meta["parameters"]["seed"] == 0 and meta["parameters"]["frames"] == FRAMES
    assert small.frames_written == 12 * FRAMES
    for clip in small.clips:  # the realistic profile's durations, as rendered
        assert 8 <= clip.offset - clip.onset <= 20


def test_counts_match_label_file(small: SynthSummary) -> None:
    df = _read_labels(small.label_file)
    counted = Counter(WORD_TO_EMOTION[w] for w in df["emotion"])
    assert counted == Counter({e: n for e, n in small.samples_per_class.items() if n})
    assert all(small.samples_per_class[e] == 2 for e in EMOTIONS)  # 12 clips: the floor of 2


def test_same_seed_same_bytes_other_seed_differs(small: SynthSummary, tmp_path: Path) -> None:
    again = _small(tmp_path / "b")
    for name in (LABEL_FILE, "subjects.csv", "synth.json"):
        assert (again.out / name).read_bytes() == (small.out / name).read_bytes(), name
    frame = Path("spNO.1") / small.clips[0].clip / "color" / f"{small.clips[0].apex}.jpg"
    assert (again.out / frame).read_bytes() == (small.out / frame).read_bytes()
    other = deterministic_xlsx(label_rows(plan(2, seed=1, frames=FRAMES)[1]))
    assert other != (small.out / LABEL_FILE).read_bytes()
    assert other == deterministic_xlsx(label_rows(plan(2, seed=1, frames=FRAMES)[1]))


def test_default_class_proportions_and_genders() -> None:
    counts = class_counts(160)
    assert sum(counts.values()) == 160 and min(counts.values()) >= 2
    # CAS(ME)^3's order: disgust > surprise > fear > anger > sadness >= happiness
    assert counts["disgust"] > counts["surprise"] > counts["fear"] > counts["anger"]
    assert counts["anger"] >= counts["sadness"] >= counts["happiness"]
    people, clips = plan(16, seed=0)
    assert Counter(p.gender for p in people) == {"male": 7, "female": 9}
    assert len(clips) == 160
    for emotion in EMOTIONS:
        subjects = {c.subject.name for c in clips if c.emotion == emotion}
        assert len(subjects) == min(counts[emotion], 16)  # spread over subjects
    for p in people:
        letters = [c.clip for c in clips if c.subject == p]
        assert len(set(letters)) == len(letters) == 10


def test_refuses_foreign_folder_and_replaces_own(small: SynthSummary, tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(MeflowError, match="not a previous 'meflow synth' output"):
        _small(foreign)
    assert (foreign / "notes.txt").exists()
    with pytest.raises(MeflowError):
        generate(tmp_path / "x", subjects=0, progress=False)
    own = tmp_path / "own"
    _small(own, subjects=2)
    _small(own, subjects=1)  # a previous output is replaced, stale subjects removed
    assert not (own / "spNO.2").exists() and (own / "spNO.1").is_dir()


def test_displacement_is_micro_and_zero_outside_onset_offset() -> None:
    _, clips = plan(2, seed=0, frames=FRAMES)
    for clip in clips[:6]:
        ident = identity_for(0, clip.subject)
        apex = np.linalg.norm(expression_displacement(0, clip, ident, clip.apex), axis=2)
        assert 0.7 <= apex.max() <= 5.5  # the realistic profile: 0.8 .. 5 x gender factor
        assert apex.max() == pytest.approx(clip.amplitude, rel=1e-4)
        # local support: most of the frame does not move (surprise, brows + jaw, moves most)
        assert (apex > 0.1 * apex.max()).mean() < 0.4
        for t in (0, clip.onset - 1, clip.onset, clip.offset, clip.offset + 1, FRAMES - 1):
            assert not expression_displacement(0, clip, ident, t).any(), t
        mid = np.linalg.norm(expression_displacement(0, clip, ident, clip.onset + 1), axis=2)
        assert 0 < mid.max() < apex.max()


def test_temporal_profile_rises_then_falls() -> None:
    t = np.arange(40)
    p = temporal_profile(t, 10, 16, 30)
    assert p[:11].sum() == 0 and p[30:].sum() == 0 and p[16] == 1.0
    assert np.all(np.diff(p[10:17]) > 0) and np.all(np.diff(p[16:31]) < 0)


def _key_motion(emotion: str, anchors: tuple[int, ...]) -> np.ndarray:
    """Mean (out, up) displacement at the apex around ``anchors`` on the neutral face."""
    lm = neutral_identity().landmarks()
    axes = FaceAxes.from_landmarks(lm)
    f = expression_field(lm, emotion, 3.0, (FRAME_SIZE, FRAME_SIZE))
    vs = []
    for a in anchors:
        x, y = np.rint(lm[a]).astype(int)
        v = f[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 2).mean(0)
        side = np.sign(np.dot(lm[a] - axes.mid, axes.right))
        vs.append([side * np.dot(v, axes.right), np.dot(v, axes.up)])
    return np.mean(vs, axis=0)


def test_classes_move_key_regions_in_their_own_directions() -> None:
    corners = (61, 291)
    happy, sad = _key_motion("happiness", corners), _key_motion("sadness", corners)
    assert happy[0] > 0.3 and happy[1] > 0.8  # lip corners up and outward
    assert sad[1] < -0.8 and abs(sad[0]) < 0.5 * abs(sad[1])  # lip corners down
    fear = _key_motion("fear", corners)
    assert fear[0] > 0.8 and abs(fear[1]) < 0.5 * fear[0]  # stretched sideways
    brows = (107, 336)
    assert _key_motion("surprise", brows)[1] > 0.8  # brows up
    anger = _key_motion("anger", brows)
    assert anger[1] < -0.8 and anger[0] < -0.3  # brows down and together
    assert _key_motion("surprise", (152,))[1] < -0.8  # jaw drop
    assert _key_motion("disgust", (0,))[1] > 0.8  # upper lip raised


def test_rendered_frames_carry_the_motion_through_optical_flow() -> None:
    """Farneback flow between onset and apex frames: happy corners go up, sad ones down."""
    import cv2

    _, clips = plan(2, seed=0, frames=FRAMES)
    ident = neutral_identity()
    ident = dataclasses.replace(ident, noise_sigma=1.5)
    lm = ident.landmarks()
    axes = FaceAxes.from_landmarks(lm)
    ups = {}
    for emotion in ("happiness", "sadness"):
        clip = dataclasses.replace(
            clips[0],
            emotion=emotion,
            onset=10,
            apex=16,
            offset=28,
            amplitude=3.0,
            blink_start=None,
        )
        frames = list(render_clip(0, clip, ident, PROFILES["clean"]))
        g0, g1 = (cv2.cvtColor(frames[i], cv2.COLOR_BGR2GRAY) for i in (clip.onset, clip.apex))
        flow = cv2.calcOpticalFlowFarneback(g0, g1, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # type: ignore[call-overload]
        drift = flow[118:138, 118:138].reshape(-1, 2).mean(0)  # nose: head motion only
        v = np.mean(
            [
                flow[int(lm[a][1]) - 4 : int(lm[a][1]) + 5, int(lm[a][0]) - 4 : int(lm[a][0]) + 5]
                .reshape(-1, 2)
                .mean(0)
                - drift
                for a in (61, 291)
            ],
            axis=0,
        )
        ups[emotion] = float(np.dot(v, axes.up))
    assert ups["happiness"] > 0.8 and ups["sadness"] < -0.8, ups


def test_blink_field_does_not_fold() -> None:
    lm = neutral_identity().landmarks()
    b = blink_field(lm, (FRAME_SIZE, FRAME_SIZE)).astype(np.float64)
    assert 5.0 < np.linalg.norm(b, axis=2).max() < 15.0  # a real blink: several pixels
    dxx, dxy = np.gradient(b[..., 0], axis=1), np.gradient(b[..., 0], axis=0)
    dyx, dyy = np.gradient(b[..., 1], axis=1), np.gradient(b[..., 1], axis=0)
    det = (1 - dxx) * (1 - dyy) - dxy * dyx  # the sampling map x - b(x) stays one-to-one
    assert det.min() > 0


@pytest.fixture(scope="module")
def face_mesh():  # -> mediapipe FaceMesh
    mp = pytest.importorskip("mediapipe")
    with mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, refine_landmarks=True, max_num_faces=1
    ) as fm:
        yield fm


def _landmarks(face_mesh, bgr: np.ndarray) -> np.ndarray | None:
    import cv2

    res = face_mesh.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    if not res.multi_face_landmarks:
        return None
    h, w = bgr.shape[:2]
    return np.array([[p.x * w, p.y * h] for p in res.multi_face_landmarks[0].landmark])


def test_stored_anchors_match_mediapipe(face_mesh) -> None:
    pts = _landmarks(face_mesh, np.ascontiguousarray(base_image()))
    assert pts is not None and len(pts) == 478
    for k, (x, y) in BASE_LANDMARKS.items():
        assert np.hypot(pts[k, 0] - x, pts[k, 1] - y) < 2.0, k


def test_mediapipe_finds_the_face_at_apex_and_in_a_blink(face_mesh) -> None:
    import cv2

    _, clips = plan(3, seed=0, frames=FRAMES)
    picked: list[ClipPlan] = []
    for k, emotion in enumerate(("surprise", "happiness", "fear")):
        c = next(c for c in clips if c.subject.index == k)
        # eyes shut at the apex: the hardest frame for the face mesh
        picked.append(dataclasses.replace(c, emotion=emotion, blink_start=c.apex - 3))
    for clip in picked:
        ident = identity_for(0, clip.subject)
        frames = list(render_clip(0, clip, ident, PROFILES["realistic"]))
        expected = ident.landmarks()
        for n in (0, clip.apex, clip.offset, FRAMES - 1):
            jpg = cv2.imdecode(cv2.imencode(".jpg", frames[n])[1], cv2.IMREAD_COLOR)
            pts = _landmarks(face_mesh, jpg)
            assert pts is not None, (clip.emotion, n)
            if n == 0:  # the identity's anchors are where MediaPipe sees them
                err = max(np.hypot(*(pts[k] - v)) for k, v in expected.items())
                assert err < 8.0


def test_cli_writes_and_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from meflow.cli import main

    out = tmp_path / "cli"
    assert main(["synth", "--out", str(out), "--subjects", "1", "--seed", "3", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "10 micro-expressions" in text and LABEL_FILE in text and "1 " in text
    other = tmp_path / "busy"
    other.mkdir()
    (other / "x").write_text("")
    assert main(["synth", "--out", str(other), "--quiet"]) == 2
    assert "not a previous 'meflow synth' output" in capsys.readouterr().err


@pytest.mark.slow
def test_the_realistic_profile_is_as_faint_as_real_clips(tmp_path: Path) -> None:
    """Through meflow's own extraction: a pair's noise of 0.1-0.3 px in the crop, the most-moving
    region's onset-to-apex travel within 0.5-3 px, a per-pair signal-to-noise near 1 (real
    CASME II/SAMM: 0.10-0.28 px, 0.45-6.7 px, 0.5-1; the clean profile: 0.07 px, 2.3 px, 4)."""
    from _benchmarks import benchmark_helper
    from meflow.datasets import load_dataset
    from meflow.features.extract import extract_dataset

    motion_stats = benchmark_helper("_motion_stats")  # benchmarks/_motion_stats.py
    cache_stats, summarise = motion_stats.cache_stats, motion_stats.summarise

    generate(tmp_path / "data", subjects=2, seed=5, progress=False)
    loaded = load_dataset("casme3", root=tmp_path / "data")
    extract_dataset(loaded.samples, tmp_path / "cache", dataset="casme3", progress=False)
    s = summarise(cache_stats(tmp_path / "cache"))
    assert 0.1 <= s["noise_floor"][1] <= 0.3 and s["noise_floor"][2] <= 0.4
    assert 0.5 <= s["displacement"][1] <= 3.0
    assert 0.5 <= s["snr"][1] <= 1.6


def test_skin_motion_is_drawn_per_clip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two clips of one subject with the same length get different skin motion (issue 20)."""
    import meflow.synth.render as render

    drawn: list[np.ndarray] = []
    real = render.skin_motion

    def spy(n, profile, rng, **kw):  # type: ignore[no-untyped-def]
        fields = list(real(n, profile, rng, **kw))
        drawn.append(np.stack([f for f in fields if f is not None]))
        return fields

    monkeypatch.setattr(render, "skin_motion", spy)
    _, clips = plan(1, seed=0, frames=FRAMES)
    a = clips[0]
    b = dataclasses.replace(clips[1], frames=a.frames, onset=a.onset, apex=a.apex, offset=a.offset)
    assert a.subject == b.subject and a.clip != b.clip
    ident = identity_for(0, a.subject)
    for clip in (a, b):
        next(iter(render_clip(0, clip, ident, PROFILES["realistic"])))
    assert len(drawn) == 2
    assert np.abs(drawn[0] - drawn[1]).max() > 0.01
    # and the same clip again gives the same field (seeded, not random)
    next(iter(render_clip(0, a, ident, PROFILES["realistic"])))
    np.testing.assert_array_equal(drawn[0], drawn[2])
