"""Shared fixtures: where the real data of ../shared lives, skipped with a reason if absent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("MEFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real annotation files and videos (../shared/data or $MEFLOW_SHARED_DATA)."""
    d = shared_data_dir()
    if not d.is_dir():
        pytest.skip(f"real data not found at {d}: set MEFLOW_SHARED_DATA to the shared/data folder")
    return d


def shared_file(shared: Path, rel: str) -> Path:
    p = shared / rel
    if not p.exists():
        pytest.skip(f"{p} is absent from the shared data folder")
    return p


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests run only with MEFLOW_SLOW=1 (as in CI) or when selected with -m slow."""
    if os.environ.get("MEFLOW_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow test: set MEFLOW_SLOW=1 to run it (CI does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One torch thread for a test: the CI machine's cores are shared, and 2+ threads under
    contention are many times slower than one. Packages and modules that train or run
    networks make it autouse."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def recommended(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small synthetic set (2 subjects x 3 clips of 70 frames), extracted and trained on with
    the default settings (the recommended preset) by `meflow extract` and `meflow train`."""
    from meflow.cli import main
    from meflow.synth.generator import generate

    base = tmp_path_factory.mktemp("recommended")
    root, cache, model = base / "data", base / "cache", base / "model.safetensors"
    generate(root, subjects=2, seed=0, progress=False, clips_per_subject=3, frames=70)
    extract = ["extract", "--dataset", "casme3", "--root", str(root), "--out", str(cache)]
    assert main([*extract, "--quiet", "--workers", "1"]) == 0
    assert main(["train", "--cache", str(cache), "--out", str(model), "--quiet"]) == 0
    clip = sorted(root.glob("spNO.*/*/color"))[0]  # one clip's frames, 30 fps
    return {"root": root, "cache": cache, "model": model, "clip": clip}
