"""Batched inference on the CPU or a GPU, for run models and plain torch modules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from seqcnn.data import TensorSet, batches, sequence_set
from seqcnn.errors import InputError


@torch.inference_mode()
def predict_tensor(model: torch.nn.Module, data: TensorSet, batch_size: int = 1024, rc_average: bool = False) -> np.ndarray:
    """Class probabilities ``(N, K)`` for the inputs in ``data``.

    A model with ``output_activation`` (a spec model) gets it applied to its logits; a plain
    module's outputs are returned as they are.

    Args:
        model: the network.
        data: one-hot sequences ``(N, 4, L)`` (or images).
        batch_size: examples per forward pass.
        rc_average: average the outputs for each sequence and its reverse complement (with
            channels in A, C, G, T order, reversing both axes of ``(4, L)``).
    """
    from seqcnn.training import probabilities

    model.eval()
    act = getattr(model, "output_activation", "none")
    outs = []
    for xb, _ in batches(data, batch_size):
        out = model(xb)
        out = out if act == "none" else probabilities(out, act)
        if rc_average:
            rc = model(xb.flip(1, 2))
            out = (out + (rc if act == "none" else probabilities(rc, act))) / 2
        outs.append(out)
    return torch.cat(outs).float().cpu().numpy()


def predict(model: torch.nn.Module, codes: np.ndarray, batch_size: int = 1024, device: str | None = None, rc_average: bool = False) -> np.ndarray:
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
    expected = getattr(model, "input_shape", None)
    if expected is not None and len(expected) == 2 and codes.shape[1] != expected[1]:
        raise InputError(f"sequences have length {codes.shape[1]}, but the model expects {expected[1]}; use --pad/--crop")
    dev = torch.device(device) if device else next(model.parameters()).device
    return predict_tensor(model.to(dev), sequence_set(codes, None, dev), batch_size, rc_average)


def run_rc_average(run_dir: str | Path) -> bool:
    """Whether a run folder asks for strand averaging at prediction (``config.json``)."""
    from seqcnn.checkpoint import read_json

    path = Path(run_dir) / "config.json"
    return bool(path.is_file() and read_json(path).get("predict", {}).get("rc_average", False))


def write_predictions(path: str | Path, ids: list[str], probs: np.ndarray, labels: np.ndarray | None = None) -> None:
    """Write ``id [label] probability predicted`` rows (TSV, atomically).

    ``probability`` is that of class 1 for two classes; with more classes, one ``p<k>`` column
    per class is written instead.
    """
    from seqcnn.checkpoint import atomic_write_text

    k = probs.shape[1]
    head = ["id"] + (["label"] if labels is not None else []) + (["probability"] if k == 2 else [f"p{c}" for c in range(k)]) + ["predicted"]
    lines = ["\t".join(head)]
    pred = probs.argmax(1)
    for i, rec in enumerate(ids):
        cells = [rec] + ([str(int(labels[i]))] if labels is not None else [])
        cells += [f"{probs[i, 1]:.6g}"] if k == 2 else [f"{p:.6g}" for p in probs[i]]
        cells.append(str(int(pred[i])))
        lines.append("\t".join(cells))
    atomic_write_text(path, "\n".join(lines) + "\n")
