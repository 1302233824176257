"""Figures of image runs: misclassified test images, first-layer kernels, feature maps, saliency.

Every function writes one PNG atomically (see :func:`seqcnn.report.plots.save_figure`) and
returns its path. Images are ``(C, H, W)`` in [0, 1]; one channel is drawn in grey.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from seqcnn.report.plots import pyplot, save_figure


def _show(ax, image: np.ndarray, inverted: bool = True) -> None:
    """Draw a ``(C, H, W)`` image (one channel in grey, dark on light when ``inverted``) without axes."""
    if image.shape[0] == 1:
        ax.imshow(image[0], cmap="gray_r" if inverted else "gray", vmin=0, vmax=1)
    else:
        ax.imshow(np.clip(image[:3].transpose(1, 2, 0), 0, 1))  # (C, H, W) -> (H, W, C)
    ax.set_axis_off()


def plot_misclassified(images: np.ndarray, labels: np.ndarray, probs: np.ndarray, path: str | Path,
                       class_names: list[str] | None = None, count: int = 24) -> Path:
    """The most confidently misclassified test images, with true and predicted classes.

    Args:
        images: ``(N, C, H, W)`` in [0, 1].
        labels: true classes ``(N,)``.
        probs: predicted probabilities ``(N, K)``.
        path: the PNG to write.
        class_names: a name per class.
        count: how many images to show at most.
    """
    plt = pyplot()
    names = class_names or [str(k) for k in range(probs.shape[1])]
    predicted = probs.argmax(1)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-probs[wrong, predicted[wrong]], kind="stable")][:count]
    cols = min(8, max(1, len(wrong)))
    rows = max(1, math.ceil(len(wrong) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.9 * rows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, wrong):
        _show(ax, images[i])
        ax.set_title(f"{names[labels[i]]}\n-> {names[predicted[i]]} ({probs[i, predicted[i]]:.2f})", fontsize=7)
    fig.suptitle(f"{len(np.flatnonzero(predicted != labels))} of {len(labels)} test images misclassified; "
                 f"the {len(wrong)} most confident (true -> predicted, probability)", fontsize=9)
    return save_figure(fig, path)


def plot_kernels(kernels: np.ndarray, path: str | Path) -> Path:
    """First-layer kernels ``(F, C, kh, kw)``, each scaled to its own range (blue < 0 < red)."""
    plt = pyplot()
    n = kernels.shape[0]
    cols = min(16, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(0.7 * cols, 0.7 * rows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, kernel in zip(axes.flat, kernels):
        k = kernel.mean(0)  # average over input channels: (kh, kw)
        limit = float(np.abs(k).max()) or 1.0
        ax.imshow(k, cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle(f"{n} first-layer kernels {kernels.shape[2]} x {kernels.shape[3]}", fontsize=9)
    return save_figure(fig, path)


def plot_feature_maps(maps: np.ndarray, path: str | Path, title: str = "", limit: int = 64) -> Path:
    """Feature maps ``(F, H, W)`` of one layer for one image (the first ``limit`` of them)."""
    plt = pyplot()
    shown = maps[:limit]
    cols = min(16, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(0.8 * cols, 0.8 * rows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, fmap in zip(axes.flat, shown):
        ax.imshow(fmap, cmap="viridis")
    fig.suptitle(f"{title}\n{len(shown)} of {len(maps)} maps, {maps.shape[1]} x {maps.shape[2]}", fontsize=8)
    return save_figure(fig, path)


def plot_saliency(image: np.ndarray, saliency: np.ndarray, path: str | Path, title: str = "") -> Path:
    """The image ``(C, H, W)`` beside its saliency map ``(H, W)`` and the two overlaid."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.9))
    _show(axes[0], image)
    axes[0].set_title("image", fontsize=8)
    axes[1].imshow(saliency, cmap="hot")
    axes[1].set_axis_off()
    axes[1].set_title("|d logit / d pixel|", fontsize=8)
    _show(axes[2], image, inverted=False)
    axes[2].imshow(saliency, cmap="hot", alpha=0.55)
    axes[2].set_title("overlay", fontsize=8)
    fig.suptitle(title, fontsize=8)
    return save_figure(fig, path)


def write_image_plots(run_dir: str | Path, test_set, result: dict) -> list[Path]:
    """The image-run figures of :func:`seqcnn.jobs.train.train`: ``plots/misclassified.png``.

    Does nothing (returns ``[]``) for sequence runs or runs without test predictions.
    """
    if getattr(test_set, "kind", None) != "image" or "probs" not in result:
        return []
    path = Path(run_dir) / "plots" / "misclassified.png"
    return [plot_misclassified(test_set.x, result["labels"], result["probs"], path, test_set.class_names)]
