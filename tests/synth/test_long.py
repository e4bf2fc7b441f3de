"""Synthetic long recordings: the written ground truth, the events' timing, the rendered motion."""

from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path

import numpy as np
import pytest
import xlrd

from meflow.errors import MeflowError
from meflow.spotting.ground_truth import load_casme3, load_ground_truth
from meflow.synth.generator import identity_for
from meflow.synth.long import LONG_FILE, LongSummary, generate_long
from meflow.synth.long_plan import (
    MACRO_LENGTH,
    MARGIN,
    MICRO_LENGTH,
    MIN_GAP,
    HeadMove,
    LongRecording,
    plan_long,
)
from meflow.synth.long_render import render_recording
from meflow.synth.profiles import PROFILES

# Many events in a few seconds, so that short test recordings hold several of each type.
BUSY = {"micro": 24.0, "macro": 12.0, "blink": 12.0}


@pytest.fixture(scope="module")
def long_set(tmp_path_factory: pytest.TempPathFactory) -> LongSummary:
    """Two subjects x two recordings of 5 s."""
    out = tmp_path_factory.mktemp("long") / "set"
    return generate_long(
        out, subjects=2, seed=3, recordings_per_subject=2, seconds=5.0, progress=False, rates=BUSY
    )


def planned(s: LongSummary) -> set[tuple[str, str, str, int, int | None, int]]:
    """The planned intervals as (subject, recording, type, onset, apex or None, offset)."""
    return {
        (
            r.subject.name,
            r.recording,
            e.type,
            e.onset,
            None if e.type == "blink" else e.apex,
            e.offset,
        )
        for r in s.recordings
        for e in r.events
    }


def test_written_file_loads_to_the_planned_intervals(long_set: LongSummary) -> None:
    gt = load_ground_truth("casme3", long_set.ground_truth)
    assert gt.issues == []
    got = {(i.subject, i.recording, i.type, i.onset, i.apex, i.offset) for i in gt.intervals}
    assert got == planned(long_set)
    assert len(gt.intervals) == sum(len(r.events) for r in long_set.recordings)
    assert dict(gt.counts) == long_set.counts
    assert all(long_set.counts[k] >= 4 for k in ("micro", "macro", "blink"))
    # The micro-expressions carry the planned emotion (from the label file beside it).
    emotions = {
        (r.subject.name, r.recording, e.onset): e.emotion
        for r in long_set.recordings
        for e in r.of_type("micro")
    }
    micro = gt.of_type("micro")
    assert {(i.subject, i.recording, i.onset): i.emotion for i in micro} == emotions
    assert all(i.emotion is None for i in gt.of_type("macro", "blink"))


def test_blinks_only_in_the_blink_sheet(long_set: LongSummary) -> None:
    book = xlrd.open_workbook(str(long_set.ground_truth))
    expr, blink = book.sheet_by_name("AU+Emotion"), book.sheet_by_name("eye blink")
    assert expr.row_values(0) == [
        "Subject",
        "Filename",
        "Onset",
        "Apex",
        "Offset",
        "AU",
        "Expression type",
        "Objective class",
    ]
    assert blink.row_values(0) == ["Subject", "Filename", "Onset", "Offset"]
    blinks = {
        (r.subject.name, r.recording, str(e.onset), str(e.offset))
        for r in long_set.recordings
        for e in r.of_type("blink")
    }
    rows = [blink.row_values(k) for k in range(1, blink.nrows)]
    assert {tuple(v) for v in rows} == blinks
    kinds = {expr.row_values(k)[6] for k in range(1, expr.nrows)}
    assert kinds == {"Micro-expression", "Macro-expression"}
    starts = {(v[0], v[1], v[2]) for v in (expr.row_values(k) for k in range(1, expr.nrows))}
    assert not starts & {b[:3] for b in blinks}


def test_events_inside_apart_and_with_casme3_lengths() -> None:
    _, recs = plan_long(12, seed=5, recordings_per_subject=3, seconds=60.0)
    lengths: dict[str, list[int]] = {"micro": [], "macro": [], "blink": []}
    for r in recs:
        assert r.frames == 1800
        assert {e.type for e in r.events} == {"micro", "macro", "blink"}
        for e in r.events:
            assert MARGIN <= e.onset < e.apex < e.offset <= r.frames - 1 - MARGIN
            lengths[e.type].append(e.length)
        for a, b in zip(r.events, r.events[1:], strict=False):
            assert b.onset - a.offset > MIN_GAP
    # Medians near CAS(ME)^3's (micro 22, macro 73, blink 15 frames).
    assert abs(statistics.median(lengths["micro"]) - MICRO_LENGTH[9]) <= 6
    assert abs(statistics.median(lengths["macro"]) - MACRO_LENGTH[9]) <= 20
    assert 13 <= statistics.median(lengths["blink"]) <= 17
    assert min(lengths["macro"]) >= 20 and max(lengths["micro"]) <= 75


def test_head_moves_away_from_the_events_and_rendered() -> None:
    import cv2

    _, recs = plan_long(4, seed=5, recordings_per_subject=3, seconds=60.0)
    assert sum(len(r.head_moves) for r in recs) >= 12  # 4 a minute, some left out for room
    for r in recs:
        for m in r.head_moves:
            assert m.start >= MARGIN and m.start + m.length < r.frames
            assert all(
                m.start + m.length + MIN_GAP < e.onset or m.start > e.offset + MIN_GAP
                for e in r.events
            )
    subject = recs[0].subject
    rec = LongRecording(subject, "a", 60, (), head_moves=(HeadMove(10, 30, 2.5, -1.5, 0.0),))
    frames = list(render_recording(3, rec, identity_for(3, subject), STILL))
    assert np.array_equal(frames[0], frames[10]) and np.array_equal(frames[40], frames[59])
    grey = [np.float32(cv2.cvtColor(frames[t], cv2.COLOR_BGR2GRAY)) for t in (5, 50)]
    (dx, dy), _ = cv2.phaseCorrelate(grey[0], grey[1])
    assert abs(dx - 2.5) < 0.6 and abs(dy + 1.5) < 0.6


def test_too_short_a_recording_is_refused() -> None:
    with pytest.raises(MeflowError, match="at least 3 s"):
        plan_long(1, seed=0, seconds=2.0)


STILL = dataclasses.replace(
    PROFILES["realistic"],
    sensor_sigma=(0.0, 0.0),
    drift_speed=0.0,
    roll_deg=0.0,
    scale_change=0.0,
    tremor_px=0.0,
    tremor_deg=0.0,
    skin_px=0.0,
    flicker=0.0,
    flicker_noise=0.0,
    light_gradient=0.0,
)


def _measure(frames: np.ndarray, onset: int, apex: int, offset: int) -> tuple[float, int]:
    """(largest flow magnitude onset -> apex in px, frames that differ from the onset frame)."""
    import cv2

    a, b = (cv2.cvtColor(frames[t], cv2.COLOR_BGR2GRAY) for t in (onset, apex))
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 4, 21, 5, 7, 1.5, 0)
    peak = float(np.percentile(np.linalg.norm(flow, axis=2), 99.9))
    diff = np.abs(frames[onset : offset + 1].astype(np.int16) - frames[onset]).mean(axis=(1, 2, 3))
    return peak, int((diff > 0.1 * diff.max()).sum())


def test_macro_moves_more_and_longer_than_micro(long_set: LongSummary) -> None:
    longer = 0
    for with_moves in long_set.recordings:
        rec = dataclasses.replace(with_moves, head_moves=())
        ident = identity_for(3, rec.subject)
        frames = np.array(list(render_recording(3, rec, ident, STILL)))
        measured = {e: _measure(frames, e.onset, e.apex, e.offset) for e in rec.events}
        for big in rec.of_type("macro"):
            for small in rec.of_type("micro"):
                assert measured[big][0] > measured[small][0] + 1.0
                if big.length > small.length + 4:
                    assert measured[big][1] > measured[small][1]
                    longer += 1
        for e in rec.of_type("micro") + rec.of_type("macro"):
            assert 0.5 * e.length <= measured[e][1] <= e.length  # the motion spans the event
            assert 0.4 * e.amplitude <= measured[e][0] <= 1.5 * e.amplitude
        # Before the first event the still face does not change.
        assert np.array_equal(frames[0], frames[rec.events[0].onset])
    assert longer >= 3


def test_same_seed_same_bytes(long_set: LongSummary, tmp_path: Path) -> None:
    again = generate_long(
        tmp_path / "again",
        subjects=2,
        seed=3,
        recordings_per_subject=2,
        seconds=5.0,
        progress=False,
        rates=BUSY,
    )
    for name in (LONG_FILE, "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"):
        assert (again.out / name).read_bytes() == (long_set.out / name).read_bytes()
    r = again.recordings[1]
    frame = Path(r.subject.name) / r.recording / "color" / "57.jpg"
    assert (again.out / frame).read_bytes() == (long_set.out / frame).read_bytes()
    other = generate_long(
        tmp_path / "other",
        subjects=2,
        seed=4,
        recordings_per_subject=2,
        seconds=5.0,
        progress=False,
        rates=BUSY,
    )
    assert (other.out / LONG_FILE).read_bytes() != (long_set.out / LONG_FILE).read_bytes()
    assert load_casme3(other.ground_truth).counts == other.counts


def test_cli_layout_casme3_long(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from meflow.cli import main

    out = tmp_path / "cli"
    args = ["synth", "--out", str(out), "--layout", "casme3-long", "--subjects", "1"]
    assert main([*args, "--recordings", "1", "--seconds", "3", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "1 recordings of 1 subjects" in text and LONG_FILE in text
    gt = load_casme3(out / LONG_FILE)
    assert set(gt.counts) == {"micro", "macro", "blink"}
    (letter,) = {i.recording for i in gt.intervals}
    assert len(list((out / "spNO.1" / letter / "color").iterdir())) == 90
    assert main([*args, "--seconds", "2", "--quiet"]) == 2
    assert "at least 3 s" in capsys.readouterr().err


def test_a_rate_of_zero_plans_no_event_of_that_type() -> None:
    """Micro and macro rates of 0: recordings with blinks and head motion only (the recording
    predict must find no expression in); the default rates keep at least one of each."""
    quiet = {"micro": 0.0, "macro": 0.0, "blink": 6.2}
    _, recs = plan_long(3, seed=1, recordings_per_subject=2, seconds=20.0, rates=quiet)
    assert all({e.type for e in r.events} == {"blink"} for r in recs)
    _, recs = plan_long(3, seed=1, recordings_per_subject=2, seconds=20.0)
    assert all({e.type for e in r.events} == {"micro", "macro", "blink"} for r in recs)
