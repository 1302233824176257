"""Heatmaps of attention weights: one figure per sequence, heads averaged and each head.

Rows are query positions, columns key positions (each row sums to 1); both axes are labelled by
the input position each of the layer's positions is centred on, and by the base there when the
layer sees the input's own positions one by one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqcnn.report.plots import pyplot, save_figure

#: Heads drawn one by one beside their average; more heads are averaged only (all are in attention.npz).
MAX_HEADS = 8
#: Positions up to which each one is labelled with its base.
MAX_LETTERS = 60


def plot_attention(weights: np.ndarray, centres: np.ndarray, path: str | Path, title: str = "",
                   letters: str | None = None) -> Path:
    """Draw the attention weights ``(heads, L', L')`` of one sequence and write a PNG.

    The heads' average is the large panel, with every position labelled (by its base, when
    ``letters`` are given and the sequence is short); each head is a small panel beside it.

    Args:
        weights: softmax weights, rows = queries, columns = keys.
        centres: the input position ``(L',)`` each of the layer's positions is centred on.
        path: the PNG to write.
        title: the figure's title.
        letters: the sequence's bases at the positions (when they are the input's own), or None.

    Returns:
        ``path``.
    """
    plt = pyplot()
    heads, n = weights.shape[0], weights.shape[1]
    shown = heads if 1 < heads <= MAX_HEADS else 0
    columns = (shown + 1) // 2
    big = max(3.2, 0.1 * n) if letters is not None and n <= MAX_LETTERS else 3.2
    fig = plt.figure(figsize=(big + 0.9 + columns * (big / 2 + 0.2), big + 0.9))
    grid = fig.add_gridspec(2, 2 + columns, width_ratios=[1, 1] + [1] * columns)
    top = float(weights.max()) or 1.0  # one colour scale for every panel
    ax = fig.add_subplot(grid[:, :2])
    image = ax.imshow(weights.mean(0), cmap="viridis", vmin=0.0, vmax=top, interpolation="nearest")
    ax.set_title("heads averaged", fontsize=8)
    _label_axes(ax, centres, letters)
    ax.set_xlabel("key position", fontsize=7)
    ax.set_ylabel("query position", fontsize=7)
    for h in range(shown):
        small = fig.add_subplot(grid[h // columns, 2 + h % columns])
        small.imshow(weights[h], cmap="viridis", vmin=0.0, vmax=top, interpolation="nearest")
        small.set_title(f"head {h + 1}", fontsize=7)
        _label_axes(small, centres, None)
    fig.colorbar(image, ax=fig.axes, fraction=0.02, pad=0.02, label="weight")
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def _label_axes(ax, centres: np.ndarray, letters: str | None) -> None:
    """Ticks at the layer's positions: every base of a short sequence, with its input position every 10th;
    else a few input positions."""
    n = len(centres)
    if letters is not None and n <= MAX_LETTERS:
        ticks = list(range(n))
        labels = [f"{letters[i]}\n{_pos(centres[i])}" if i % 10 == 0 else letters[i] for i in ticks]
        ax.set_xticks(ticks, labels, fontsize=5)
        ax.set_yticks(ticks, [label.replace("\n", " ") for label in labels], fontsize=5)
        return
    ticks = list(np.unique(np.linspace(0, n - 1, min(n, 6)).round().astype(int)))
    labels = [_pos(centres[i]) for i in ticks]
    ax.set_xticks(ticks, labels, fontsize=5)
    ax.set_yticks(ticks, labels, fontsize=5)


def _pos(centre: float) -> str:
    """An input position: whole when it is, else with one decimal (an even window's centre)."""
    return f"{int(centre)}" if float(centre).is_integer() else f"{centre:.1f}"
