"""One torch thread per test: the CI machine's cores are shared, and 2+ threads under
contention are many times slower than one."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every test here runs with one torch thread (tests/conftest.py)."""


def make_separable(
    n_subjects: int = 6, per_class: int = 3, seed: int = 0, noise: float = 0.2
) -> tuple:
    """(X, y, groups): class k = sector 32(k+1) in rows 7k..7k+6, frames 16..47, plus noise."""
    import numpy as np

    rng = np.random.default_rng(seed)
    xs, ys, gs = [], [], []
    for s in range(n_subjects):
        for k in range(6):
            for _ in range(per_class):
                img = np.zeros((42, 64), np.uint8)
                img[7 * k : 7 * k + 7, 16:48] = 32 * (k + 1)
                mask = rng.random((42, 64)) < noise
                img[mask] = rng.integers(0, 8, int(mask.sum())) * 32
                xs.append(img)
                ys.append(k)
                gs.append(f"s{s:02d}")
    return np.stack(xs), np.array(ys), np.array(gs)


@pytest.fixture
def separable() -> tuple:
    return make_separable()
