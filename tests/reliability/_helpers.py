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


def fake_sample(k: int, rng: np.random.Generator, pairs: int = 64) -> dict[str, np.ndarray]:
    """The arrays of one cache sample of class ``k``: regions 7k..7k+6 move at the direction
    of sector k (0.5 px a pair) during pairs 16..47, every region jitters (0.05 px) and 20 %
    of the region-pairs point anywhere."""
    from meflow.features.pooling import wrap_angle
    from meflow.features.windows import pseudo_images

    vec = rng.normal(0.0, 0.05, (pairs, 42, 2)).astype(np.float32)
    theta = (k + 0.5) * np.pi / 4
    vec[16:48, 7 * k : 7 * k + 7] += 0.5 * np.array([np.cos(theta), -np.sin(theta)], np.float32)
    wild = rng.random((pairs, 42)) < 0.2
    vec[wild] = rng.normal(0.0, 0.5, (int(wild.sum()), 2))
    angle = wrap_angle(np.arctan2(-vec[..., 1], vec[..., 0]))
    magnitude = np.hypot(vec[..., 0], vec[..., 1]).astype(np.float32)
    valid = np.ones(pairs, bool)
    disc, cont = pseudo_images(angle, valid)
    return {
        "angle": angle,
        "magnitude": magnitude,
        "vector": vec,
        "main": vec.copy(),
        "valid": valid,
        "frame_valid": np.ones(pairs + 1, bool),
        "frames": np.arange(pairs + 1, dtype=np.int32),
        "pseudo_discrete": disc,
        "pseudo_continuous": cont,
    }


def write_fake_cache(cache: Path, subjects: int = 4, per_class: int = 2, seed: int = 0) -> Path:
    """A feature cache of separable samples, in the format meflow extract writes."""
    from meflow.datasets.base import EMOTIONS
    from meflow.features import FEATURES_VERSION
    from meflow.features.cache import atomic_write_text, save_npz
    from meflow.features.extract import CACHE_FORMAT

    rng = np.random.default_rng(seed)
    cache.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": CACHE_FORMAT,
        "dataset": "fake",
        "extract": to_dict(ExtractConfig()),
        "features_version": FEATURES_VERSION,
    }
    atomic_write_text(cache / "cache.json", json.dumps(manifest, sort_keys=True))
    for s in range(subjects):
        for k, emotion in enumerate(EMOTIONS):
            for i in range(per_class):
                sid = f"fake_s{s}_{emotion}_{i}"
                save_npz(
                    cache / "samples" / f"{sid}.npz",
                    fake_sample(k, rng),
                    {
                        "sample_id": sid,
                        "subject": f"s{s}",
                        "clip": f"c{k}{i}",
                        "emotion": emotion,
                        "label": k,
                        "onset": 16,
                        "apex": 32,
                        "offset": 48,
                    },
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
