"""The paper's 8-sector angle discretisation and the angle -> 0..255 grey-level mapping.

One linear map serves both pseudo-image variants: grey = floor(256 * theta / 2pi). The
continuous image uses it on theta; the discrete image uses it on
theta' = (2pi/8) floor(8 theta / 2pi), which gives 32 * sector (0, 32, ..., 224). So a discrete
pixel is the continuous pixel with its low 5 bits cleared (``grey & 0xE0``), and both images
share the same grey scale: a model or a figure reads the same value as the same direction.

All three functions wrap angles into [0, 2pi) first and work in turns x = theta / 2pi with
a tolerance of 1e-6 turn (2e-4 degrees) added before the floor: float32 sector angles such
as float32(3pi/4), which lie a hair below k/8 turn, then still fall in sector k, so
``discretise`` is idempotent and the discrete grey levels are exactly 32k. Because the same
x is floored at both scales (8x and 256x differ by an exact power of two), the
low-bits identity above holds for every input, including the 2pi edge (sector 0, grey 0).
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


def angle_to_uint8(theta: ArrayLike) -> np.ndarray:
    """Gives the grey level floor(256 * theta / 2pi) in 0..255 as uint8 (NaN -> 0).

    theta in radians, wrapped into [0, 2pi) (an angle a hair below 2pi is direction 0 and
    gives 0, the same as ``sector_of``). ``angle_to_uint8(discretise(t)) == 32 * sector``.
    """
    x = _turns(theta)
    nan = np.isnan(x)
    g = np.floor(np.where(nan, 0.0, x) * 256.0).astype(np.int64) % 256
    return np.asarray(np.where(nan, 0, g), dtype=np.uint8)
