"""The figures of a run's report, drawn from the run folder's files alone.

Each figure is a PNG under ``plots/`` drawn from named files of the run folder (``history.csv``,
``metrics.json``, ``predictions.tsv``, ``config.json``), so a run written by any command (train,
evaluate, a resumed or distributed run, an older seqcnn) gets the same figures. A figure keeps,
in its PNG ``Description``, a stamp with the SHA-256 of the files it was drawn from; it is drawn
again only when that stamp differs (a file changed, or the figure was drawn by someone else).

Which figures a run gets depends on its task: binary and multiclass runs a confusion matrix,
ROC and precision-recall curves (per class, one-vs-rest, for multiclass) and a calibration
plot; multilabel runs AUROC bars per task (and curves per task for a few tasks); regression
runs predicted against observed values, one panel per target.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from seqcnn.metrics import class_curves
from seqcnn.report import plots
from seqcnn.report.outputs import RunTask, TestOutputs, read_outputs
from seqcnn.runs.folder import RunFolder

#: Part of every stamp; raise it when a figure is drawn differently, so that older ones are redrawn.
STAMP = "seqcnn report figure v5"
#: Classes or tasks drawn as curves at most (a multilabel run with more gets bars only).
MAX_CURVES = 10
#: Targets of a regression run drawn as scatter panels at most (all are in the metrics table).
MAX_SCATTER = 6


def run_figures(run: RunFolder, task: RunTask | None, metrics: dict | None,
                only: set[str] | None = None) -> dict[str, Path | None]:
    """Draw (when stale) and return the figures of ``run``: ``{name: PNG path or None}``.

    Names: ``history``, ``confusion``, ``roc_pr``, ``calibration``, ``task_auroc``, ``scatter``;
    with ``only``, just those of them are drawn and returned (the report workers' shares).

    Raises:
        RunError: for a corrupt ``history.csv`` or ``predictions.tsv``.
    """
    def _figure(name: str, sources: tuple[str, ...], draw: Draw) -> Path | None:
        return _stale_figure(run, name, sources, draw) if only is None or name in only else None

    outputs = _LazyOutputs(run.path / "predictions.tsv", task)
    kind = task.kind if task else None
    figures = {"history": _figure("history", ("history.csv", "config.json"), lambda p, s: _history(run, p, s))}
    if task is not None and task.has_classes and metrics and "confusion_matrix" in metrics:
        figures["confusion"] = _figure("confusion", ("metrics.json", "config.json"),
                                       lambda p, s: plots.plot_confusion(metrics["confusion_matrix"], p,
                                                                         list(task.names), stamp=s))
    if task is not None and (task.has_classes or (kind == "multilabel" and len(task.names) <= MAX_CURVES)):
        figures["roc_pr"] = _figure("roc_pr", ("predictions.tsv", "config.json"),
                                    lambda p, s: _curves(outputs(), task, p, s))
    if task is not None and task.has_classes:
        figures["calibration"] = _figure("calibration", ("predictions.tsv", "config.json"),
                                         lambda p, s: _calibration(outputs(), p, s))
    if kind == "multilabel" and metrics and metrics.get("tasks"):
        figures["task_auroc"] = _figure("task_auroc", ("metrics.json",),
                                        lambda p, s: plots.plot_task_bars(metrics["tasks"], p, stamp=s))
    if kind == "regression":
        figures["scatter"] = _figure("scatter", ("predictions.tsv", "metrics.json", "config.json"),
                                     lambda p, s: _scatter(outputs(), task, metrics or {}, p, s))
    return figures if only is None else {name: path for name, path in figures.items() if name in only}


class _LazyOutputs:
    """``predictions.tsv`` read on the first call only (most reports redraw nothing)."""

    def __init__(self, path: Path, task: RunTask | None):
        self.path, self.task, self.value, self.read = path, task, None, False

    def __call__(self) -> TestOutputs | None:
        if not self.read:
            self.read = True
            self.value = read_outputs(self.path, self.task) if self.task and self.path.is_file() else None
        return self.value


def _calibration(outputs: TestOutputs | None, path: Path, stamp: str) -> Path | None:
    return plots.plot_calibration(outputs.y, outputs.outputs, path, stamp=stamp) if outputs is not None else None


Draw = Callable[[Path, str], "Path | None"]


def _stale_figure(run: RunFolder, name: str, sources: tuple[str, ...], draw: Draw) -> Path | None:
    """``plots/<name>.png``, drawn by ``draw(path, stamp)`` unless its stamp is current; None without a source."""
    if not run.has(sources[0]):
        return None
    digest = hashlib.sha256()
    for source in sources:
        if run.has(source):
            digest.update((run.path / source).read_bytes())
    stamp = f"{STAMP} {name} {digest.hexdigest()[:16]}"
    path = run.path / "plots" / f"{name}.png"
    if _stamp_of(path) == stamp:
        return path
    return draw(path, stamp) or None


def _stamp_of(path: Path) -> str | None:
    """The ``Description`` text of a PNG, or None (no file, no text, not a PNG)."""
    if not path.is_file():
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.text.get("Description")
    except (OSError, UnidentifiedImageError):
        return None


def _history(run: RunFolder, path: Path, stamp: str) -> Path | None:
    rows = run.history()
    if not rows:
        return None
    training = (run.config().get("training") or {}) if run.has("config.json") else {}
    return plots.plot_history(rows, path, training.get("collapses") or [], training.get("kept_epoch"), stamp=stamp)


def _curves(outputs: TestOutputs | None, task: RunTask, path: Path, stamp: str) -> Path | None:
    """Per-class (one-vs-rest) or per-task ROC and PR curves; for two classes, class 1's."""
    if outputs is None:
        return None
    curves = class_curves(outputs.y, outputs.outputs, list(task.names))
    if not curves:
        return None
    shown = dict(list(curves.items())[:MAX_CURVES])
    title = {"multiclass": "per class, one-vs-rest", "multilabel": "per task"}.get(task.kind, "")
    return plots.plot_curves(shown, path, title, stamp=stamp)


def _scatter(outputs: TestOutputs | None, task: RunTask, metrics: dict, path: Path, stamp: str) -> Path | None:
    if outputs is None:
        return None
    names = list(task.names)[:MAX_SCATTER]
    per = metrics.get("tasks") or {names[0]: metrics}
    r = [(per.get(name) or {}).get("pearson") for name in names]
    t = len(names)
    return plots.plot_scatter(outputs.y[:, :t], outputs.outputs[:, :t], names, r, path,
                              log=task.task.loss == "poisson", stamp=stamp)
