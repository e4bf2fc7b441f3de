"""Figures of the features: a pseudo-image (the paper's Figure 2), one pair's flow on the face."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from meflow.config import ExtractConfig
from meflow.face.draw import draw_region_borders
from meflow.face.landmarks import LandmarkTracker
from meflow.features.cache import load_npz
from meflow.features.sequence import SequenceExtractor
from meflow.features.windows import pseudo_images
from meflow.io import open_frames
from meflow.preprocess import preprocess


def plot_pseudo_image(image: np.ndarray, path: Path, title: str = "pseudo-image") -> Path:
    """Draws a (regions x frames) uint8 pseudo-image with its axes named; returns the PNG path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.8), dpi=110)
    im = ax.imshow(image, cmap="gray", vmin=0, vmax=255, aspect="auto", interpolation="nearest")
    ax.set_xlabel("frame pair in the window")
    ax.set_ylabel("face region (1..42)")
    ax.set_yticks(range(0, image.shape[0], 5), [str(i + 1) for i in range(0, image.shape[0], 5)])
    ax.set_title(title)
    cbar = fig.colorbar(im, ax=ax, ticks=[0, 64, 128, 192, 255])
    cbar.set_label("flow angle (0 = right, 64 = up, 128 = left, 192 = down)")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def plot_flow_pair(
    crop: np.ndarray,
    flow: np.ndarray,
    labels: np.ndarray,
    path: Path,
    title: str = "optical flow",
    step: int = 8,
) -> Path:
    """Draws a face crop with its region borders and the flow as arrows (scaled for visibility)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = draw_region_borders(np.dstack([crop] * 3), labels)
    h, w = crop.shape
    ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step]
    u = flow[ys, xs, 0]
    v = flow[ys, xs, 1]
    mag = np.hypot(u, v)
    fig, ax = plt.subplots(figsize=(6, 6), dpi=110)
    ax.imshow(base[..., ::-1])
    scale = max(float(np.percentile(mag, 95)), 1e-3) / (step * 0.9)
    ax.quiver(
        xs, ys, u, v, mag, angles="xy", scale_units="xy", scale=scale, cmap="autumn", width=0.004
    )
    ax.set_title(
        f"{title}\n(arrows scaled: 95th percentile = {np.percentile(mag, 95):.2f} px/frame)"
    )
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def video_figures(video: Path, features_file: Path, cfg: ExtractConfig) -> list[Path]:
    """The pseudo-image of a video's first window and the flow of its most active valid pair."""
    arrays, _ = load_npz(features_file)
    stem = Path(features_file).with_suffix("")
    out = []
    w = cfg.features.window
    fc = cfg.features
    disc, _cont = pseudo_images(
        arrays["angle"][:w], arrays["valid"][:w], fc.sectors, arrays["vector"][:w], fc.noise_floor
    )
    out.append(
        plot_pseudo_image(
            disc, Path(f"{stem}_pseudo.png"), title=f"{Path(video).name}: first window"
        )
    )
    valid = arrays["valid"]
    if not valid.any():
        return out
    activity = np.where(valid, np.nan_to_num(arrays["magnitude"]).mean(axis=1), -1.0)
    k = int(np.argmax(activity))
    frames = []
    for i, f in open_frames(video):
        if i in (k, k + 1) and f is not None:
            frames.append(f)
        if i > k:
            break
    with LandmarkTracker(cfg.face) as tracker:
        pts = [tracker(f) for f in frames]
    if len(frames) < 2 or pts[0] is None or pts[1] is None:
        return out
    extractor = SequenceExtractor(cfg)
    pair = extractor.pair(
        preprocess(frames[0], cfg.preprocess), preprocess(frames[1], cfg.preprocess), pts[0], pts[1]
    )
    out.append(
        plot_flow_pair(
            pair.crop,
            pair.flow,
            pair.labels,
            Path(f"{stem}_flow.png"),
            title=f"{Path(video).name}: frames {k}->{k + 1}",
        )
    )
    return out
