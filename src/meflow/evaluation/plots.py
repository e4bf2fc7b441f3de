"""Figures of a run: ROC curves, confusion matrix, example pseudo-images, training curves.

matplotlib is imported inside each function with the file-only Agg backend, so no display
is needed and ``import meflow.evaluation`` stays light. Every function writes one file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meflow.evaluation.metrics import (
    micro_roc_curve,
    one_hot,
    roc_curve_binary,
    trapezoid_auc,
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=120, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return p


def plot_roc(
    y: np.ndarray, probs: np.ndarray, classes: Sequence[str], path: str | Path, title: str = "ROC"
) -> Path:
    """The path written: the micro-averaged ROC curve and one per class, AUCs in the legend."""
    plt = _pyplot()
    y = np.asarray(y)
    probs = np.asarray(probs, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    fpr, tpr, _ = micro_roc_curve(y, probs)
    ax.plot(fpr, tpr, color="black", lw=2.5, label=f"micro ({trapezoid_auc(fpr, tpr):.3f})")
    onehot = one_hot(y, probs.shape[1])
    for c, name in enumerate(classes):
        if 0 < onehot[:, c].sum() < y.size:
            f, t, _ = roc_curve_binary(onehot[:, c], probs[:, c])
            label = f"{name} ({trapezoid_auc(f, t):.3f}, n={onehot[:, c].sum()})"
            ax.plot(f, t, lw=1.2, label=label)
        else:
            ax.plot([], [], lw=1.2, label=f"{name} (undefined, n={onehot[:, c].sum()})")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8)
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1.01),
        xlabel="false positive rate",
        ylabel="true positive rate",
        title=title,
    )
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def plot_confusion(
    cm: np.ndarray,
    classes: Sequence[str],
    path: str | Path,
    title: str = "Confusion matrix",
    normalise: bool = True,
) -> Path:
    """The path written: the confusion matrix (rows = true class), row-normalised by default."""
    plt = _pyplot()
    counts = np.asarray(cm, dtype=np.float64)
    shown = counts
    if normalise:
        rows = counts.sum(1, keepdims=True)
        shown = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalise else None)
    bar_label = "fraction of true class" if normalise else "count"
    fig.colorbar(im, ax=ax, fraction=0.046, label=bar_label)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, classes, rotation=45, ha="right")
    ax.set_yticks(ticks, classes)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    hi = shown.max() if shown.size else 0
    for i in range(shown.shape[0]):
        for j in range(shown.shape[1]):
            n_ij = int(counts[i, j])
            text = f"{shown[i, j]:.2f}\n({n_ij})" if normalise else f"{n_ij}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color="white" if shown[i, j] > hi / 2 else "black",
            )
    return _save(fig, path)


def plot_pseudo_images(
    X: np.ndarray, y: np.ndarray, classes: Sequence[str], path: str | Path, per_class: int = 3
) -> Path:
    """The path written: a grid of example pseudo-images, one row of ``per_class`` per class.

    Region on the vertical axis, frame on the horizontal; the colour is the flow angle
    (0..255, i.e. 0..360 degrees; discrete images take 8 sector values 0, 32, ..., 224).
    """
    plt = _pyplot()
    X = np.asarray(X)
    y = np.asarray(y)
    n_rows = len(classes)
    fig, axes = plt.subplots(
        n_rows, per_class, figsize=(2.2 * per_class + 1, 1.6 * n_rows), squeeze=False
    )
    im = None
    for c, name in enumerate(classes):
        idx = np.nonzero(y == c)[0][:per_class]
        for j in range(per_class):
            ax = axes[c, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < idx.size:
                im = ax.imshow(
                    X[idx[j]],
                    cmap="twilight",
                    vmin=0,
                    vmax=255,
                    aspect="auto",
                    interpolation="nearest",
                )
            else:
                ax.set_facecolor("0.9")
            if j == 0:
                ax.set_ylabel(f"{name}\nregion", fontsize=8)
            if c == n_rows - 1:
                ax.set_xlabel("frame", fontsize=8)
    if im is not None:
        cbar = fig.colorbar(im, ax=axes, fraction=0.03)
        cbar.set_ticks([0, 32, 64, 96, 128, 160, 192, 224, 255])
        cbar.set_label("flow angle (0..255 = 0..360°; sector k = 32k)")
    fig.suptitle("pseudo-images (42 regions × 64 frames)")
    return _save(fig, path)


def plot_training_curves(histories: Sequence[Sequence[dict[str, Any]]], path: str | Path) -> Path:
    """The path written: training and validation loss, and validation micro AUC, per fold."""
    plt = _pyplot()
    fig, (ax_loss, ax_auc) = plt.subplots(1, 2, figsize=(10, 4))
    for f, hist in enumerate(histories):
        ep = [h["epoch"] for h in hist]
        line = ax_loss.plot(ep, [h["train_loss"] for h in hist], lw=1.2, label=f"fold {f} train")
        val = [np.nan if h.get("val_loss") is None else h["val_loss"] for h in hist]
        auc = [np.nan if h.get("val_micro_auc") is None else h["val_micro_auc"] for h in hist]
        colour = line[0].get_color()
        if np.isfinite(val).any():
            ax_loss.plot(ep, val, lw=1.2, ls="--", color=colour, label=f"fold {f} val")
            ax_auc.plot(ep, auc, lw=1.2, color=colour, label=f"fold {f}")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_auc.set(xlabel="epoch", ylabel="micro ROC-AUC", title="validation micro AUC")
    ax_loss.legend(fontsize=7)
    if ax_auc.get_legend_handles_labels()[0]:
        ax_auc.legend(fontsize=7)
    else:
        ax_auc.text(0.5, 0.5, "no validation subjects", ha="center", transform=ax_auc.transAxes)
    return _save(fig, path)


def plot_versus_prior(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """The path written: every results row's micro AUC with its 95% interval (bars), its class
    prior on the same splits (a black tick) and the paper's value where there is one (a
    red diamond). A row is only worth its distance from its tick."""
    plt = _pyplot()
    labels = [
        f"{r['subset']} / {r['input']} / {r['model']}"
        + (" *" if r.get("role") == "baseline" else "")
        for r in rows
    ]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(rows) + 1.4))
    ypos = np.arange(len(rows))[::-1]
    auc = np.array([r["micro_roc_auc"] for r in rows], dtype=np.float64)
    ci = np.array([r.get("micro_roc_auc_ci") or [np.nan, np.nan] for r in rows], dtype=np.float64)
    colours = ["#7f7f7f" if r.get("role") == "baseline" else "#1f77b4" for r in rows]
    ax.barh(ypos, auc, color=colours, alpha=0.8)
    err = np.vstack([auc - ci[:, 0], ci[:, 1] - auc])
    ax.errorbar(auc, ypos, xerr=np.nan_to_num(err), fmt="none", ecolor="black", lw=1)
    prior = np.array([r.get("prior_micro_roc_auc", np.nan) for r in rows], dtype=np.float64)
    ax.scatter(prior, ypos, marker="|", s=300, color="black", label="class prior (same splits)")
    paper = np.array([r.get("paper_micro_roc_auc") or np.nan for r in rows], dtype=np.float64)
    if np.isfinite(paper).any():
        ax.scatter(paper, ypos, marker="D", color="#d62728", label="paper's Table 1")
    ax.set_yticks(ypos, labels, fontsize=8)
    ax.set(
        xlim=(0.4, 1.0), xlabel="micro ROC-AUC (95% interval)", title="Every row beside its prior"
    )
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
