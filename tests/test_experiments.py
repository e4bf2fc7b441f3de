"""The grid on a cache: references beside every row, presets, settings that take effect,
gender exclusion per clip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from meflow.cli import main
from meflow.config import ExperimentConfig, override, with_preset
from meflow.errors import ConfigError
from reliability._helpers import one_line_error, write_fake_cache

FAST = ["--set", "evaluate.bootstrap=50", "--quiet"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_cache(tmp_path_factory.mktemp("exp") / "cache", subjects=4, per_class=2)


@pytest.fixture(scope="module")
def run(cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    assert main(["evaluate", "--cache", str(cache), "--out", str(out), *FAST]) == 0
    return out


def _prior_direct(y: np.ndarray, subjects: np.ndarray) -> np.ndarray:
    """Leave-one-subject-out class frequencies, computed here without meflow's code."""
    probs = np.zeros((len(y), 6))
    for s in np.unique(subjects):
        test = subjects == s
        counts = np.bincount(y[~test], minlength=6)
        probs[test] = counts / counts.sum()
    return probs


def test_every_row_carries_the_prior_of_its_own_splits(run: Path) -> None:
    import pandas as pd
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import label_binarize

    rows = json.loads((run / "results.json").read_text())
    assert {(r["model"], r["input"], r["role"]) for r in rows} == {
        ("logreg", "vector-bins", "model"),
        ("logreg", "pseudo-discrete", "baseline"),
        ("svm", "mdmo", "baseline"),
    }
    preds = pd.read_csv(run / "predictions.csv")
    for r in rows:
        p = preds[(preds["model"] == r["model"]) & (preds["input"] == r["input"])]
        y = p["true"].map({e: i for i, e in enumerate(p.columns[-6:])}).to_numpy()
        prior = _prior_direct(y, p["subject"].to_numpy())
        onehot = label_binarize(y, classes=range(6))
        assert r["prior_micro_roc_auc"] == pytest.approx(
            roc_auc_score(onehot, prior, average="micro"), abs=1e-9
        )
        assert r["protocol"] == "loso" and r["n_subjects"] == 4
        lo, hi = r["minus_prior_ci"]
        assert lo <= r["minus_prior"] <= hi
        assert r["minus_prior"] == pytest.approx(r["micro_roc_auc"] - r["prior_micro_roc_auc"])
    best = next(r for r in rows if r["role"] == "model")
    assert best["micro_roc_auc"] > 0.9 and best["above_prior"]  # the fake classes separate


def test_the_tables_show_the_prior_and_the_papers_own(run: Path) -> None:
    md = (run / "results.md").read_text()
    assert "prior" in md.splitlines()[0] and "minus prior" in md.splitlines()[0]
    assert "0.698" in md  # the prior of the paper's class mix, beside its column
    report = (run / "report.md").read_text()
    assert "0.698" in report and "(baseline)" in report and "versus_prior.png" in report
    assert (run / "figures" / "versus_prior.png").stat().st_size > 1000
    csv_head = (run / "results.csv").read_text().splitlines()[0]
    assert "prior_micro_roc_auc" in csv_head and "minus_prior_ci" in csv_head


def test_paper_preset_is_the_published_method() -> None:
    cfg = with_preset("paper")
    assert cfg.preset == "paper"
    assert cfg.extract.features.angle_average == "arithmetic"
    assert cfg.extract.features.sectors == 8 and cfg.extract.features.noise_floor == 0
    assert cfg.extract.flow.reference == "previous"
    assert cfg.train.model == "yolo11" and cfg.train.scale == "s"
    assert cfg.train.inputs == ("pseudo-discrete", "pseudo-continuous")
    rec = with_preset("recommended")
    assert rec == ExperimentConfig() and rec.evaluate.protocol == "loso"
    with pytest.raises(ConfigError, match="did you mean 'paper'"):
        with_preset("papers")
    # settings given later win over the preset's
    assert override(cfg, ["train.scale=n"]).train.scale == "n"


def test_extraction_settings_that_differ_from_the_cache_are_refused(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["reproduce", "--cache", str(cache), "--out", str(tmp_path / "r"), *FAST]
    assert main([*args, "--set", "extract.flow.backend=farneback"]) == 2
    one_line_error(
        capsys.readouterr().err, "extract.flow.backend", "'lk-dense' in the cache", "re-extract"
    )
    # one equal to the cache's changes nothing and is accepted; the run records the cache's
    assert main([*args, "--set", "extract.flow.backend=lk-dense", "--set", "train.c=0.5"]) == 0
    run = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run["config"]["extract"] == run["extract"]
    assert run["config"]["train"]["c"] == 0.5


def test_low_confidence_clips_are_left_out_and_counted(cache: Path, tmp_path: Path) -> None:
    table = tmp_path / "gender.csv"
    table.write_text("subject,gender,excluded\ns0,male,\ns1,female,\ns2,male,\ns3,female,\n")
    gone = ["fake_s0_happiness_0", "fake_s1_fear_1"]
    (tmp_path / "gender.clips.csv").write_text(
        "sample_id,subject,clip,gender,excluded\n"
        + f"{gone[0]},s0,c00,male,confidence 0.61 < 0.8\n"
        + f"{gone[1]},s1,c51,,no face found in the first 5 frames\n"
        + "fake_s2_anger_0,s2,c30,male,\n"
    )
    out = tmp_path / "run"
    args = ["reproduce", "--cache", str(cache), "--out", str(out), "--demographics", str(table)]
    assert main([*args, *FAST, "--set", "evaluate.baselines="]) == 0
    run = json.loads((out / "run.json").read_text())
    assert sorted(c["sample_id"] for c in run["excluded_clips"]) == gone
    rows = {r["subset"]: r for r in json.loads((out / "results.json").read_text())}
    assert rows["all"]["n_samples"] == 48 - 2
    assert rows["male"]["n_samples"] == 24 - 1 and rows["female"]["n_samples"] == 24 - 1
    assert (
        "clips excluded for a gender confidence below the threshold (as in the paper): 2"
        in (out / "report.md").read_text()
    )


def test_demo_extracts_with_the_settings_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--set extract.* reaches the demo's extraction of both presets and their records."""
    import meflow.experiments
    import meflow.features.extract
    import meflow.synth.generator
    from meflow.features.extract import ExtractSummary

    seen: dict[str, object] = {}

    def fake_extract(samples, cache, cfg, **kw):  # type: ignore[no-untyped-def]
        seen[Path(cache).parent.name] = cfg
        return ExtractSummary(0, 0, 0, [], 1.0, 0, {})

    def fake_reproduce(cache, out, cfg, **kw):  # type: ignore[no-untyped-def]
        seen[f"run {Path(out).name}"] = cfg
        return {"table": "", "comparisons": []}

    monkeypatch.setattr(meflow.synth.generator, "generate", lambda *a, **k: None)
    monkeypatch.setattr(meflow.features.extract, "extract_dataset", fake_extract)
    monkeypatch.setattr(meflow.experiments, "reproduce", fake_reproduce)
    monkeypatch.setattr(
        meflow.experiments, "train_model", lambda *a, **k: {"classifier": "x", "input": "y"}
    )
    monkeypatch.setattr(
        "meflow.datasets.load_dataset", lambda *a, **k: type("R", (), {"samples": []})()
    )

    def fake_spot(args, out, cfg, model):  # type: ignore[no-untyped-def]
        seen["spot"] = cfg.extract

    monkeypatch.setattr("meflow.commands.demo._spot", fake_spot)
    args = ["demo", "--out", str(tmp_path), "--quiet"]
    assert main([*args, "--set", "extract.features.angle_average=arithmetic"]) == 0
    for preset in ("recommended", "paper"):
        assert seen[preset].features.angle_average == "arithmetic"  # type: ignore[attr-defined]
        cfg = seen[f"run {preset}"]
        assert cfg.extract.features.angle_average == "arithmetic"  # type: ignore[attr-defined]
        assert cfg.preset == preset  # type: ignore[attr-defined]
    assert seen["spot"].features.angle_average == "arithmetic"  # type: ignore[attr-defined]
    assert seen["spot"].flow.motion_compensation == "rigid"  # type: ignore[attr-defined]
    assert seen["paper"].flow.motion_compensation == "none"  # type: ignore[attr-defined]
    assert seen["recommended"].flow.motion_compensation == "rigid"  # type: ignore[attr-defined]


def test_a_classifier_and_an_input_that_do_not_fit_are_refused_when_read() -> None:
    from meflow.config import TrainConfig

    with pytest.raises(ConfigError, match=r"yolo11 takes train\.input pseudo-discrete"):
        TrainConfig(model="yolo11", input="vector-bins")
    with pytest.raises(ConfigError, match=r"gru takes train\.input vector-series"):
        TrainConfig(model="gru", input="pseudo-discrete")
    assert TrainConfig(model="logreg", input="mdmo").inputs == ("mdmo",)
