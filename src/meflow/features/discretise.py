"""The paper's 8-sector angle discretisation and the angle -> 1..255 grey-level map.

One linear map serves both pseudo-image variants: grey = 1 + floor(255 * theta / 2pi), in
1..255. The continuous image uses it on theta; the discrete image uses it on
theta' = (2pi/8) floor(8 theta / 2pi) (the paper's formula, then "scaled to 0..255"), which
gives the sector levels 1, 32, 64, ..., 224: a discrete pixel is the lowest continuous grey of
its sector, and both images share one grey scale (a model or a figure reads the same value as
the same direction). Grey 0 (``NO_DIRECTION``) is taken by no direction: it marks a pair
without flow (frames unreadable, face lost), a region without pixels, and a region whose
motion is below the noise floor (``features.noise_floor``). Before this code (features
version 1), "no data" was written as 0, which was also sector 0, motion to the right.

All three functions wrap angles into [0, 2pi) first and work in turns x = theta / 2pi with
a tolerance of 1e-6 turn (2e-4 degrees) added before the floor: float32 sector angles such
as float32(3pi/4), which lie a hair below k/8 turn, then still fall in sector k, so
``discretise`` is idempotent and the discrete grey levels are exact.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

TWO_PI = 2.0 * np.pi
_TOL_TURNS = 1e-6


def _turns(theta: ArrayLike) -> np.ndarray:
    x = np.asarray(theta, dtype=np.float64) / TWO_PI
    return (x - np.floor(x)) + _TOL_TURNS


def _check_sectors(sectors: int) -> None:
    if int(sectors) != sectors or sectors < 1:
        raise ValueError(f"sectors must be a positive integer, got {sectors!r}")


def sector_of(theta: ArrayLike, sectors: int = 8) -> np.ndarray:
    """Gives the sector index floor(sectors * theta / 2pi) in 0..sectors-1 (int64; NaN -> -1)."""
    _check_sectors(sectors)
    x = _turns(theta)
    nan = np.isnan(x)
    s = np.floor(np.where(nan, 0.0, x) * sectors).astype(np.int64) % sectors
    return np.asarray(np.where(nan, -1, s), dtype=np.int64)


def discretise(theta: ArrayLike, sectors: int = 8) -> np.ndarray:
    """Gives theta' = (2pi/sectors) floor(sectors * theta / 2pi), the sector's lower edge.

    The paper's formula with sectors = 8; theta in radians (wrapped into [0, 2pi), so
    theta = 2pi gives sector 0); NaN passes through. The result keeps a float input's dtype
    (float64 otherwise).
    """
    arr = np.asarray(theta)
    dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.dtype(np.float64)
    s = sector_of(arr, sectors)
    return np.asarray(np.where(s < 0, np.nan, s * (TWO_PI / sectors)), dtype=dtype)


NO_DIRECTION = 0  # the grey level no direction takes: no flow, no pixels, or below the floor


def angle_to_uint8(theta: ArrayLike) -> np.ndarray:
    """Gives the grey level 1 + floor(255 * theta / 2pi) in 1..255 as uint8 (NaN -> 0).

    theta in radians, wrapped into [0, 2pi) (an angle a hair below 2pi is direction 0 and
    gives 1, the same as ``sector_of``). ``angle_to_uint8(discretise(t))`` is
    ``1 + floor(255 * sector / 8)``: 1, 32, 64, ..., 224. NaN (no direction) gives
    ``NO_DIRECTION``.
    """
    x = _turns(theta)
    nan = np.isnan(x)
    g = 1 + np.floor(np.where(nan, 0.0, x) * 255.0).astype(np.int64) % 255
    return np.asarray(np.where(nan, NO_DIRECTION, g), dtype=np.uint8)


def sector_levels(sectors: int = 8) -> np.ndarray:
    """The grey levels of the discrete image's sectors, uint8 (sectors,): 1, 32, ... for 8."""
    _check_sectors(sectors)
    return angle_to_uint8(discretise(np.arange(sectors) * (TWO_PI / sectors), sectors))
