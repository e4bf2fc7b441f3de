"""Shared material of the reliability suite: a small synthetic dataset and a ready-made cache.

The synthetic dataset (CAS(ME)^3 layout, 2 subjects x 3 clips x 70 frames) is made once per
session; tests that damage it work on a copy. ``fake_cache`` is a feature cache written
directly with ``save_npz`` (no video work): separable pseudo-images of 4 subjects, enough for
``meflow train`` and ``meflow evaluate`` to run in seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reliability._helpers import write_fake_cache


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every test here runs with one torch thread (tests/conftest.py)."""


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic dataset; read-only by convention (copy it with ``synth_copy``)."""
    from meflow.synth.generator import generate

    root = tmp_path_factory.mktemp("reliability-synth") / "data"
    generate(root, subjects=2, seed=0, progress=False, clips_per_subject=3, frames=70)
    return root


@pytest.fixture
def synth_copy(synth_root: Path, tmp_path: Path) -> Path:
    """A private copy of the synthetic dataset that a test may damage."""
    root = tmp_path / "data"
    shutil.copytree(synth_root, root)
    return root


@pytest.fixture(scope="session")
def fake_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_cache(tmp_path_factory.mktemp("reliability-cache") / "cache")
