"""The spotting timeline of one recording: ground truth, spotted intervals, blinks (a PNG).

matplotlib with the file-only Agg backend, imported inside the function (as
``meflow.evaluation.plots``); colours from matplotlib's default cycle (tab10) as meflow's
other figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meflow.spotting.scoring import Interval

COLOURS = {"micro": "tab:red", "macro": "tab:blue", "blink": "tab:gray"}


def plot_timeline(
    recording: str,
    span: tuple[int, int],
    rows: Mapping[str, Sequence[Interval]],
    blinks: Sequence[tuple[int, int]],
    path: str | Path,
    matched: set[int] | None = None,
    fps: float | None = None,
) -> Path:
    """Writes one recording's timeline: a row per entry of ``rows`` (``annotated`` first, then
    each spotter's intervals; micro red, macro blue, each spotter's true positives, the ids in
    ``matched``, filled and the others hatched) and a row of blinks (grey). x: the dataset's
    frame numbers, with seconds on top when ``fps`` is given."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    names = [*rows, "blinks"]
    fig, ax = plt.subplots(figsize=(12, 0.6 * len(names) + 1.4))
    for y, name in enumerate(reversed(names)):
        ivs = rows.get(name, ())
        if name == "blinks":
            spans = [(lo, hi - lo + 1) for lo, hi in blinks]
            ax.broken_barh(spans, (y - 0.3, 0.6), color=COLOURS["blink"])
            continue
        for iv in ivs:
            hit = name == "annotated" or matched is None or id(iv) in matched
            ax.broken_barh(
                [(iv.onset, iv.length)],
                (y - 0.3, 0.6),
                facecolor=COLOURS[iv.type] if hit else "none",
                edgecolor=COLOURS[iv.type],
                hatch=None if hit else "///",
            )
    ax.set_yticks(range(len(names)), list(reversed(names)))
    ax.set_xlim(span[0], span[1] + 1)
    ax.set_xlabel("frame (the dataset's numbers)")
    if fps:
        first, rate = span[0], float(fps)

        def to_s(f: Any) -> Any:
            return (np.asarray(f, dtype=float) - first) / rate

        def to_f(t: Any) -> Any:
            return np.asarray(t, dtype=float) * rate + first

        top = ax.secondary_xaxis("top", functions=(to_s, to_f))
        top.set_xlabel("seconds")
    ax.set_title(recording, loc="left")
    ax.legend(
        handles=[
            Patch(color=COLOURS["micro"], label="micro"),
            Patch(color=COLOURS["macro"], label="macro"),
            Patch(facecolor="none", edgecolor="black", hatch="///", label="false positive"),
            Patch(color=COLOURS["blink"], label="blink"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return p
