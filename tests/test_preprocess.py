"""Preprocessing: grey, equalised, deterministic."""

import numpy as np
import pytest

from meflow.config import PreprocessConfig
from meflow.errors import ConfigError
from meflow.preprocess import preprocess


def _low_contrast() -> np.ndarray:
    rng = np.random.default_rng(0)
    g = rng.integers(100, 120, size=(64, 80), dtype=np.uint8)
    return np.dstack([g, g, g])


def test_global_equalisation_spreads_a_narrow_histogram() -> None:
    out = preprocess(_low_contrast())
    assert out.shape == (64, 80) and out.dtype == np.uint8
    assert out.min() < 20 and out.max() == 255


def test_clahe_and_none() -> None:
    img = _low_contrast()
    none = preprocess(img, PreprocessConfig(equalization="none"))
    assert none.min() >= 100 and none.max() < 120
    clahe = preprocess(img, PreprocessConfig(equalization="clahe"))
    assert clahe.std() > none.std()


def test_unknown_equalisation_is_rejected() -> None:
    with pytest.raises(ConfigError, match="equalization"):
        PreprocessConfig(equalization="adaptive")
