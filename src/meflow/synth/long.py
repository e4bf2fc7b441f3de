"""Synthetic long recordings in CAS(ME)^3 Part A's layout, with its spotting ground truth.

``generate_long`` writes::

    out/spNO.<k>/<letter>/color/<n>.jpg           n = 0 .. frames-1, 30 fps
    out/CAS(ME)3_part_A_v2.xls                    sheets 'AU+Emotion' and 'eye blink'
    out/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx the micro-expressions' emotions (sheet 'label')
    out/subjects.csv, out/synth.json

The .xls has the real file's columns and writes its cells as the real one does (text);
``meflow.spotting.ground_truth.load_casme3`` reads it back to exactly the planned intervals.
Events never overlap (:mod:`meflow.synth.long_plan`); the labels are the rendered onsets,
apexes and offsets (no annotation error). The same seed gives byte-identical label files.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from meflow.errors import MeflowError
from meflow.synth.generator import identity_for
from meflow.synth.identity import FRAME_SIZE, Identity
from meflow.synth.layout import (
    GENERATOR,
    LABEL_FILE,
    META_FILE,
    SUBJECTS_FILE,
    deterministic_xlsx,
    label_row,
    prepare_out,
    subjects_csv,
)
from meflow.synth.long_plan import RATES_PER_MINUTE, LongRecording, plan_long, recording_rng
from meflow.synth.long_render import render_recording
from meflow.synth.motion import OBJECTIVE_CLASS
from meflow.synth.plan import FPS, au_text
from meflow.synth.profiles import get_profile, profile_dict

if TYPE_CHECKING:
    from meflow.synth.photos import FacePhoto

LONG_FILE = "CAS(ME)3_part_A_v2.xls"
EXPRESSION_COLUMNS = (
    "Subject",
    "Filename",
    "Onset",
    "Apex",
    "Offset",
    "AU",
    "Expression type",
    "Objective class",
)
BLINK_COLUMNS = ("Subject", "Filename", "Onset", "Offset")
TYPE_WORDS = {"micro": "Micro-expression", "macro": "Macro-expression"}
LONG_VERSION = "1"


@dataclass
class LongSummary:
    """What ``generate_long`` wrote."""

    out: Path
    ground_truth: Path
    recordings: list[LongRecording] = field(repr=False)
    subjects: int
    counts: dict[str, int]  # events per type
    frames_written: int
    bytes_written: int
    seconds: float


def sheet_rows(recordings: Sequence[LongRecording]) -> tuple[list[list[str]], list[list[str]]]:
    """The rows (after the header) of sheet 'AU+Emotion' and of sheet 'eye blink', as text."""
    ordered = sorted(recordings, key=lambda r: (r.subject.index, r.recording))
    expressions, blinks = [], []
    for r in ordered:
        for e in r.events:
            where = [r.subject.name, r.recording, str(e.onset)]
            if e.type == "blink":
                blinks.append([*where, str(e.offset)])
            else:
                assert e.emotion is not None
                words = [au_text(e.emotion), TYPE_WORDS[e.type], OBJECTIVE_CLASS[e.emotion]]
                expressions.append([*where, str(e.apex), str(e.offset), *words])
    return expressions, blinks


def long_xls(recordings: Sequence[LongRecording]) -> bytes:
    """CAS(ME)3_part_A_v2.xls as bytes (old .xls format; same recordings -> same bytes)."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    expressions, blinks = sheet_rows(recordings)
    for name, columns, rows in (
        ("AU+Emotion", EXPRESSION_COLUMNS, expressions),
        ("eye blink", BLINK_COLUMNS, blinks),
    ):
        sheet = book.add_sheet(name)
        for r, row in enumerate([list(columns), *rows]):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    raw = io.BytesIO()
    book.save(raw)
    return raw.getvalue()


def micro_label_rows(recordings: Sequence[LongRecording]) -> list[list[object]]:
    """The micro-expression label file's rows: the micro-expressions with their emotions."""
    ordered = sorted(recordings, key=lambda r: (r.subject.index, r.recording))
    return [
        label_row(r.subject.name, r.recording, (e.onset, e.apex, e.offset), e.emotion)
        for r in ordered
        for e in r.of_type("micro")
        if e.emotion is not None
    ]


def _write_recordings(
    out: Path,
    seed: int,
    recordings: Sequence[LongRecording],
    profile_name: str,
    options: tuple[int | None, Sequence[FacePhoto] | None, bool],
) -> tuple[int, int]:
    """Renders every recording into its folder; gives (frames, bytes)."""
    import cv2
    from tqdm import tqdm

    jpeg_quality, faces, progress = options
    profile = get_profile(profile_name)
    identities: dict[int, Identity] = {}
    frames = written = 0
    total = sum(r.frames for r in recordings)
    with tqdm(total=total, unit="frame", desc="meflow synth", disable=not progress) as bar:
        for rec in recordings:
            ident = identities.setdefault(rec.subject.index, identity_for(seed, rec.subject, faces))
            folder = out / rec.subject.name / rec.recording / "color"
            folder.mkdir(parents=True, exist_ok=True)
            lo, hi = profile.jpeg_quality
            quality = jpeg_quality or int(recording_rng(seed, rec, 4).integers(lo, hi + 1))
            encode = [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)]
            for n, img in enumerate(render_recording(seed, rec, ident, profile)):
                ok, buf = cv2.imencode(".jpg", img, encode)
                if not ok:
                    raise MeflowError(f"{folder / f'{n}.jpg'}: image encoding failed")
                (folder / f"{n}.jpg").write_bytes(buf.tobytes())
                frames += 1
                written += len(buf)
            bar.update(rec.frames)
    return frames, written


def generate_long(
    out: Path,
    subjects: int = 10,
    seed: int = 0,
    recordings_per_subject: int = 2,
    seconds: float = 40.0,
    profile: str = "realistic",
    faces: Sequence[FacePhoto] | None = None,
    progress: bool = True,
    jpeg_quality: int | None = None,
    rates: dict[str, float] | None = None,
) -> LongSummary:
    """Writes a synthetic long-recording set into ``out`` and gives what was written.

    ``out`` must be new, empty, or a previous ``meflow synth`` output (replaced). Each of the
    ``subjects`` x ``recordings_per_subject`` recordings lasts ``seconds`` (30 fps, 256x256)
    and holds micro- and macro-expressions and blinks at ``rates`` per minute (default:
    CAS(ME)^3 Part A's, at least one of each), rendered with the nuisances of ``profile``.
    """
    start = time.perf_counter()
    out = Path(out)
    prof = get_profile(profile)
    genders = [f.gender for f in faces] if faces else None
    people, recordings = plan_long(
        subjects, seed, recordings_per_subject, seconds, prof, genders, rates
    )
    prepare_out(out)
    params = {
        "layout": "casme3-long",
        "subjects": subjects,
        "seed": seed,
        "recordings_per_subject": recordings_per_subject,
        "seconds": seconds,
        "fps": FPS,
        "frame_size": FRAME_SIZE,
        "rates_per_minute": rates or RATES_PER_MINUTE,
        "jpeg_quality": jpeg_quality or "per recording, from the profile",
        "profile": profile_dict(prof),
    }
    meta: dict[str, object] = {"generator": GENERATOR, "version": LONG_VERSION, "complete": False}
    meta["parameters"] = params
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    frames, written = _write_recordings(
        out, seed, recordings, profile, (jpeg_quality, faces, progress)
    )
    files = {
        LONG_FILE: long_xls(recordings),
        LABEL_FILE: deterministic_xlsx(micro_label_rows(recordings)),
        SUBJECTS_FILE: subjects_csv(people, faces).encode("utf-8"),
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
        written += len(data)
    counts = Counter(e.type for r in recordings for e in r.events)
    meta.update(
        complete=True,
        counts=dict(sorted(counts.items())),
        recordings=[
            {
                "subject": r.subject.name,
                "recording": r.recording,
                "frames": r.frames,
                "events": [asdict(e) for e in r.events],
                "head_moves": [asdict(m) for m in r.head_moves],
            }
            for r in recordings
        ],
    )
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return LongSummary(
        out,
        out / LONG_FILE,
        recordings,
        len(people),
        dict(sorted(counts.items())),
        frames,
        written,
        time.perf_counter() - start,
    )
