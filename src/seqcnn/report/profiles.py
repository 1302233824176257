"""The report of a profile run (BPNet-style): observed against predicted tracks, the counts scatter, the metrics
against the average-profile baseline, the loss curves; drawn from the run folder's files only
(``test_profiles.npz``, ``metrics.json``, ``history.csv``, ``config.json``) into ``plots/`` and one
self-contained ``report.html``.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from seqcnn.files import atomic_write_text
from seqcnn.report.plots import pyplot, save_figure
from seqcnn.runs.folder import RunFolder, read_tsv

#: Rows of the metrics table: key, what it is, whether higher is better.
METRIC_ROWS = (
    ("profile_jsd", "median Jensen-Shannon distance (0 to 1, unsmoothed)", False),
    ("profile_nll", "mean multinomial NLL", False),
    ("profile_pearson", "median per-peak Pearson of the profile", True),
)


def peak_choice(observed: np.ndarray) -> dict[str, int]:
    """The strong, median and weak test peaks by total reads: index of each."""
    totals = observed.sum(axis=(1, 2))
    order = np.argsort(totals)
    weak = order[max(0, len(order) // 10)]  # the 10th percentile: the very weakest are often background-only
    return {"strong": int(order[-1]), "median": int(order[len(order) // 2]), "weak": int(weak)}


def draw_tracks(arrays, path: Path) -> Path:
    """Observed (top) against predicted (bottom) reads of the strong, median and weak test peaks; with two tracks
    the minus strand is drawn below the axis."""
    plt = pyplot()
    observed, probs, log_counts, ids = arrays["observed"], arrays["profile"], arrays["log_counts"], arrays["ids"]
    chosen = peak_choice(observed)
    fig, axes = plt.subplots(2, 3, figsize=(12, 5), sharex=True)
    for col, (label, i) in enumerate(chosen.items()):
        predicted = probs[i] * np.expm1(log_counts[i])
        for row, (values, what) in enumerate(((observed[i], "observed"), (predicted, "predicted"))):
            ax = axes[row, col]
            for t, colour in zip(range(values.shape[0]), ("tab:blue", "tab:red")):
                sign = -1 if t == 1 else 1
                ax.plot(np.arange(values.shape[1]), sign * values[t], color=colour, lw=0.8)
            ax.axhline(0, color="grey", lw=0.5)
            ax.set_ylabel(f"{what} reads")
            if row == 0:
                ax.set_title(f"{label}: {ids[i]} ({int(observed[i].sum())} reads)", fontsize=9)
    axes[1, 1].set_xlabel("position in the output window")
    fig.suptitle("test peaks: observed against predicted (plus strand up, minus down)")
    return save_figure(fig, path)


def draw_counts(arrays, path: Path) -> Path:
    """Observed against predicted ``log(1 + total reads)`` of the test peaks."""
    plt = pyplot()
    truth = np.log1p(arrays["observed"].sum(axis=(1, 2)))
    pred = arrays["log_counts"]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(truth, pred, s=6, alpha=0.6)
    lo, hi = float(min(truth.min(), pred.min())), float(max(truth.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8)
    ax.set_xlabel("observed log(1 + reads)")
    ax.set_ylabel("predicted log(1 + reads)")
    ax.set_title("counts of the test peaks")
    return save_figure(fig, path)


def draw_curves(rows: list[dict], path: Path) -> Path:
    """Training and validation loss per epoch."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    epochs = [r["epoch"] for r in rows]
    ax.plot(epochs, [r["loss"] for r in rows], label="training")
    if rows and "val_loss" in rows[0]:
        ax.plot(epochs, [r["val_loss"] for r in rows], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (profile NLL + lambda x counts MSE)")
    ax.legend()
    return save_figure(fig, path)


def draw_attributions(counts: np.ndarray, profile: np.ndarray, x: np.ndarray, ids: list[str], folder: Path,
                      shown: int = 3, width: int = 200) -> Path:
    """DeepLIFT/SHAP of the counts head and of the profile head at each base of the central ``width`` bases of the
    first ``shown`` sequences ``(n, 4, L)``: the observed base's contribution, coloured by base."""
    plt = pyplot()
    rows = min(shown, len(ids))
    fig, axes = plt.subplots(rows, 2, figsize=(12, 2.2 * rows), squeeze=False)
    colours = np.array(["tab:green", "tab:blue", "goldenrod", "tab:red"])  # A C G T
    for r in range(rows):
        lo = max(0, (x.shape[2] - width) // 2)
        hi = min(x.shape[2], lo + width)
        base = x[r, :, lo:hi].argmax(axis=0)
        for c, (attr, what) in enumerate(((counts, "counts head"), (profile, "profile head"))):
            values = (attr[r, :, lo:hi] * x[r, :, lo:hi]).sum(axis=0)
            axes[r, c].bar(np.arange(lo, hi), values, width=1.0, color=colours[base])
            axes[r, c].set_title(f"{ids[r]}: {what}", fontsize=9)
    axes[-1, 0].set_xlabel("position in the input window (A green, C blue, G gold, T red)")
    return save_figure(fig, Path(folder) / "attributions.png")


def write_profile_report(run: str | Path) -> Path:
    """Draw the figures of a profile run into ``plots/`` and write ``report.html``; returns the page."""
    folder = RunFolder(run)
    plots = folder.plot_folder("profiles")
    figures = [draw_curves(folder.history(), plots / "loss.png")]
    npz = folder.path / "test_profiles.npz"
    if npz.is_file():
        with np.load(npz) as arrays:
            loaded = {k: arrays[k] for k in arrays.files}
        if len(loaded["ids"]):
            figures = [draw_tracks(loaded, plots / "tracks.png"), draw_counts(loaded, plots / "counts.png"),
                       *figures]
    attributions = folder.path / "plots" / "profile_attributions" / "attributions.png"  # seqcnn explain's
    if attributions.is_file():
        figures.append(attributions)
    patterns = folder.path / "patterns.tsv"
    rows = read_tsv(patterns) if patterns.is_file() else []
    page = render(folder.config(), folder.metrics() or {}, figures, rows)
    path = folder.path / "report.html"
    atomic_write_text(path, page)
    return path


def _patterns_table(rows: list[dict]) -> str:
    if not rows:
        return ""
    keys = [k for k in ("pattern", "n_seqlets", "information_content", "jaspar_id", "jaspar_name", "q_value")
            if k in rows[0]]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(k, '')))}</td>" for k in keys) + "</tr>"
                   for r in rows)
    return f"<h2>Patterns of the counts head (TF-MoDISco, JASPAR)</h2><table><tr>{head}</tr>{body}</table>"


def _num(x) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def render(config: dict, metrics: dict, figures: list[Path], patterns: list[dict] | None = None) -> str:
    """The page's HTML: settings, metrics against the baseline, figures embedded as PNG, and the TF-MoDISco patterns
    of ``seqcnn explain --patterns`` (rows of ``patterns.tsv``) when there are some."""
    rows = [f"<tr><td>counts: Pearson of log(1 + reads)</td><td>{_num(metrics.get('counts_pearson'))}</td>"
            "<td></td></tr>",
            f"<tr><td>counts: Spearman</td><td>{_num(metrics.get('counts_spearman'))}</td><td></td></tr>",
            f"<tr><td>counts: MSE of log(1 + reads)</td><td>{_num(metrics.get('counts_mse'))}</td><td></td></tr>"]
    for key, what, _ in METRIC_ROWS:
        rows.append(f"<tr><td>profile: {html.escape(what)}</td><td>{_num(metrics.get(key))}</td>"
                    f"<td>{_num(metrics.get('baseline_' + key))}</td></tr>")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in config.get("profile", {}).get("notes", []))
    images = "".join(
        f'<figure><img alt="{html.escape(p.stem)}" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode()}"></figure>' for p in figures)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>seqcnn profile run: {html.escape(config.get('model', ''))}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}td,th{{padding:2px 10px;text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>Profile run: {html.escape(config.get('model', ''))}</h1>
<p>{html.escape(' '.join(config.get('command', [])))}</p>
<h2>Data</h2><ul>{notes}</ul>
<h2>Test metrics ({metrics.get('n', 0)} {html.escape(str(metrics.get('windows', 'test peaks')))})</h2>
<table><tr><th>metric</th><th>model</th><th>average training profile</th></tr>{''.join(rows)}</table>
<p>Profiles are compared without smoothing; the baseline predicts every peak's shape as the average normalised
profile of the training peaks.</p>
<h2>Figures</h2>{images}
{_patterns_table(patterns or [])}
</body></html>
"""
