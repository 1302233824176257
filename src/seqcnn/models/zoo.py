"""Named architectures, each a function that returns a :class:`ModelSpec`.

Look a model up with :func:`get` (``get("primer", length=50)``); an unknown name lists the
valid ones. Input length, channels and number of classes are arguments, never constants;
:data:`ZOO` records each model's default input so that ``seqcnn models`` can print it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from seqcnn.errors import SpecError
from seqcnn.models.spec import ModelSpec


@dataclass(frozen=True)
class ZooEntry:
    """A zoo model: its builder, the kind of input it takes and its default input shape."""

    build: Callable[..., ModelSpec]
    kind: str  # "sequence" or "image"
    default_input: tuple[int, ...]  # channels first
    summary: str


ZOO: dict[str, ZooEntry] = {}


def register(name: str, kind: str, default_input: tuple[int, ...], summary: str):
    """Decorator that adds a spec builder to the zoo under ``name``."""

    def wrap(fn: Callable[..., ModelSpec]) -> Callable[..., ModelSpec]:
        ZOO[name] = ZooEntry(fn, kind, default_input, summary)
        return fn

    return wrap


def names() -> list[str]:
    """All zoo names, in registration order."""
    return list(ZOO)


def entry(name: str) -> ZooEntry:
    """The zoo entry for ``name``.

    Raises:
        SpecError: for an unknown name, listing the valid ones.
    """
    if name not in ZOO:
        raise SpecError(f"unknown model {name!r}; valid models: {', '.join(ZOO)} (or a spec .json file)")
    return ZOO[name]


def get(name: str, *, classes: int | None = None, input_shape: tuple[int, ...] | None = None) -> ModelSpec:
    """Build the spec of a zoo model.

    Args:
        name: a zoo name (see :func:`names`).
        classes: number of output classes; the model's default (2 for sequences, 10 for
            images) when None.
        input_shape: channels-first input shape; the model's default when None. Some models
            (those ending in Flatten -> Dense) depend on it only through shape inference.

    Raises:
        SpecError: for an unknown name.
    """
    zoo_entry = entry(name)
    shape = tuple(input_shape or zoo_entry.default_input)
    kwargs = {"input_shape": shape} if classes is None else {"input_shape": shape, "classes": classes}
    spec = zoo_entry.build(**kwargs)
    spec.name = name
    spec.description = zoo_entry.summary
    return spec


def _spec(layers: list[dict]) -> ModelSpec:
    return ModelSpec.from_obj(layers)


def _head(classes: int) -> dict:
    """The output layer: softmax over ``classes`` units (2 for binary tasks, as the primer)."""
    return {"Dense": {"units": classes, "activation": "softmax"}}


@register("primer", "sequence", (4, 50), "Zou et al. 2019 primer: Conv1D(32, 12) -> MaxPool(4) -> Dense(16) -> output")
def primer(classes: int = 2, input_shape: tuple[int, ...] = (4, 50)) -> ModelSpec:
    """The model of Zou et al. 2019, "A primer on deep learning in genomics" (Nat. Genet. 51:12).

    Conv1D(32 filters, kernel 12) -> MaxPooling1D(4) -> Flatten -> Dense(16, relu) ->
    Dense(classes, softmax): 6,226 parameters for 50 bp inputs and two classes.
    """
    return _spec([
        {"Conv1D": {"filters": 32, "kernel_size": 12}},
        {"MaxPooling1D": {"pool_size": 4}},
        {"Flatten": {}},
        {"Dense": {"units": 16, "activation": "relu"}},
        _head(classes),
    ])


@register("deepbind", "sequence", (4, 101), "DeepBind (Alipanahi et al. 2015): 16 x 24 conv, global max pool, Dense 32")
def deepbind(classes: int = 2, input_shape: tuple[int, ...] = (4, 101)) -> ModelSpec:
    """DeepBind (Alipanahi et al. 2015, Nat. Biotechnol. 33:831), as used for ENCODE ChIP-seq.

    Conv1D(16 filters, width 24, relu) -> GlobalMaxPooling1D -> Dense(32, relu) ->
    Dropout(0.5) -> Dense(classes, softmax). The paper calibrated motif count, width and
    hidden units per experiment; these are its typical values.
    """
    return _spec([
        {"Conv1D": {"filters": 16, "kernel_size": 24, "activation": "relu"}},
        {"GlobalMaxPooling1D": {}},
        {"Dense": {"units": 32, "activation": "relu"}},
        {"Dropout": {"rate": 0.5}},
        _head(classes),
    ])


@register("fashion-dense", "image", (1, 28, 28), "Geron 2022 ch. 10: dense baseline Flatten -> 300 -> 100 -> 10")
def fashion_dense(classes: int = 10, input_shape: tuple[int, ...] = (1, 28, 28)) -> ModelSpec:
    """The dense Fashion-MNIST baseline of Geron (2022), "Hands-On Machine Learning", ch. 10.

    Flatten -> Dense(300, relu) -> Dense(100, relu) -> Dense(classes, softmax): 266,610
    parameters for 28 x 28 images and ten classes.
    """
    return _spec([
        {"Flatten": {}},
        {"Dense": {"units": 300, "activation": "relu"}},
        {"Dense": {"units": 100, "activation": "relu"}},
        _head(classes),
    ])


@register("fashion-cnn", "image", (1, 28, 28), "Geron 2022 ch. 14: the lecture's Fashion-MNIST CNN (64-128-256)")
def fashion_cnn(classes: int = 10, input_shape: tuple[int, ...] = (1, 28, 28)) -> ModelSpec:
    """The Fashion-MNIST CNN of Geron (2022), "Hands-On Machine Learning", ch. 14.

    Conv2D(64, 7x7, same) -> MaxPool -> 2 x Conv2D(128, 3x3, same) -> MaxPool ->
    2 x Conv2D(256, 3x3, same) -> MaxPool -> Flatten -> Dense(128) -> Dropout(0.5) ->
    Dense(64) -> Dropout(0.5) -> Dense(classes, softmax): 1,413,834 parameters.
    """
    def conv(filters: int, size: int) -> dict:
        return {"Conv2D": {"filters": filters, "kernel_size": size, "padding": "same", "activation": "relu"}}

    return _spec([
        conv(64, 7), {"MaxPooling2D": {"pool_size": 2}},
        conv(128, 3), conv(128, 3), {"MaxPooling2D": {"pool_size": 2}},
        conv(256, 3), conv(256, 3), {"MaxPooling2D": {"pool_size": 2}},
        {"Flatten": {}},
        {"Dense": {"units": 128, "activation": "relu"}}, {"Dropout": {"rate": 0.5}},
        {"Dense": {"units": 64, "activation": "relu"}}, {"Dropout": {"rate": 0.5}},
        _head(classes),
    ])
