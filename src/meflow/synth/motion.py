"""Displacement fields of the synthetic dataset: action units and blinks.

All fields are in frame pixels, shape (H, W, 2) float32 holding (dx, dy) with y pointing
down, and describe where the skin at a point moves to (a forward displacement); the renderer
samples the face at ``x - d(x)``. Directions are given in the face's own axes: ``out`` is
away from the facial midline (mirrored between the two halves of the face), ``up`` is
towards the forehead along the chin -> nose-bridge axis, so they follow each subject's
rotation and mirroring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Landmarks on the facial midline: their components have no left/right part.
MIDLINE = frozenset({0, 1, 6, 9, 10, 13, 14, 17, 152, 168})


@dataclass(frozen=True)
class AUComponent:
    """One Gaussian blob of motion belonging to an action unit.

    ``anchors`` are MediaPipe landmark indices (both sides of the face for bilateral muscles);
    ``direction`` is (out, up) in face axes (normalised when used); ``sigma`` is the Gaussian's
    standard deviation as a fraction of the inter-pupil distance; ``weight`` its relative
    strength inside the action unit.
    """

    anchors: tuple[int, ...]
    direction: tuple[float, float]
    weight: float
    sigma: float


# FACS action units as localised motion (after Ekman & Friesen's FACS descriptions).
ACTION_UNITS: dict[int, tuple[str, tuple[AUComponent, ...]]] = {
    1: (
        "inner brow raiser",
        (
            AUComponent((107, 336), (0.0, 1.0), 1.0, 0.20),
            AUComponent((66, 296), (0.0, 1.0), 0.5, 0.20),
        ),
    ),
    2: (
        "outer brow raiser",
        (
            AUComponent((70, 300), (0.1, 1.0), 1.0, 0.20),
            AUComponent((105, 334), (0.0, 1.0), 0.6, 0.20),
        ),
    ),
    4: (
        "brow lowerer",
        (
            AUComponent((107, 336), (-0.55, -0.84), 1.0, 0.20),
            AUComponent((66, 296), (-0.4, -0.9), 0.6, 0.20),
        ),
    ),
    5: ("upper lid raiser", (AUComponent((159, 386), (0.0, 1.0), 1.0, 0.10),)),
    6: (
        "cheek raiser",
        (
            AUComponent((50, 280), (0.3, 0.95), 1.0, 0.22),
            AUComponent((116, 345), (0.2, 1.0), 0.6, 0.20),
            AUComponent((145, 374), (0.0, 1.0), 0.4, 0.10),
        ),
    ),
    7: (
        "lid tightener",
        (
            AUComponent((145, 374), (0.0, 1.0), 1.0, 0.10),
            AUComponent((159, 386), (0.0, -1.0), 0.4, 0.08),
        ),
    ),
    9: (
        "nose wrinkler",
        (
            AUComponent((198, 420), (-0.3, 0.95), 1.0, 0.14),
            AUComponent((129, 358), (0.0, 1.0), 0.7, 0.14),
            AUComponent((107, 336), (-0.3, -0.95), 0.4, 0.16),
        ),
    ),
    10: (
        "upper lip raiser",
        (
            AUComponent((0,), (0.0, 1.0), 1.0, 0.18),
            AUComponent((37, 267), (0.0, 1.0), 0.8, 0.16),
        ),
    ),
    12: ("lip corner puller", (AUComponent((61, 291), (0.6, 0.8), 1.0, 0.16),)),
    14: ("dimpler", (AUComponent((61, 291), (-0.8, 0.2), 1.0, 0.12),)),
    15: ("lip corner depressor", (AUComponent((61, 291), (0.1, -1.0), 1.0, 0.16),)),
    17: (
        "chin raiser",
        (
            AUComponent((152,), (0.0, 1.0), 1.0, 0.25),
            AUComponent((17,), (0.0, 1.0), 0.7, 0.14),
        ),
    ),
    20: ("lip stretcher", (AUComponent((61, 291), (1.0, -0.1), 1.0, 0.16),)),
    23: (
        "lip tightener",
        (
            AUComponent((61, 291), (-1.0, 0.0), 0.8, 0.14),
            AUComponent((0,), (0.0, -1.0), 0.5, 0.12),
            AUComponent((17,), (0.0, 1.0), 0.5, 0.12),
        ),
    ),
    26: (
        "jaw drop",
        (
            AUComponent((152,), (0.0, -1.0), 1.0, 0.35),
            AUComponent((17,), (0.0, -1.0), 0.8, 0.25),
        ),
    ),
}

# The six classes as weighted sums of action units (EMFACS-style prototypes, as in the brief
# and CAS(ME)^3's objective classes).
EMOTION_AUS: dict[str, tuple[tuple[int, float], ...]] = {
    "happiness": ((6, 0.7), (12, 1.0)),
    "sadness": ((1, 0.8), (4, 0.6), (15, 1.0)),
    "surprise": ((1, 1.0), (2, 1.0), (5, 0.6), (26, 1.0)),
    "anger": ((4, 1.0), (7, 0.7), (23, 0.8)),
    "disgust": ((9, 1.0), (10, 1.0)),
    "fear": ((1, 0.8), (2, 0.8), (4, 0.5), (5, 0.6), (20, 1.0)),
    # the other classes of CASME II (repression, others) and SAMM (contempt, other)
    "repression": ((15, 1.0), (17, 0.8), (14, 0.5)),
    "contempt": ((14, 1.0), (12, 0.5)),
    "others": ((4, 1.0), (17, 0.5)),
}

# CAS(ME)^3 / Davison et al. objective classes of the six emotions.
OBJECTIVE_CLASS: dict[str, str] = {
    "happiness": "I",
    "surprise": "II",
    "anger": "III",
    "disgust": "IV",
    "sadness": "V",
    "fear": "VI",
    "repression": "V",
    "contempt": "VII",
    "others": "VII",
}

GENDER_AMPLITUDE = {"female": 1.08, "male": 0.92}  # women's expressions ~17% larger than men's
WEIGHT_JITTER = 0.25  # each component's weight is multiplied by U(1 - j, 1 + j) per sample
DIRECTION_JITTER_DEG = 8.0  # each component's direction turns by N(0, this) per sample


@dataclass(frozen=True)
class FaceAxes:
    """A subject's face axes in the frame: unit ``up`` and ``right`` vectors, midline point."""

    up: np.ndarray
    right: np.ndarray
    mid: np.ndarray
    iod: float  # inter-pupil distance, px

    @classmethod
    def from_landmarks(cls, lm: dict[int, np.ndarray]) -> FaceAxes:
        """The axes implied by chin (152), nose bridge (168) and pupils (468, 473)."""
        up = lm[168] - lm[152]
        up = up / np.linalg.norm(up)
        right = np.array([-up[1], up[0]])
        return cls(up, right, lm[168].copy(), float(np.linalg.norm(lm[468] - lm[473])))

    def vector(self, anchor: int, pos: np.ndarray, out: float, up: float) -> np.ndarray:
        """The frame-space vector of face-space (out, up) at landmark ``anchor``."""
        side = 0.0 if anchor in MIDLINE else float(np.sign(np.dot(pos - self.mid, self.right)))
        return side * out * self.right + up * self.up


def _grid(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = size
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return xs, ys


def expression_field(
    lm: dict[int, np.ndarray],
    emotion: str,
    amplitude: float,
    size: tuple[int, int],
    rng: np.random.Generator | None = None,
    au_keep: float = 1.0,
    asymmetry: float = 0.0,
    direction_jitter_deg: float = DIRECTION_JITTER_DEG,
) -> np.ndarray:
    """The apex displacement field of ``emotion``, (H, W, 2) float32 px, peak = ``amplitude``.

    ``lm`` are the subject's anchor landmarks in frame coordinates; ``rng`` (optional) jitters
    each component's weight and direction so no two samples are identical. Real expressions
    of one class vary more than a prototype: with ``au_keep`` < 1 each action unit of the
    class is shown with that probability (at least one always is), and with ``asymmetry`` > 0
    one side of the face moves less, by a factor drawn from U(1 - asymmetry, 1).
    """
    axes = FaceAxes.from_landmarks(lm)
    xs, ys = _grid(size)
    field = np.zeros((*size, 2), dtype=np.float32)
    units = list(EMOTION_AUS[emotion])
    if rng is not None and au_keep < 1.0:
        keep = rng.random(len(units)) < au_keep
        if not keep.any():
            keep[int(rng.integers(len(units)))] = True
        units = [u for u, k in zip(units, keep, strict=True) if k]
    weak_side, weak = 0.0, 1.0
    if rng is not None and asymmetry > 0:
        weak_side = 1.0 if rng.random() < 0.5 else -1.0
        weak = float(rng.uniform(1.0 - asymmetry, 1.0))
    for au, au_weight in units:
        for comp in ACTION_UNITS[au][1]:
            w = au_weight * comp.weight
            out, up = comp.direction
            if rng is not None:
                w *= float(rng.uniform(1 - WEIGHT_JITTER, 1 + WEIGHT_JITTER))
                a = math.radians(float(rng.normal(0.0, direction_jitter_deg)))
                out, up = out * math.cos(a) - up * math.sin(a), out * math.sin(a) + up * math.cos(a)
            norm = math.hypot(out, up)
            sigma = comp.sigma * axes.iod
            for anchor in comp.anchors:
                pos = lm[anchor]
                vec = axes.vector(anchor, pos, out / norm, up / norm) * w
                if weak_side and np.dot(pos - axes.mid, axes.right) * weak_side > 0:
                    vec = vec * weak
                g = np.exp(-((xs - pos[0]) ** 2 + (ys - pos[1]) ** 2) / np.float32(2 * sigma**2))
                field[..., 0] += np.float32(vec[0]) * g
                field[..., 1] += np.float32(vec[1]) * g
    peak = float(np.sqrt((field**2).sum(axis=2)).max())
    if peak > 0:
        field *= np.float32(amplitude / peak)
    return field


def temporal_profile(t: np.ndarray | float, onset: float, apex: float, offset: float) -> np.ndarray:
    """The expression's intensity at frame(s) ``t``: 0 outside onset..offset, 1 at the apex.

    Raised-cosine rise from onset to apex and fall from apex to offset (smooth, no jerk at the
    ends); exactly 0 at and outside onset and offset.
    """
    t = np.asarray(t, dtype=np.float64)
    p = np.zeros_like(t)
    rise = (t > onset) & (t <= apex)
    fall = (t > apex) & (t < offset)
    if apex > onset:
        p[rise] = 0.5 * (1 - np.cos(np.pi * (t[rise] - onset) / (apex - onset)))
    else:
        p[t == apex] = 1.0
    if offset > apex:
        p[fall] = 0.5 * (1 + np.cos(np.pi * (t[fall] - apex) / (offset - apex)))
    return p


BLINK_CLOSE = 3  # frames to close
BLINK_HOLD = 1
BLINK_OPEN = 5
BLINK_DEPTH = 0.55  # fraction of BLINK_BELOW the upper lid travels (0.77 eye openings)
BLINK_BELOW = 1.4  # eye openings below the upper lid where the blink's motion reaches zero
BLINK_ABOVE = 1.3  # eye openings above the upper lid where it reaches zero (below the brow)


def blink_field(lm: dict[int, np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """The fully-closed blink's displacement field, (H, W, 2) float32 px.

    The upper lid (159/386) and the skin above it move down; the motion fades to zero
    BLINK_BELOW eye openings below the upper lid (so the lower lid rises a little) and
    BLINK_ABOVE above it (the brow stays). Raised-cosine ramps with a slope below 1 keep the
    mapping one-to-one (no folding).
    """
    axes = FaceAxes.from_landmarks(lm)
    xs, ys = _grid(size)
    field = np.zeros((*size, 2), dtype=np.float32)
    for upper, lower, c1, c2 in ((159, 145, 33, 133), (386, 374, 263, 362)):
        u = lm[upper]
        h = float(np.linalg.norm(lm[lower] - u))
        span, above = BLINK_BELOW * h, BLINK_ABOVE * h
        half_width = 0.5 * float(np.linalg.norm(lm[c1] - lm[c2]))
        centre = 0.5 * (lm[c1] + lm[c2])
        dx, dy = xs - u[0], ys - u[1]
        v = dx * axes.up[0] + dy * axes.up[1]  # above the upper lid > 0
        r = (xs - centre[0]) * axes.right[0] + (ys - centre[1]) * axes.right[1]
        horiz = np.exp(-0.5 * (r / (0.65 * half_width)) ** 2)
        vert = np.where(
            v >= 0,
            np.where(v < above, 0.5 * (1 + np.cos(np.pi * v / above)), 0.0),
            np.where(v > -span, 0.5 * (1 - np.cos(np.pi * (v + span) / span)), 0.0),
        )
        mag = (BLINK_DEPTH * span) * horiz * vert
        field[..., 0] -= (mag * axes.up[0]).astype(np.float32)
        field[..., 1] -= (mag * axes.up[1]).astype(np.float32)
    return field


def blink_profile(t: np.ndarray | float, start: float) -> np.ndarray:
    """How closed the eyes are at frame(s) ``t`` for a blink starting at ``start`` (0..1)."""
    t = np.asarray(t, dtype=np.float64)
    a, b, c = (
        start + BLINK_CLOSE,
        start + BLINK_CLOSE + BLINK_HOLD,
        (start + BLINK_CLOSE + BLINK_HOLD + BLINK_OPEN),
    )
    p = np.zeros_like(t)
    m = (t > start) & (t < a)
    p[m] = 0.5 * (1 - np.cos(np.pi * (t[m] - start) / BLINK_CLOSE))
    p[(t >= a) & (t <= b)] = 1.0
    m = (t > b) & (t < c)
    p[m] = 0.5 * (1 + np.cos(np.pi * (t[m] - b) / BLINK_OPEN))
    return p
