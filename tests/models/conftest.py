"""One torch thread per test: the CI machine's cores are shared, and 2+ threads under
contention are many times slower than one."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every test here runs with one torch thread (tests/conftest.py)."""
