"""``predictions.tsv``: the one writer of the predictions table, a run's test outputs and what
``seqcnn predict`` writes.

One row per sequence: its id, its label(s) when known, then the outputs of the task (class
probabilities and the predicted class, per-target probabilities, or predicted values); see
:func:`prediction_header`. Classes numbered ``0``, ``1``, ... (:func:`seqcnn.data.targets.numbered_task`)
give ``id [label] probability predicted`` for two classes and ``p0 p1 ...`` columns for more.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from seqcnn.data.targets import Task, numbered_task
from seqcnn.files import atomic_open, atomic_write_text
from seqcnn.io.labels import is_number


def _class_column(name: str) -> str:
    """``p0`` for a numbered class (today's header), ``p_EI`` for a named one."""
    return f"p{name}" if is_number(name) else f"p_{name}"


def prediction_header(task: Task, labelled: bool) -> list[str]:
    """The columns of ``predictions.tsv`` for ``task``.

    Binary: ``id [label] probability predicted`` (probability of the second class);
    multiclass: ``id [label] p<class>... predicted``; multilabel: ``id [<target>...]
    p_<target>...``; regression: ``id [<target>...] pred_<target>...``. Labels and predicted
    classes are class names.
    """
    if task.classes is not None:
        probs = ["probability"] if len(task.classes) == 2 else [_class_column(c) for c in task.classes]
        return ["id"] + (["label"] if labelled else []) + probs + ["predicted"]
    prefix = "p_" if task.kind == "multilabel" else "pred_"
    return ["id"] + (list(task.targets) if labelled else []) + [prefix + t for t in task.targets]


def prediction_rows(task: Task, ids: list[str], outputs: np.ndarray, y: np.ndarray | None = None) -> list[str]:
    """Tab-separated lines of ``predictions.tsv`` (no header) matching :func:`prediction_header`.

    Args:
        task: the task.
        ids: record ids ``(N,)``.
        outputs: :func:`predictions` ``(N, K)`` or ``(N, T)``.
        y: encoded labels (:func:`encode_targets`), or None; missing cells are written empty.
    """
    lines = []
    for i, rec in enumerate(ids):
        cells = [rec]
        if task.classes is not None:
            cells += [task.classes[int(y[i])]] if y is not None else []
            row = outputs[i]
            cells += [f"{row[1]:.6g}"] if len(task.classes) == 2 else [f"{p:.6g}" for p in row]
            cells.append(task.classes[int(row.argmax())])
        else:
            cells += ["" if np.isnan(v) else f"{v:g}" for v in y[i]] if y is not None else []
            cells += [f"{v:.6g}" for v in outputs[i]]
        lines.append("\t".join(cells))
    return lines


def write_predictions(path: str | Path, task: Task, ids: list[str], outputs: np.ndarray,
                      y: np.ndarray | None = None) -> None:
    """Write ``predictions.tsv`` (atomically): :func:`prediction_header`, then :func:`prediction_rows`.

    Args:
        path: the file.
        task: the task of the outputs (:func:`seqcnn.data.targets.numbered_task` for numbered classes).
        ids: record ids ``(N,)``.
        outputs: class probabilities ``(N, K)``, per-target probabilities or values ``(N, T)``.
        y: encoded labels, or None for unlabelled sequences.
    """
    lines = ["\t".join(prediction_header(task, y is not None))] + prediction_rows(task, ids, outputs, y)
    atomic_write_text(path, "\n".join(lines) + "\n")


def write_prediction_chunks(path: str | Path, chunks: Iterable[tuple[list[str], np.ndarray]],
                            task: Task | None = None) -> int:
    """Write unlabelled ``predictions.tsv`` rows chunk by chunk, for data larger than memory.

    The file appears complete or not at all (written under a temporary name, then renamed); an
    exception raised while a chunk is computed removes it.

    Args:
        path: the file.
        chunks: ``(ids, outputs)`` pairs, in order.
        task: the task of the outputs; None for classes numbered ``0``, ``1``, ..., as many as the
            first chunk's columns.

    Returns:
        The number of rows written.
    """
    n = 0
    with atomic_open(path, "w") as handle:
        for ids, outputs in chunks:
            if n == 0:
                task = task or numbered_task(outputs.shape[1])
                handle.write("\t".join(prediction_header(task, False)) + "\n")
            handle.write("\n".join(prediction_rows(task, ids, outputs)) + "\n")
            n += len(ids)
    return n
