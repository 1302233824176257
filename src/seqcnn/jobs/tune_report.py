"""The page of a ``seqcnn tune`` folder: ``report.html`` with the metric by trial, the parameters' importance,
the layers table of ``--procedure layers``, the best point and its test metrics (figures in ``plots/``).

Drawn from the folder's files only (``trials.tsv``, ``best.json``, ``layers.tsv``, ``study.journal``).
"""

from __future__ import annotations

import html
import json
import math
import warnings
from pathlib import Path

from seqcnn.files import atomic_write_text
from seqcnn.report.plots import pyplot, save_figure
from seqcnn.report.sections import image_uri
from seqcnn.runs.folder import read_tsv

#: Completed trials below which the importance of the parameters is not estimated.
MIN_IMPORTANCE_TRIALS = 4

STATE_COLOURS = {"COMPLETE": "tab:blue", "PRUNED": "tab:orange", "FAIL": "tab:red"}


def write_tune_report(folder: str | Path, metric: str) -> Path:
    """Draw the figures and write ``report.html`` of a tuning folder; returns the page's path."""
    folder = Path(folder)
    trials = read_tsv(folder / "trials.tsv")
    best = json.loads((folder / "best.json").read_text())
    layers = read_tsv(folder / "layers.tsv") if (folder / "layers.tsv").is_file() else []
    by_trial = plot_metric_by_trial(trials, f"val_{metric}", folder / "plots" / "metric_by_trial.png")
    importance = parameter_importance(folder / "study.journal")
    if importance:
        plot_importance(importance, folder / "plots" / "importance.png")
    parts = [f"<h1>seqcnn tune: {html.escape(folder.name)}</h1>",
             _best_section(best, metric), f"<h2>Validation {metric} by trial</h2>", _img(by_trial),
             "<h2>Parameter importance</h2>",
             _img(folder / "plots" / "importance.png") if importance else
             "<p>Not enough completed trials with different parameters to estimate it.</p>"]
    if layers:
        parts += ["<h2>How many layers?</h2>", _table(layers), f"<p>{html.escape(best['layers']['reason'])}.</p>"
                  if "layers" in best else ""]
    parts += ["<h2>Trials</h2>", _table(trials)]
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>seqcnn tune</title><style>"
            "body{font-family:sans-serif;max-width:70em;margin:auto}table{border-collapse:collapse;font-size:90%}"
            "td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:100%}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")
    path = folder / "report.html"
    atomic_write_text(path, page)
    return path


def plot_metric_by_trial(trials: list[dict], column: str, path: Path) -> Path:
    """Each trial's validation metric (coloured by state) and the best so far, by trial number."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    best, xs, ys = -math.inf, [], []
    for state, colour in STATE_COLOURS.items():
        points = [(int(r["trial"]), float(r[column])) for r in trials if r["state"] == state and _number(r[column])]
        if points:
            ax.scatter(*zip(*points), color=colour, label=state.lower(), s=18)
    for r in sorted(trials, key=lambda r: int(r["trial"])):
        if r["state"] == "COMPLETE" and _number(r[column]):
            best = max(best, float(r[column]))
        if best > -math.inf:
            xs.append(int(r["trial"]))
            ys.append(best)
    ax.step(xs, ys, where="post", color="black", lw=1, label="best completed")
    ax.set_xlabel("trial")
    ax.set_ylabel(column.replace("_", " "))
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def parameter_importance(journal: Path) -> dict[str, float]:
    """Optuna's parameter importance (its default evaluator) over the study's completed trials; empty when there
    are fewer than :data:`MIN_IMPORTANCE_TRIALS`."""
    if not journal.is_file():
        return {}
    # optuna: the cluster extra, which made the study
    import optuna

    from seqcnn.jobs.trial import open_storage

    study = optuna.load_study(study_name="seqcnn-tune", storage=open_storage(journal))
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < MIN_IMPORTANCE_TRIALS:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optuna's notes on few trials: the page says what it could not
            return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError):  # parameters that never varied
        return {}


def plot_importance(importance: dict[str, float], path: Path) -> Path:
    """Horizontal bars of each parameter's importance, the largest on top."""
    plt = pyplot()
    names = list(importance)[::-1]
    fig, ax = plt.subplots(figsize=(5.5, 0.35 * len(names) + 1.2))
    ax.barh(names, [importance[n] for n in names], color="tab:blue")
    ax.set_xlabel("importance (Optuna's default evaluator; shares sum to 1)")
    return save_figure(fig, path)


def _number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except (TypeError, ValueError):
        return False


def _img(path: Path) -> str:
    uri = image_uri(path)
    return f"<img src='{uri}' alt='{html.escape(path.name)}'>" if uri else ""


def _table(rows: list[dict]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _best_section(best: dict, metric: str) -> str:
    params = ", ".join(f"{k} = {v}" for k, v in best["params"].items())
    test = ", ".join(f"{k} {v:.4f}" for k, v in (best.get("test") or {}).items())
    states = ", ".join(f"{n} {s.lower()}" for s, n in best["states"].items())
    value = best[f"val_{metric}"]
    return (f"<p>Best trial {best['trial']}: validation {metric} {value:.4f} with {html.escape(params)}."
            f" {best['trials']} trials ({states}), {best['epochs_spent']} training epochs in all, at most "
            f"{best['epochs_cap']} a trial. Its run, trained again and tested on the test part that the search never "
            f"saw: <a href='best/report.html'>best/</a>{': test ' + test if test else ''}.</p>")
