"""Dataset statistics: class counts, subjects, repaired and dropped rows, Figure 1 of the paper."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from meflow.datasets.base import EMOTIONS, LoadResult


def ordered_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """Gives counts with the six classes first in EMOTIONS order (zeros kept), then the rest."""
    out = {e: int(counts.get(e, 0)) for e in EMOTIONS}
    for name in sorted(k for k in counts if k not in EMOTIONS):
        out[name] = int(counts[name])
    return out


def summarize(
    result: LoadResult, missing: Sequence[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Gives a JSON-ready summary of a loaded dataset.

    Keys: dataset, label_file, samples, subjects, classes (six classes in EMOTIONS order, then
    any other word kept with ``six_classes=False``), other_classes (valid samples of words
    outside the six), dropped and repaired (lists of {file, row, reason}), missing_frames
    (list of {sample, reason}; empty when frames were not checked).
    """
    counts = result.class_counts
    classes = ordered_counts(counts)
    other = {k: v for k, v in counts.items() if k not in EMOTIONS}
    for k, v in result.excluded.items():
        other[k] = other.get(k, 0) + v
    return {
        "dataset": result.dataset,
        "label_file": str(result.label_file) if result.label_file is not None else None,
        "samples": len(result.samples),
        "subjects": len(result.subjects),
        "classes": classes,
        "other_classes": dict(sorted(other.items())),
        "dropped": [{"file": i.file, "row": i.row, "reason": i.reason} for i in result.dropped],
        "repaired": [{"file": i.file, "row": i.row, "reason": i.reason} for i in result.repaired],
        "missing_frames": [{"sample": s, "reason": r} for s, r in (missing or [])],
    }


def plot_class_distribution(
    counts: Mapping[str, int],
    path: str | Path,
    title: str = "Micro-expressions per class",
) -> Path:
    """Gives the path of a PNG bar chart of samples per class (the paper's Figure 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    names = list(counts)
    values = [int(counts[n]) for n in names]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(names) + 1.5), 3.6), dpi=150)
    try:
        bars = ax.bar(names, values, color="#4C72B0")
        ax.bar_label(bars, fontsize=8)
        ax.set_ylabel("samples")
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(axis="x", labelrotation=30)
        fig.tight_layout()
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out
