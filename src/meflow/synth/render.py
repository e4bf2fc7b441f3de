"""Rendering of the synthetic clips: head motion, skin motion, and the frames of a clip.

Each clip is rendered with the nuisances of a profile (:mod:`meflow.synth.profiles`) from its
own random streams (:func:`clip_rng`), so a clip's frames depend on the seed, its subject and
its letter only. Clips are rendered at their own rate: the nuisances keep their real-time
speeds (the profile's time unit is a frame at REFERENCE_FPS), white per-frame noise and tremor
keep their size per frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from meflow.synth.identity import FRAME_SIZE, Identity
from meflow.synth.motion import (
    blink_field,
    blink_profile,
    expression_field,
    temporal_profile,
)
from meflow.synth.plan import ClipPlan, clip_stream
from meflow.synth.profiles import PROFILES, REFERENCE_FPS, SynthProfile

NOISE_BANK = 16  # sensor-noise frames per clip, drawn in random order (never twice in a row)
RAMP_FRAMES = 79  # reference frames over which the light ramp grows by its full size (2.6 s)


def head_motion(
    n: int, profile: SynthProfile, rng: np.random.Generator, step: float = 1.0
) -> np.ndarray:
    """(n, 4) of (tx px, ty px, rotation rad, log scale) per frame: slow drift, roll and scale
    change (sums of slow sinusoids, zero at frame 0) plus white tremor; ``step`` is a frame's
    length in reference frames (REFERENCE_FPS / fps)."""
    t = np.arange(n, dtype=np.float64) * step
    out = np.zeros((n, 4))
    peaks = (
        None,
        None,
        math.radians(profile.roll_deg),
        math.log1p(profile.scale_change),
    )
    for j in range(4):
        for _ in range(2):
            period = float(rng.uniform(90, 240))
            phase = float(rng.uniform(0, 2 * np.pi))
            if j < 2:
                amp = profile.drift_speed * period / (2 * np.pi) * float(rng.uniform(0.3, 1.0))
            else:
                amp = float(peaks[j] or 0.0) * float(rng.uniform(0.3, 1.0)) / 2
            out[:, j] += amp * (np.sin(2 * np.pi * t / period + phase) - math.sin(phase))
    if profile.tremor_px > 0 or profile.tremor_deg > 0:
        out[1:, 0:2] += rng.normal(0.0, profile.tremor_px, (n - 1, 2))
        out[1:, 2] += rng.normal(0.0, math.radians(profile.tremor_deg), n - 1)
    return out


def skin_motion(
    n: int, profile: SynthProfile, rng: np.random.Generator, grid: int = 7, step: float = 1.0
) -> Iterator[np.ndarray | None]:
    """Per frame, a smooth random displacement field (FRAME_SIZE, FRAME_SIZE, 2) float32 px, or
    None when the profile has none: a ``grid`` x ``grid`` lattice of vectors evolving as an AR(1)
    process with stationary sd ``skin_px`` (correlation ``skin_rho`` per reference frame, so
    rho ** step per frame), upsampled bicubically. Frame 0 has none."""
    import cv2

    if profile.skin_px <= 0:
        for _ in range(n):
            yield None
        return
    rho = profile.skin_rho**step
    state = np.zeros((grid, grid, 2), np.float32)
    kick = profile.skin_px * math.sqrt(1.0 - rho * rho)
    yield None
    for _ in range(1, n):
        state = rho * state + rng.normal(0.0, kick, state.shape).astype(np.float32)
        yield cv2.resize(state, (FRAME_SIZE, FRAME_SIZE), interpolation=cv2.INTER_CUBIC)


def _affine3(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def _head_inverse(pose: np.ndarray) -> np.ndarray:
    """H^-1 (2x3) of a head pose (tx, ty, theta, log scale) about the frame centre."""
    tx, ty, th, ls = (float(v) for v in pose)
    c = FRAME_SIZE / 2
    k = math.exp(-ls)
    cos, sin = k * math.cos(th), k * math.sin(th)
    return np.array(
        [
            [cos, sin, c - cos * (c + tx) - sin * (c + ty)],
            [-sin, cos, c + sin * (c + tx) - cos * (c + ty)],
        ]
    )


def clip_rng(seed: int, clip: ClipPlan, stream: int) -> np.random.Generator:
    """The random stream ``stream`` of one clip (depends on the seed, subject and clip only)."""
    return clip_stream(seed, clip.subject.index, clip.stream, stream)


def clip_fields(
    seed: int, clip: ClipPlan, identity: Identity, profile: SynthProfile | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The clip's apex expression field and full blink field, each (H, W, 2) float32 px."""
    prof = profile or PROFILES["realistic"]
    lm = identity.landmarks()
    size = (FRAME_SIZE, FRAME_SIZE)
    expr = expression_field(
        lm,
        clip.emotion,
        clip.amplitude,
        size,
        clip_rng(seed, clip, 2),
        prof.au_keep,
        prof.asymmetry,
        prof.direction_jitter_deg,
    )
    return expr, blink_field(lm, size)


def jpeg_quality_of(seed: int, clip: ClipPlan, profile: SynthProfile) -> int:
    """The JPEG quality of the clip's frames."""
    lo, hi = profile.jpeg_quality
    return int(clip_rng(seed, clip, 4).integers(lo, hi + 1))


def render_clip(
    seed: int, clip: ClipPlan, identity: Identity, profile: SynthProfile
) -> Iterator[np.ndarray]:
    """The clip's frames, BGR uint8 FRAME_SIZE x FRAME_SIZE, in order (before JPEG).

    Frame t samples the subject's photo at A^-1(y - p(t) E(y) - b(t) B(y) - S_t(y)) with
    y = H_t^-1(x): E the apex expression field, B the blink field, p and b their time
    courses, S_t the skin motion, H_t the head pose (drift, roll, scale, tremor) and A the
    subject's placement. Then the lighting (a global gain with drift and flicker, times a
    light ramp across the frame) and Gaussian sensor noise, the same on the three channels.
    """
    import cv2

    expr, blink = clip_fields(seed, clip, identity, profile)
    inv = _affine3(identity.inverse)
    lin = inv[:2, :2].astype(np.float32)
    # The fields in photo pixels (A^-1's linear part applied), so one remap does everything.
    src_expr = np.ascontiguousarray(expr @ lin.T)
    src_blink = np.ascontiguousarray(blink @ lin.T)
    rng = clip_rng(seed, clip, 3)
    n = clip.frames
    step = REFERENCE_FPS / clip.fps
    t = np.arange(n, dtype=np.float64) * step  # in reference frames
    p = temporal_profile(clip.first + np.arange(n), clip.onset, clip.apex, clip.offset)
    start = clip.blink_start
    b = blink_profile(t, start * step) if start is not None else np.zeros(n)
    pose = head_motion(n, profile, rng, step)
    size = (FRAME_SIZE, FRAME_SIZE)
    period = float(rng.uniform(40, 120))
    phase = float(rng.uniform(0, 2 * np.pi))
    gain = 1 + profile.flicker * np.sin(2 * np.pi * t / period + phase)
    gain += rng.normal(0, profile.flicker_noise, size=n)
    ramp_end = rng.uniform(-profile.light_gradient, profile.light_gradient, size=2)
    sigma = float(rng.uniform(*profile.sensor_sigma))
    bank = np.rint(rng.normal(0.0, sigma, size=(NOISE_BANK, *size[::-1], 1)))
    bank = np.ascontiguousarray(np.repeat(bank.astype(np.int16), 3, axis=3))
    picks = (np.cumsum(rng.integers(1, NOISE_BANK, size=n)) % NOISE_BANK).tolist()
    skin = skin_motion(n, profile, clip_rng(seed, clip, 5), step=step)
    source = identity.source()
    xs, ys = np.meshgrid(
        np.arange(FRAME_SIZE, dtype=np.float32), np.arange(FRAME_SIZE, dtype=np.float32)
    )
    grid = np.ascontiguousarray(np.dstack([xs, ys]))
    unit = (np.dstack([xs, ys]) - FRAME_SIZE / 2) / FRAME_SIZE  # -0.5 .. 0.5 across the frame
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    for i, s_field in enumerate(skin):
        h_inv = _head_inverse(pose[i])
        m = (inv @ _affine3(h_inv))[:2]
        if p[i] > 0 or b[i] > 0 or s_field is not None:
            maps = cv2.transform(grid, m.astype(np.float32))
            if p[i] > 0:
                e = cv2.warpAffine(src_expr, h_inv, size, flags=flags)
                maps = cv2.scaleAdd(e, -float(p[i]), maps)
            if b[i] > 0:
                k = cv2.warpAffine(src_blink, h_inv, size, flags=flags)
                maps = cv2.scaleAdd(k, -float(b[i]), maps)
            if s_field is not None:
                maps = cv2.scaleAdd(np.ascontiguousarray(s_field @ lin.T), -1.0, maps)
            # map2=None: ``maps`` holds (x, y) pairs; OpenCV's stubs do not know that form.
            img = cv2.remap(  # type: ignore[call-overload]
                source, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
        else:
            img = cv2.warpAffine(source, m, size, flags=flags, borderMode=cv2.BORDER_REFLECT)
        if profile.light_gradient > 0:
            frac = t[i] / RAMP_FRAMES
            light = float(gain[i]) * (1.0 + frac * (unit @ ramp_end.astype(np.float32)))
            img = np.clip(img * light[..., None], 0, 255).astype(np.uint8)
        else:
            img = cv2.convertScaleAbs(img, alpha=float(gain[i]))
        if sigma > 0:
            img = cv2.add(img, bank[picks[i]], dtype=cv2.CV_8U)
        yield img
