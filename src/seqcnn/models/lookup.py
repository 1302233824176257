"""One resolver for "a zoo name or a spec file", used by training, sweeps, ``summary`` and ``arith``."""

from __future__ import annotations

from pathlib import Path

from seqcnn.files import refuse_pickle
from seqcnn.models import zoo
from seqcnn.models.spec import ModelSpec


def is_spec_file(model: str) -> bool:
    """Whether ``model`` names a spec file (a ``.json`` name or an existing file) rather than a zoo model."""
    return str(model).endswith(".json") or Path(model).is_file()


def default_input(model: str) -> tuple[int, ...] | None:
    """A zoo model's default input shape; None for a spec file (its input comes from the data or the user).

    Raises:
        SpecError: for a name that is neither a spec file nor a zoo model, listing the zoo's names.
    """
    return None if is_spec_file(model) else zoo.entry(model).default_input


def resolve_spec(model: str, *, classes: int | None = None, input_shape: tuple[int, ...] | None = None) -> ModelSpec:
    """The spec of a zoo model (built for ``classes`` and ``input_shape``) or of a spec file.

    Raises:
        SpecError: for an unknown zoo name (listing the valid ones) or an invalid spec file.
    """
    if is_spec_file(model):
        refuse_pickle(model)  # a .pt/.pth/.pkl is not a spec: say why it is refused
        return ModelSpec.load(model)
    return zoo.get(model, classes=classes, input_shape=input_shape)
