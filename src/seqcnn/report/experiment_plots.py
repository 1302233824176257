"""Figures of the in-silico experiments and of sequence design: motif spacing, score by design round.

Each function takes arrays (never a model) and writes one PNG atomically (:func:`seqcnn.report.plots.save_figure`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqcnn.report.plots import pyplot, save_figure


def plot_spacing(distances: np.ndarray, both: dict[str, np.ndarray], alone: np.ndarray, path: str | Path,
                 title: str = "", units: str = "") -> Path:
    """The mean effect of both motifs by distance, one line per orientation, against the sum of each alone.

    Args:
        distances: ``(D,)`` gaps in bases.
        both: orientation (``+``, ``-``) -> mean effect of both motifs ``(D,)``.
        alone: the sum of each motif's effect alone ``(D,)`` (B on the ``+`` strand).
        path: the PNG to write.
        title: the figure's title.
        units: what the effect is measured in (the y label).
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    for (orientation, values), colour in zip(both.items(), ("#4c72b0", "#dd8452")):
        ax.plot(distances, values, marker="o", markersize=3, color=colour,
                label=f"both, B on the {'same' if orientation == '+' else 'opposite'} strand ({orientation})")
    ax.plot(distances, alone, color="0.4", linestyle="--", label="sum of each alone")
    ax.set_xlabel("distance between the motifs (bases from A's end to B's start)")
    ax.set_ylabel(f"mean effect ({units})" if units else "mean effect")
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(fig, path)


def plot_rounds(scores: np.ndarray, path: str | Path, title: str = "", ylabel: str = "objective",
                oracle: tuple[float, float] | None = None) -> Path:
    """The objective of each design by round: every design faint, the median bold.

    Args:
        scores: ``(N, R + 1)``, round 0 being the starts.
        path: the PNG to write.
        title: the figure's title.
        ylabel: what the objective is.
        oracle: the oracle's median score of the starts and of the designs, drawn at both ends.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    rounds = np.arange(scores.shape[1])
    for row in scores:
        ax.plot(rounds, row, color="#4c72b0", alpha=0.25, linewidth=0.8)
    ax.plot(rounds, np.median(scores, axis=0), color="#4c72b0", linewidth=2.2, label="median of the designs")
    if oracle is not None:
        ax.plot([rounds[0], rounds[-1]], oracle, color="#c44e52", marker="s", linestyle="none",
                label="oracle model, median (start, end)")
    ax.set_xlabel("round")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(fig, path)


def plot_before_after(start: np.ndarray, design: np.ndarray, edited: np.ndarray, path: str | Path,
                      title: str = "") -> Path:
    """Attribution logos of a start and its design ``(4, L)`` each, the edited positions shaded in both.

    Args:
        start: gradient x input of the start ``(4, L)``.
        design: gradient x input of the design ``(4, L)``.
        edited: ``(L,)`` bool, the positions the design changed.
        path: the PNG to write.
        title: the figure's title.
    """
    from seqcnn.report.logos import draw_logo

    plt = pyplot()
    length = start.shape[1]
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, 0.11 * length), 3.4), sharex=True)
    limit = float(max(np.abs(start).max(), np.abs(design).max())) or 1.0
    for ax, values, name in zip(axes, (start, design), ("start", "design")):
        draw_logo(ax, values, title=f"{name}: gradient x input of the objective (log-odds for a probability)")
        for pos in np.nonzero(edited)[0]:
            ax.axvspan(pos - 0.5, pos + 0.5, color="#f2c14e", alpha=0.35, linewidth=0)
        ax.set_ylim(-limit * 1.05, limit * 1.05)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
