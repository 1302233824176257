"""Matplotlib figures of a run: training curves, confusion matrix, ROC and PR curves.

Every function writes one PNG atomically and returns its path. The Agg backend is used, so
no display is needed.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

from seqcnn.files import atomic_write_bytes
from seqcnn.metrics import auprc, auroc, pr_curve, roc_curve


def _pyplot():
    # matplotlib is slow to import: only to draw
    import matplotlib

    matplotlib.use("Agg")
    # matplotlib is slow to import: only to draw
    import matplotlib.pyplot as plt

    return plt


def _figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **subplots):
    """A figure and its axes without pyplot (pyplot's import costs about half a second more)."""
    from matplotlib.figure import Figure  # matplotlib is slow to import: only to draw

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **subplots)


def save_figure(fig, path: str | Path, dpi: int = 110, tight: bool = True) -> Path:
    """Save ``fig`` as PNG atomically, close it, and return the path.

    ``tight=False`` keeps the figure's own margins: one drawing instead of two (a tight box is
    measured by drawing the figure first).
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
    if "matplotlib.pyplot" in sys.modules:  # a pyplot figure stays open until closed
        sys.modules["matplotlib.pyplot"].close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def plot_history(rows: list[dict], path: str | Path) -> Path:
    """Loss and accuracy per epoch, training and validation, side by side."""
    fig, axes = _figure((9, 3.4), 1, 2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.9, wspace=0.22)
    epochs = [r["epoch"] for r in rows]
    marker = "o" if len(rows) < 3 else None  # a line of one point would not show
    for ax, key, title in ((axes[0], "loss", "Loss"), (axes[1], "accuracy", "Accuracy")):
        ax.plot(epochs, [r[key] for r in rows], label="train", marker=marker)
        if rows and f"val_{key}" in rows[0]:
            ax.plot(epochs, [r[f"val_{key}"] for r in rows], label="validation", marker=marker)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    return save_figure(fig, path, tight=False)


def plot_confusion(cm: list[list[int]], path: str | Path, class_names: list[str] | None = None) -> Path:
    """Confusion-matrix heatmap with counts in the cells (rows = true class)."""
    cm_arr = np.asarray(cm)
    k = cm_arr.shape[0]
    names = class_names or [str(i) for i in range(k)]
    size = max(3.2, 0.55 * k + 1.5)
    fig, ax = _figure((size, size))
    ax.imshow(cm_arr, cmap="Blues")
    for i in range(k):
        for j in range(k):
            color = "white" if cm_arr[i, j] > cm_arr.max() / 2 else "black"
            ax.text(j, i, str(cm_arr[i, j]), ha="center", va="center", color=color, fontsize=9)
    ax.set_xticks(range(k), names, rotation=45 if k > 2 else 0, ha="right" if k > 2 else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix")
    return save_figure(fig, path)


def plot_roc_pr(labels: np.ndarray, scores: np.ndarray, path: str | Path) -> Path:
    """ROC and precision-recall curves of a binary classifier, with their areas."""
    fig, axes = _figure((8, 3.6), 1, 2)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.25)
    fpr, tpr, _ = roc_curve(labels, scores)
    axes[0].plot(fpr, tpr, label=f"AUROC {auroc(labels, scores):.3f}")
    axes[0].plot([0, 1], [0, 1], ls=":", color="grey")
    axes[0].set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    precision, recall, _ = pr_curve(labels, scores)
    axes[1].plot(recall, precision, drawstyle="steps-pre", label=f"AUPRC {auprc(labels, scores):.3f}")
    axes[1].set(xlabel="recall", ylabel="precision", title="Precision-recall", ylim=(0, 1.02))
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    return save_figure(fig, path, tight=False)


def plot_calibration(labels: np.ndarray, probs: np.ndarray, path: str | Path, bins: int = 10) -> Path:
    """Reliability diagram: observed frequency against predicted probability, in equal-width bins.

    For two classes the probability of class 1 is checked against the fraction of positives; with
    more classes, the top-class confidence against the accuracy. The expected calibration error
    (bin-weighted mean gap) is given in the title, and a histogram of the scores below.

    Args:
        labels: true classes ``(N,)``.
        probs: predicted probabilities ``(N, K)``.
        path: the PNG to write.
        bins: number of equal-width probability bins.
    """
    plt = _pyplot()
    labels, probs = np.asarray(labels), np.asarray(probs, dtype=float)
    if probs.shape[1] == 2:
        score, hit, xlabel = probs[:, 1], labels == 1, "predicted probability of class 1"
    else:
        score, hit, xlabel = probs.max(1), probs.argmax(1) == labels, "top-class confidence"
    which = np.minimum((score * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    mean_score = np.bincount(which, weights=score, minlength=bins) / np.maximum(counts, 1)
    observed = np.bincount(which, weights=hit.astype(float), minlength=bins) / np.maximum(counts, 1)
    ece = float((counts * np.abs(observed - mean_score)).sum() / max(counts.sum(), 1))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(4, 4.2), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    used = counts > 0
    top.plot([0, 1], [0, 1], ls=":", color="grey")
    top.plot(mean_score[used], observed[used], "o-", label=f"ECE {ece:.3f}")
    top.set(ylabel="observed frequency", title="Calibration", xlim=(0, 1), ylim=(0, 1.02))
    top.grid(alpha=0.3)
    top.legend(loc="upper left")
    bottom.hist(score, bins=bins, range=(0, 1), color="grey")
    bottom.set(xlabel=xlabel, ylabel="count")
    return save_figure(fig, path)
