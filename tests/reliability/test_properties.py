"""Property-based tests: arbitrary label cells and arbitrary flows never give anything but a
valid result or the documented error. (Round-trip and frame-rule properties live in
tests/datasets/test_label_parsing.py; angle-convention and permutation properties in
tests/features/test_pooling.py.)"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meflow.config import ExperimentConfig, override
from meflow.datasets import casme2, samm
from meflow.datasets.base import EMOTIONS
from meflow.datasets.casme3 import PART_A, PART_C
from meflow.datasets.labels import LabelSpec, LabelTable, parse_rows, read_label_table
from meflow.errors import ConfigError, LabelFileError
from meflow.features.pooling import AVERAGES, pool_regions

# Cells as a spreadsheet or csv may give them: text of any kind, numbers of any kind, blanks.
cell = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "/", "-", "nan", "..", "../x", "happy", "Others", "12", "12.0", "1e3"]),
)
SPECS: dict[str, LabelSpec] = {
    "casme3": PART_A,
    "casme3c": PART_C,
    "casme2": casme2.SPEC,
    "samm": samm.SPEC,
}


def _table(spec: LabelSpec, rows: list[list[object]]) -> LabelTable:
    fields = [f for f in ("subject", "clip", "onset", "apex", "offset", "emotion")
              if f in spec.columns]  # fmt: skip
    columns = {f: i for i, f in enumerate(fields)}
    names = {f: spec.columns[f][0] for f in fields}
    return LabelTable(
        Path("labels.xlsx"), 1, columns, names, [(i + 2, r) for i, r in enumerate(rows)]
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(SPECS)),
    rows=st.lists(st.lists(cell, min_size=0, max_size=7), max_size=8),
)
def test_arbitrary_cells_give_valid_rows_or_a_label_file_error(
    name: str, rows: list[list[object]]
) -> None:
    spec = SPECS[name]
    try:
        parsed, issues = parse_rows(_table(spec, rows), spec)
    except LabelFileError as exc:
        assert "\n" not in str(exc) and "labels.xlsx" in str(exc)
        return
    known = {*EMOTIONS, *spec.other_words.values()}
    for r in parsed:
        assert 0 <= r.onset <= r.apex <= r.offset
        assert r.emotion in known
        for text in (r.subject, r.clip):
            assert text.strip() not in ("", ".", "..") and "/" not in text and "\\" not in text
    assert len({(r.subject, r.clip, r.onset) for r in parsed}) == len(parsed)
    rows_seen = [r.row for r in parsed] + [i.row for i in issues if i.action == "dropped"]
    assert len(rows_seen) == len(set(rows_seen))  # a row is kept or dropped, never both
    assert all(i.action in ("repaired", "dropped") and i.reason for i in issues)


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300))
def test_arbitrary_csv_text_gives_a_result_or_a_label_file_error(
    tmp_path_factory, text: str
) -> None:
    path = tmp_path_factory.mktemp("csv") / "labels.csv"
    path.write_text(text, encoding="utf-8")
    try:
        read_label_table(path, PART_A)
    except LabelFileError as exc:
        assert "\n" not in str(exc)


# --- region pooling -----------------------------------------------------------------------


@st.composite
def flows_and_labels(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from([1e-6, 1e-2, 1.0, 50.0]))
    flow = (rng.normal(0, scale, (h, w, 2))).astype(np.float32)
    if draw(st.booleans()):  # some exactly-still pixels
        flow[rng.random((h, w)) < 0.3] = 0.0
    labels = rng.integers(0, 43, (h, w)).astype(draw(st.sampled_from([np.uint8, np.int32])))
    return flow, labels


@settings(max_examples=150, deadline=None)
@given(data=flows_and_labels(), average=st.sampled_from(sorted(AVERAGES)))
def test_pooling_gives_nan_exactly_for_empty_regions_and_bounded_values(
    data: tuple[np.ndarray, np.ndarray], average: str
) -> None:
    flow, labels = data
    mag, ang = pool_regions(flow, labels, average=average)
    assert mag.shape == ang.shape == (42,) and mag.dtype == ang.dtype == np.float32
    pix = np.hypot(flow[..., 0].astype(np.float64), flow[..., 1].astype(np.float64))
    for r in range(1, 43):
        inside = labels == r
        if not inside.any():
            assert math.isnan(mag[r - 1]) and math.isnan(ang[r - 1])
            continue
        assert 0.0 <= ang[r - 1] < 2 * np.pi
        assert mag[r - 1] == pytest.approx(pix[inside].mean(), rel=1e-4, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 3)),
    lab_shape=st.tuples(st.integers(0, 5), st.integers(0, 5)),
    top=st.integers(-3, 60),
    kind=st.sampled_from(["int", "float", "bool"]),
)
def test_pooling_refuses_malformed_input_with_value_error_only(
    shape: tuple[int, int, int], lab_shape: tuple[int, int], top: int, kind: str
) -> None:
    flow = np.zeros(shape, np.float32)
    labels = np.full(
        lab_shape, top, dtype={"int": np.int64, "float": np.float32, "bool": bool}[kind]
    )
    try:
        mag, ang = pool_regions(flow, labels)
    except ValueError:
        return
    assert mag.shape == ang.shape == (42,)


# --- configuration overrides ----------------------------------------------------------------

KEYS = [
    *("train.epochs", "train.lr", "train.scale", "evaluate.folds", "evaluate.bootstrap"),
    *("extract.features.window", "extract.face.crop_margin", "train", "nope.x", "train.nope"),
]


@settings(max_examples=150, deadline=None)
@given(key=st.sampled_from(KEYS), value=st.text(max_size=10))
def test_any_override_gives_a_valid_config_or_a_config_error(key: str, value: str) -> None:
    try:
        cfg = override(ExperimentConfig(), [f"{key}={value}"])
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(cfg, ExperimentConfig)
    assert cfg.train.epochs >= 1 and cfg.evaluate.folds >= 2
    assert cfg.extract.features.window >= 2
