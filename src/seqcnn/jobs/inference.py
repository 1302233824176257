"""Batched inference on the CPU or a GPU, for run models and plain torch modules; what `seqcnn predict` and
`seqcnn evaluate` call (:func:`predict_file`, :func:`evaluate_file`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from seqcnn.data.batches import StoreSet, TensorSet, batches, sequence_set
from seqcnn.data.sets import to_labelled
from seqcnn.data.store import Store, StorePart, is_store
from seqcnn.data.targets import Task, encode_targets, numbered_task, positives_task, predictions
from seqcnn.errors import InputError
from seqcnn.io import read_sequences
from seqcnn.metrics import classification_metrics, task_metrics
from seqcnn.runs.folder import RunFolder
from seqcnn.runs.predictions import write_prediction_chunks, write_predictions
from seqcnn.sequence import encode_batch
from seqcnn.training.losses import probabilities


@torch.inference_mode()
def predict_tensor(
    model: torch.nn.Module, data: TensorSet, batch_size: int = 256, rc_average: bool = False, task: Task | None = None
) -> np.ndarray:
    """Class probabilities ``(N, K)`` for the inputs in ``data``, or a task's outputs.

    A model with ``output_activation`` (a spec model) gets it applied to its logits; a plain
    module's outputs are returned as they are. For a multilabel or regression ``task``, the
    outputs are :func:`seqcnn.data.targets.predictions` (per-target probabilities, or values on the
    original scale).

    Args:
        model: the network.
        data: one-hot sequences ``(N, 4, L)`` (or images).
        batch_size: examples per forward pass.
        rc_average: average the outputs for each sequence and its reverse complement (with
            channels in A, C, G, T order, reversing both axes of ``(4, L)``).
    """
    model.eval()
    act = getattr(model, "output_activation", "none")
    if task is not None and task.classes is None:
        return _task_outputs(model, data, batch_size, rc_average, task)
    outs = []
    for xb, _ in batches(data, batch_size):
        out = model(xb)
        out = out if act == "none" else probabilities(out, act)
        if rc_average:
            rc = model(xb.flip(1, 2))
            out = (out + (rc if act == "none" else probabilities(rc, act))) / 2
        outs.append(out)
    return torch.cat(outs).float().cpu().numpy()


def _task_outputs(model: torch.nn.Module, data: TensorSet, batch_size: int, rc_average: bool, task: Task) -> np.ndarray:
    """Multilabel probabilities or regression values ``(N, T)``, both strands averaged when asked."""
    outs = []
    for xb, _ in batches(data, batch_size):
        out = predictions(task, model(xb).float())
        if rc_average:
            out = (out + predictions(task, model(xb.flip(1, 2)).float())) / 2
        outs.append(out)
    return np.concatenate(outs)


def predict(
    model: torch.nn.Module,
    codes: np.ndarray,
    batch_size: int = 1024,
    device: str | None = None,
    rc_average: bool = False,
) -> np.ndarray:
    """Probabilities for encoded sequences.

    Args:
        model: a spec model or any module taking ``(N, 4, L)`` one-hot input.
        codes: uint8 codes ``(N, L)`` from :func:`seqcnn.sequence.encode_batch`.
        batch_size: examples per forward pass.
        device: where to run; the model's own device when None.
        rc_average: average both strands' probabilities (see :func:`predict_tensor`); a run's
            choice is ``run_rc_average(run_dir)``.

    Raises:
        InputError: when the sequence length does not fit the model's input.
    """
    check_length(model, codes.shape[1], "use --pad/--crop")
    dev = torch.device(device) if device else next(model.parameters()).device
    return predict_tensor(model.to(dev), sequence_set(codes, None, dev), batch_size, rc_average)


def check_length(model: torch.nn.Module, length: int, hint: str, where: str = "") -> None:
    """Refuse sequences of ``length`` for a sequence model that expects another length.

    Args:
        model: a spec model (with ``input_shape``) or a plain module (not checked).
        length: the sequences' length.
        hint: what to do, ``{expected}`` standing for the model's length.
        where: the source, as a prefix of the message (``"file: "``).

    Raises:
        InputError: when the lengths differ.
    """
    expected = getattr(model, "input_shape", None)
    if expected is not None and len(expected) == 2 and length != expected[1]:
        raise InputError(f"{where}sequences have length {length}, but the model expects {expected[1]}; "
                         + hint.format(expected=expected[1]))


def run_rc_average(run_dir: str | Path) -> bool:
    """Whether a run folder asks for strand averaging at prediction (``config.json``)."""
    return RunFolder(run_dir).rc_average()


def predict_store(
    model: torch.nn.Module,
    store: str | Path,
    output: str | Path,
    batch_size: int = 1024,
    device: str | None = None,
    rc_average: bool = False,
    chunk: int = 1 << 16,
) -> int:
    """Write ``id probability predicted`` rows for every sequence of an on-disk store, streaming.

    Reads, predicts and writes ``chunk`` rows at a time, so the store may be larger than memory;
    the file appears complete or not at all (written under a temporary name, then renamed).

    Returns:
        The number of sequences.

    Raises:
        InputError: when the store's length does not fit the model's input.
    """
    opened = Store(store)
    check_length(model, opened.length, "prepare the store with --length {expected}", where=f"{store}: ")
    dev = torch.device(device) if device else next(model.parameters()).device
    model = model.to(dev)

    def chunks():
        for first in range(0, len(opened), chunk):
            rows = np.array([[first, min(first + chunk, len(opened))]], dtype=np.int64)
            yield opened.ids(np.arange(*rows[0])), predict_tensor(model, StoreSet(StorePart(opened, rows), dev),
                                                                  batch_size, rc_average)

    # a store's labels are numbered classes; the file is removed, not left behind, when a prediction raises
    return write_prediction_chunks(output, chunks())


def predict_file(
    run: str | Path,
    file: str | Path,
    output: str | Path,
    *,
    fit: str = "error",
    length: int | None = None,
    batch_size: int = 1024,
) -> int:
    """Predict every sequence of a file (or an on-disk store) with a run's model into a TSV (``seqcnn predict``).

    Args:
        run: the run folder; its ``config.json`` says whether to average both strands.
        file: a sequence file (FASTA, table or one per line) or a store from ``seqcnn prepare``.
        output: the TSV to write (atomically): id, probability (or p0..pK), predicted class.
        fit: length handling (see :func:`seqcnn.sequence.encode_batch`).
        length: the length to pad or crop to (default: the model's input length).
        batch_size: examples per forward pass.

    Returns:
        The number of sequences predicted.

    Raises:
        RunError: for a folder that is not a run (or a pickle file).
        InputError: for unreadable sequences or lengths that do not fit the model.
    """
    folder = RunFolder(run)
    model, task = folder.model(), folder.task()
    if is_store(file):  # streamed chunk by chunk: the store may be larger than memory
        if task is not None and task.classes is None:
            raise InputError(f"{file}: a store holds class labels; the run's task is {task.kind}: predict from a "
                             "sequence file instead")
        return predict_store(model, file, output, batch_size=batch_size, rc_average=folder.rc_average())
    records = read_sequences(file, legacy_labels=task is None)
    codes = encode_batch(
        records.seqs, length=length or model.input_shape[-1], fit=fit, ids=records.ids, source=records.source
    )
    outputs = _predict_task(model, codes, batch_size, folder.rc_average(), task)
    write_predictions(output, task or numbered_task(outputs.shape[1]), records.ids, outputs)
    return len(records)


def _predict_task(model: torch.nn.Module, codes: np.ndarray, batch_size: int, rc_average: bool,
                  task: Task | None) -> np.ndarray:
    """:func:`predict`, giving a multilabel or regression task's outputs (see :func:`predict_tensor`)."""
    check_length(model, codes.shape[1], "use --pad/--crop")
    dev = next(model.parameters()).device
    return predict_tensor(model, sequence_set(codes, None, dev), batch_size, rc_average, task=task)


def evaluate_file(run: str | Path, file: str | Path, labels: str | Path | None = None, *, fit: str = "error",
                  length: int | None = None) -> dict:
    """A run's test metrics recomputed on a labelled sequence file (``seqcnn evaluate``).

    Returns:
        The metrics, with the keys of ``metrics.json``.

    Raises:
        RunError: for a folder that is not a run (or a pickle file).
        InputError: for unreadable or unlabelled sequences, or lengths that do not fit the model.
    """
    folder = RunFolder(run)
    model, task = folder.model(), folder.task()
    target = length or model.input_shape[-1]
    if task is None or task == positives_task():  # 0/1 labels, read as before tasks were recorded
        data = to_labelled(read_sequences(file, labels), fit=fit, length=target, min_classes=1)
        return classification_metrics(data.labels, predict(model, data.x, rc_average=folder.rc_average()))
    records = read_sequences(file, labels, legacy_labels=False)
    encoded = encode_targets(records, task)
    codes = encode_batch(records.seqs, length=target, fit=fit, ids=records.ids, source=records.source)
    outputs = _predict_task(model, codes, 1024, folder.rc_average(), task)
    return task_metrics(task, encoded.y, outputs, None if task.classes is not None else encoded.mask)
