"""Landmark tracking on the real videos, gap filling, and the face crop geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import shared_file
from meflow.config import FaceConfig
from meflow.errors import NoFaceError
from meflow.face import crop_face, crop_transform, face_box, fill_gaps, to_crop, track_video
from meflow.io import open_frames

Tracked = tuple[np.ndarray, np.ndarray, int]  # points, valid, frame width


def _track(path: Path, name: str = "clip") -> Tracked:
    src = open_frames(path)
    pts, valid = track_video(src, FaceConfig(), name=name)
    return pts, valid, src.info.width


@pytest.fixture(scope="module")
def single_face(shared_data: Path) -> Tracked:
    return _track(shared_file(shared_data, "videos/single_face.mp4"))


def test_single_face_has_478_landmarks_in_all_72_frames(single_face: Tracked) -> None:
    pts, valid, width = single_face
    assert pts.shape == (72, 478, 2)
    assert pts.dtype == np.float32
    assert valid.dtype == bool and valid.all()
    assert np.isfinite(pts).all()
    # inside the 640x360 frame, and a face-sized spread (not a degenerate cloud)
    assert (pts[..., 0] > -1).all() and (pts[..., 0] < width).all()
    assert (pts[..., 1] > -1).all() and (pts[..., 1] < 360).all()
    spread = pts.max(axis=1) - pts.min(axis=1)
    assert (spread > 40).all()
    # tracking is steady: the nose tip (landmark 1) moves little from frame to frame
    step = np.linalg.norm(np.diff(pts[:, 1], axis=0), axis=1)
    assert np.median(step) < 3.0


def test_no_face_video_raises_no_face_error(shared_data: Path) -> None:
    path = shared_file(shared_data, "videos/no_face.mp4")
    with pytest.raises(NoFaceError, match=r"no_face\.mp4: no face found in any of 95 frames"):
        _track(path, name=path.name)


def test_frames_after_the_face_leaves_are_invalid(shared_data: Path) -> None:
    # By inspection: frames 0..71 show the man, at frame 72 the video cuts to a sky (169 frames).
    pts, valid, _ = _track(shared_file(shared_data, "videos/face_noface.mov"))
    assert valid.shape == (169,)
    assert valid[:60].all()
    assert not valid[80:].any()
    assert np.isnan(pts[80:]).all()
    assert np.isfinite(pts[:60]).all()


def test_fill_gaps_interpolates_short_gaps_exactly() -> None:
    t = 16
    base = np.arange(478 * 2, dtype=np.float32).reshape(478, 2)
    pts = np.stack([base + 10.0 * i for i in range(t)])  # moves linearly: 10 px per frame
    truth = pts.copy()
    missing = [0, 1, 5, 6, 9, 10, 11, 12, 13, 15]  # leading 2, gap 2, gap 5, trailing 1
    pts[missing] = np.nan
    out, valid = fill_gaps(pts, max_gap=3)
    expect_valid = np.array([i not in (0, 1, 9, 10, 11, 12, 13, 15) for i in range(t)])
    np.testing.assert_array_equal(valid, expect_valid)
    np.testing.assert_allclose(out[5], truth[5], atol=1e-3)  # 1/3 of the way from 4 to 7
    np.testing.assert_allclose(out[6], truth[6], atol=1e-3)
    np.testing.assert_array_equal(out[[2, 3, 4, 7, 8, 14]], truth[[2, 3, 4, 7, 8, 14]])
    assert np.isnan(out[~valid]).all()
    assert np.isnan(pts[5]).all()  # the input is not modified in place


def test_fill_gaps_limits() -> None:
    pts = np.zeros((5, 478, 2), dtype=np.float32)
    pts[2] = np.nan
    out, valid = fill_gaps(pts, max_gap=0)  # 0: never interpolate
    assert valid.tolist() == [True, True, False, True, True]
    out, valid = fill_gaps(np.full((4, 478, 2), np.nan), max_gap=3)
    assert not valid.any() and np.isnan(out).all()
    out, valid = fill_gaps(np.empty((0, 478, 2)), max_gap=3)
    assert out.shape == (0, 478, 2) and valid.shape == (0,)


def test_face_box_adds_margin_and_clips() -> None:
    pts = np.array([[100.0, 50.0], [200.0, 150.0]])
    assert face_box(pts, (480, 640), margin=0.1) == (90, 40, 211, 161)
    assert face_box(pts, (480, 640), margin=0.0) == (100, 50, 201, 151)
    # clipped to a 120x180 image
    assert face_box(pts, (120, 180), margin=0.5) == (50, 0, 180, 120)
    with pytest.raises(ValueError):
        face_box(np.full((3, 2), np.nan), (10, 10), 0.1)


def test_crop_transform_keeps_the_aspect_ratio_and_centres_the_box() -> None:
    cv2 = pytest.importorskip("cv2")
    box = (40, 20, 140, 70)  # 100 x 50 pixels: the width spans the crop, the height is centred
    m = crop_transform(box, 200)
    assert m[0, 0] == m[1, 1] == 2.0 and m[0, 1] == m[1, 0] == 0.0  # one scale, no shear
    # outer pixel edges: x onto the crop's outer edges, y onto a centred band of 100 rows
    corners = to_crop(np.array([[39.5, 19.5], [139.5, 69.5]]), m)
    np.testing.assert_allclose(corners, [[-0.5, 49.5], [199.5, 149.5]], atol=1e-5)
    tall = crop_transform((10, 0, 60, 100), 200)  # 50 x 100: the height spans it
    np.testing.assert_allclose(
        to_crop(np.array([[9.5, -0.5], [59.5, 99.5]]), tall), [[49.5, -0.5], [149.5, 199.5]]
    )
    # a direction is kept: a step of (3, -4) in the frame is (6, -8) in the crop
    a, b = to_crop(np.array([[50.0, 40.0], [53.0, 36.0]]), m)
    np.testing.assert_allclose(b - a, [6.0, -8.0], atol=1e-5)
    # a bright dot lands where to_crop says
    img = np.zeros((100, 200), dtype=np.float32)
    img[45, 90] = 1.0
    crop = cv2.warpAffine(img, m, (200, 200), flags=cv2.INTER_LINEAR)
    y, x = np.unravel_index(np.argmax(crop), crop.shape)
    u, v = to_crop(np.array([90.0, 45.0]), m)
    assert abs(x - u) <= 1 and abs(y - v) <= 1


def test_crop_face_gives_landmarks_in_crop_pixels(single_face: Tracked) -> None:
    pts = single_face[0][0]
    frame = np.zeros((360, 640, 3), dtype=np.uint8)
    cfg = FaceConfig()
    crop, cpts, box = crop_face(frame, pts, cfg)
    assert crop.shape == (cfg.crop_size, cfg.crop_size, 3)
    assert cpts.shape == (478, 2) and cpts.dtype == np.float32
    lo, hi = cpts.min(axis=0), cpts.max(axis=0)
    # the landmarks' longer side fills the crop up to the margin (margin / (1 + 2 margin) of
    # the side), the shorter one is centred: same scale on both axes
    edge = cfg.crop_size * cfg.crop_margin / (1 + 2 * cfg.crop_margin)
    assert (lo > edge - 3).all() and (hi < cfg.crop_size - edge + 3).all()
    span = hi - lo
    longer = int(np.argmax(span))
    assert lo[longer] < edge + 3 and hi[longer] > cfg.crop_size - edge - 3
    raw = pts.max(axis=0) - pts.min(axis=0)
    np.testing.assert_allclose(span[0] / span[1], raw[0] / raw[1], rtol=0.02)
    centre = (lo + hi) / 2
    np.testing.assert_allclose(centre, cfg.crop_size / 2, atol=3)
    assert box[2] > box[0] and box[3] > box[1]


def test_fast_graph_path_gives_exactly_what_process_gives(shared_data: Path) -> None:
    # The fast path feeds MediaPipe's graph directly and parses the serialised landmarks
    # itself; it must be active with the pinned MediaPipe and change no number.
    from meflow.face.landmarks import LandmarkTracker

    frames = [f for _, f in open_frames(shared_file(shared_data, "videos/face_noface.mov"))]
    frames = frames[60:90]  # the face, then frames without it
    with LandmarkTracker(fast=True) as fast, LandmarkTracker(fast=False) as slow:
        assert fast.fast and not slow.fast
        got = [fast(f) for f in frames]
        want = [slow(f) for f in frames]
    assert [g is None for g in got] == [w is None for w in want]
    assert sum(g is not None for g in got) >= 10 and sum(g is None for g in got) >= 10
    for g, w in zip(got, want, strict=True):
        if w is not None:
            assert g is not None and g.dtype == np.float32
            np.testing.assert_array_equal(g, w)


def test_a_reset_graph_gives_the_landmarks_of_a_new_one_to_the_bit(shared_data: Path) -> None:
    # keep_warm reuses one MediaPipe graph across videos, reset by a blank image in between:
    # what follows must not depend on what the graph tracked before
    from meflow.face.landmarks import LandmarkTracker

    def read(name: str, n: int) -> list[np.ndarray]:
        src = open_frames(shared_file(shared_data, f"videos/{name}"))
        return [f for _, f in zip(range(n), (f for _, f in src), strict=False)]

    other = read("face_noface.mov", 40)  # 960x540, a face tracked up to its last frame
    video = read("single_face.mp4", 30)  # 640x360
    with LandmarkTracker() as new:
        want = [new(f) for f in video]
    with LandmarkTracker() as reused:
        assert [reused(f) for f in other][-1] is not None
        stale = [reused(f) for f in video]  # no reset: tracking goes on from the other face
        assert reused.reset()
        got = [reused(f) for f in video]
        for f in other[::-1]:  # in another order, ending on a tracked face again
            reused(f)
        assert reused.reset()
        again = [reused(f) for f in video]
    assert all(w is not None for w in want)
    # the reset is what makes the difference (the test can fail)
    assert any(not np.array_equal(s, w) for s, w in zip(stale, want, strict=True))
    for g, a, w in zip(got, again, want, strict=True):
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(a, w)


def test_parse_landmark_list_reads_the_wire_format_and_refuses_other_layouts() -> None:
    from mediapipe.framework.formats import landmark_pb2

    from meflow.face.landmarks import parse_landmark_list

    rng = np.random.default_rng(0)
    xyz = rng.uniform(-0.5, 1.5, (478, 3)).astype(np.float32)
    xyz[0] = 0.0  # zeros are still written: the fields are optional (proto2), set explicitly
    msg = landmark_pb2.NormalizedLandmarkList()
    for x, y, z in xyz:
        msg.landmark.add(x=float(x), y=float(y), z=float(z))
    got = parse_landmark_list(msg.SerializeToString())
    assert got is not None
    np.testing.assert_array_equal(got, xyz[:, :2])
    # another layout: a visibility field on one landmark, or another count -> None
    msg.landmark[3].visibility = 0.5
    assert parse_landmark_list(msg.SerializeToString()) is None
    assert parse_landmark_list(b"") is None
    short = landmark_pb2.NormalizedLandmarkList()
    short.landmark.add(x=0.1, y=0.2, z=0.3)
    assert parse_landmark_list(short.SerializeToString()) is None


def test_quiet_native_stderr_from_two_threads_restores_fd_2(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # held by two threads whose holds overlap without nesting (A in, B in, A out, B out):
    # fd 2 stays silenced until both have left, then is the same as before
    import os
    import threading

    from meflow.face.landmarks import quiet_native_stderr

    monkeypatch.delenv("MEFLOW_MEDIAPIPE_LOGS", raising=False)
    b_in, a_out = threading.Event(), threading.Event()

    def hold_b() -> None:
        with quiet_native_stderr():
            b_in.set()
            a_out.wait(10)
            os.write(2, b"silenced by B\n")

    os.write(2, b"before\n")
    with quiet_native_stderr():
        os.write(2, b"silenced by A\n")
        b = threading.Thread(target=hold_b)
        b.start()
        assert b_in.wait(10)
    a_out.set()
    b.join(10)
    os.write(2, b"after\n")
    assert capfd.readouterr().err.split() == ["before", "after"]
