"""The SMIC loader on a miniature tree in its real layout, and the standard protocols' words
and clip lists checked against the shared label files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_file
from meflow.datasets import check_frames, find_label_file, load_dataset
from meflow.errors import MeflowError
from meflow.protocols import PROTOCOLS, clip_key, read_clip_list


def _frames(folder: Path, name: str, numbers: range) -> None:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    image = np.full((12, 10, 3), 128, np.uint8)
    for n in numbers:
        image[n % 12, :, 0] = n % 256  # frames differ
        cv2.imwrite(str(folder / name.format(n=n)), image)


@pytest.fixture
def smic_tree(tmp_path: Path) -> Path:
    """SMIC_all_cropped with HS (reg_image) and VIS (image) clips, a non_micro folder, an
    empty clip folder and a class folder of another name."""
    root = tmp_path / "SMIC_all_cropped"
    hs = root / "HS"
    _frames(hs / "s1/micro/negative/s1_ne_01", "reg_image{n:06d}.bmp", range(46834, 46841))
    _frames(hs / "s1/micro/surprise/s1_sur_01", "reg_image{n:06d}.bmp", range(1200, 1204))
    _frames(hs / "s10/micro/positive/s10_po_02", "reg_image{n:06d}.bmp", range(7, 16))
    _frames(hs / "s2/micro/surprise/s2_sur_01", "reg_image{n:06d}.bmp", range(300, 305))
    _frames(hs / "s2/non_micro/n_01", "reg_image{n:06d}.bmp", range(1, 5))
    (hs / "s2/micro/negative/s2_ne_01").mkdir(parents=True)  # no frames
    _frames(hs / "s3/micro/happy/s3_ha_01", "reg_image{n:06d}.bmp", range(1, 5))
    _frames(root / "VIS/s1/micro/positive/s1_po_01", "image{n:06d}.bmp", range(500, 511))
    return root


def test_smic_tree_is_the_annotation(smic_tree: Path) -> None:
    hs = load_dataset("smic", root=smic_tree, six_classes=False)
    got = {(s.subject, s.clip): s for s in hs.samples}
    assert list(got) == [  # subjects in number order
        ("s1", "s1_ne_01"),
        ("s1", "s1_sur_01"),
        ("s2", "s2_sur_01"),
        ("s10", "s10_po_02"),
    ]
    ne = got[("s1", "s1_ne_01")]
    # onset..offset are the clip's frames; no apex in SMIC: the middle frame
    assert (ne.onset, ne.apex, ne.offset, ne.emotion, ne.fps) == (
        46834,
        46837,
        46840,
        "negative",
        100,
    )
    assert ne.frame_path(46834).name == "reg_image046834.bmp" and ne.frame_path(46834).is_file()
    po = got[("s10", "s10_po_02")]
    assert (po.onset, po.apex, po.offset) == (7, 11, 15)
    assert po.frame_path(7).name == "reg_image000007.bmp"
    assert check_frames(hs) == []
    reasons = {i.file: i.reason for i in hs.dropped}
    assert reasons == {
        "s2/micro/negative/s2_ne_01": "no frame images",
        "s3/micro/happy/s3_ha_01": (
            "class folder 'happy' is not one of negative, positive, surprise"
        ),
    }
    six = load_dataset("smic", root=smic_tree)
    assert [s.clip for s in six.samples] == ["s1_sur_01", "s2_sur_01"]
    assert six.excluded == {"negative": 1, "positive": 1}
    # VIS, given as the camera folder itself: image<n>.bmp at 25 fps
    vis = load_dataset("smic-vis", root=smic_tree / "VIS", six_classes=False)
    (v,) = vis.samples
    assert (v.dataset, v.onset, v.apex, v.offset, v.fps) == ("smic-vis", 500, 505, 510, 25)
    assert v.frame_path(510).is_file()


def test_smic_needs_its_tree(smic_tree: Path) -> None:
    with pytest.raises(MeflowError, match="no SMIC NIR folder"):
        load_dataset("smic-nir", root=smic_tree)
    with pytest.raises(MeflowError, match="folder tree is the annotation"):
        load_dataset("smic", labels=smic_tree / "list.csv")
    with pytest.raises(MeflowError, match="has no label file"):
        find_label_file("smic", smic_tree)
    assert clip_key("smic", "s1", "s1_ne_01") == ("smic", "s01", "s01_ne_01")
    assert clip_key("casme2", "sub01", "EP02_01f") == ("casme2", "sub01", "EP02_01f")


def test_megc2019_list_counts(shared_data: Path) -> None:
    listed = read_clip_list(
        shared_file(shared_data, "megc2019/combined_3_class2_for_optical_flow.csv")
    )
    assert len(listed) == 442
    per = Counter(d for d, _, _ in listed)
    assert per == {"casme2": 145, "samm": 133, "smic": 164}
    subjects = {d: len({s for dd, s, _ in listed if dd == d}) for d in per}
    assert subjects == {"casme2": 24, "samm": 28, "smic": 16}
    assert Counter(listed.values()) == {0: 250, 1: 109, 2: 83}


@pytest.mark.parametrize(
    ("dataset", "rel", "words_alone"),
    [
        ("casme2", "casme2/CASME2-coding-20190701.xlsx", 150),
        ("samm", "samm/SAMM_Micro_FACS_Codes_v2.xlsx", 133),
    ],
)
def test_loaders_find_every_listed_clip_with_its_class(
    shared_data: Path, dataset: str, rel: str, words_alone: int
) -> None:
    listed = read_clip_list(
        shared_file(shared_data, "megc2019/combined_3_class2_for_optical_flow.csv")
    )
    result = load_dataset(dataset, labels=shared_file(shared_data, rel), six_classes=False)
    megc = PROTOCOLS["megc2019"]
    ours = {
        clip_key(dataset, s.subject, s.clip): megc.label(dataset, s.emotion) for s in result.samples
    }
    mine = {k: v for k, v in listed.items() if k[0] == dataset}
    assert all(k in ours for k in mine)  # CASME II 145 of 145, SAMM 133 of 133
    assert {k: ours[k] for k in mine} == mine  # the same class for every one
    assert sum(v >= 0 for v in ours.values()) == words_alone


def test_five_class_protocols_on_the_real_sheets(shared_data: Path) -> None:
    def counts(name: str, dataset: str, rel: str) -> dict[str, int]:
        p = PROTOCOLS[name]
        r = load_dataset(dataset, labels=shared_file(shared_data, rel), six_classes=False)
        c = Counter(p.label(dataset, s.emotion) for s in r.samples)
        return {p.classes[k]: n for k, n in c.items() if k >= 0}

    c2 = counts("casme2-5", "casme2", "casme2/CASME2-coding-20190701.xlsx")
    assert c2 == {"happiness": 32, "disgust": 63, "repression": 27, "surprise": 28, "others": 99}
    samm = counts("samm-5", "samm", "samm/SAMM_Micro_FACS_Codes_v2.xlsx")
    assert samm == {"anger": 57, "contempt": 12, "happiness": 26, "surprise": 15, "others": 26}


def test_casme3_protocols_agree_with_the_edited_file(shared_data: Path) -> None:
    import pandas as pd

    labels = shared_file(shared_data, "casme3/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx")
    r = load_dataset("casme3", labels=labels, six_classes=False)
    three, seven = PROTOCOLS["casme3-3"], PROTOCOLS["casme3-7"]
    kept = [three.label("casme3", s.emotion) for s in r.samples]
    assert Counter(three.classes[k] for k in kept if k >= 0) == {
        "negative": 457,  # disgust 250, fear 86, anger 64, sadness 57
        "positive": 55,
        "surprise": 187,
    }
    assert kept.count(-1) == 161  # 'others' (158 + 3 spelled 'Others')
    by_key = {(s.subject, s.clip, s.onset): s.emotion for s in r.samples}
    edited = pd.read_csv(shared_file(shared_data, "casme3/cas(me)3_part_A_edited.csv"))
    rows = list(zip(edited.Subject, edited.Filename.str.lower(), edited.Onset, strict=True))
    assert all(k in by_key for k in rows)  # all 687 rows of HTNet's file
    assert [three.label("casme3", by_key[k]) for k in rows] == edited.label_for_3.tolist()
    assert [seven.label("casme3", by_key[k]) for k in rows] == edited.label_for_7.tolist()
    assert sum(seven.label("casme3", s.emotion) >= 0 for s in r.samples) == len(r.samples)
