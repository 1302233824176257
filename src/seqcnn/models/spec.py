"""Model specs: an ordered list of Keras-named layers, validated, analysed and saved as JSON.

A spec is plain data, for example::

    [{"Conv1D": {"filters": 32, "kernel_size": 12}}, {"MaxPooling1D": {"pool_size": 4}},
     {"Flatten": {}}, {"Dense": {"units": 16, "activation": "relu"}},
     {"Dense": {"units": 2, "activation": "softmax"}}]

The same spec builds the torch module (:mod:`seqcnn.models.network`), prints the Keras-style
summary (:mod:`seqcnn.models.summary`), gives every layer's receptive field
(:mod:`seqcnn.arith`), is saved beside the weights, and is what a sweep varies. This module
does not import torch: shapes and parameter counts are computed here in plain Python.

Shapes are channels first and exclude the batch axis: ``(C, L)`` for sequences,
``(C, H, W)`` for images, ``(F,)`` after Flatten.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqcnn.arith import Field, check_positive, output_size, padding_amounts
from seqcnn.errors import SpecError

ACTIVATIONS = ("linear", "relu", "sigmoid", "softmax", "tanh", "elu", "gelu", "exponential")
_CONV = {"filters": None, "kernel_size": None, "strides": 1, "padding": "valid", "dilation_rate": 1, "activation": None, "use_bias": True}
_POOL = {"pool_size": 2, "strides": None, "padding": "valid"}

#: Layer type -> (spatial dims it expects: 0 for flat, None for any; argument defaults).
LAYER_TYPES: dict[str, tuple[int | None, dict[str, Any]]] = {
    "Conv1D": (1, _CONV),
    "Conv2D": (2, _CONV),
    "MaxPooling1D": (1, _POOL),
    "MaxPooling2D": (2, _POOL),
    "AveragePooling1D": (1, _POOL),
    "AveragePooling2D": (2, _POOL),
    "GlobalMaxPooling1D": (1, {}),
    "GlobalMaxPooling2D": (2, {}),
    "GlobalAveragePooling1D": (1, {}),
    "GlobalAveragePooling2D": (2, {}),
    "Flatten": (None, {}),
    "Dense": (0, {"units": None, "activation": None, "use_bias": True}),
    "Dropout": (None, {"rate": None}),
    "BatchNormalization": (None, {"momentum": 0.99, "epsilon": 0.001}),
    "Activation": (None, {"activation": None}),
}

#: Arguments without a usable default.
REQUIRED_ARGS = {
    "Conv1D": ("filters", "kernel_size"), "Conv2D": ("filters", "kernel_size"),
    "Dense": ("units",), "Dropout": ("rate",), "Activation": ("activation",),
}

#: Keras's automatic layer names (snake case of the class name).
KERAS_NAMES = {
    "Conv1D": "conv1d", "Conv2D": "conv2d", "MaxPooling1D": "max_pooling1d", "MaxPooling2D": "max_pooling2d",
    "AveragePooling1D": "average_pooling1d", "AveragePooling2D": "average_pooling2d",
    "GlobalMaxPooling1D": "global_max_pooling1d", "GlobalMaxPooling2D": "global_max_pooling2d",
    "GlobalAveragePooling1D": "global_average_pooling1d", "GlobalAveragePooling2D": "global_average_pooling2d",
    "Flatten": "flatten", "Dense": "dense", "Dropout": "dropout", "BatchNormalization": "batch_normalization",
    "Activation": "activation",
}

MAX_UNITS = 1 << 20  # a layer wider than this is a typo, not a model


@dataclass
class Layer:
    """One layer of a spec: its Keras type, complete arguments and name."""

    type: str
    args: dict[str, Any]
    name: str

    def to_obj(self) -> dict[str, dict[str, Any]]:
        """The layer as spec data: ``{type: {arg: value, ..., "name": name}}``."""
        return {self.type: {**self.args, "name": self.name}}


@dataclass
class LayerInfo:
    """What a layer does to its input: shapes, parameters, work and receptive field."""

    layer: Layer
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    trainable: int
    macs: int
    fields: tuple[Field, ...]
    pads: tuple[tuple[int, int], ...] = ()


@dataclass
class ModelSpec:
    """A validated model spec.

    Attributes:
        layers: the layers, in order.
        name: the model's name (a zoo name, or the spec file's stem).
        description: one line about the model and its source.
    """

    layers: list[Layer]
    name: str = "model"
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_obj(cls, obj: Any, name: str = "model", source: str = "<spec>") -> "ModelSpec":
        """Validate spec data (a layer list, or a dict with ``layers``).

        Raises:
            SpecError: naming the layer index and argument for any unknown type, unknown or
                missing argument, or bad value; valid choices are listed.
        """
        description, meta = "", {}
        if isinstance(obj, dict):
            unknown = set(obj) - {"layers", "name", "description", "meta"}
            if unknown:
                raise SpecError(f"{source}: unknown key(s) {sorted(unknown)} in spec; expected 'layers', 'name', 'description', 'meta'")
            name = str(obj.get("name", name))
            description = str(obj.get("description", ""))
            meta = obj.get("meta", {})
            if not isinstance(meta, dict):
                raise SpecError(f"{source}: 'meta' must be an object (key: value), got {meta!r}")
            meta = dict(meta)
            obj = obj.get("layers")
        if not isinstance(obj, list) or not obj:
            raise SpecError(f"{source}: a spec must be a non-empty list of layers like [{{\"Conv1D\": {{...}}}}, ...]")
        layers = [_parse_layer(item, i, source) for i, item in enumerate(obj)]
        _name_layers(layers)
        return cls(layers, name, description, meta)

    def to_obj(self) -> dict[str, Any]:
        """The spec as JSON-ready data."""
        return {"name": self.name, "description": self.description, "meta": self.meta, "layers": [l.to_obj() for l in self.layers]}

    def to_json(self) -> str:
        return json.dumps(self.to_obj(), indent=2)

    @classmethod
    def load(cls, path: str | Path) -> "ModelSpec":
        """Read a spec from a JSON file.

        Raises:
            SpecError: for a missing file, invalid JSON (with line and column) or a bad spec.
        """
        path = Path(path)
        if not path.is_file():
            raise SpecError(f"{path}: spec file not found")
        try:
            obj = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            col = getattr(exc, "colno", None)
            raise SpecError(f"{path}, line {line}, column {col}: invalid JSON ({getattr(exc, 'msg', exc)}); expected a model spec") from None
        return cls.from_obj(obj, name=path.stem, source=str(path))

    def analyse(self, input_shape: tuple[int, ...]) -> list[LayerInfo]:
        """Shapes, parameter counts, multiply-adds and receptive fields, layer by layer.

        Args:
            input_shape: channels first without the batch axis, e.g. ``(4, 50)`` or ``(1, 28, 28)``.

        Raises:
            SpecError: naming the layer and both shapes when a layer does not fit its input.
        """
        shape = tuple(int(s) for s in input_shape)
        for s in shape:
            check_positive("input_shape", s)
        fields = tuple(Field() for _ in shape[1:])
        spatial_in = shape[1:]
        infos = []
        for index, layer in enumerate(self.layers):
            info = _analyse_layer(layer, index, shape, fields, spatial_in)
            infos.append(info)
            shape, fields = info.out_shape, info.fields
        return infos

    def output_activation(self) -> str | None:
        """``"softmax"`` or ``"sigmoid"`` when the last layer ends in one, else None (linear)."""
        last = self.layers[-1]
        act = last.args.get("activation")
        return act if act in ("softmax", "sigmoid") else None

    def n_outputs(self, input_shape: tuple[int, ...]) -> int:
        """Number of output units for ``input_shape``."""
        return math.prod(self.analyse(input_shape)[-1].out_shape)


def _parse_layer(item: Any, index: int, source: str) -> Layer:
    if not isinstance(item, dict) or len(item) != 1:
        raise SpecError(f"{source}: layer {index}: expected {{\"LayerType\": {{arguments}}}}, got {item!r}")
    (ltype, args), = item.items()
    if ltype not in LAYER_TYPES:
        raise SpecError(f"{source}: layer {index}: unknown layer type {ltype!r}; valid types: {', '.join(LAYER_TYPES)}")
    args = {} if args is None else args
    if not isinstance(args, dict):
        raise SpecError(f"{source}: layer {index} ({ltype}): arguments must be an object, got {args!r}")
    _, defaults = LAYER_TYPES[ltype]
    unknown = set(args) - set(defaults) - {"name"}
    if unknown:
        bad = sorted(unknown)[0]
        raise SpecError(f"{source}: layer {index} ({ltype}): unknown argument {bad!r}; valid arguments: {', '.join(list(defaults) + ['name'])}")
    full = dict(defaults)
    full.update({k: v for k, v in args.items() if k != "name"})
    for key in REQUIRED_ARGS.get(ltype, ()):
        if full.get(key) is None:
            raise SpecError(f"{source}: layer {index} ({ltype}): missing required argument {key!r}")
    _check_args(ltype, full, index, source)
    return Layer(ltype, full, str(args.get("name", "")))


def _check_args(ltype: str, args: dict[str, Any], index: int, source: str) -> None:
    where = f"{source}: layer {index} ({ltype})"
    act = args.get("activation")
    if act is not None and act not in ACTIVATIONS:
        raise SpecError(f"{where}: activation must be one of {list(ACTIVATIONS)}, but got activation={act!r}")
    ndim = LAYER_TYPES[ltype][0]
    try:
        for key in ("filters", "units"):
            if key in args:
                check_positive(key, args[key])
                if args[key] > MAX_UNITS:
                    raise SpecError(f"Invalid value for argument `{key}`. Expected at most {MAX_UNITS:,}. Received {key}={args[key]}")
        for key in ("kernel_size", "strides", "dilation_rate", "pool_size"):
            if key in args and args[key] is not None:
                args[key] = _tuple_arg(key, args[key], ndim)
        if "padding" in args:
            pad = args["padding"]
            if not (pad in ("valid", "same", "full") or (isinstance(pad, int) and not isinstance(pad, bool) and pad >= 0)):
                raise SpecError(f"padding must be one of ['valid', 'same', 'full'] or a non-negative integer, but got padding={pad!r}")
        if "rate" in args:
            rate = args["rate"]
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
                raise SpecError(f"Invalid value for argument `rate`. Expected a float in [0, 1). Received rate={rate!r}")
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None


def _tuple_arg(key: str, value: Any, ndim: int | None) -> int | list[int]:
    """Normalise an int-or-list argument: int for 1D, list of ``ndim`` ints for 2D."""
    values = value if isinstance(value, (list, tuple)) else [value] * (ndim or 1)
    if len(values) != (ndim or 1):
        raise SpecError(f"Invalid value for argument `{key}`. Expected {ndim} integers. Received {key}={value!r}")
    for v in values:
        check_positive(key, v)
    return values[0] if ndim == 1 else list(values)


def _name_layers(layers: list[Layer]) -> None:
    """Give unnamed layers Keras's automatic names (dense, dense_1, ...)."""
    counts: dict[str, int] = {}
    used = {l.name for l in layers if l.name}
    for layer in layers:
        if layer.name:
            continue
        base = KERAS_NAMES[layer.type]
        while True:
            n = counts.get(base, 0)
            counts[base] = n + 1
            candidate = base if n == 0 else f"{base}_{n}"
            if candidate not in used:
                break
        layer.name = candidate
        used.add(candidate)


def _as_list(value: Any, n: int) -> list[int]:
    return list(value) if isinstance(value, (list, tuple)) else [value] * n


def _analyse_layer(layer: Layer, index: int, shape: tuple[int, ...], fields: tuple[Field, ...], spatial_in: tuple[int, ...]) -> LayerInfo:
    ltype, args = layer.type, layer.args
    ndim = LAYER_TYPES[ltype][0]
    where = f"layer {index} ({layer.name}: {ltype})"
    if ndim is not None and ndim > 0 and len(shape) != ndim + 1:
        raise SpecError(f"{where} expects a {ndim}D input of shape {_shape_words(ndim)}, but the previous layer gives {_keras(shape)}")
    if ndim == 0 and len(shape) != 1:
        raise SpecError(f"{where} expects a flat input, but the previous layer gives {_keras(shape)}; add Flatten or a global pooling layer before it")
    channels = shape[0]
    if ltype.startswith("Conv") or ltype.startswith("MaxPooling") or ltype.startswith("AveragePooling"):
        return _analyse_window(layer, where, shape, fields)
    if ltype.startswith("Global"):
        out = (channels,)
        return LayerInfo(layer, shape, out, 0, 0, 0, tuple(f.whole(n) for f, n in zip(fields, spatial_in)))
    if ltype == "Flatten":
        out = (math.prod(shape),)
        return LayerInfo(layer, shape, out, 0, 0, 0, tuple(f.whole(n) for f, n in zip(fields, spatial_in)))
    if ltype == "Dense":
        units = args["units"]
        params = channels * units + (units if args["use_bias"] else 0)
        return LayerInfo(layer, shape, (units,), params, params, channels * units, fields)
    if ltype == "BatchNormalization":
        return LayerInfo(layer, shape, shape, 4 * channels, 2 * channels, 0, fields)
    return LayerInfo(layer, shape, shape, 0, 0, 0, fields)  # Dropout, Activation


def _analyse_window(layer: Layer, where: str, shape: tuple[int, ...], fields: tuple[Field, ...]) -> LayerInfo:
    args, ndim = layer.args, len(shape) - 1
    is_conv = layer.type.startswith("Conv")
    kernel = _as_list(args["kernel_size"] if is_conv else args["pool_size"], ndim)
    default_stride = 1 if is_conv else kernel
    stride = _as_list(args["strides"] if args["strides"] is not None else default_stride, ndim)
    dilation = _as_list(args.get("dilation_rate", 1), ndim)
    out_spatial, pads, new_fields = [], [], []
    for axis in range(ndim):
        n = shape[1 + axis]
        try:
            o = output_size(n, kernel[axis], stride[axis], args["padding"], dilation[axis])
        except SpecError as exc:
            raise SpecError(f"{where} does not fit its input {_keras(shape)}: {exc}") from None
        left, right = padding_amounts(n, kernel[axis], stride[axis], args["padding"], dilation[axis])
        out_spatial.append(o)
        pads.append((left, right))
        new_fields.append(fields[axis].through(kernel[axis], stride[axis], left, dilation[axis]))
    channels = args["filters"] if is_conv else shape[0]
    out = (channels, *out_spatial)
    params = trainable = macs = 0
    if is_conv:
        weights = math.prod(kernel) * shape[0] * channels
        params = trainable = weights + (channels if args["use_bias"] else 0)
        macs = weights * math.prod(out_spatial)
    return LayerInfo(layer, shape, out, params, trainable, macs, tuple(new_fields), tuple(pads))


def _shape_words(ndim: int) -> str:
    return "(length, channels)" if ndim == 1 else "(height, width, channels)"


def _keras(shape: tuple[int, ...]) -> str:
    """A channels-first shape written channels last, as Keras prints it: ``(None, 39, 32)``."""
    dims = (*shape[1:], shape[0]) if len(shape) > 1 else shape
    return "(None, " + ", ".join(str(d) for d in dims) + ")"


def keras_shape(shape: tuple[int, ...], channels_last: bool = True) -> str:
    """Format an output shape as Keras does (channels last), or channels first."""
    if channels_last:
        return _keras(shape)
    return "(None, " + ", ".join(str(d) for d in shape) + ")"
