"""A FeatureSet-like set of samples whose series cover a span beyond the anchor-centred window
(the cache layout of features.margin), with ``batch(shift)``: for the position tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SpanFeatures:
    """Samples as FeatureSet gives them: labels, subjects, ids, and windows cut from a span."""

    labels: np.ndarray
    subjects: np.ndarray
    sample_ids: list[str]
    window: int
    window_index: np.ndarray  # (N,) first pair of the centred window in the span
    span: dict[str, np.ndarray]  # vector, main (N, S, 42, 2); valid, expression (N, S)
    onset_apex: np.ndarray | None = None  # (N, 42, 2)
    classes: tuple[str, ...] = ()  # the labels' class names
    calls: list[int] = field(default_factory=list)  # the shifts batch() was asked for

    def batch(self, shift: int = 0) -> dict[str, np.ndarray]:
        """The W-pair windows moved by ``shift`` pairs (clipped into the span)."""
        self.calls.append(shift)
        n, s = self.span["valid"].shape
        start = np.clip(self.window_index + shift, 0, s - self.window)
        take = start[:, None] + np.arange(self.window)[None, :]
        rows = np.arange(n)[:, None]
        out = {k: v[rows, take] for k, v in self.span.items()}
        vec = out["vector"]
        angle = np.mod(np.arctan2(-vec[..., 1], vec[..., 0]), 2 * np.pi)
        grey = np.where(np.hypot(vec[..., 0], vec[..., 1]) > 0.3, 1 + angle / (2 * np.pi) * 254, 0)
        out["pseudo_discrete"] = np.ascontiguousarray(grey.astype(np.uint8).transpose(0, 2, 1))
        out["pseudo_continuous"] = out["pseudo_discrete"]
        if self.onset_apex is not None:
            out["onset_apex"] = self.onset_apex
            out["onset_apex_valid"] = np.ones(n, bool)
        return out


def make_span_features(
    subjects: int = 6,
    per_class: int = 4,
    classes: int = 3,
    window: int = 32,
    margin: int = 12,
    noise: float = 0.15,
    seed: int = 0,
    returns: bool = True,
) -> SpanFeatures:
    """Class k moves regions 6k..6k+5 in direction 120k degrees away (the 3 pairs before the
    centred window's middle) and, with ``returns``, back (the 3 after); amplitude 0.6 to 1.4
    px, apex jittered by a pair; every region has flow noise; labels 0..classes-1. A model
    that learns *where* in the window the motion is fails on moved windows; the onset-to-apex
    flow is the apex displacement plus noise."""
    rng = np.random.default_rng(seed)
    s = window + 2 * margin
    n = subjects * classes * per_class
    vec = rng.normal(0.0, noise, size=(n, s, 42, 2)).astype(np.float32)
    labels, subj, oa = [], [], np.zeros((n, 42, 2), np.float32)
    for i in range(n):
        k = (i // per_class) % classes
        amp = rng.uniform(0.6, 1.4)
        d = amp * np.array([np.cos(2.1 * k), -np.sin(2.1 * k)], np.float32)
        apex = margin + window // 2 + int(rng.integers(-1, 2))
        regions = slice(6 * k, 6 * k + 6)
        vec[i, apex - 3 : apex, regions] += d
        vec[i, apex : apex + 3, regions] -= d if returns else 0.0
        oa[i, regions] = 3 * d
        labels.append(k)
        subj.append(f"s{i // (classes * per_class):02d}")
    oa += rng.normal(0.0, noise, size=oa.shape).astype(np.float32)
    expression = np.zeros((n, s), bool)
    expression[:, margin + window // 2 - 4 : margin + window // 2 + 4] = True
    span = {"vector": vec, "main": vec.copy(), "valid": np.ones((n, s), bool),
            "expression": expression}  # fmt: skip
    return SpanFeatures(
        np.array(labels), np.array(subj), [f"x{i:03d}" for i in range(n)], window,
        np.full(n, margin), span, oa, tuple(f"class{k}" for k in range(classes)),
    )  # fmt: skip
