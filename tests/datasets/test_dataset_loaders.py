"""Loaders on the real annotation files of ../shared/data: counts verified independently."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from conftest import shared_file
from meflow.datasets import (
    EMOTIONS,
    LoadResult,
    check_frames,
    find_label_file,
    load_dataset,
)
from meflow.datasets.casme3 import read_damaged_frames
from meflow.errors import MeflowError

PART_A = "casme3/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
PART_C = "casme3/CAS(ME)3_part_C_ME.xlsx"
CASME2 = "casme2/CASME2-coding-20190701.xlsx"
SAMM = "samm/SAMM_Micro_FACS_Codes_v2.xlsx"

PART_A_SIX = {
    "happiness": 55,
    "sadness": 57,
    "surprise": 187,
    "anger": 64,
    "disgust": 250,
    "fear": 86,
}


@pytest.fixture(scope="module")
def part_a(shared_data: Path) -> LoadResult:
    return load_dataset("casme3", labels=shared_file(shared_data, PART_A))


@pytest.fixture(scope="module")
def part_a_all(shared_data: Path) -> LoadResult:
    return load_dataset("casme3", labels=shared_file(shared_data, PART_A), six_classes=False)


def test_part_a_gives_the_verified_six_class_counts(part_a: LoadResult) -> None:
    result = part_a
    assert len(result.samples) == 699
    assert len(result.subjects) == 88
    assert dict(result.class_counts) == PART_A_SIX
    assert result.excluded == {"others": 161}
    assert all(s.onset <= s.apex <= s.offset for s in result.samples)
    assert len({s.sample_id for s in result.samples}) == 699


def test_part_a_counts_agree_with_pandas(shared_data: Path, part_a: LoadResult) -> None:
    df = pd.read_excel(shared_file(shared_data, PART_A), sheet_name="label")
    words = {"happy": "happiness", "sad": "sadness"}
    emotion = df["emotion"].str.strip().str.lower().replace(words)
    six = df[emotion.isin(EMOTIONS)]
    assert dict(Counter(emotion[six.index])) == dict(part_a.class_counts)
    assert six["Subject"].nunique() == len(part_a.subjects)


def test_part_a_names_every_repair(part_a: LoadResult, part_a_all: LoadResult) -> None:
    assert part_a.dropped == []
    repaired = {i.row: i.reason for i in part_a.repaired}
    assert sorted(repaired) == [61, 130, 751, 798, 800]
    assert "'J'" in repaired[61]
    by_row = {s.row: s for s in part_a_all.samples}
    # the companion file CAS(ME)3_part_A_v2.xls gives the intended numbers
    assert (by_row[130].onset, by_row[130].apex, by_row[130].offset) == (112, 160, 358)
    assert (by_row[751].onset, by_row[751].apex, by_row[751].offset) == (2647, 2668, 2694)
    assert by_row[798].offset == 1845
    assert by_row[800].offset == 2403
    assert by_row[61].clip == "j"
    assert all(i.file == Path(PART_A).name for i in part_a.issues)


def test_part_a_without_the_companion_file_falls_back_and_keeps_699(
    shared_data: Path, tmp_path: Path
) -> None:
    label = tmp_path / Path(PART_A).name
    shutil.copy(shared_file(shared_data, PART_A), label)
    result = load_dataset("casme3", labels=label)
    assert len(result.samples) == 699
    assert dict(result.class_counts) == PART_A_SIX
    assert [i.row for i in result.dropped] == [751, 798, 800]
    assert [i.row for i in result.repaired] == [61, 130]
    fear = next(s for s in result.samples if s.row == 130)
    assert (fear.onset, fear.apex, fear.offset) == (112, 235, 358)


def test_part_a_all_classes_and_frame_paths(part_a_all: LoadResult, tmp_path: Path) -> None:
    assert len(part_a_all.samples) == 860
    assert len(part_a_all.subjects) == 94
    assert part_a_all.class_counts["others"] == 161
    first = part_a_all.samples[0]
    assert first.frame_path(359) == Path("spNO.1") / "a" / "color" / "359.jpg"
    assert first.first_frame is None and first.last_frame is None
    assert check_frames(part_a_all) == []  # no dataset folder given: nothing to check
    # the same rows under a dataset folder that holds no frames
    moved = LoadResult(
        [replace(s, frames_dir=tmp_path / s.frames_dir) for s in part_a_all.samples],
        root=tmp_path,
    )
    missing = check_frames(moved)
    assert len(missing) == 860 and "does not exist" in missing[0][1]


def test_damaged_frame_list_is_read(shared_data: Path) -> None:
    damaged = read_damaged_frames(
        shared_file(shared_data, "casme3/error_info_damaged_image_partA.txt")
    )
    assert set(damaged) == {("spNO.3", "j"), ("spNO.4", "j")}
    assert (len(damaged["spNO.3", "j"]), len(damaged["spNO.4", "j"])) == (79, 42)
    assert 498 in damaged["spNO.3", "j"]


def test_casme2_counts(shared_data: Path, tmp_path: Path) -> None:
    path = shared_file(shared_data, CASME2)
    df = pd.read_excel(path)
    six = df[df["Estimated Emotion"].str.strip().str.lower().isin(EMOTIONS)]
    result = load_dataset("casme2", labels=path, root=tmp_path)
    assert len(six) == len(result.samples) == 129
    assert dict(result.class_counts) == {
        "happiness": 32,
        "sadness": 4,
        "surprise": 28,
        "disgust": 63,
        "fear": 2,
    }
    assert six["Subject"].nunique() == len(result.subjects) == 22
    assert result.excluded == {"others": 99, "repression": 27}
    assert [(i.row, i.action) for i in result.issues] == [(31, "repaired")]
    ep12 = next(s for s in result.samples if s.row == 31)
    assert (ep12.subject, ep12.clip, ep12.apex) == ("sub04", "EP12_01f", 291)
    s = result.samples[0]
    assert s.frame_path(46) == tmp_path / "sub01" / "EP02_01f" / "img46.jpg"
    assert (s.first_frame, s.last_frame) == (s.onset, s.offset)
    everything = load_dataset("casme2", labels=path, six_classes=False)
    assert len(everything.samples) == 255 and len(everything.subjects) == 26


def test_samm_counts(shared_data: Path, tmp_path: Path) -> None:
    path = shared_file(shared_data, SAMM)
    df = pd.read_excel(path, header=13, dtype=str)
    six = df[df["Estimated Emotion"].str.strip().str.lower().isin(EMOTIONS)]
    result = load_dataset("samm", labels=path, root=tmp_path)
    assert len(six) == len(result.samples) == 121
    assert dict(result.class_counts) == {
        "anger": 57,
        "happiness": 26,
        "surprise": 15,
        "disgust": 9,
        "fear": 8,
        "sadness": 6,
    }
    assert six["Subject"].nunique() == len(result.subjects) == 28
    assert result.excluded == {"contempt": 12, "others": 26}
    assert [i.row for i in result.repaired] == [140, 147]  # apex outside onset..offset
    assert result.dropped == []
    s = next(s for s in result.samples if s.clip == "006_1_2")
    assert s.subject == "006" and s.onset == 5562
    assert s.frame_path(5562) == tmp_path / "006" / "006_1_2" / "006_05562.jpg"
    assert len(load_dataset("samm", labels=path, six_classes=False).samples) == 159


def test_part_c_loads_with_midpoint_apex(shared_data: Path) -> None:
    path = shared_file(shared_data, PART_C)
    result = load_dataset("casme3c", labels=path, six_classes=False)
    assert len(result.samples) == 165 and len(result.subjects) == 30
    assert dict(result.class_counts) == {
        "negative": 99,
        "surprise": 30,
        "others": 20,
        "positive": 16,
    }
    assert len(result.repaired) == 165 and "no apex column" in result.repaired[0].reason
    assert all(s.apex == (s.onset + s.offset) // 2 for s in result.samples)
    six = load_dataset("casme3c", labels=path)
    assert dict(six.class_counts) == {"surprise": 30}


def test_label_file_is_found_in_a_dataset_folder(shared_data: Path, tmp_path: Path) -> None:
    nested = tmp_path / "annotation" / "partA"
    nested.mkdir(parents=True)
    shutil.copy(shared_file(shared_data, PART_A), nested)
    assert find_label_file("casme3", tmp_path) == nested / Path(PART_A).name
    with pytest.raises(MeflowError, match="no CASME II label file"):
        find_label_file("casme2", tmp_path)


def test_unknown_dataset_name_suggests_the_closest() -> None:
    with pytest.raises(MeflowError, match=r"did you mean 'casme2'.*valid: casme3, casme3c"):
        load_dataset("casme_2", labels=Path("x.xlsx"))
