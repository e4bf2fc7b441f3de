"""The two profiles of nuisances the synthetic clips are rendered with, and their draws.

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
from dataclasses import asdict, dataclass

import numpy as np

from meflow.errors import MeflowError

# The profiles' time unit: "per frame" means per frame at this rate (1/30 s); clips at other
# rates are rendered with the same real-time speeds (meflow.synth.render).
REFERENCE_FPS = 30.0


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
