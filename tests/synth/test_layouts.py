"""Synthetic sets in CASME II's, SAMM's and SMIC's layouts, read back by the loaders."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from meflow.datasets import check_frames, load_dataset
from meflow.errors import MeflowError
from meflow.synth.cropped import CASME2_COLUMNS, SAMM_COLUMNS, megc2019_parts
from meflow.synth.generator import SynthSummary, generate
from meflow.synth.layouts import LAYOUTS

SHARED = Path(os.environ.get("MEFLOW_SHARED_DATA", Path(__file__).parents[3] / "shared" / "data"))


def _frame_numbers(folder: Path) -> list[int]:
    return sorted(int(re.findall(r"\d+", p.stem)[-1]) for p in folder.iterdir())


@pytest.fixture(scope="module")
def casme2(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    out = tmp_path_factory.mktemp("casme2") / "CASME2"
    return generate(out, subjects=2, seed=4, progress=False, clips_per_subject=4, layout="casme2")


@pytest.fixture(scope="module")
def samm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from meflow.cli import main

    out = tmp_path_factory.mktemp("samm") / "SAMM"
    args = ["synth", "--out", str(out), "--subjects", "1", "--layout", "samm", "--quiet"]
    assert main([*args, "--seed", "2"]) == 0
    return out


def _check_read_back(result, clips, fps: float) -> None:  # type: ignore[no-untyped-def]
    """Every planned clip is a sample with its labelled frames; its folder holds exactly them."""
    assert check_frames(result) == [] and result.issues == []
    assert len(result.samples) == len(clips)
    planned = {(c.clip, c.label) for c in clips}
    assert {(s.clip, (s.onset, s.apex, s.offset)) for s in result.samples} == planned
    for s in result.samples:
        assert s.fps == fps and (s.first_frame, s.last_frame) == (s.onset, s.offset)
        assert _frame_numbers(s.frames_dir) == list(range(s.onset, s.offset + 1))
        assert 0.1 <= (s.offset - s.onset) / fps <= 0.7


def test_casme2_layout_is_read_by_its_loader(casme2: SynthSummary) -> None:
    result = load_dataset("casme2", root=casme2.out, six_classes=False)
    _check_read_back(result, casme2.clips, 200.0)
    assert result.subjects == ["sub01", "sub02"]
    assert result.class_counts == Counter(casme2.samples_per_class)
    assert set(result.class_counts) == set(LAYOUTS["casme2"].weights)  # others, repression too
    kept = load_dataset("casme2", root=casme2.out)  # six classes
    assert len(kept.samples) == sum(
        n for w, n in casme2.samples_per_class.items() if w not in ("others", "repression")
    )
    meta = json.loads((casme2.out / "synth.json").read_text())
    assert meta["parameters"]["layout"] == "casme2" and meta["parameters"]["fps"] == 200.0
    # the rendered expression is near, not at, the labels
    off = [c.apex - c.label[1] for c in casme2.clips]
    assert any(off) and max(map(abs, off)) < 40


def test_samm_layout_is_read_by_its_loader(samm: Path) -> None:
    meta = json.loads((samm / "synth.json").read_text())
    result = load_dataset("samm", root=samm, six_classes=False)
    assert len(result.samples) == 10 and result.subjects == ["006"]
    words = {"Other": "others", "Contempt": "contempt"}
    expected = Counter(
        {words.get(w, w.lower()): n for w, n in meta["samples_per_class"].items() if n}
    )
    assert result.class_counts == expected
    for s in result.samples:
        assert s.fps == 200.0 and s.clip.startswith("006_")
        assert _frame_numbers(s.frames_dir) == list(range(s.onset, s.offset + 1))
        assert s.frame_path(s.onset).name == f"006_{s.onset:05d}.jpg"
    labelled = {c["clip"]: tuple(c["labelled"]) for c in meta["clips"]}
    assert {s.clip: (s.onset, s.apex, s.offset) for s in result.samples} == labelled


def _header(path: Path, sheet: str) -> tuple[int, list[object]]:
    import openpyxl

    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if row and row[0] == "Subject":
            return number, list(row)
    raise AssertionError(f"{path}: no header")


def test_label_sheets_mirror_the_real_ones(casme2: SynthSummary, samm: Path) -> None:
    assert _header(casme2.label_file, "Sheet1") == (1, list(CASME2_COLUMNS))
    assert _header(samm / "SAMM_Micro_FACS_Codes_v2.xlsx", "MICRO_ONLY") == (14, list(SAMM_COLUMNS))
    real_casme2 = SHARED / "casme2" / "CASME2-coding-20190701.xlsx"
    real_samm = SHARED / "samm" / "SAMM_Micro_FACS_Codes_v2.xlsx"
    if not (real_casme2.is_file() and real_samm.is_file()):
        pytest.skip(f"the real label files are not in {SHARED} (shared data absent)")
    assert _header(real_casme2, "Sheet1") == (1, list(CASME2_COLUMNS))
    assert _header(real_samm, "MICRO_ONLY") == (14, list(SAMM_COLUMNS))


def _read_smic(root: Path) -> list[tuple[str, str, str, list[int]]]:
    """A reader of the interface's SMIC layout: (subject, class, clip, frame numbers)."""
    found = []
    for clip in sorted((root / "HS").glob("s*/micro/*/*")):
        subject, cls = clip.parts[-4], clip.parts[-2]
        names = sorted(p.name for p in clip.iterdir())
        assert all(re.fullmatch(r"reg_image\d{6}\.bmp", n) for n in names), names[:3]
        found.append((subject, cls, clip.name, _frame_numbers(clip)))
    return found


def test_smic_layout_follows_the_interface(tmp_path: Path) -> None:
    import cv2

    s = generate(tmp_path / "SMIC", subjects=1, seed=1, progress=False, layout="smic")
    clips = _read_smic(s.out)
    assert len(clips) == 10
    assert Counter(c[1] for c in clips) == Counter(
        {k: v for k, v in s.samples_per_class.items() if v}
    )
    abbr = {"negative": "ne", "positive": "po", "surprise": "sur"}
    plans = {c.clip: c for c in s.clips}
    for subject, cls, name, numbers in clips:
        assert subject == "s1" and re.fullmatch(rf"s1_{abbr[cls]}_\d\d", name)
        onset, apex, offset = plans[name].label
        assert numbers == list(range(onset, offset + 1)) and onset < apex < offset
        assert 0.1 <= (offset - onset) / 100 <= 0.6  # 100 fps
    first = next((s.out / "HS").glob("s1/micro/*/*/*.bmp"))
    assert cv2.imread(str(first)).shape == (256, 256, 3)
    assert json.loads((s.out / "synth.json").read_text())["parameters"]["fps"] == 100.0


def test_megc2019_layout_has_the_composites_class_mix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import meflow.synth.generator as generator

    parts = megc2019_parts(68)
    assert [(p.layout, p.subjects, p.clips_per_subject) for p in parts] == [
        ("casme2", 24, 6),
        ("samm", 28, 5),
        ("smic", 16, 10),
    ]
    # the class mix (not the pixels) is under test: render grey frames
    flat = np.full((256, 256, 3), 128, np.uint8)
    monkeypatch.setattr(
        generator, "render_clip", lambda s, c, i, p: (flat for _ in range(c.frames))
    )
    s = generate(tmp_path / "megc", subjects=6, seed=0, progress=False, layout="megc2019")
    three = {"negative": 0, "positive": 0, "surprise": 0}
    to_three = {"happiness": "positive", "surprise": "surprise", "negative": "negative"}
    for name in ("casme2", "samm"):
        result = load_dataset(name, root=s.out / name, six_classes=False)
        assert len(result.samples) > 0 and check_frames(result) == []
        for sample in result.samples:
            three[to_three.get(sample.emotion, "negative")] += 1
    for _, cls, _, _ in _read_smic(s.out / "smic"):
        three[cls] += 1
    assert sum(three.values()) == s.samples
    assert three["negative"] > three["positive"] > 0 and three["surprise"] > 0
    assert s.subjects == 2 + 2 + 2  # 6 * 24/68, 6 * 28/68, 6 * 16/68 rounded, 2 at least


def test_unknown_layout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MeflowError, match="unknown layout 'casme4'"):
        generate(tmp_path / "x", layout="casme4", progress=False)
