"""Determinism: the same inputs and seed give byte-identical caches and identical metrics, and
every run records the library versions and the seed that made it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meflow.cli import main
from meflow.datasets import load_dataset
from meflow.features.extract import extract_dataset
from reliability._helpers import small_config

# Fields that measure time, not results: they may differ between two identical runs.
TIMING_KEYS = frozenset({"seconds", "timings", "elapsed", "time"})


def _drop_timing(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_drop_timing(v) for v in value]
    return value


def test_two_extractions_give_byte_identical_caches(synth_root: Path, tmp_path: Path) -> None:
    samples = load_dataset("casme3", root=synth_root).samples
    caches = [tmp_path / "one", tmp_path / "two"]
    for cache in caches:
        summary = extract_dataset(samples, cache, small_config(), dataset="casme3", progress=False)
        assert summary.extracted == len(samples) == 6
    names = sorted(p.name for p in (caches[0] / "samples").iterdir())
    assert names == sorted(p.name for p in (caches[1] / "samples").iterdir())
    assert len(names) == 6
    for name in names:
        a = (caches[0] / "samples" / name).read_bytes()
        assert a == (caches[1] / "samples" / name).read_bytes(), name
    for name in ("samples.csv", "cache.json"):
        assert (caches[0] / name).read_bytes() == (caches[1] / name).read_bytes(), name


@pytest.mark.slow
def test_two_evaluations_with_the_same_seed_give_identical_results(
    fake_cache: Path, tmp_path: Path
) -> None:
    runs = [tmp_path / "a", tmp_path / "b"]
    for out in runs:
        args = ["evaluate", "--cache", str(fake_cache), "--out", str(out), "--scale", "n",
                "--epochs", "1", "--folds", "2", "--seed", "3", "--set", "evaluate.bootstrap=20",
                "--quiet"]  # fmt: skip
        assert main(args) == 0
    results = [json.loads((out / "results.json").read_text()) for out in runs]
    assert _drop_timing(results[0]) == _drop_timing(results[1])
    assert results[0][0]["micro_roc_auc_ci"] is not None  # the bootstrap ran
    assert (runs[0] / "predictions.csv").read_bytes() == (runs[1] / "predictions.csv").read_bytes()
    run_json = [json.loads((out / "run.json").read_text()) for out in runs]
    assert _drop_timing(run_json[0]) == _drop_timing(run_json[1])
    # the report records the seed and the versions of the libraries that shape the numbers
    run = run_json[0]
    assert run["seed"] == 3 and run["config"]["evaluate"]["seed"] == 3
    for lib in ("meflow", "python", "numpy", "torch", "ultralytics", "mediapipe"):
        assert run["versions"].get(lib), lib
