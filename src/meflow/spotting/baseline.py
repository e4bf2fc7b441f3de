"""The baseline spotter: MEGC's MDMD baseline on meflow's region flow (docs/spotting.md).

MDMD (main directional maximal difference; He et al., MEGC2020's spotting baseline,
``HeyingGithub/Baseline-project-for-MEGC2020_spotting``, ``MDMD_codes``): for each frame i of a
recording, the motion from frame i - k to frame i is compared with the motion from i - k to
i + k in each block of the face; the per-frame feature is the mean of the largest third of the
blocks' differences; its contrast with the frames k - 1 before and after is thresholded at
``mean + p * (max - mean)`` of the recording, separately for micro and macro (each with its
own k = (N + 1) / 2, N a typical expression length in frames, and its own p).

Here the blocks are meflow's 42 regions and the motion between two frames is the sum of the
per-pair region mean flow vectors between them (pair t joins frames t and t + 1). Parameters
are chosen on training recordings only (``spotting.baseline_grid``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from meflow.errors import MeflowError
from meflow.features.cache import load_npz
from meflow.spotting.scoring import Interval

# CAS(ME)^3 Part A's median lengths at 30 fps (shared README): micro 22 frames, macro 73
MICRO_LENGTH_S = 22 / 30
MACRO_LENGTH_S = 73 / 30


@dataclass(frozen=True)
class BaselineParams:
    """The baseline spotter's settings (MDMD's k from the lengths, p per type)."""

    micro_length_s: float = MICRO_LENGTH_S  # typical micro length -> k_micro = (N + 1) / 2
    macro_length_s: float = MACRO_LENGTH_S  # typical macro length -> k_macro
    p_micro: float = 0.5  # threshold = mean + p (max - mean) of the recording's contrast
    p_macro: float = 0.5
    top_fraction: float = 1 / 3  # the largest third of the regions' differences, as MDMD
    max_missing: float = 0.2  # a region counts at a frame when <= this share of its pairs lack flow
    # None: MDMD's threshold alone (it always spots a recording's highest peak); a number z:
    # the threshold is also at least median + z robust sigmas (1.4826 MAD) of the contrast
    floor_sigmas: float | None = None
    drop_micro_in_macro: bool = True  # a micro peak inside a spotted macro interval is dropped

    def __post_init__(self) -> None:
        for name in ("micro_length_s", "macro_length_s"):
            if not getattr(self, name) > 0:
                raise MeflowError(f"baseline {name} must be positive, got {getattr(self, name)}")
        for name in ("p_micro", "p_macro"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise MeflowError(f"baseline {name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 < self.top_fraction <= 1.0:
            raise MeflowError(f"baseline top_fraction must be in (0, 1], got {self.top_fraction}")
        if not 0.0 <= self.max_missing < 1.0:
            raise MeflowError(f"baseline max_missing must be in [0, 1), got {self.max_missing}")

    def length_s(self, kind: str) -> float:
        """The typical length in seconds of ``kind`` (micro or macro)."""
        return self.micro_length_s if kind == "micro" else self.macro_length_s

    def p(self, kind: str) -> float:
        """The threshold parameter p of ``kind``."""
        return self.p_micro if kind == "micro" else self.p_macro


def interval_k(length_s: float, fps: float) -> int:
    """MDMD's k = (N + 1) / 2 (halves up), N the typical length in frames at ``fps``."""
    n = max(1, round(length_s * fps))
    return max(1, math.floor((n + 1) / 2 + 0.5))


@dataclass(frozen=True, eq=False)
class RecordingFlow:
    """One recording's per-pair region mean flow, as ``meflow extract --video`` stores it.

    ``vector``: (pairs, 42, 2) float (dx, dy) px per frame, NaN where a region has no flow;
    ``vector`` is kept float32 when given float32 (as a features file stores it: half the
    memory of float64; what reads it computes in float64), else made float64;
    ``valid``: (pairs,) bool; pair t joins frames t and t + 1; ``fps``: the rate of these
    frames. Intervals come out numbered ``first_frame + frame``, or ``frame_numbers[frame]``
    when given ((frames,) non-decreasing: each analysed frame's number in the source, as the
    ``frames`` array of an extracted video holds them).
    """

    name: str
    vector: np.ndarray
    valid: np.ndarray
    fps: float
    first_frame: int = 0
    frame_numbers: np.ndarray | None = None

    def __post_init__(self) -> None:
        v = np.asarray(self.vector)
        v = v if v.dtype == np.float32 else v.astype(np.float64, copy=False)
        ok = np.asarray(self.valid)
        if v.ndim != 3 or v.shape[2] != 2:
            raise MeflowError(
                f"recording {self.name!r}: vector must be (pairs, regions, 2), got {v.shape}"
            )
        if ok.shape != (v.shape[0],):
            raise MeflowError(
                f"recording {self.name!r}: valid must be ({v.shape[0]},), got {ok.shape}"
            )
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise MeflowError(f"recording {self.name!r}: fps must be positive, got {self.fps}")
        object.__setattr__(self, "vector", v)
        object.__setattr__(self, "valid", ok.astype(bool))
        if self.frame_numbers is not None:
            nums = np.asarray(self.frame_numbers, dtype=np.int64)
            if nums.shape != (v.shape[0] + 1,) or (np.diff(nums) < 0).any():
                raise MeflowError(
                    f"recording {self.name!r}: frame_numbers must be ({v.shape[0] + 1},) and "
                    "non-decreasing"
                )
            object.__setattr__(self, "frame_numbers", nums)

    def number(self, frame: int) -> int:
        """The source's number of analysed frame ``frame``."""
        if self.frame_numbers is not None:
            return int(self.frame_numbers[frame])
        return self.first_frame + frame

    @property
    def frames(self) -> int:
        """Number of frames (pairs + 1)."""
        return int(self.vector.shape[0]) + 1


VIDEO_KEYS = ("vector", "valid", "analysis_fps", "frames")  # what a RecordingFlow reads


def read_video_features(path: Path, name: str | None = None) -> RecordingFlow:
    """The RecordingFlow of a file ``meflow extract --video`` wrote (numbered as the source)."""
    arrays, _ = load_npz(path, VIDEO_KEYS)  # those alone: memory
    missing = [k for k in ("vector", "valid", "analysis_fps", "frames") if k not in arrays]
    if missing:
        raise MeflowError(f"{path}: not an extracted video's features (no {', '.join(missing)})")
    return RecordingFlow(
        name or Path(path).stem,
        arrays["vector"],
        arrays["valid"],
        float(arrays["analysis_fps"]),
        frame_numbers=arrays["frames"],
    )


def motion_curve(
    vector: np.ndarray, valid: np.ndarray, k: int, top_fraction: float, max_missing: float
) -> np.ndarray:
    """MDMD's per-frame feature: (frames,) mean of the largest regions' |d(i-k,i)| - |d(i-k,i+k)|.

    d(a, b) is a region's displacement from frame a to frame b (its pair vectors summed);
    pairs without flow count as no motion, and a region is left out at frame i when more than
    ``max_missing`` of its pairs in i-k..i+k lack flow. NaN where fewer regions than the
    top fraction are left, and within k frames of either end.
    """
    vector = np.asarray(vector, dtype=np.float64)
    pairs, regions = vector.shape[:2]
    known = valid[:, None] & np.isfinite(vector).all(axis=2)
    pos = np.zeros((pairs + 1, regions, 2))
    pos[1:] = np.cumsum(np.where(known[..., None], vector, 0.0), axis=0)
    lost = np.zeros((pairs + 1, regions))
    lost[1:] = np.cumsum(~known, axis=0)
    frames = pairs + 1
    out = np.full(frames, np.nan)
    if frames < 2 * k + 1:
        return out
    i = np.arange(k, frames - k)
    near = np.linalg.norm(pos[i] - pos[i - k], axis=2)
    far = np.linalg.norm(pos[i + k] - pos[i - k], axis=2)
    diff = np.where((lost[i + k] - lost[i - k]) <= max_missing * 2 * k, near - far, np.nan)
    top = max(1, round(regions * top_fraction))
    enough = np.isfinite(diff).sum(axis=1) >= top
    ranked = -np.sort(-np.where(np.isfinite(diff), diff, -np.inf), axis=1)[:, :top]
    out[i[enough]] = ranked[enough].mean(axis=1)
    return out


def contrast_curve(feature: np.ndarray, k: int) -> np.ndarray:
    """MDMD's contrast C(i) = F(i) - (F(i - m) + F(i + m)) / 2 with m = k - 1 (NaN at the ends)."""
    m = max(k - 1, 1)
    out = np.full(feature.shape, np.nan)
    if feature.shape[0] > 2 * m:
        out[m:-m] = feature[m:-m] - (feature[: -2 * m] + feature[2 * m :]) / 2
    return out


def threshold(contrast: np.ndarray, p: float, floor_sigmas: float | None) -> float:
    """The recording's threshold mean + p (max - mean), raised to the noise floor if one is set."""
    c = contrast[np.isfinite(contrast)]
    if c.size == 0:
        return math.inf
    t = float(c.mean() + p * (c.max() - c.mean()))
    if floor_sigmas is not None:
        med = float(np.median(c))
        t = max(t, med + floor_sigmas * 1.4826 * float(np.median(np.abs(c - med))))
    return t


def peaks(contrast: np.ndarray, thresh: float) -> list[int]:
    """The highest frame of each run of frames whose contrast is above ``thresh``."""
    above = np.isfinite(contrast) & (contrast > thresh)
    edges = np.flatnonzero(np.diff(np.r_[0, above.astype(np.int8), 0]))
    return [int(a + np.argmax(contrast[a:b])) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _intervals(
    rec: RecordingFlow, contrast: np.ndarray, k: int, p: float, floor: float | None
) -> list[tuple[int, int, float, int]]:
    """(onset, offset, score, peak) in frames from 0: [peak - k, peak + k], overlaps merged."""
    last = rec.frames - 1
    out: list[tuple[int, int, float, int]] = []
    for peak in peaks(contrast, threshold(contrast, p, floor)):
        lo, hi, score = max(0, peak - k), min(last, peak + k), float(contrast[peak])
        if out and lo <= out[-1][1]:  # overlaps the previous one: one interval, the best peak
            plo, _, pscore, ppeak = out[-1]
            best = (score, peak) if score > pscore else (pscore, ppeak)
            out[-1] = (plo, hi, best[0], best[1])
        else:
            out.append((lo, hi, score, peak))
    return out


def curves(rec: RecordingFlow, params: BaselineParams) -> dict[str, tuple[int, np.ndarray]]:
    """{type: (k, contrast curve per frame)} of one recording."""
    out = {}
    for kind in ("micro", "macro"):
        k = interval_k(params.length_s(kind), rec.fps)
        f = motion_curve(rec.vector, rec.valid, k, params.top_fraction, params.max_missing)
        out[kind] = (k, contrast_curve(f, k))
    return out


def spot_from_curves(
    rec: RecordingFlow, cs: dict[str, tuple[int, np.ndarray]], params: BaselineParams
) -> list[Interval]:
    """The spotted intervals of one recording from its contrast curves."""
    found = {
        kind: _intervals(rec, c, k, params.p(kind), params.floor_sigmas)
        for kind, (k, c) in cs.items()
    }
    macro = found["macro"]
    if params.drop_micro_in_macro:
        found["micro"] = [
            m for m in found["micro"] if not any(lo <= m[3] <= hi for lo, hi, _, _ in macro)
        ]
    return sorted(
        (
            Interval(rec.name, rec.number(lo), rec.number(hi), kind, score, apex=rec.number(pk))
            for kind, rows in found.items()
            for lo, hi, score, pk in rows
        ),
        key=lambda iv: (iv.onset, iv.type),
    )


def spot_baseline(rec: RecordingFlow, params: BaselineParams | None = None) -> list[Interval]:
    """The micro and macro intervals spotted in one recording (score: the peak's contrast, px)."""
    params = params or BaselineParams()
    return spot_from_curves(rec, curves(rec, params), params)
