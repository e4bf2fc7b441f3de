"""benchmarks/position.py on a small made-up set: the table's rows and columns, and a model
trained on centred windows that fails on moved ones beside one trained at every shift."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from _benchmarks import benchmark_helper
from _span_features import make_span_features
from meflow.cells import run_cell
from meflow.config import ExperimentConfig, TrainConfig
from meflow.datasets.base import EMOTIONS
from meflow.features.inputs import build_input

benchmark_helper("_results")  # position.py imports it by name
position = benchmark_helper("position")
CFG = ExperimentConfig(train=TrainConfig(bins=8))  # 4 pairs each: 8 pairs moves 2 bins
SHIFTS = (0, -8, 8)


@pytest.fixture(scope="module")
def scored() -> tuple:
    feats = make_span_features(subjects=5, per_class=3, returns=False)
    res = position.position_results(
        feats, position.ROWS, CFG, SHIFTS, (-8, -4, 0, 4, 8), 0, lambda _s: None
    )
    return feats, res


def test_the_table_has_every_row_and_shift_and_the_prior(scored: tuple) -> None:
    _, res = scored
    tabs = position.tables(res, position.ROWS, SHIFTS)
    for key in ("auc", "uf1"):
        assert tabs[key]["columns"] == ["row", "0", "-8", "+8", "change at ±8", "prior"]
        labels = [r[0] for r in tabs[key]["rows"]]
        assert labels == [r.label for r in position.ROWS] + ["class prior"]
    prior = tabs["auc"]["rows"][-1]
    # balanced classes: the prior is constant within every fold, micro AUC 0.5 over the
    # samples' own 3 classes (over six, the 3 absent ones would lift it)
    assert prior[1:4] == ["0.500"] * 3 and prior[-1] == "0.500"
    assert all(r[-1] == "0.500" for r in tabs["auc"]["rows"])
    assert res["left_out"] == []


def test_centred_training_loses_at_a_shift_and_position_training_does_not(scored: tuple) -> None:
    _, res = scored
    plain, moved = res["rows"]["recommended"], res["rows"]["recommended-position"]
    assert plain[0]["uf1"] > 0.95 and moved[0]["uf1"] > 0.9
    for s in (-8, 8):
        assert plain[s]["uf1"] < 0.5 and plain[s]["micro_roc_auc"] < 0.7
        assert moved[s]["uf1"] > 0.9 and moved[s]["micro_roc_auc"] > 0.95


def test_the_centred_figure_is_the_one_reproduce_computes() -> None:
    """At shift 0 a row's figures are run_cell's on the same input (same folds, seeds and
    metrics), position training included."""
    feats = make_span_features(subjects=4, per_class=2, returns=False)
    feats.classes = EMOTIONS  # run_cell scores over meflow's six classes
    rows = [r for r in position.ROWS if r.key in ("recommended", "recommended-position")]
    res = position.position_results(feats, rows, CFG, (0,), (-4, 0, 4), 0, lambda _s: None)
    X = build_input("vector-bins", feats.batch(), CFG.train)
    X_train = np.stack([build_input("vector-bins", feats.batch(s), CFG.train) for s in (-4, 0, 4)])
    cfg = dataclasses.replace(CFG, evaluate=dataclasses.replace(CFG.evaluate, bootstrap=0))
    for key, xt in (("recommended", None), ("recommended-position", X_train)):
        cell = run_cell(X, feats.labels, feats.subjects, feats.sample_ids, cfg, "all",
                        "vector-bins", "logreg", progress=False, X_train=xt)  # fmt: skip
        for m in ("micro_roc_auc", "uf1", "uar"):
            assert res["rows"][key][0][m] == cell.metrics[m]


def test_main_writes_the_tables_and_leaves_out_rows_without_onset_apex(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import meflow.features.featureset as featureset

    feats = dataclasses.replace(make_span_features(subjects=3, per_class=1), onset_apex=None)
    monkeypatch.setattr(featureset, "load_features", lambda cache, min_valid: feats)
    argv = ["--cache", str(tmp_path), "--fast", "--shifts", "0,4", "--out", str(tmp_path),
            "--train-shifts=-4,0,4"]  # fmt: skip
    assert position.main(argv) == 0
    doc = json.loads((tmp_path / "position.json").read_text())
    labels = [r[0] for r in doc["tables"]["uf1"]["rows"]]
    assert "baseline: logreg on onset-apex" not in labels and labels[-1] == "class prior"
    assert len(labels) == len(position.FAST_ROWS) - 2 + 1  # two fast rows need onset-apex
    assert doc["tables"]["auc"]["columns"] == ["row", "0", "-4", "+4", "change at ±8", "prior"]
    assert len(doc["extra"]["left_out"]) == 2 and "onset-to-apex" in doc["extra"]["left_out"][0]
    assert "benchmarks/position.py" in doc["command"]
