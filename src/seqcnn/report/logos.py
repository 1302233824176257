"""Sequence logos and heatmaps: attribution maps of single sequences and filter PWMs.

Letters are glyph outlines (DejaVu Sans Bold) computed once per letter and stretched to their
heights, all of one logo drawn as a single patch collection: a 100 bp logo takes milliseconds
(logomaker, which builds every glyph from the font, took about 0.35 s). Colours are the
classic ones (A green, C blue, G orange, T red). Every function writes one PNG atomically
(through :func:`seqcnn.report.plots.save_figure`) and returns its path.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from seqcnn.report.plots import pyplot, save_figure

BASES = ["A", "C", "G", "T"]
COLOURS = ["#109648", "#255C99", "#F7B32B", "#D62839"]
GLYPH_WIDTH = 0.9


@cache
def _unit_glyph(letter: str):
    """The outline of ``letter`` scaled to the unit square, as ``(vertices, codes)``."""
    # matplotlib is slow to import: only to draw
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    path = TextPath((0, 0), letter, size=1, prop=FontProperties(family="DejaVu Sans", weight="bold"))
    low, high = path.vertices.min(axis=0), path.vertices.max(axis=0)
    return (path.vertices - low) / (high - low), path.codes


def _glyphs(values: np.ndarray) -> tuple[list, list[str], float, float]:
    """Letter paths for a ``(4, W)`` logo: positives stacked up from 0, negatives down."""
    # matplotlib is slow to import: only to draw
    from matplotlib.path import Path as MplPath

    paths, colours, top, bottom = [], [], 0.0, 0.0
    for j in range(values.shape[1]):
        column = values[:, j]
        for sign in (1, -1):
            y = 0.0
            for b in np.argsort(sign * column):  # smallest magnitude nearest the axis
                height = sign * column[b]
                if height <= 0:
                    continue
                vertices, codes = _unit_glyph(BASES[b])
                base = y if sign > 0 else y - height
                paths.append(MplPath(vertices * [GLYPH_WIDTH, height] + [j - GLYPH_WIDTH / 2, base], codes))
                colours.append(COLOURS[b])
                y += sign * height
            top, bottom = (max(top, y), bottom) if sign > 0 else (top, min(bottom, y))
    return paths, colours, top, bottom


def draw_logo(ax, values: np.ndarray, title: str | None = None, ylabel: str | None = None) -> None:
    """Draw a logo of ``values`` ``(4, W)`` (letter heights, may be negative) on ``ax``."""
    # matplotlib is slow to import: only to draw
    from matplotlib.collections import PathCollection

    values = np.nan_to_num(np.asarray(values, dtype=float))
    paths, colours, top, bottom = _glyphs(values)
    ax.add_collection(
        PathCollection(paths, facecolors=colours, edgecolors="none", offsets=None, transform=ax.transData)
    )
    span = (top - bottom) or 1.0
    ax.set_xlim(-0.5, values.shape[1] - 0.5)
    ax.set_ylim(bottom - 0.05 * span * (bottom < 0), top + 0.05 * span)
    ax.axhline(0, color="grey", lw=0.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)


def ism_importance(deltas: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Per-base importance from ISM deltas ``(4, L)``: minus the mean change, at the observed base.

    A base whose every substitution lowers the score gets a tall positive letter.
    """
    return -deltas.mean(axis=0, keepdims=True) * onehot


def plot_attributions(
    onehot: np.ndarray, maps: dict[str, np.ndarray], deltas: np.ndarray | None, path: str | Path, title: str = ""
) -> Path:
    """Attribution logos of one sequence, one row per method, and the ISM heatmap below.

    Args:
        onehot: the sequence ``(4, L)``.
        maps: method name -> attributions ``(4, L)`` (non-zero at the observed bases).
        deltas: ISM score changes ``(4, L)`` (0 at the observed bases), or None.
        path: the PNG to write.
        title: figure title (e.g. the sequence id and its score).
    """
    plt = pyplot()
    length = onehot.shape[1]
    rows = len(maps) + (2 if deltas is not None else 0)
    fig, axes = plt.subplots(rows, 1, figsize=(max(6.0, 0.13 * length), 1.5 * rows), squeeze=False)
    axes = axes[:, 0]
    for ax, (name, values) in zip(axes, maps.items()):
        draw_logo(ax, values, title=name)
    if deltas is not None:
        draw_logo(
            axes[len(maps)],
            ism_importance(deltas, onehot),
            title="in-silico mutagenesis (importance of the observed base)",
        )
        _heatmap(axes[-1], deltas, fig)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def _heatmap(ax, deltas: np.ndarray, fig) -> None:
    limit = float(np.abs(deltas).max()) or 1.0
    image = ax.imshow(deltas, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_yticks(range(4), BASES)
    ax.set_title("in-silico mutagenesis: score change for each substitution", fontsize=9, loc="left")
    ax.set_xlabel("position", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.colorbar(image, ax=ax, fraction=0.02, pad=0.01)


def plot_pwm_logo(pwm: np.ndarray, bits: np.ndarray, path: str | Path, title: str = "") -> Path:
    """Information-content logo of a PWM ``(4, W)``: letter height = probability x ``bits`` ``(W,)``."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(3.0, 0.3 * pwm.shape[1]), 1.8))
    draw_logo(ax, pwm * bits[None, :], title=title, ylabel="bits")
    ax.set_ylim(0, 2)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_pattern_logo(cwm: np.ndarray, ppm: np.ndarray, bits: np.ndarray, path: str | Path, title: str = "") -> Path:
    """A TF-MoDISco pattern: its contribution logo ``cwm`` ``(4, W)`` above its probability logo.

    The probability logo is ``ppm`` ``(4, W)`` scaled by ``bits`` ``(W,)``, as :func:`plot_pwm_logo`.
    """
    plt = pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(max(3.5, 0.3 * ppm.shape[1]), 3.4))
    draw_logo(axes[0], cwm, title=title, ylabel="contribution")
    draw_logo(axes[1], ppm * bits[None, :], ylabel="bits")
    axes[1].set_ylim(0, 2)
    fig.tight_layout()
    return save_figure(fig, path)
