"""One resolver for "a zoo name or a spec file", used by training, sweeps, ``summary`` and ``arith``."""

from __future__ import annotations

from pathlib import Path

from seqcnn.data.targets import Task
from seqcnn.errors import InputError
from seqcnn.files import refuse_pickle
from seqcnn.models import zoo
from seqcnn.models.spec import ModelSpec

#: The output activation a spec's last layer needs for each task loss.
HEAD_ACTIVATION = {"cross_entropy": "softmax", "bce": "sigmoid", "mse": "linear", "poisson": "linear"}


def is_spec_file(model: str) -> bool:
    """Whether ``model`` names a spec file (a ``.json`` name or an existing file) rather than a zoo model."""
    return str(model).endswith(".json") or Path(model).is_file()


def default_input(model: str) -> tuple[int, ...] | None:
    """A zoo model's default input shape; None for a spec file (its input comes from the data or the user).

    Raises:
        SpecError: for a name that is neither a spec file nor a zoo model, listing the zoo's names.
    """
    return None if is_spec_file(model) else zoo.entry(model).default_input


def resolve_spec(model: str, *, classes: int | None = None, input_shape: tuple[int, ...] | None = None,
                 task: Task | None = None) -> ModelSpec:
    """The spec of a zoo model (built for ``classes`` and ``input_shape``) or of a spec file.

    With ``task``, a zoo model's output layer is sized and activated for it (:func:`fit_head`)
    and a spec file's is checked against it (:func:`check_head`).

    Raises:
        SpecError: for an unknown zoo name (listing the valid ones) or an invalid spec file.
        InputError: for a spec file whose last layer does not fit ``task``.
    """
    if is_spec_file(model):
        refuse_pickle(model)  # a .pt/.pth/.pkl is not a spec: say why it is refused
        spec = ModelSpec.load(model)
        if task is not None and input_shape is not None:
            check_head(spec, task, input_shape, str(model))
        return spec
    spec = zoo.get(model, classes=task.n_outputs if task is not None else classes, input_shape=input_shape)
    return spec if task is None else fit_head(spec, task)


def head_text(units: int, activation: str) -> str:
    """``3 softmax outputs``, for messages."""
    return f"{units} {activation} output{'s' if units != 1 else ''}"


def fit_head(spec: ModelSpec, task: Task) -> ModelSpec:
    """A zoo spec (already sized for ``task.n_outputs``) with the output activation of ``task``:
    softmax for classes, sigmoid for multilabel, linear for regression (Poisson: log-rates)."""
    wanted = HEAD_ACTIVATION[task.loss]
    last = spec.layers[-1]
    if last.args.get("activation") != wanted:
        last.args["activation"] = wanted
    return spec


def check_head(spec: ModelSpec, task: Task, input_shape: tuple[int, ...], source: str) -> None:
    """Refuse a spec whose output layer does not fit ``task`` (units and activation).

    Class tasks also accept sigmoid outputs (one per class, or one for two classes), as before
    tasks were inferred.

    Raises:
        InputError: naming the spec's output and the task's.
    """
    units = spec.n_outputs(input_shape)
    activation = spec.layers[-1].args.get("activation") or "linear"
    wanted = HEAD_ACTIVATION[task.loss]
    fits = units == task.n_outputs and activation == wanted
    if task.loss == "cross_entropy" and activation == "sigmoid":
        fits = units == task.n_outputs or (units == 1 and task.n_outputs == 2)
    if not fits:
        raise InputError(f"{source}: the spec ends in {head_text(units, activation)}, but the task ({task.kind} on "
                         f"{', '.join(task.targets)}) needs {head_text(task.n_outputs, wanted)}; change the last "
                         "layer's units and activation")
