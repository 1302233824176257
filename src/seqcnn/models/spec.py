"""Model specs: an ordered list of Keras-named layers, validated, analysed and saved as JSON.

A spec is plain data, for example::

    [{"Conv1D": {"filters": 32, "kernel_size": 12}}, {"MaxPooling1D": {"pool_size": 4}},
     {"Flatten": {}}, {"Dense": {"units": 16, "activation": "relu"}},
     {"Dense": {"units": 2, "activation": "softmax"}}]

The same spec builds the torch module (:mod:`seqcnn.models.network`), prints the Keras-style
summary (:mod:`seqcnn.models.summary`), gives every layer's receptive field
(:mod:`seqcnn.lecture.arithmetic`), is saved beside the weights, and is what a sweep varies. This module
does not import torch: shapes and parameter counts are computed here in plain Python.

Shapes are channels first and exclude the batch axis: ``(C, L)`` for sequences,
``(C, H, W)`` for images, ``(F,)`` after Flatten.

Recurrent and attention layers read ``(C, L)`` as Keras's ``(steps, features)``: ``LSTM`` and
``GRU`` (``units``, ``return_sequences``, ``use_bias``; GRU ``reset_after``),
``{"Bidirectional": {"layer": {"LSTM": {...}}, "merge_mode": "concat"}}``,
``MultiHeadAttention`` as self-attention (``num_heads``, ``key_dim``, ``value_dim``, ``dropout``,
``use_bias``), ``LayerNormalization`` (``epsilon``), ``SinePositionEncoding``
(``max_wavelength``) and ``PositionEmbedding`` (``sequence_length``), both added to their
input, and keras_hub's ``TransformerEncoder`` (``intermediate_dim``, ``num_heads``, ``dropout``,
``activation``, ``layer_norm_epsilon``, ``normalize_first``). Their counting rules are in
:mod:`seqcnn.models.counts`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import seqcnn.models.counts as counts
from seqcnn.errors import SpecError
from seqcnn.lecture.arithmetic import Field, check_positive, output_size, padding_amounts

ACTIVATIONS = ("linear", "relu", "sigmoid", "softmax", "tanh", "elu", "gelu", "exponential")
_CONV = {
    "filters": None,
    "kernel_size": None,
    "strides": 1,
    "padding": "valid",
    "dilation_rate": 1,
    "activation": None,
    "use_bias": True,
}
_POOL = {"pool_size": 2, "strides": None, "padding": "valid"}
_RECURRENT = {"units": None, "return_sequences": False, "use_bias": True}
_ENCODER = {
    "intermediate_dim": None,
    "num_heads": None,
    "dropout": 0.0,
    "activation": "relu",
    "layer_norm_epsilon": 1e-5,
    "normalize_first": False,
}
_ATTENTION = {"num_heads": None, "key_dim": None, "value_dim": None, "dropout": 0.0, "use_bias": True}

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
    "LSTM": (1, _RECURRENT),
    "GRU": (1, {**_RECURRENT, "reset_after": True}),
    "Bidirectional": (1, {"layer": None, "merge_mode": "concat"}),
    "MultiHeadAttention": (1, _ATTENTION),
    "LayerNormalization": (None, {"epsilon": 0.001}),
    "SinePositionEncoding": (1, {"max_wavelength": 10000}),
    "PositionEmbedding": (1, {"sequence_length": None}),
    "TransformerEncoder": (1, _ENCODER),
    "DilatedResidual": (1, {"kernel_size": 3, "dilation_rate": 1, "activation": "relu"}),
    "ProfileHead": (1, {"tracks": None, "output_length": None, "kernel_size": 75, "control_tracks": 0}),
}

#: Layers after which every position sees the whole input (receptive field ``global``).
MIXING_LAYERS = ("LSTM", "GRU", "Bidirectional", "MultiHeadAttention", "TransformerEncoder")

#: Ways :class:`Bidirectional` joins its two directions, as Keras names them.
MERGE_MODES = ("concat", "sum", "mul", "ave")

#: Arguments without a usable default.
REQUIRED_ARGS = {
    "Conv1D": ("filters", "kernel_size"),
    "Conv2D": ("filters", "kernel_size"),
    "Dense": ("units",),
    "Dropout": ("rate",),
    "Activation": ("activation",),
    "LSTM": ("units",),
    "GRU": ("units",),
    "Bidirectional": ("layer",),
    "MultiHeadAttention": ("num_heads", "key_dim"),
    "PositionEmbedding": ("sequence_length",),
    "TransformerEncoder": ("intermediate_dim", "num_heads"),
    "ProfileHead": ("tracks", "output_length"),
}

#: Keras's automatic layer names (snake case of the class name).
KERAS_NAMES = {
    "Conv1D": "conv1d",
    "Conv2D": "conv2d",
    "MaxPooling1D": "max_pooling1d",
    "MaxPooling2D": "max_pooling2d",
    "AveragePooling1D": "average_pooling1d",
    "AveragePooling2D": "average_pooling2d",
    "GlobalMaxPooling1D": "global_max_pooling1d",
    "GlobalMaxPooling2D": "global_max_pooling2d",
    "GlobalAveragePooling1D": "global_average_pooling1d",
    "GlobalAveragePooling2D": "global_average_pooling2d",
    "Flatten": "flatten",
    "Dense": "dense",
    "Dropout": "dropout",
    "BatchNormalization": "batch_normalization",
    "Activation": "activation",
    "LSTM": "lstm",
    "GRU": "gru",
    "Bidirectional": "bidirectional",
    "MultiHeadAttention": "multi_head_attention",
    "LayerNormalization": "layer_normalization",
    "SinePositionEncoding": "sine_position_encoding",
    "PositionEmbedding": "position_embedding",
    "TransformerEncoder": "transformer_encoder",
    "DilatedResidual": "dilated_residual",
    "ProfileHead": "profile_head",
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
    def from_obj(cls, obj: Any, name: str = "model", source: str = "<spec>") -> ModelSpec:
        """Validate spec data (a layer list, or a dict with ``layers``).

        Raises:
            SpecError: naming the layer index and argument for any unknown type, unknown or
                missing argument, or bad value; valid choices are listed.
        """
        description, meta = "", {}
        if isinstance(obj, dict):
            unknown = set(obj) - {"layers", "name", "description", "meta"}
            if unknown:
                raise SpecError(
                    f"{source}: unknown key(s) {sorted(unknown)} in spec; "
                    "expected 'layers', 'name', 'description', 'meta'"
                )
            name = str(obj.get("name", name))
            description = str(obj.get("description", ""))
            meta = obj.get("meta", {})
            if not isinstance(meta, dict):
                raise SpecError(f"{source}: 'meta' must be an object (key: value), got {meta!r}")
            meta = dict(meta)
            obj = obj.get("layers")
        if not isinstance(obj, list) or not obj:
            raise SpecError(f'{source}: a spec must be a non-empty list of layers like [{{"Conv1D": {{...}}}}, ...]')
        layers = [_parse_layer(item, i, source) for i, item in enumerate(obj)]
        _name_layers(layers)
        return cls(layers, name, description, meta)

    def to_obj(self) -> dict[str, Any]:
        """The spec as JSON-ready data."""
        return {
            "name": self.name,
            "description": self.description,
            "meta": self.meta,
            "layers": [layer.to_obj() for layer in self.layers],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_obj(), indent=2)

    @classmethod
    def load(cls, path: str | Path) -> ModelSpec:
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
            raise SpecError(
                f"{path}, line {line}, column {col}: invalid JSON ({getattr(exc, 'msg', exc)}); expected a model spec"
            ) from None
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
        raise SpecError(f'{source}: layer {index}: expected {{"LayerType": {{arguments}}}}, got {item!r}')
    ((ltype, args),) = item.items()
    if ltype not in LAYER_TYPES:
        raise SpecError(f"{source}: layer {index}: unknown layer type {ltype!r}; valid types: {', '.join(LAYER_TYPES)}")
    args = {} if args is None else args
    if not isinstance(args, dict):
        raise SpecError(f"{source}: layer {index} ({ltype}): arguments must be an object, got {args!r}")
    _, defaults = LAYER_TYPES[ltype]
    unknown = set(args) - set(defaults) - {"name"}
    if unknown:
        bad = sorted(unknown)[0]
        raise SpecError(
            f"{source}: layer {index} ({ltype}): unknown argument {bad!r}; "
            f"valid arguments: {', '.join(list(defaults) + ['name'])}"
        )
    full = dict(defaults)
    full.update({k: v for k, v in args.items() if k != "name"})
    for key in REQUIRED_ARGS.get(ltype, ()):
        if full.get(key) is None:
            raise SpecError(f"{source}: layer {index} ({ltype}): missing required argument {key!r}")
    _check_args(ltype, full, index, source)
    if ltype == "Bidirectional":
        full["layer"] = _wrapped_layer(full["layer"], index, source)
    return Layer(ltype, full, str(args.get("name", "")))


def _wrapped_layer(obj: Any, index: int, source: str) -> dict[str, dict[str, Any]]:
    """The LSTM or GRU inside a ``Bidirectional``, validated, as ``{type: complete arguments}``."""
    where = f"{source}: layer {index} (Bidirectional)"
    if not (isinstance(obj, dict) and len(obj) == 1 and next(iter(obj)) in ("LSTM", "GRU")):
        raise SpecError(f'{where}: argument \'layer\' must be {{"LSTM": {{...}}}} or {{"GRU": {{...}}}}, got {obj!r}')
    inner = _parse_layer(obj, index, source)
    return {inner.type: inner.args}


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
                    raise SpecError(
                        f"Invalid value for argument `{key}`. Expected at most {MAX_UNITS:,}. "
                        f"Received {key}={args[key]}"
                    )
        for key in ("kernel_size", "strides", "dilation_rate", "pool_size"):
            if key in args and args[key] is not None:
                args[key] = _tuple_arg(key, args[key], ndim)
        if "padding" in args:
            pad = args["padding"]
            if not (
                pad in ("valid", "same", "full") or (isinstance(pad, int) and not isinstance(pad, bool) and pad >= 0)
            ):
                raise SpecError(
                    "padding must be one of ['valid', 'same', 'full'] or a non-negative integer, "
                    f"but got padding={pad!r}"
                )
        for key in ("rate", "dropout"):
            if key in args:
                _check_fraction(key, args[key])
        for key in ("num_heads", "key_dim", "value_dim", "intermediate_dim", "sequence_length", "max_wavelength",
                    "tracks", "output_length"):
            if args.get(key) is not None:
                check_positive(key, args[key])
        for key in ("return_sequences", "use_bias", "reset_after", "normalize_first"):
            if key in args and not isinstance(args[key], bool):
                raise SpecError(
                    f"Invalid value for argument `{key}`. Expected true or false. Received {key}={args[key]!r}"
                )
        for key in ("epsilon", "layer_norm_epsilon"):
            value = args.get(key)
            if key in args and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise SpecError(
                    f"Invalid value for argument `{key}`. Expected a positive number. Received {key}={value!r}"
                )
        ctl = args.get("control_tracks", 0)
        if isinstance(ctl, bool) or not isinstance(ctl, int) or ctl < 0:
            raise SpecError(f"Invalid value for argument `control_tracks`. Expected a whole number >= 0. "
                            f"Received control_tracks={ctl!r}")
        if ltype in ("DilatedResidual", "ProfileHead") and args["kernel_size"] % 2 == 0:
            raise SpecError(f"Invalid value for argument `kernel_size`. Expected an odd number (the output is "
                            f"centred on each position). Received kernel_size={args['kernel_size']}")
        if "merge_mode" in args and args["merge_mode"] not in MERGE_MODES:
            raise SpecError(f"merge_mode must be one of {list(MERGE_MODES)}, but got merge_mode={args['merge_mode']!r}")
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None


def _check_fraction(key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise SpecError(f"Invalid value for argument `{key}`. Expected a float in [0, 1). Received {key}={value!r}")


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
    used = {layer.name for layer in layers if layer.name}
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


def _analyse_layer(
    layer: Layer, index: int, shape: tuple[int, ...], fields: tuple[Field, ...], spatial_in: tuple[int, ...]
) -> LayerInfo:
    ltype, args = layer.type, layer.args
    ndim = LAYER_TYPES[ltype][0]
    where = f"layer {index} ({layer.name}: {ltype})"
    if ndim is not None and ndim > 0 and len(shape) != ndim + 1:
        raise SpecError(
            f"{where} expects a {ndim}D input of shape {_shape_words(ndim)}, "
            f"but the previous layer gives {_keras(shape)}"
        )
    if ndim == 0 and len(shape) != 1:
        raise SpecError(
            f"{where} expects a flat input, but the previous layer gives {_keras(shape)}; "
            "add Flatten or a global pooling layer before it"
        )
    channels = shape[0]
    if ltype in SEQUENCE_RULES:
        return SEQUENCE_RULES[ltype](layer, where, shape, fields, spatial_in)
    if ltype == "LayerNormalization":  # over the features of each position (Keras's axis=-1)
        return LayerInfo(layer, shape, shape, 2 * channels, 2 * channels, 0, fields)
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


# --- Recurrent and attention layers on (features, steps) ------------------------------------------


def _global(fields: tuple[Field, ...], spatial_in: tuple[int, ...]) -> tuple[Field, ...]:
    return tuple(f.everywhere(n) for f, n in zip(fields, spatial_in))


def _recurrent(layer: Layer, where: str, shape: tuple[int, ...], fields, spatial_in) -> LayerInfo:
    """LSTM, GRU, or either in Bidirectional: ``(d, L)`` -> ``(units', L)`` or ``(units',)``."""
    directions = 1
    cell, args = layer.type, layer.args
    if cell == "Bidirectional":
        ((cell, args),) = layer.args["layer"].items()
        directions = 2
    features, steps = shape
    units = args["units"]
    if cell == "LSTM":
        params = counts.lstm_params(features, units, args["use_bias"])
    else:
        params = counts.gru_params(features, units, args["use_bias"], args["reset_after"])
    width = 2 * units if directions == 2 and layer.args["merge_mode"] == "concat" else units
    out = (width, steps) if args["return_sequences"] else (width,)
    macs = directions * counts.recurrent_macs(cell, features, units, steps)
    return LayerInfo(layer, shape, out, directions * params, directions * params, macs, _global(fields, spatial_in))


def _attention(layer: Layer, where: str, shape: tuple[int, ...], fields, spatial_in) -> LayerInfo:
    """Self-attention: ``(d, L)`` -> ``(d, L)``."""
    args = layer.args
    features, steps = shape
    heads, key = args["num_heads"], args["key_dim"]
    value = args["value_dim"] or key
    params = counts.attention_params(features, heads, key, value, args["use_bias"])
    macs = counts.attention_macs(features, steps, heads, key, value)
    return LayerInfo(layer, shape, shape, params, params, macs, _global(fields, spatial_in))


def _encoder(layer: Layer, where: str, shape: tuple[int, ...], fields, spatial_in) -> LayerInfo:
    """keras_hub's TransformerEncoder: ``(d, L)`` -> ``(d, L)``."""
    args = layer.args
    features, steps = shape
    if counts.encoder_head_dim(features, args["num_heads"]) == 0:
        raise SpecError(
            f"{where}: num_heads={args['num_heads']} is more than the {features} features of its input "
            f"{_keras(shape)}; each head needs features // num_heads >= 1"
        )
    params = counts.encoder_params(features, args["intermediate_dim"], args["num_heads"])
    macs = counts.encoder_macs(features, steps, args["intermediate_dim"], args["num_heads"])
    return LayerInfo(layer, shape, shape, params, params, macs, _global(fields, spatial_in))


def _position(layer: Layer, where: str, shape: tuple[int, ...], fields, spatial_in) -> LayerInfo:
    """Sine position encoding (no parameters) or a learned embedding of ``sequence_length x d``."""
    features, steps = shape
    if layer.type == "SinePositionEncoding":
        return LayerInfo(layer, shape, shape, 0, 0, 0, fields)
    length = layer.args["sequence_length"]
    if length < steps:
        raise SpecError(
            f"{where}: sequence_length={length} is shorter than the {steps} steps of its input {_keras(shape)}"
        )
    return LayerInfo(layer, shape, shape, length * features, length * features, 0, fields)


# --- Profile models (BPNet) ------------------------------------------------------------------------


def _residual(layer: Layer, where: str, shape: tuple[int, ...], fields, spatial_in) -> LayerInfo:
    """``x + act(conv(x))``, a same-padded dilated convolution that keeps the channels: ``(C, L)`` -> ``(C, L)``."""
    channels, steps = shape
    k, d = layer.args["kernel_size"], layer.args["dilation_rate"]
    left = d * (k - 1) // 2
    params = channels * channels * k + channels
    return LayerInfo(layer, shape, shape, params, params, channels * channels * k * steps,
                     (fields[0].through(k, 1, left, d),), ((left, left),))


def profile_crop(steps: int, output_length: int) -> int:
    """Positions cropped from each side of a ``steps``-long input to leave the central ``output_length``."""
    return (steps - output_length) // 2


def _profile_head(layer: Layer, where: str, shape: tuple[int, ...], fields, spatial_in) -> LayerInfo:
    """BPNet's two heads: the profile, one logit per track and position of the central ``output_length``
    (a same-padded convolution of ``kernel_size`` over the trunk and the control tracks, cropped), and the log
    counts, a linear unit on the trunk averaged over the cropped window widened by ``kernel_size // 2`` on each
    side (and ``log(1 + control reads)`` there). ``(C, L)`` -> ``(tracks, output_length)``, plus one log count.

    Parameters as bpnet-lite's BPNet: ``(C + control) * tracks * k + tracks`` and ``C + [control > 0] + 1``.
    """
    channels, steps = shape
    a = layer.args
    k, out, ctl, tracks = a["kernel_size"], a["output_length"], a["control_tracks"], a["tracks"]
    crop = profile_crop(steps, out)
    if out > steps or crop < k // 2:
        raise SpecError(f"{where}: output_length={out} leaves {crop} positions on each side of its input "
                        f"{_keras(shape)}, fewer than kernel_size // 2 = {k // 2}; use a longer input or a shorter "
                        "output")
    profile = (channels + ctl) * tracks * k + tracks
    counts_params = channels + (1 if ctl else 0) + 1
    macs = (channels + ctl) * tracks * k * out + channels + 1
    field = fields[0].through(k, 1, k // 2, 1)
    field = Field(field.size, field.jump, field.start + crop * field.jump, field.unbounded)  # the cropped window
    return LayerInfo(layer, shape, (tracks, out), profile + counts_params, profile + counts_params, macs,
                     (field,), ((k // 2, k // 2),))


#: Analysis of each recurrent, attention, position and profile layer.
SEQUENCE_RULES = {
    "DilatedResidual": _residual,
    "ProfileHead": _profile_head,
    "LSTM": _recurrent,
    "GRU": _recurrent,
    "Bidirectional": _recurrent,
    "MultiHeadAttention": _attention,
    "TransformerEncoder": _encoder,
    "SinePositionEncoding": _position,
    "PositionEmbedding": _position,
}
