"""A run's model as a scoring function of one-hot sequences, on the scale a user reads.

:class:`RunScorer` gives every output of a run for a batch ``(N, 4, L)``: class probabilities
(binary, multi-class), per-task probabilities (multi-label) or values in the targets' own units
(regression, standardisation undone), both strands averaged when the run predicts so. The in-silico
experiments (:mod:`seqcnn.interpret.experiments`) and design (:mod:`seqcnn.interpret.design`) score
through it; :meth:`RunScorer.outputs` stays differentiable for gradient-based design.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from seqcnn.data.targets import Task, numbered_task
from seqcnn.errors import RunError
from seqcnn.runs.folder import RunFolder, recorded_data
from seqcnn.sequence import encode_batch, onehot


@dataclass
class RunScorer:
    """A run's model and task, scoring one-hot sequences.

    Attributes:
        run: the run folder.
        model: the network (eval mode).
        task: the run's task (classes 0, 1, ... for a run written before tasks were recorded).
        rc_average: both strands' outputs averaged, as the run predicts.
        batch_size: sequences per forward pass in :meth:`predict`.
    """

    run: Path
    model: torch.nn.Module
    task: Task
    rc_average: bool
    batch_size: int = 1024

    @property
    def length(self) -> int:
        """The model's input length."""
        return int(self.model.input_shape[-1])

    @property
    def names(self) -> list[str]:
        """The name of each output: class names, or target names."""
        return list(self.task.classes) if self.task.classes is not None else list(self.task.targets)

    @property
    def units(self) -> str:
        """What an output is, in words."""
        if self.task.kind in ("binary", "multiclass"):
            return "probability"
        return "probability" if self.task.loss == "bce" else "model units (the target's scale)"

    def reported(self) -> list[tuple[int, str]]:
        """The outputs an experiment reports, ``(index, name)``: the positive class of a binary run, else all."""
        if self.task.kind == "binary":
            return [(1, self.names[1])]
        return list(enumerate(self.names))

    def outputs(self, x: torch.Tensor) -> torch.Tensor:
        """Every output of the model for one-hot ``x`` ``(N, 4, L)`` -> ``(N, K)`` (differentiable)."""
        out = self.scale(self.model(x))
        if self.rc_average:
            out = (out + self.scale(self.model(x.flip(1, 2)))) / 2
        return out

    def scale(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, K)`` -> outputs on the user's scale (one strand)."""
        loss = self.task.loss
        if loss == "cross_entropy":
            return torch.softmax(logits.float(), dim=1)
        if loss == "bce":
            return torch.sigmoid(logits.float())
        if loss == "poisson":
            return torch.exp(logits.float())
        mean = torch.as_tensor(self.task.mean or 0.0, dtype=torch.float32, device=logits.device)
        std = torch.as_tensor(self.task.std or 1.0, dtype=torch.float32, device=logits.device)
        return logits.float() * std + mean

    @torch.inference_mode()
    def predict(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Outputs ``(N, K)`` float64 for one-hot ``x`` ``(N, 4, L)``, in batches."""
        device = next(self.model.parameters()).device
        x = torch.as_tensor(x, dtype=torch.float32)
        outs = [self.outputs(x[i : i + self.batch_size].to(device)).cpu() for i in range(0, len(x), self.batch_size)]
        return torch.cat(outs).double().numpy() if outs else np.zeros((0, len(self.names)))


def load_scorer(run: str | Path, device: str | None = None, batch_size: int = 1024) -> RunScorer:
    """The scorer of a run folder (model rebuilt from its spec and safetensors weights).

    Raises:
        RunError: for a folder that is not a run, or a model that does not read DNA ``(4, L)``.
    """
    folder = RunFolder(run)
    model = folder.model()
    shape = tuple(getattr(model, "input_shape", ()))
    if len(shape) != 2 or shape[0] != 4:
        raise RunError(f"{run}: the model reads input of shape {shape}; expected one-hot DNA (4, L)")
    if device:
        model = model.to(torch.device(device))
    task = folder.task()
    if task is None:  # a run written before tasks were recorded: numbered classes
        with torch.inference_mode():
            k = model(torch.zeros((1, *shape))).shape[1]
        task = numbered_task(k)
    return RunScorer(Path(run), model.eval(), task, folder.rc_average(), batch_size)


def run_test_codes(run: str | Path, length: int) -> np.ndarray:
    """The run's test sequences as codes ``(N, L)``: the ids of ``predictions.tsv`` in the run's data.

    Raises:
        RunError: when the run has no predictions, or its data cannot be read again.
    """
    folder = RunFolder(run)
    try:
        ids = [row["id"] for row in folder.predictions()]
        parts = recorded_data(folder.config())
    except RunError as exc:
        raise RunError(f"{exc}; give sequences with --background FILE") from None
    lookup: dict[str, np.ndarray] = {}
    for _, records in parts:
        codes = encode_batch(records.seqs, length=length, fit="pad-crop", ids=records.ids, source=records.source)
        lookup.update(zip(records.ids, codes))
    found = [lookup[i] for i in ids if i in lookup]
    if not found:
        raise RunError(f"{folder.path / 'predictions.tsv'}: none of its ids is in the run's data; "
                       "give sequences with --background FILE")
    return np.stack(found)


def onehot_tensor(codes: np.ndarray) -> torch.Tensor:
    """uint8 codes ``(N, L)`` -> float32 one-hot ``(N, 4, L)`` tensor."""
    return torch.from_numpy(onehot(codes))
