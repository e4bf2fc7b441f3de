"""One video (or frame folder) to per-pair region features at one frame rate.

The step ``meflow extract --video`` and ``meflow predict`` share: the source's frames with
their own timestamps (:func:`meflow.io.timebase.timed_frames`) are brought to the analysis
rate (the frame nearest in time to each step, :func:`meflow.io.timebase.resample`), one
streamed pass of :class:`~meflow.features.sequence.SequenceExtractor` computes the features,
and a pair whose two frames are one source frame (the video is slower than the rate there)
is made a valid pair without motion. The landmarks are looked for on every
``face.landmark_stride``-th analysed frame and the last, those between filled as a gap is
(a dataset's clips always have them on every frame). The result keeps each analysed frame's
source index and time, and notes saying what was done (docs/predict.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from meflow.errors import MeflowError, NoFaceError
from meflow.features.streaming import LAG_STRIDE
from meflow.io.timebase import Timed, resample, timed_frames

if TYPE_CHECKING:
    from meflow.config import ExtractConfig
    from meflow.features.sequence import SequenceExtractor, SequenceFeatures
    from meflow.io import FrameSource


@dataclass
class VideoFeatures:
    """The features of a video at ``rate`` and where each analysed frame came from."""

    path: Path
    features: SequenceFeatures
    frame_index: np.ndarray  # (frames,) int64: each analysed frame's 0-based source index
    frame_time: np.ndarray  # (frames,) float64: its time in seconds from the first frame
    rate: float  # the analysis rate (frames per second)
    src_fps: float  # the source's own rate
    decoded: int  # source frames decoded
    declared: int  # frames the container declares (0: unknown)
    notes: list[str] = field(default_factory=list)

    @property
    def frames(self) -> int:
        """Analysed frames (pairs + 1)."""
        return self.features.frames


def too_short(path: Path, usable: int, frames: int, fps: float, rate: float) -> str:
    """The one-line error of a source declaring fewer than 2 frames at the analysis rate."""
    after = "" if usable == frames else f", {usable} at the training rate of {rate:g} fps"
    return (
        f"{path}: too short: {frames} frames at {fps:g} fps{after}; optical flow needs at least 2"
    )


def check_declared_length(source: FrameSource, path: Path, rate: float) -> None:
    """Nothing; MeflowError when the container declares too few frames for one pair at
    ``rate`` (its count and mean rate: exact for constant-rate files, and a failure here saves
    the whole landmark and flow pass)."""
    declared = source.info.frame_count
    src_fps = float(source.info.fps)
    if declared > 0:
        expected = math.floor((declared - 1) / src_fps * rate + 1e-6) + 1
        if expected < 2:
            raise MeflowError(too_short(path, expected, declared, src_fps, rate))


def video_features(
    path: str | Path,
    cfg: ExtractConfig,
    *,
    rate: float | None = None,
    fps: float | None = None,
    extractor: SequenceExtractor | None = None,
    source: FrameSource | None = None,
) -> VideoFeatures:
    """The per-pair features of ``path`` resampled to ``rate`` (default ``cfg.features.fps``).

    ``fps`` replaces the source's timestamps by a constant rate (a frame folder is 30 fps
    otherwise); ``extractor`` is a SequenceExtractor with ``cfg`` to reuse; ``source`` the
    already opened source of ``path``. Raises MeflowError for an unreadable source, one
    without any face (NoFaceError) or one of fewer than 2 frames at the rate.
    """
    from meflow.features.sequence import SequenceExtractor
    from meflow.io import open_frames

    p = Path(path)
    src = source if source is not None else open_frames(p, fps)
    step_rate = float(rate if rate is not None else cfg.features.fps)
    ext = extractor if extractor is not None else SequenceExtractor(cfg)
    if extractor is not None and extractor.cfg != cfg:
        raise MeflowError("the extractor's settings differ from the model's")
    kept: list[Timed] = []
    decoded = [0]

    def frames() -> Iterator[np.ndarray | None]:
        kept.clear()

        def counted() -> Iterator[Timed]:
            for item in timed_frames(src, fps):
                decoded[0] = item[0] + 1
                yield item

        for i, t, frame in resample(counted(), step_rate):
            kept.append((i, t, None))
            yield frame

    try:
        feats = ext.run(
            frames,
            name=str(p),
            landmark_stride=cfg.face.landmark_stride,
            spot_lags=cfg.features.spot_lag_list,
            lag_stride=LAG_STRIDE,
        )
    except NoFaceError:
        # the extractor counts resampled frames; name the file's own count
        raise NoFaceError(f"{p}: no face found in any of its {decoded[0]} frames") from None
    used = feats.frames
    index = np.array([k[0] for k in kept[:used]], dtype=np.int64)
    times = np.array([k[1] for k in kept[:used]], dtype=np.float64)
    vf = VideoFeatures(
        p, feats, index, times, step_rate, float(src.info.fps), decoded[0], src.info.frame_count
    )
    repeated = index[1:] == index[:-1]
    feats.without_motion(repeated)
    feats.lags_without_motion(index)
    vf.notes = _notes(vf, repeated, cfg.features.window)
    if used < 2:
        at = "" if used == vf.decoded else f" at {step_rate:g} fps (of {vf.decoded} decoded)"
        raise MeflowError(f"{p}: only {used} frame{at}; optical flow needs at least 2")
    return vf


def _notes(vf: VideoFeatures, repeated: np.ndarray, window: int) -> list[str]:
    """What resampling did to the video, in words."""
    notes: list[str] = []
    rate, decoded, declared = vf.rate, vf.decoded, vf.declared
    skipped = decoded - len(np.unique(vf.frame_index))
    if skipped > 0:
        notes.append(
            f"{skipped} of {decoded} frames skipped to resample "
            f"the video to {rate:g} fps (nearest timestamp)"
        )
    if repeated.any():
        notes.append(
            f"{int(repeated.sum())} of {len(repeated)} frame pairs repeat a frame (the video is "
            f"slower than the model's {rate:g} fps there): kept as pairs without "
            f"motion, so a window of {window} pairs spans {window / rate:.2f} s as in training "
            "(docs/predict.md: the rule and what it costs)"
        )
    if declared > 0 and decoded < declared:
        notes.append(
            f"only {decoded} of the {declared} frames the file declares could be decoded "
            "(truncated file?)"
        )
    return notes


def recording_arrays(vf: VideoFeatures) -> dict[str, Any]:
    """The arrays an extracted video's file holds besides its features (``meflow extract
    --video``): the source's rate, the analysis rate and each analysed frame's source index."""
    return {
        "fps": np.array(vf.src_fps, dtype=np.float64),
        "analysis_fps": np.array(vf.rate, dtype=np.float64),
        "frames": vf.frame_index.astype(np.int32),
    }
