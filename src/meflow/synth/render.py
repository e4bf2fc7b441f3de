"""Rendering of the synthetic clips, and the two profiles of nuisances they are rendered with.

``realistic`` (the default, generator version 2) brings the clips to what meflow's own
extraction measures on real CASME II and SAMM clips: a frame pair's flow noise of 0.1 to 0.3 px
in the 192-px face crop, about as large as the motion a pair of a micro-expression carries,
and an onset-to-apex displacement of the most-moving region of 0.5 to 3 px
(``benchmarks/realism.py`` prints these figures for any cache). The noise comes from what
real recordings have: sensor noise and JPEG compression, physiological tremor of the head,
slow non-rigid skin motion (breathing, swallowing, gaze), head drift with roll and scale
change, blinks, and lighting that drifts, flickers and changes direction.

``clean`` is the version-1 set (larger expressions, a third of the noise, every sample the full
prototype of its class): classes are easy to tell apart by flow direction, which is what the
tests of the pipeline's geometry need. The realistic profile also varies the expressions of a
class as real ones vary: each action unit of the class shows with probability 0.75, one side
of the face moves less (by up to 60 %), and directions scatter by 15 degrees.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from meflow.errors import MeflowError
from meflow.synth.identity import FRAME_SIZE, Identity
from meflow.synth.motion import (
    blink_field,
    blink_profile,
    expression_field,
    temporal_profile,
)

if TYPE_CHECKING:
    from meflow.synth.generator import ClipPlan

NOISE_BANK = 16  # sensor-noise frames per clip, drawn in random order (never twice in a row)


@dataclass(frozen=True)
class SynthProfile:
    """Sizes of the expression and of every nuisance (ranges are uniform draws per clip)."""

    name: str
    amplitude: tuple[float, float]  # px in the frame: the field's largest displacement at apex
    log_amplitude: bool  # draw the amplitude log-uniformly (many faint, few strong)
    duration: tuple[int, int]  # frames from onset to offset
    rise: tuple[float, float]  # (apex - onset) / (offset - onset)
    sensor_sigma: tuple[float, float]  # grey levels, Gaussian, per frame
    jpeg_quality: tuple[int, int]
    drift_speed: float  # px/frame, the translation part of head drift (per axis, at most)
    roll_deg: float  # at most this rotation over the clip
    scale_change: float  # at most this relative change of the face's size over the clip
    tremor_px: float  # sd of the head's white jitter per frame (translation)
    tremor_deg: float  # sd of its rotation per frame
    skin_px: float  # sd of the slow non-rigid skin motion (AR(1) in time, smooth in space)
    skin_rho: float  # frame-to-frame correlation of the skin motion
    flicker: float  # relative gain: slow sinusoid amplitude
    flicker_noise: float  # relative gain noise per frame
    light_gradient: float  # relative change of a left-right / top-bottom light ramp over the clip
    blink_probability: float  # per clip
    au_keep: float  # probability that each action unit of the class is shown
    asymmetry: float  # one side of the face moves less, by a factor U(1 - this, 1)
    direction_jitter_deg: float  # sd of each motion component's direction, per sample


PROFILES: dict[str, SynthProfile] = {
    "realistic": SynthProfile(
        name="realistic",
        amplitude=(0.8, 5.0),
        log_amplitude=True,
        duration=(8, 20),
        rise=(0.35, 0.6),
        sensor_sigma=(2.0, 4.0),
        jpeg_quality=(80, 92),
        drift_speed=0.25,
        roll_deg=2.0,
        scale_change=0.01,
        tremor_px=0.06,
        tremor_deg=0.03,
        skin_px=0.15,
        skin_rho=0.85,
        flicker=0.015,
        flicker_noise=0.004,
        light_gradient=0.04,
        blink_probability=0.5,
        au_keep=0.75,
        asymmetry=0.6,
        direction_jitter_deg=15.0,
    ),
    "clean": SynthProfile(
        name="clean",
        amplitude=(3.5, 5.0),
        log_amplitude=False,
        duration=(10, 30),
        rise=(0.3, 0.5),
        sensor_sigma=(0.5, 1.0),
        jpeg_quality=(95, 95),
        drift_speed=0.12,
        roll_deg=0.5,
        scale_change=0.0,
        tremor_px=0.0,
        tremor_deg=0.0,
        skin_px=0.0,
        skin_rho=0.0,
        flicker=0.012,
        flicker_noise=0.003,
        light_gradient=0.0,
        blink_probability=0.5,
        au_keep=1.0,
        asymmetry=0.0,
        direction_jitter_deg=8.0,
    ),
}


def get_profile(name: str) -> SynthProfile:
    """The profile called ``name``; MeflowError naming the valid ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise MeflowError(
            f"unknown synthetic profile {name!r} (valid: {', '.join(PROFILES)})"
        ) from None


def profile_dict(profile: SynthProfile) -> dict[str, object]:
    """The profile as plain JSON data (for synth.json)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(profile).items()}


def draw_amplitude(profile: SynthProfile, rng: np.random.Generator) -> float:
    """One clip's apex amplitude (px in the frame, before the gender factor)."""
    lo, hi = profile.amplitude
    if profile.log_amplitude:
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    return float(rng.uniform(lo, hi))


def head_motion(n: int, profile: SynthProfile, rng: np.random.Generator) -> np.ndarray:
    """(n, 4) of (tx px, ty px, rotation rad, log scale) per frame: slow drift, roll and scale
    change (sums of slow sinusoids, zero at frame 0) plus white tremor."""
    t = np.arange(n, dtype=np.float64)
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
    n: int, profile: SynthProfile, rng: np.random.Generator, grid: int = 7
) -> Iterator[np.ndarray | None]:
    """Per frame, a smooth random displacement field (FRAME_SIZE, FRAME_SIZE, 2) float32 px, or
    None when the profile has none: a ``grid`` x ``grid`` lattice of vectors evolving as an AR(1)
    process with stationary sd ``skin_px``, upsampled bicubically. Frame 0 has none."""
    import cv2

    if profile.skin_px <= 0:
        for _ in range(n):
            yield None
        return
    rho = profile.skin_rho
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
    from meflow.synth.generator import CLIP_LETTERS

    return np.random.default_rng([seed, stream, clip.subject.index, CLIP_LETTERS.index(clip.clip)])


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
    t = np.arange(n, dtype=np.float64)
    p = temporal_profile(t, clip.onset, clip.apex, clip.offset)
    b = blink_profile(t, clip.blink_start) if clip.blink_start is not None else np.zeros(n)
    pose = head_motion(n, profile, rng)
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
    skin = skin_motion(n, profile, clip_rng(seed, clip, 5))
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
            frac = i / max(n - 1, 1)
            light = float(gain[i]) * (1.0 + frac * (unit @ ramp_end.astype(np.float32)))
            img = np.clip(img * light[..., None], 0, 255).astype(np.uint8)
        else:
            img = cv2.convertScaleAbs(img, alpha=float(gain[i]))
        if sigma > 0:
            img = cv2.add(img, bank[picks[i]], dtype=cv2.CV_8U)
        yield img
