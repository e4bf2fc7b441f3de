"""Window placement and pseudo-image assembly."""

import numpy as np
import pytest

from meflow.errors import MeflowError
from meflow.features.windows import place_window, pseudo_images


def test_window_is_centred_on_the_anchor() -> None:
    assert place_window(anchor=100, first=0, last=500, window=64) == 68


def test_window_moves_inside_the_recording_at_its_edges() -> None:
    assert place_window(anchor=5, first=1, last=500, window=64) == 1
    assert place_window(anchor=495, first=1, last=500, window=64) == 500 - 64
    # exactly window + 1 frames available
    assert place_window(anchor=40, first=10, last=74, window=64) == 10


def test_too_short_a_recording_is_refused() -> None:
    with pytest.raises(MeflowError, match="needs 65"):
        place_window(anchor=20, first=0, last=40, window=64)


def test_pseudo_images_rows_are_regions_columns_are_pairs() -> None:
    pairs, regions = 64, 42
    angle = np.zeros((pairs, regions), np.float32)
    angle[:, 3] = np.pi / 2 + 0.1  # region 4 moves up: sector 2
    angle[10, :] = np.pi + 0.2  # pair 10 all left: sector 4
    valid = np.ones(pairs, bool)
    valid[20] = False
    disc, cont = pseudo_images(angle, valid)
    assert disc.shape == (42, 64) and disc.dtype == np.uint8
    assert disc[3, 0] == 64 and disc[0, 0] == 0
    assert (disc[:, 10] == 128).all()
    assert (disc[:, 20] == 0).all() and (cont[:, 20] == 0).all()
    assert cont[3, 0] == int(np.floor(256 * (np.pi / 2 + 0.1) / (2 * np.pi)))
    assert ((cont & 0xE0) == disc).all()
