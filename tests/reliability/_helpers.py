"""Helpers of the reliability suite (imported as ``reliability._helpers``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from meflow.config import ExtractConfig, from_dict, to_dict

# A short window keeps the extraction tests fast (17 frames read per sample instead of 65).
SMALL = {"features": {"window": 16}}


def small_config() -> ExtractConfig:
    return from_dict(ExtractConfig, SMALL)


def write_fake_cache(cache: Path, subjects: int = 4, per_class: int = 2, seed: int = 0) -> Path:
    """A feature cache of separable pseudo-images, in the format meflow extract writes."""
    from meflow.datasets.base import EMOTIONS
    from meflow.features.cache import atomic_write_text, save_npz
    from meflow.features.extract import CACHE_FORMAT

    rng = np.random.default_rng(seed)
    cache.mkdir(parents=True, exist_ok=True)
    manifest = {"format": CACHE_FORMAT, "dataset": "fake", "extract": to_dict(ExtractConfig())}
    atomic_write_text(cache / "cache.json", json.dumps(manifest, sort_keys=True))
    for s in range(subjects):
        for k, emotion in enumerate(EMOTIONS):
            for i in range(per_class):
                img = np.zeros((42, 64), np.uint8)
                img[7 * k : 7 * k + 7, 16:48] = 32 * (k + 1)
                noise = rng.random((42, 64)) < 0.2
                img[noise] = rng.integers(0, 8, int(noise.sum())) * 32
                sid = f"fake_s{s}_{emotion}_{i}"
                save_npz(
                    cache / "samples" / f"{sid}.npz",
                    {
                        "valid": np.ones(64, bool),
                        "pseudo_discrete": img,
                        "pseudo_continuous": img,
                    },
                    {"sample_id": sid, "subject": f"s{s}", "emotion": emotion, "label": k},
                )
    return cache


def one_line_error(err: str, *needles: str) -> str:
    """The single line of ``err``; asserts there is exactly one and it holds every needle."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{err}"
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"
    return lines[0]
