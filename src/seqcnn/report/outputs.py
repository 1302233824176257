"""A run's task and its test outputs, read back from the run folder's files for the report.

The task comes from ``config.json`` (``"task"``, :meth:`seqcnn.data.targets.Task.to_json`); a run
written before tasks existed is a binary or multiclass run with numbered classes, its class
count taken from ``metrics.json``. The test outputs come from ``predictions.tsv``, whose
columns :func:`seqcnn.runs.predictions.prediction_header` names for every task kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqcnn.data.targets import Task, numbered_task
from seqcnn.errors import RunError
from seqcnn.runs.folder import read_tsv
from seqcnn.runs.predictions import prediction_header


@dataclass(frozen=True)
class RunTask:
    """The task of a run as the report shows it.

    Attributes:
        task: the task; for a run without ``"task"`` in ``config.json``, classes are numbered
            (as that run's ``predictions.tsv`` numbers them).
        names: display names of the classes (class tasks) or of the targets.
        recorded: whether ``config.json`` states the task (False: inferred from the metrics).
    """

    task: Task
    names: tuple[str, ...]
    recorded: bool

    @property
    def kind(self) -> str:
        """``binary``, ``multiclass``, ``multilabel`` or ``regression``."""
        return self.task.kind

    @property
    def has_classes(self) -> bool:
        """Whether outputs are class probabilities (binary or multiclass)."""
        return self.task.classes is not None


@dataclass(frozen=True)
class TestOutputs:
    """Labelled test outputs of a run.

    Attributes:
        y: true class indices ``(N,)`` for class tasks; observed values or 0/1 ``(N, T)``, NaN
            where missing, otherwise.
        outputs: class probabilities ``(N, K)``, per-target probabilities or predicted values
            ``(N, T)``.
    """

    y: np.ndarray
    outputs: np.ndarray


def run_task(config: dict, metrics: dict | None) -> RunTask | None:
    """The run's task from ``config.json``, or inferred for an older run; None when unknown.

    Raises:
        RunError: for a malformed ``"task"`` entry.
    """
    if config.get("task") is not None:
        task = Task.from_json(config["task"])
        return RunTask(task, tuple(task.classes or task.targets), True)
    data = config.get("data", {})
    if metrics and "confusion_matrix" in metrics:
        k = len(metrics["confusion_matrix"])
    else:
        k = len(data.get("class_counts", []))
    if k < 2:
        return None
    task = numbered_task(k)
    names = data.get("class_names")
    return RunTask(task, tuple(names) if names and len(names) == k else task.classes, False)


def read_outputs(path: str | Path, run_task: RunTask) -> TestOutputs | None:
    """The labelled test outputs in ``predictions.tsv``, or None when it has no labels.

    Raises:
        RunError: for missing columns, an unknown class name or a cell that is not a number,
            naming the file and line.
    """
    rows = read_tsv(path)
    task = run_task.task
    labelled = prediction_header(task, labelled=True)
    if not rows or not set(labelled) <= set(rows[0]):
        if rows and set(prediction_header(task, labelled=False)) <= set(rows[0]):
            return None  # predictions of unlabelled data
        found = list(rows[0]) if rows else []
        raise RunError(f"{path}: expected the columns {labelled} of a {task.kind} task, found {found}")
    n_truth = 1 if task.classes is not None else len(task.targets)
    truth, scores = labelled[1:1 + n_truth], labelled[1 + n_truth:]
    scores = [c for c in scores if c != "predicted"]
    if task.classes is not None:
        y = _class_indices(path, rows, task.classes)
        outputs = _numbers(path, rows, scores, missing=False)
        if len(task.classes) == 2:  # one column: the probability of the second class
            outputs = np.column_stack([1 - outputs[:, 0], outputs[:, 0]])
        return TestOutputs(y, outputs)
    return TestOutputs(_numbers(path, rows, truth, missing=True), _numbers(path, rows, scores, missing=False))


def _class_indices(path: str | Path, rows: list[dict[str, str]], classes: tuple[str, ...]) -> np.ndarray:
    index = {name: i for i, name in enumerate(classes)}
    out = np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        label = row["label"]
        if label not in index:
            raise RunError(f"{path}, line {i + 2}: label {label!r} is not one of the classes {list(classes)}")
        out[i] = index[label]
    return out


def _numbers(path: str | Path, rows: list[dict[str, str]], columns: list[str], missing: bool) -> np.ndarray:
    """``(N, len(columns))`` floats; an empty cell is NaN when ``missing`` allows it."""
    out = np.empty((len(rows), len(columns)))
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            text = row[column]
            try:
                out[i, j] = np.nan if missing and text == "" else float(text)
            except ValueError:
                raise RunError(f"{path}, line {i + 2}: column {column!r} holds {text!r}, not a number") from None
    return out
