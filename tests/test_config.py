"""Configuration: YAML in, unknown keys rejected with a suggestion, ranges checked."""

from pathlib import Path

import pytest

from meflow.config import (
    ExperimentConfig,
    ExtractConfig,
    TrainConfig,
    from_dict,
    load_yaml,
    override,
)
from meflow.errors import ConfigError


def test_yaml_fills_nested_settings(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("extract:\n  flow:\n    backend: tvl1\ntrain:\n  epochs: 7\n  lr: 1\n")
    cfg = load_yaml(ExperimentConfig, f)
    assert cfg.extract.flow.backend == "tvl1"
    assert cfg.train.epochs == 7 and cfg.train.lr == 1.0
    assert cfg.extract.features.window == 64


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("train:\n  epohcs: 7\n")
    with pytest.raises(ConfigError, match=r"c\.yaml.*'train\.epohcs'.*did you mean 'epochs'"):
        load_yaml(ExperimentConfig, f)


def test_values_out_of_range_or_of_wrong_type_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"train\.epochs"):
        from_dict(TrainConfig, {"epochs": 0})
    with pytest.raises(ConfigError, match="expected int"):
        from_dict(TrainConfig, {"epochs": "ten"})
    with pytest.raises(ConfigError, match="angle_average"):
        from_dict(ExtractConfig, {"features": {"angle_average": "median"}})


def test_overrides() -> None:
    cfg = override(ExtractConfig(), ["flow.backend=farneback", "features.window=32"])
    assert cfg.flow.backend == "farneback" and cfg.features.window == 32
    with pytest.raises(ConfigError, match="did you mean 'flow'"):
        override(ExtractConfig(), ["flwo.backend=dis"])


def test_a_text_setting_given_as_a_whole_number_is_its_text():
    """`--set train.shifts=0` (YAML reads 0) and the paper preset's own `train.shifts=0`."""
    from meflow.config import ExperimentConfig, override, with_preset

    assert override(ExperimentConfig(), ["train.shifts=0"]).train.shift_list == (0,)
    assert with_preset("paper").train.shift_list == (0,)
    assert with_preset("recommended").train.shift_list == (-8, -6, -4, -2, 0, 2, 4, 6, 8)


def test_settings_recorded_before_a_new_setting_still_match() -> None:
    """A cache made before a setting existed is the same settings at that setting's default."""
    from meflow.config import ExtractConfig, override, to_dict
    from meflow.config_io import settings_match

    cfg = ExtractConfig()
    stored = to_dict(cfg)
    del stored["features"]["onset_apex_average"]  # as written before the setting existed
    assert settings_match(ExtractConfig, stored, cfg)
    assert not settings_match(
        ExtractConfig, stored, override(cfg, ["features.onset_apex_average=1"])
    )
    assert not settings_match(ExtractConfig, {**stored, "nope": 1}, cfg)
    assert not settings_match(ExtractConfig, None, override(cfg, ["flow.backend=dis"]))


def test_a_landmark_stride_needs_gaps_that_long_to_be_filled() -> None:
    """face.landmark_stride k fills the k - 1 frames between two looked at as a gap."""
    cfg = override(ExtractConfig(), ["face.landmark_stride=4"])
    assert cfg.face.landmark_stride == 4 and ExtractConfig().face.landmark_stride == 1
    with pytest.raises(ConfigError, match=r"face\.landmark_stride 5 needs face\.max_gap >= 4"):
        override(ExtractConfig(), ["face.landmark_stride=5"])
    with pytest.raises(ConfigError, match=r"face\.landmark_stride 3 needs face\.max_gap >= 2"):
        override(ExtractConfig(), ["face.max_gap=1", "face.landmark_stride=3"])
    assert override(ExtractConfig(), ["face.max_gap=0"]).face.max_gap == 0
    with pytest.raises(ConfigError, match=r"face\.landmark_stride"):
        override(ExtractConfig(), ["face.landmark_stride=0"])
