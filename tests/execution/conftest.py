"""Ray on the loopback address only, for every test here; a small synthetic set.

``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes Ray 2.60 bind every node to 127.0.0.1; Ray
reads it when it is imported, so it is set here, before any test module imports Ray, and
``ray_env`` checks that it took effect. Token authentication is on, with a token held in the
environment (no ``~/.ray/auth_token`` is written).
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_AUTH_MODE": "token",
    "RAY_AUTH_TOKEN": uuid.uuid4().hex,
    "RAY_USAGE_STATS_ENABLED": "0",
}
os.environ.update(RAY_ENV)  # before Ray is imported: inherited by every node and subprocess

HAVE_RAY = importlib.util.find_spec("ray") is not None
NEEDS_RAY = pytest.mark.skipif(
    not HAVE_RAY, reason='Ray is not installed: pip install -e ".[ray]" (CI does)'
)


def check_loopback() -> None:
    """Nothing; fails the test unless Ray was imported with loopback binding and every node
    of the connected cluster is on 127.0.0.1."""
    import ray
    from ray._private import ray_constants

    assert ray_constants.ENABLE_RAY_CLUSTER is False, "Ray was imported before conftest set it"
    addresses = {n["NodeManagerAddress"] for n in ray.nodes()}
    assert addresses == {"127.0.0.1"}, addresses


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray (2 CPUs, no dashboard) for a module's tests; shut down after them."""
    import ray

    # "local": a new Ray, never one that `ray start` left on this machine
    ray.init(
        "local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING"
    )
    try:
        check_loopback()
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 subjects x 3 clips of 70 frames in the CAS(ME)^3 layout."""
    from meflow.synth.generator import generate

    root = tmp_path_factory.mktemp("exec-synth") / "data"
    generate(root, subjects=2, seed=3, progress=False, clips_per_subject=3, frames=70)
    return root


def cache_bytes(cache: Path) -> dict[str, bytes]:
    """Every file a cache's extraction writes, by name (as tests/features/test_extract.py)."""
    files = [*sorted((cache / "samples").iterdir()), cache / "samples.csv", cache / "cache.json"]
    return {f.name: f.read_bytes() for f in files}


def finished(cache: Path) -> int:
    """Samples with a finished .npz in the cache."""
    return len(list((cache / "samples").glob("*.npz"))) if (cache / "samples").is_dir() else 0
