"""Matplotlib figures of a run: training curves, confusion matrix, ROC and PR curves per class or
task, calibration, per-task AUROC bars, predicted against observed values.

Every function writes one PNG atomically and returns its path. The Agg backend is used, so
no display is needed.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from seqcnn.files import atomic_write_bytes


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, no window), imported on first use."""
    # matplotlib is slow to import: only to draw
    import matplotlib

    matplotlib.use("Agg")
    # matplotlib is slow to import: only to draw
    import matplotlib.pyplot as plt

    return plt


def warm_up() -> None:
    """Import matplotlib and Pillow and draw one small figure (fonts loaded): a report worker's
    preparation while the run trains."""
    from PIL import Image, PngImagePlugin  # noqa: F401

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1], label="x")
    ax.set(xlabel="x", ylabel="y", title="t")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png", dpi=50, bbox_inches="tight")
    plt.close(fig)


def _fixed_margins(fig, path: str | Path, stamp: str | None, left: float, **space) -> Path:
    """Save a figure whose tick labels are known in advance with margins in inches (``left``; 0.15 right,
    0.5 below for the x label, 0.35 above for the title) instead of :func:`save_figure`'s crop.

    ``space``: ``wspace``/``hspace`` between panels, as fractions of a panel (matplotlib's).
    """
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, right=1 - 0.15 / width, bottom=0.5 / height, top=1 - 0.35 / height,
                        **space)
    return save_figure(fig, path, stamp=stamp, tight=False)


def save_figure(fig, path: str | Path, dpi: int = 110, stamp: str | None = None, tight: bool = True) -> Path:
    """Save ``fig`` as a 256-colour PNG atomically, close it, and return the path.

    The figure is reduced to a palette of 256 colours (Pillow's fast octree): a third of the
    bytes of the full-colour PNG for the same look (line plots, logos, heatmaps), which keeps the
    report, where every figure is inlined, small (benchmarks/speed/report_tasks.py).

    Args:
        fig: the figure.
        path: the PNG to write.
        dpi: resolution.
        stamp: text kept in the PNG's ``Description`` (the report's record of what it was drawn from).
        tight: crop to what was drawn (a second layout pass, a third of the figure's time); figures
            whose tick labels are fixed set their margins instead and pass False.
    """
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    plt = pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None, facecolor="white")
    plt.close(fig)
    info = PngInfo()
    info.add_text("Software", "seqcnn (matplotlib)")
    if stamp:
        info.add_text("Description", stamp)
    with Image.open(io.BytesIO(buffer.getvalue())) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    small.save(out, format="PNG", pnginfo=info)
    atomic_write_bytes(path, out.getvalue())
    return Path(path)


def plot_history(rows: list[dict], path: str | Path, collapses: list[dict] | None = None,
                 kept_epoch: int | None = None, stamp: str | None = None) -> Path:
    """Loss and a second measure (accuracy, or the first other one recorded) per epoch, side by side.

    Args:
        rows: ``history.csv`` rows (``epoch``, ``loss``, ``val_loss``...).
        path: the PNG to write.
        collapses: collapse events (``epoch``, ``recovered``), shaded in red on both panels.
        kept_epoch: the epoch whose weights the run kept, marked by a green line.
        stamp: see :func:`save_figure`.
    """
    plt = pyplot()
    second = _second_measure(rows[0] if rows else {})
    fig, axes = plt.subplots(1, 2 if second else 1, figsize=(9 if second else 4.8, 3.4), squeeze=False)
    epochs = [r["epoch"] for r in rows]
    panels = [("loss", "Loss")] + ([(second, second.replace("_", " ").capitalize())] if second else [])
    for ax, (key, title) in zip(axes[0], panels):
        ax.plot(epochs, [r.get(key) for r in rows], label="train")
        if rows and f"val_{key}" in rows[0]:
            ax.plot(epochs, [r[f"val_{key}"] for r in rows], label="validation")
        _mark_epochs(ax, epochs, collapses or [], kept_epoch)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    # no axis label on the left, tick labels of up to 7 characters; as much room between the panels
    width = fig.get_size_inches()[0]
    panel = (width - 0.65 - 0.15 - 0.65 * (len(panels) - 1)) / len(panels)
    return _fixed_margins(fig, path, stamp, left=0.65, wspace=0.65 / panel)


#: Columns of ``history.csv`` that are not a measure of fit.
NOT_MEASURES = ("epoch", "loss", "lr", "seconds")


def _second_measure(row: dict) -> str | None:
    """``accuracy`` when recorded, else the first training measure other than the loss."""
    names = [k for k in row if k not in NOT_MEASURES and not k.startswith("val_")]
    return "accuracy" if "accuracy" in names else (names[0] if names else None)


def _mark_epochs(ax, epochs: list, collapses: list[dict], kept_epoch: int | None) -> None:
    """Shade each collapse (to its recovery or the last epoch) and draw a line at the kept epoch."""
    last = max(epochs) if epochs else 0
    for i, event in enumerate(collapses):
        end = event.get("recovered") or last
        ax.axvspan(event["epoch"] - 0.5, end - 0.5 if event.get("recovered") else end + 0.5, color="#d62728",
                   alpha=0.12, label="collapse" if i == 0 else None)
        ax.axvline(event["epoch"], color="#d62728", ls="--", lw=1)
    if kept_epoch is not None:
        ax.axvline(kept_epoch, color="#2ca02c", lw=1.5, label=f"kept (epoch {kept_epoch})")


def plot_confusion(cm: list[list[int]], path: str | Path, class_names: list[str] | None = None,
                   stamp: str | None = None) -> Path:
    """Confusion-matrix heatmap with counts in the cells (rows = true class)."""
    plt = pyplot()
    cm_arr = np.asarray(cm)
    k = cm_arr.shape[0]
    names = class_names or [str(i) for i in range(k)]
    size = max(3.2, 0.55 * k + 1.5)
    fig, ax = plt.subplots(figsize=(size, size))
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
    return save_figure(fig, path, stamp=stamp)


def plot_roc_pr(labels: np.ndarray, scores: np.ndarray, path: str | Path) -> Path:
    """ROC and precision-recall curves of a binary classifier, with their areas."""
    from seqcnn.metrics import class_curves

    labels = np.asarray(labels).astype(np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    return plot_curves(class_curves(labels, np.column_stack([1 - scores, scores]), ["0", "1"]), path)


def plot_curves(curves: dict, path: str | Path, title: str = "", stamp: str | None = None) -> Path:
    """ROC and precision-recall curves, one line per class or task, with their areas in the legend.

    Args:
        curves: :func:`seqcnn.metrics.class_curves`'s ``{name: {"fpr", "tpr", "precision", "recall",
            "auroc", "auprc"}}``; one entry is drawn without its name.
        path: the PNG to write.
        title: a suffix of both panel titles (e.g. "per class, one-vs-rest").
        stamp: see :func:`save_figure`.
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6) if len(curves) < 4 else (9.5, 4.2))
    for name, c in curves.items():
        who = "" if len(curves) == 1 else f"{name}: "
        axes[0].plot(c["fpr"], c["tpr"], lw=1.3, label=f"{who}AUROC {c['auroc']:.3f}")
        axes[1].plot(c["recall"], c["precision"], lw=1.3, drawstyle="steps-pre", label=f"{who}AUPRC {c['auprc']:.3f}")
    axes[0].plot([0, 1], [0, 1], ls=":", color="grey")
    suffix = f" ({title})" if title else ""
    axes[0].set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC{suffix}")
    axes[1].set(xlabel="recall", ylabel="precision", title=f"Precision-recall{suffix}", ylim=(0, 1.02))
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8 if len(curves) < 6 else 6)
    return _fixed_margins(fig, path, stamp, left=0.62, wspace=0.25)  # both panels span [0, 1] on both axes


#: Tasks drawn as bars at most; more are drawn as a histogram of their values.
MAX_TASK_BARS = 40


def plot_task_bars(tasks: dict, path: str | Path, key: str = "auroc", stamp: str | None = None) -> Path:
    """Each task's ``key`` (AUROC) as a horizontal bar, with its value; tasks without one say why.

    More than :data:`MAX_TASK_BARS` tasks are drawn as a histogram of the values instead.

    Args:
        tasks: ``metrics.json``'s ``tasks`` (per target: ``auroc``, ``n``, ``note``...).
        path: the PNG to write.
        key: the metric drawn.
        stamp: see :func:`save_figure`.
    """
    plt = pyplot()
    names = list(tasks)
    if len(names) > MAX_TASK_BARS:
        return _task_histogram([tasks[n].get(key) for n in names], path, key, stamp)
    values = [tasks[n].get(key) for n in names]
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.26 * len(names)))
    y = np.arange(len(names))[::-1]  # first task on top
    ax.barh(y, [v if v is not None else 0 for v in values], color="#2f6db5")
    for yi, v, name in zip(y, values, names):
        text = f"{v:.3f}" if v is not None else tasks[name].get("note", "not scored")
        ax.text((v or 0) + 0.01, yi, text, va="center", fontsize=7)
    ax.axvline(0.5, ls=":", color="grey")
    ax.set_yticks(y, names, fontsize=8)
    ax.set(xlim=(0, 1.18), xlabel=f"test {key.upper()}", title=f"{key.upper()} per task (dotted: chance)")
    ax.grid(alpha=0.3, axis="x")
    return save_figure(fig, path, stamp=stamp)


def _task_histogram(values: list[float | None], path: str | Path, key: str, stamp: str | None) -> Path:
    plt = pyplot()
    scored = [v for v in values if v is not None]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.hist(scored, bins=np.linspace(0, 1, 41), color="#2f6db5")
    ax.axvline(0.5, ls=":", color="grey")
    if scored:
        ax.axvline(float(np.median(scored)), color="#d62728", label=f"median {np.median(scored):.3f}")
        ax.legend(fontsize=8)
    ax.set(xlabel=f"test {key.upper()}", ylabel="tasks",
           title=f"{key.upper()} of {len(scored)} of {len(values)} tasks (dotted: chance)")
    ax.grid(alpha=0.3)
    return save_figure(fig, path, stamp=stamp)


def plot_scatter(observed: np.ndarray, predicted: np.ndarray, names: list[str], r: list[float | None],
                 path: str | Path, log: bool = False, stamp: str | None = None) -> Path:
    """Predicted against observed values, one panel per target, with Pearson r and the diagonal.

    Args:
        observed: ``(N, T)`` values, NaN where missing (left out).
        predicted: ``(N, T)`` predictions on the original scale.
        names: the targets' names.
        r: Pearson r per target (from ``metrics.json``), or None.
        path: the PNG to write.
        log: draw ``log(1 + value)`` (counts of a Poisson task).
        stamp: see :func:`save_figure`.
    """
    plt = pyplot()
    t = len(names)
    cols = min(3, t)
    rows = -(-t // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 3.3 * rows), squeeze=False, layout="constrained")
    for ax in axes.flat[t:]:
        ax.set_axis_off()
    for j, ax in enumerate(axes.flat[:t]):
        keep = ~np.isnan(observed[:, j])
        x, y = observed[keep, j], predicted[keep, j]
        if log:
            x, y = np.log1p(np.maximum(x, 0)), np.log1p(np.maximum(y, 0))
        ax.scatter(x, y, s=5, alpha=0.35 if x.size > 500 else 0.7, lw=0, rasterized=True)
        if x.size:
            low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
            pad = 0.04 * (high - low or 1.0)
            ax.plot([low, high], [low, high], ls=":", color="grey")
            ax.set(xlim=(low - pad, high + pad), ylim=(low - pad, high + pad))  # one scale: the diagonal is 45 degrees
        label = f"r = {r[j]:.3f}" if r[j] is not None else "r undefined"
        ax.set_title(f"{names[j]}: {label} (n = {x.size:,})", fontsize=9)
        ax.set_aspect("equal")
        scale = "log(1 + value)" if log else "value"
        ax.set(xlabel=f"observed {scale}", ylabel=f"predicted {scale}")
        ax.grid(alpha=0.3)
    return save_figure(fig, path, stamp=stamp)


def plot_position_profile(profile: np.ndarray, path: str | Path, title: str = "") -> Path:
    """Mean absolute attribution by position (``seqcnn.interpret.attribution.position_profile``) as a line."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 2.6))
    positions = np.arange(1, len(profile) + 1)
    ax.fill_between(positions, profile, color="#4c72b0", alpha=0.35, linewidth=0)
    ax.plot(positions, profile, color="#4c72b0", linewidth=1)
    ax.axhline(profile.mean(), color="0.5", linestyle=":", linewidth=1, label="mean over positions")
    ax.set_xlim(1, len(profile))
    ax.set_xlabel("position in the sequence")
    ax.set_ylabel("mean |gradient x input|")
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(fig, path)


def plot_calibration(labels: np.ndarray, probs: np.ndarray, path: str | Path, bins: int = 10,
                     stamp: str | None = None) -> Path:
    """Reliability diagram: observed frequency against predicted probability, in equal-width bins.

    For two classes the probability of class 1 is checked against the fraction of positives; with
    more classes, the top-class confidence against the accuracy. The expected calibration error
    (bin-weighted mean gap) is given in the title, and a histogram of the scores below.

    Args:
        labels: true classes ``(N,)``.
        probs: predicted probabilities ``(N, K)``.
        path: the PNG to write.
        bins: number of equal-width probability bins.
        stamp: see :func:`save_figure`.
    """
    plt = pyplot()
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
    from matplotlib.ticker import MaxNLocator  # matplotlib is loaded by now (pyplot above)

    bottom.yaxis.set_major_locator(MaxNLocator(3, integer=True))
    # room for counts of six digits on the left: the other tick labels are those of [0, 1]
    return _fixed_margins(fig, path, stamp, left=0.85, hspace=0.12)
