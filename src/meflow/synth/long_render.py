"""Rendering of a synthetic long recording: several expressions and blinks, head motion.

The same image model as :func:`meflow.synth.render.render_clip` (expression and blink
displacement fields, slow skin motion, head drift with roll, scale and tremor, lighting that
drifts and flickers, sensor noise), summed over the recording's events, each with its own
time course, and the recording's quick head movements (:class:`meflow.synth.long_plan.HeadMove`)
on top of the drift. A blink closes over 35 % of its length, stays closed 10 % and opens over the
rest. The light ramp across the frame drifts slowly back and forth (a clip's grows once).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from meflow.synth.identity import FRAME_SIZE, Identity
from meflow.synth.long_plan import LongEvent, LongRecording, recording_rng
from meflow.synth.motion import blink_field, expression_field, temporal_profile
from meflow.synth.profiles import SynthProfile
from meflow.synth.render import NOISE_BANK, _affine3, _head_inverse, head_motion, skin_motion

BLINK_CLOSING = 0.35
BLINK_CLOSED = 0.10
LIGHT_PERIOD = (300.0, 900.0)  # frames, the light ramp's back-and-forth


def blink_course(t: np.ndarray, event: LongEvent) -> np.ndarray:
    """How closed the eyes are (0..1) at frames ``t`` during a blink: 0 at onset and offset."""
    span = float(event.offset - event.onset)
    a = event.onset + BLINK_CLOSING * span
    b = a + BLINK_CLOSED * span
    p = np.zeros_like(t, dtype=np.float64)
    m = (t > event.onset) & (t < a)
    p[m] = 0.5 * (1 - np.cos(np.pi * (t[m] - event.onset) / (a - event.onset)))
    p[(t >= a) & (t <= b)] = 1.0
    m = (t > b) & (t < event.offset)
    p[m] = 0.5 * (1 + np.cos(np.pi * (t[m] - b) / (event.offset - b)))
    return p


def event_fields(
    seed: int, rec: LongRecording, identity: Identity, profile: SynthProfile
) -> list[np.ndarray]:
    """Each event's apex (or fully closed) displacement field, (H, W, 2) float32 px."""
    lm = identity.landmarks()
    size = (FRAME_SIZE, FRAME_SIZE)
    blink = blink_field(lm, size)
    fields = []
    for k, e in enumerate(rec.events):
        if e.emotion is None:
            fields.append(blink)
            continue
        rng = np.random.default_rng([seed, 20, rec.subject.index, rec.stream, k])
        fields.append(
            expression_field(
                lm,
                e.emotion,
                e.amplitude,
                size,
                rng,
                profile.au_keep,
                profile.asymmetry,
                profile.direction_jitter_deg,
            )
        )
    return fields


def courses(rec: LongRecording) -> np.ndarray:
    """(events, frames): each event's intensity at each frame (0 outside onset..offset)."""
    t = np.arange(rec.frames, dtype=np.float64)
    rows = [
        blink_course(t, e) if e.type == "blink" else temporal_profile(t, e.onset, e.apex, e.offset)
        for e in rec.events
    ]
    return np.array(rows).reshape(len(rec.events), rec.frames)


def head_move_pose(rec: LongRecording) -> np.ndarray:
    """(frames, 4): the head movements' (tx px, ty px, roll rad, 0) per frame, each a
    raised-cosine step (held after it ends)."""
    pose = np.zeros((rec.frames, 4))
    t = np.arange(rec.frames, dtype=np.float64)
    for m in rec.head_moves:
        step = 0.5 * (1 - np.cos(np.pi * np.clip((t - m.start) / m.length, 0.0, 1.0)))
        pose[:, 0] += m.dx * step
        pose[:, 1] += m.dy * step
        pose[:, 2] += np.radians(m.roll_deg) * step
    return pose


def _lighting(rec: LongRecording, profile: SynthProfile, rng: np.random.Generator) -> np.ndarray:
    """(frames, 3): the global gain and the light ramp's (x, y) slopes per frame."""
    n = rec.frames
    t = np.arange(n, dtype=np.float64)
    period = float(rng.uniform(40, 120))
    phase = float(rng.uniform(0, 2 * np.pi))
    gain = 1 + profile.flicker * np.sin(2 * np.pi * t / period + phase)
    gain += rng.normal(0, profile.flicker_noise, size=n)
    ramp_end = rng.uniform(-profile.light_gradient, profile.light_gradient, size=2)
    slow = np.sin(2 * np.pi * t / float(rng.uniform(*LIGHT_PERIOD)))
    return np.column_stack([gain, slow * ramp_end[0], slow * ramp_end[1]])


def render_recording(
    seed: int, rec: LongRecording, identity: Identity, profile: SynthProfile
) -> Iterator[np.ndarray]:
    """The recording's frames, BGR uint8 FRAME_SIZE x FRAME_SIZE, in order (before JPEG)."""
    import cv2

    inv = _affine3(identity.inverse)
    lin = inv[:2, :2].astype(np.float32)
    src = [np.ascontiguousarray(f @ lin.T) for f in event_fields(seed, rec, identity, profile)]
    p = courses(rec)
    rng = recording_rng(seed, rec, 3)
    pose = head_motion(rec.frames, profile, rng) + head_move_pose(rec)
    light = _lighting(rec, profile, rng)
    size = (FRAME_SIZE, FRAME_SIZE)
    sigma = float(rng.uniform(*profile.sensor_sigma))
    bank = np.rint(rng.normal(0.0, sigma, size=(NOISE_BANK, *size[::-1], 1)))
    bank = np.ascontiguousarray(np.repeat(bank.astype(np.int16), 3, axis=3))
    picks = (np.cumsum(rng.integers(1, NOISE_BANK, size=rec.frames)) % NOISE_BANK).tolist()
    skin = skin_motion(rec.frames, profile, recording_rng(seed, rec, 5))
    source = identity.source()
    xs, ys = np.meshgrid(
        np.arange(FRAME_SIZE, dtype=np.float32), np.arange(FRAME_SIZE, dtype=np.float32)
    )
    grid = np.ascontiguousarray(np.dstack([xs, ys]))
    unit = (np.dstack([xs, ys]) - FRAME_SIZE / 2) / FRAME_SIZE
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    for i, s_field in enumerate(skin):
        h_inv = _head_inverse(pose[i])
        m = (inv @ _affine3(h_inv))[:2]
        active = [k for k in range(len(src)) if p[k, i] > 0]
        if active or s_field is not None:
            maps = cv2.transform(grid, m.astype(np.float32))
            for k in active:
                e = cv2.warpAffine(src[k], h_inv, size, flags=flags)
                maps = cv2.scaleAdd(e, -float(p[k, i]), maps)
            if s_field is not None:
                maps = cv2.scaleAdd(np.ascontiguousarray(s_field @ lin.T), -1.0, maps)
            img = cv2.remap(  # type: ignore[call-overload]
                source, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
        else:
            img = cv2.warpAffine(source, m, size, flags=flags, borderMode=cv2.BORDER_REFLECT)
        gain, rx, ry = (float(v) for v in light[i])
        if profile.light_gradient > 0:
            ramp = gain * (1.0 + unit @ np.array([rx, ry], dtype=np.float32))
            img = np.clip(img * ramp[..., None], 0, 255).astype(np.uint8)
        else:
            img = cv2.convertScaleAbs(img, alpha=gain)
        if sigma > 0:
            img = cv2.add(img, bank[picks[i]], dtype=cv2.CV_8U)
        yield img
