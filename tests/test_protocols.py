"""meflow reproduce --protocol: metrics over the protocol's classes only, and the MEGC2019
composite end to end on miniature trees in CASME II's, SAMM's and SMIC's real layouts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from datasets._layouts import write_layouts
from meflow.cli import main
from meflow.evaluation.metrics import micro_roc_auc, uar, uf1
from meflow.features.cache import load_npz, save_npz
from meflow.protocols import PROTOCOLS, load_protocol
from reliability._helpers import one_line_error, write_fake_cache

FAST = ["--set", "evaluate.bootstrap=50", "--quiet"]


def _predictions(out: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (out / "predictions.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    return list(rows[0].keys()), rows


def _loso_prior(y: np.ndarray, subjects: np.ndarray, k: int) -> np.ndarray:
    p = np.zeros((len(y), k))
    for s in np.unique(subjects):
        c = np.bincount(y[subjects != s], minlength=k)
        p[subjects == s] = c / c.sum()
    return p


def test_a_three_class_protocol_is_scored_over_its_three_classes(tmp_path: Path) -> None:
    cache = write_fake_cache(tmp_path / "cache", subjects=4, per_class=2)
    for f in sorted((cache / "samples").glob("*.npz")):  # CAS(ME)^3 words; fear -> others
        arrays, meta = load_npz(f)
        if meta["emotion"] == "fear":
            meta.update(emotion="others", label=-1)
        save_npz(f, arrays, {**meta, "dataset": "casme3"})
    out = tmp_path / "run"
    args = ["reproduce", "--protocol", "casme3-3", "--cache", str(cache), "--out", str(out)]
    assert main([*args, *FAST, "--set", "evaluate.baselines="]) == 0
    (row,) = json.loads((out / "results.json").read_text())
    # happiness -> positive; surprise; sadness, anger, disgust -> negative; 'others' left out
    assert row["class_counts"] == {"negative": 24, "positive": 8, "surprise": 8}
    assert row["n_samples"] == 40
    header, preds = _predictions(out)
    assert header[-3:] == ["negative", "positive", "surprise"] and len(header) == 10
    classes = ["negative", "positive", "surprise"]
    y = np.array([classes.index(r["true"]) for r in preds])
    probs = np.array([[float(r[c]) for c in classes] for r in preds])
    subjects = np.array([r["subject"] for r in preds])
    assert row["micro_roc_auc"] == pytest.approx(micro_roc_auc(y, probs), abs=1e-5)
    assert row["uf1"] == pytest.approx(uf1(y, probs), abs=1e-9)
    prior = _loso_prior(y, subjects, 3)
    assert row["prior_micro_roc_auc"] == pytest.approx(micro_roc_auc(y, prior), abs=1e-9)
    # over six columns (three always 0) the prior would score otherwise
    six = np.hstack([prior, np.zeros((len(y), 3))])
    assert abs(micro_roc_auc(y, six) - row["prior_micro_roc_auc"]) > 0.02
    assert "## Protocol casme3-3: per dataset and overall" in (out / "report.md").read_text()
    # a class the caches do not hold is named
    seven = load_protocol([cache], PROTOCOLS["casme3-7"])
    assert seven.notes == [
        "casme3: no sample of fear (a cache extracted without --all-classes holds only the "
        "six classes' words)"
    ]
    assert len(seven.feats.labels) == 48 and seven.feats.classes == PROTOCOLS["casme3-7"].classes


@pytest.fixture(scope="module")
def caches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """CASME II, SAMM and SMIC caches (all classes) of miniature trees in their layouts."""
    from meflow.datasets import load_dataset
    from meflow.synth.generator import generate

    base = tmp_path_factory.mktemp("layouts")
    generate(base / "synth", subjects=2, seed=3, progress=False, clips_per_subject=3, frames=40)
    samples = load_dataset("casme3", root=base / "synth").samples
    trees = write_layouts(samples, base / "trees")
    out = {}
    for name, root in trees.items():
        out[name] = base / f"cache-{name}"
        args = ["extract", "--dataset", name, "--root", str(root), "--out", str(out[name])]
        assert (
            main([*args, "--all-classes", "--workers", "1", "--quiet"]) == 0
        )  # the defaults: no window set by hand
    return out


def test_megc2019_composite_end_to_end(caches: dict[str, Path], tmp_path: Path, capsys) -> None:
    out = tmp_path / "megc"
    args = ["reproduce", "--protocol", "megc2019", "--out", str(out), *FAST]
    for c in caches.values():
        args += ["--cache", str(c)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "MEGC2019 composite" in printed and "| overall |" in printed
    doc = json.loads((out / "protocol.json").read_text())
    assert doc["classes"] == ["negative", "positive", "surprise"]
    # synthetic clips are not the list's: the words decide, and the run says so
    assert len(doc["notes"]) == 3 and all("the emotion words decide" in n for n in doc["notes"])
    assert {d: sum(c.values()) for d, c in doc["class_counts"].items()} == {
        "casme2": 5,  # its 'others' clip is not in the composite
        "samm": 6,
        "smic": 6,
    }
    rows = doc["rows"]
    inputs = {(r["input"], r["model"], r["role"]) for r in rows}
    assert {r for r in inputs if r[2] == "baseline"} == {
        ("pseudo-discrete", "logreg", "baseline"),
        ("mdmo", "svm", "baseline"),
        ("onset-apex", "logreg", "baseline"),  # the caches carry the onset-to-apex flow
    }
    assert [r["dataset"] for r in rows[:4]] == ["casme2", "samm", "smic", "overall"]
    header, preds = _predictions(out)
    classes = header[-3:]
    assert classes == ["negative", "positive", "surprise"]
    first = [p for p in preds if (p["input"], p["model"]) == (rows[0]["input"], rows[0]["model"])]
    assert len(first) == 17 and len({p["subject"] for p in first}) == 6  # LOSO over 6
    for r in rows[:4]:
        mine = [p for p in first if r["dataset"] in ("overall", p["subject"].split("/")[0])]
        y = np.array([classes.index(p["true"]) for p in mine])
        probs = np.array([[float(p[c]) for c in classes] for p in mine])
        assert r["n_samples"] == len(mine)
        assert r["uf1"] == pytest.approx(uf1(y, probs), abs=1e-5)
        assert r["uar"] == pytest.approx(uar(y, probs), abs=1e-5)
        assert r["micro_roc_auc"] == pytest.approx(micro_roc_auc(y, probs), abs=1e-5)
        assert r["micro_roc_auc_ci"] is not None and r["prior_micro_roc_auc"] is not None


def test_five_class_protocol_uses_the_words_outside_the_six(
    caches: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "c5"
    args = ["reproduce", "--protocol", "casme2-5", "--cache", str(caches["casme2"])]
    assert main([*args, "--out", str(out), *FAST, "--set", "evaluate.baselines="]) == 0
    (row,) = json.loads((out / "results.json").read_text())
    counts = row["class_counts"]
    assert list(counts) == list(PROTOCOLS["casme2-5"].classes)
    assert counts["repression"] == 2 and counts["others"] == 1 and sum(counts.values()) == 6


def test_a_clip_list_filters_the_clips_it_names(caches: dict[str, Path], tmp_path: Path) -> None:
    megc = PROTOCOLS["megc2019"]
    data = load_protocol([caches["smic"]], megc, clip_list=None)
    assert "emotion words decide" in data.notes[0]
    # a list naming the SMIC clips as MEGC2019 does (s01, s01_ne_01 for s1/.../s1_ne_01)
    names = [s.split("_", 2)[2].rsplit("_", 1)[0] for s in data.feats.sample_ids]
    lines = ["dataset,sub,filename_o,label,apex,imagename"]
    for name, label in zip(names, data.feats.labels, strict=True):
        sub, rest = name.split("_", 1)
        lines.append(f"smic,s{int(sub[1:]):02d},s{int(sub[1:]):02d}_{rest},{label},,x.jpg")
    listed = tmp_path / "list.csv"
    listed.write_text("\n".join(lines) + "\nsmic,s09,s09_po_01,1,,y.jpg\n")
    kept = load_protocol([caches["smic"]], megc, clip_list=listed)
    assert kept.notes == ["smic: the protocol's list keeps 6 of 6 clips (7 listed)"]
    assert kept.feats.sample_ids == data.feats.sample_ids
    # the same names with other classes: not the list's data, the words decide
    wrong = [
        ",".join([*p[:3], str((int(p[3]) + 1) % 3), *p[4:]])
        for p in (x.split(",") for x in lines[1:])
    ]
    listed.write_text("\n".join([lines[0], *wrong]) + "\n")
    other = load_protocol([caches["smic"]], megc, clip_list=listed)
    assert "not the list's data" in other.notes[0] and len(other.feats.labels) == 6


def test_protocol_mistakes_are_one_line(tmp_path: Path, capsys) -> None:
    cache = write_fake_cache(tmp_path / "cache", subjects=2, per_class=1)
    out = ["--out", str(tmp_path / "run")]
    two = ["--cache", str(cache), "--cache", str(cache)]
    assert main(["reproduce", *two, *out]) == 2
    one_line_error(capsys.readouterr().err, "several --cache", "--protocol NAME")
    assert main(["reproduce", "--protocol", "megc2019", "--cache", str(cache), *out]) == 2
    one_line_error(capsys.readouterr().err, "the cache holds 'fake'", "casme2, samm, smic")
    with pytest.raises(SystemExit):
        main(["reproduce", "--protocol", "megc", "--cache", str(cache), *out])
    assert "invalid choice: 'megc'" in capsys.readouterr().err
