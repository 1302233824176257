"""Building a ``torch.nn.Module`` from a :class:`~seqcnn.models.spec.ModelSpec`.

One spec layer becomes one module, so ``model.layers[i]`` is spec layer ``i`` and weight names
are ``layers.<i>.weight``. Padding that torch cannot express symmetrically (Keras's ``same``
with even kernels or strides) is applied explicitly with :func:`torch.nn.functional.pad`.
Weights start as Keras's do (Glorot uniform, zero bias), which the primer's results assume.

The model returns logits: a final softmax or sigmoid is not applied in ``forward`` but recorded
in ``model.output_activation`` and applied by :func:`seqcnn.jobs.inference.predict` (and folded into
the loss by the trainer), which is both faster and numerically safer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqcnn.models.attention import (
    LayerNormalization,
    PositionEmbedding,
    SelfAttention,
    SinePositionEncoding,
    TransformerEncoder,
)
from seqcnn.models.recurrent import Recurrent
from seqcnn.models.spec import LayerInfo, ModelSpec

_ACTIVATIONS = {
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "elu": F.elu,
    "gelu": F.gelu,
    "exponential": torch.exp,
    "softmax": lambda x: F.softmax(x, dim=1),
}


def activate(x: torch.Tensor, name: str | None) -> torch.Tensor:
    """``x`` through the Keras activation ``name`` (None and ``"linear"`` leave it as it is)."""
    return x if name in (None, "linear") else _ACTIVATIONS[name](x)


class _Padded:
    """Mixin: pad the input explicitly, then run the wrapped op, then the activation."""

    pad: tuple[int, ...] = ()
    pad_value: float = 0.0
    activation: str | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(self.pad):
            x = F.pad(x, self.pad, value=self.pad_value)
        return activate(super().forward(x), self.activation)


class Conv1D(_Padded, nn.Conv1d):
    """Keras ``Conv1D``. Shape: ``(N, C_in, L)`` -> ``(N, filters, L_out)``.

    On the CPU, a convolution with few inputs per output (``C_in * kernel <= 128``: every
    first layer over one-hot DNA) runs as one matrix product over the input's sliding windows
    instead of through oneDNN, whose fixed cost dominates at these sizes (a whole forward and
    backward pass 1.65x faster for the primer at batch 32, 1.2x for DeepBind and 1.35x for the
    ``chipseq`` model at batch 64; ``benchmarks/speed/conv_paths.py``). The output
    is then a channels-last view ``(N, L_out, filters)`` transposed to ``(N, filters, L_out)``:
    the same values, with the channel axis innermost, which :class:`MaxPool1D` pools faster too.
    """

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if not _windows_matmul(self, x):
            return super()._conv_forward(x, weight, bias)
        n, c, _ = x.shape
        k = self.kernel_size[0]
        windows = x.unfold(2, k, 1).transpose(1, 2).reshape(-1, c * k)  # (N * L_out, C_in * k), in weight.view's order
        w = weight.reshape(self.out_channels, c * k).t()
        out = torch.addmm(bias, windows, w) if bias is not None else windows @ w
        return out.view(n, -1, self.out_channels).transpose(1, 2)

    def global_max(self, x: torch.Tensor) -> torch.Tensor | None:
        """This layer followed by global max pooling, ``(N, C_in, L)`` -> ``(N, filters)``, in training on the CPU
        (:class:`_WindowsGlobalMax`); None where that path does not apply (the caller runs both layers)."""
        if any(self.pad):
            x = F.pad(x, self.pad, value=self.pad_value)
        if x.requires_grad or self.activation not in _MONOTONE or not _windows_matmul(self, x):
            return None
        n, c, _ = x.shape
        k = self.kernel_size[0]
        windows = x.unfold(2, k, 1).transpose(1, 2).reshape(-1, c * k)
        return activate(_WindowsGlobalMax.apply(windows, self.weight, self.bias, n), self.activation)


def _windows_matmul(conv: nn.Conv1d, x: torch.Tensor) -> bool:
    """Whether ``conv`` on ``x`` takes the sliding-window matrix product (see :class:`Conv1D`)."""
    if not (
        FAST_CPU_PATHS
        and x.device.type == "cpu"
        and x.dim() == 3
        and torch.is_grad_enabled()
        and conv.weight.requires_grad
    ):
        # inference: oneDNN (and max_pool1d without indices) is as fast or faster at every batch size measured
        return False
    window = conv.in_channels * conv.kernel_size[0]
    if conv.stride != (1,) or conv.dilation != (1,) or conv.groups != 1 or conv.padding != (0,) or window > 128:
        return False
    return (
        x.shape[0] * (x.shape[2] - conv.kernel_size[0] + 1) * window <= 1_000_000
    )  # beyond 4 MB of windows the copy costs more


#: Switch for Conv1D's CPU matrix-product path (``benchmarks/speed/conv_paths.py`` and the tests compare both ways).
FAST_CPU_PATHS = True

#: Activations that never decrease, so that they commute with a maximum: ``max(f(z)) == f(max(z))``.
_MONOTONE = (None, "linear", "relu", "sigmoid", "tanh", "elu", "exponential")


class _WindowsGlobalMax(torch.autograd.Function):
    """A Conv1D as one matrix product over its input windows, then the maximum over positions.

    Run one by one, the convolution's output (``N * L_out * filters`` values) goes through an activation, a
    maximum and their backward passes, each a full pass over it with layout copies between; here the maximum
    is taken once on the matrix product's output and the backward pass puts each (example, filter)'s gradient at
    its winning position for one matrix product with the windows. The input is not differentiated (a first
    layer over one-hot DNA). Where several positions tie for the maximum the first takes the gradient, while
    ``amax`` shares it among them: ties come from identical windows (a repeat), whose weight gradients are the
    same either way.
    """

    @staticmethod
    def forward(ctx, windows: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, n: int):
        filters = weight.shape[0]
        out = windows @ weight.reshape(filters, -1).t()  # (N * L_out, filters); the bias is added after the maximum
        # (N, filters, L_out) with the filters innermost: max_pool1d keeps the winners' positions vectorised along
        # the filters, where Tensor.max(dim) with indices took 15x as long (benchmarks/speed/conv_paths.py)
        by_position = out.view(n, -1, filters).transpose(1, 2)
        values, where = F.max_pool1d(by_position, by_position.shape[2], return_indices=True)
        values, where = values.squeeze(2), where.squeeze(2)
        ctx.save_for_backward(windows, where)
        ctx.weight_shape, ctx.has_bias = weight.shape, bias is not None
        # one bias per filter: max(z + b) == max(z) + b, and float rounding, which never decreases, keeps it exact
        return values if bias is None else values + bias

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        windows, where = ctx.saved_tensors
        n, filters = grad.shape
        # the output's gradient: each (example, filter)'s at its winning position, zero elsewhere; then one matrix
        # product (a gather of the winning windows and a broadcast product took 5x as long on the CPU)
        spread = grad.new_zeros(n, windows.shape[0] // n, filters).scatter_(1, where.unsqueeze(1), grad.unsqueeze(1))
        grad_weight = (spread.view(-1, filters).t() @ windows).reshape(ctx.weight_shape)
        return None, grad_weight, grad.sum(0) if ctx.has_bias else None, None


class Conv2D(_Padded, nn.Conv2d):
    """Keras ``Conv2D``. Shape: ``(N, C_in, H, W)`` -> ``(N, filters, H_out, W_out)``."""


class MaxPool1D(_Padded, nn.MaxPool1d):
    """Keras ``MaxPooling1D``; ``same`` padding pads with -inf so it never wins.

    On the channels-last output of :class:`Conv1D`'s CPU path, torch's pooling runs vectorised
    along the channels, 4 to 5 times faster forward and backward than on a contiguous input.
    """


class MaxPool2D(_Padded, nn.MaxPool2d):
    """Keras ``MaxPooling2D``."""


class AvgPool(nn.Module):
    """Keras ``AveragePooling1D/2D``: padded positions are left out of each average."""

    def __init__(self, ndim: int, kernel, stride, pad: tuple[int, ...]):
        super().__init__()
        self.pool = (F.avg_pool1d, F.avg_pool2d)[ndim - 1]
        self.kernel, self.stride, self.pad = kernel, stride, pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not any(self.pad):
            return self.pool(x, self.kernel, self.stride)
        ones = F.pad(torch.ones_like(x[:1, :1]), self.pad)
        total = self.pool(F.pad(x, self.pad), self.kernel, self.stride)
        return total / self.pool(ones, self.kernel, self.stride)


class GlobalPool(nn.Module):
    """Keras ``Global{Max,Average}Pooling{1,2}D``. Shape: ``(N, C, ...)`` -> ``(N, C)``."""

    def __init__(self, mode: str):
        super().__init__()
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(2)  # (N, C, positions)
        return flat.amax(dim=2) if self.mode == "max" else flat.mean(dim=2)


class Dense(nn.Linear):
    """Keras ``Dense``. Shape: ``(N, in)`` -> ``(N, units)``."""

    activation: str | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return activate(super().forward(x), self.activation)


class Activation(nn.Module):
    """Keras ``Activation``."""

    def __init__(self, name: str | None):
        super().__init__()
        self.activation = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return activate(x, self.activation)


class DilatedResidual(nn.Module):
    """``x + act(conv(x))`` with a same-padded dilated convolution (BPNet's trunk).

    Shape: ``(N, C, L)`` -> ``(N, C, L)``.
    """

    def __init__(self, channels: int, kernel: int, dilation: int, activation: str | None):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel, dilation=dilation, padding=dilation * (kernel - 1) // 2)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + activate(self.conv(x), self.activation)


class ProfileHead(nn.Module):
    """BPNet's profile and counts heads (see ``seqcnn.models.spec``'s ``ProfileHead``).

    Shape: ``(N, C, L)`` and control ``(N, control_tracks, L)`` or None -> profile logits
    ``(N, tracks, output_length)`` (a multinomial over tracks and positions together) and log counts
    ``(N, 1)``: the log of 1 + the expected reads of all tracks in the output window.
    """

    def __init__(self, channels: int, tracks: int, output_length: int, kernel: int, control_tracks: int):
        super().__init__()
        self.conv = nn.Conv1d(channels + control_tracks, tracks, kernel, padding=kernel // 2)
        self.counts = nn.Linear(channels + (1 if control_tracks else 0), 1)
        self.output_length, self.kernel, self.control_tracks = output_length, kernel, control_tracks

    def forward(self, x: torch.Tensor, control: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if (control is None) != (self.control_tracks == 0):
            raise ValueError(f"this model takes {self.control_tracks} control track(s), got "
                             f"{0 if control is None else control.shape[1]}")
        steps = x.shape[2]
        start = (steps - self.output_length) // 2
        end = start + self.output_length
        joined = x if control is None else torch.cat([x, control], dim=1)
        profile = self.conv(joined)[:, :, start:end]  # (N, tracks, output_length)
        half = self.kernel // 2
        pooled = x[:, :, start - half:end + half].mean(dim=2)  # (N, C)
        if control is not None:
            reads = control[:, :, start - half:end + half].sum(dim=(1, 2)).unsqueeze(1)  # (N, 1)
            pooled = torch.cat([pooled, torch.log1p(reads)], dim=1)
        return profile, self.counts(pooled)


class SpecModel(nn.Module):
    """A network built from a spec: architecture only, no training or file I/O.

    Attributes:
        spec: the spec it was built from.
        input_shape: channels-first input shape without the batch axis.
        output_activation: ``"softmax"``, ``"sigmoid"`` or None; ``forward`` returns logits.
    """

    def __init__(self, spec: ModelSpec, input_shape: tuple[int, ...]):
        super().__init__()
        self.spec = spec
        self.input_shape = tuple(input_shape)
        self.infos = spec.analyse(self.input_shape)
        self.output_activation = spec.output_activation()
        last = len(self.infos) - 1
        self.layers = nn.Sequential(*(_build_layer(info, i == last) for i, info in enumerate(self.infos)))
        # Conv1D -> GlobalMaxPooling1D pairs, which training on the CPU runs as one step (Conv1D.global_max)
        self.conv_global_max = tuple(
            i for i, (a, b) in enumerate(zip(self.layers, self.layers[1:]))
            if isinstance(a, Conv1D) and isinstance(b, GlobalPool) and b.mode == "max"
        )
        _keras_init(self)

    def forward(self, x: torch.Tensor, control: torch.Tensor | None = None):
        """Shape: ``(N, *input_shape)`` -> ``(N, outputs)`` logits; a profile model (its last layer a
        ``ProfileHead``) also reads ``control`` ``(N, control_tracks, L)`` and returns (profile logits, log counts)."""
        if isinstance(self.layers[-1], ProfileHead):
            return self.layers[-1](self.layers[:-1](x), control)
        if not (self.conv_global_max and self.training and torch.is_grad_enabled()):
            return self.layers(x)
        i = 0
        while i < len(self.layers):
            pooled = self.layers[i].global_max(x) if i in self.conv_global_max else None
            x, i = (self.layers[i](x), i + 1) if pooled is None else (pooled, i + 2)
        return x


def build_model(spec: ModelSpec, input_shape: tuple[int, ...]) -> SpecModel:
    """Build the torch module of ``spec`` for inputs of ``input_shape`` (channels first)."""
    return SpecModel(spec, input_shape)


def attention_weights(model: SpecModel, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The attention weights of the last attention layer (MultiHeadAttention or TransformerEncoder).

    Args:
        model: a spec model (run in inference mode here).
        x: inputs ``(N, *input_shape)``.

    Returns:
        ``weights`` ``(N, heads, L', L')`` (row: query position, column: key position; rows sum
        to 1) and ``centres`` ``(L',)``: the input position on which each of the layer's
        ``L'`` positions is centred (after pooling, ``L'`` is shorter than the input).

    Raises:
        ValueError: when the model has no attention layer.
    """
    found = [i for i, layer in enumerate(model.layers) if isinstance(layer, (SelfAttention, TransformerEncoder))]
    if not found:
        raise ValueError(f"model {model.spec.name!r} has no MultiHeadAttention or TransformerEncoder layer")
    index = found[-1]
    layer = model.layers[index]
    field = model.infos[index - 1].fields[0] if index else None
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            tokens = model.layers[:index](x).transpose(1, 2)  # (N, L', d): what the attention layer reads
            attention = layer.attention if isinstance(layer, TransformerEncoder) else layer
            weights = attention.weights(layer.attention_input(tokens) if attention is not layer else tokens)
    finally:
        model.train(was_training)
    steps = torch.arange(tokens.shape[1], dtype=torch.float64)
    centres = steps if field is None else field.start + field.jump * steps
    return weights, centres


def _torch_pad(pads: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """Per-axis (left, right) pads to F.pad's order (last axis first)."""
    return tuple(p for pair in reversed(pads) for p in pair)


def _build_layer(info: LayerInfo, is_last: bool) -> nn.Module:
    layer, args = info.layer, info.layer.args
    ltype = layer.type
    act = args.get("activation")
    if is_last and act in ("softmax", "sigmoid"):
        act = None  # folded into the loss / applied at prediction
    ndim = len(info.in_shape) - 1
    if ltype in ("Conv1D", "Conv2D"):
        cls = Conv1D if ltype == "Conv1D" else Conv2D
        module = cls(
            info.in_shape[0],
            args["filters"],
            args["kernel_size"],
            stride=args["strides"],
            dilation=args["dilation_rate"],
            bias=args["use_bias"],
        )
        module.pad, module.activation = _torch_pad(info.pads), act
        return module
    if ltype.startswith("MaxPooling"):
        stride = args["strides"] if args["strides"] is not None else args["pool_size"]
        module = (MaxPool1D if ndim == 1 else MaxPool2D)(args["pool_size"], stride)
        module.pad, module.pad_value = _torch_pad(info.pads), float("-inf")
        return module
    if ltype.startswith("AveragePooling"):
        stride = args["strides"] if args["strides"] is not None else args["pool_size"]
        return AvgPool(ndim, args["pool_size"], stride, _torch_pad(info.pads))
    if ltype.startswith("Global"):
        return GlobalPool("max" if "Max" in ltype else "avg")
    if ltype == "Flatten":
        return nn.Flatten()
    if ltype == "Dense":
        module = Dense(info.in_shape[0], args["units"], bias=args["use_bias"])
        module.activation = act
        return module
    if ltype == "Dropout":
        return nn.Dropout(args["rate"])
    if ltype == "BatchNormalization":
        cls = nn.BatchNorm1d if len(info.in_shape) <= 2 else nn.BatchNorm2d
        return cls(info.in_shape[0], eps=args["epsilon"], momentum=1.0 - args["momentum"])
    if ltype == "Activation":
        return Activation(act)
    if ltype in _SEQUENCE_BUILDERS:
        return _SEQUENCE_BUILDERS[ltype](info)
    if ltype == "DilatedResidual":
        return DilatedResidual(info.in_shape[0], args["kernel_size"], args["dilation_rate"], act)
    if ltype == "ProfileHead":
        return ProfileHead(info.in_shape[0], args["tracks"], args["output_length"], args["kernel_size"],
                           args["control_tracks"])
    raise AssertionError(f"unhandled layer type {ltype}")  # the spec validator rejects unknown types


def _recurrent(info: LayerInfo) -> Recurrent:
    args, bidirectional, merge = info.layer.args, False, "concat"
    cell = info.layer.type
    if cell == "Bidirectional":
        ((cell, args),) = args["layer"].items()
        bidirectional, merge = True, info.layer.args["merge_mode"]
    return Recurrent(
        cell,
        info.in_shape[0],
        args["units"],
        bidirectional=bidirectional,
        merge_mode=merge,
        return_sequences=args["return_sequences"],
        use_bias=args["use_bias"],
        reset_after=args.get("reset_after", True),
    )


def _attention(info: LayerInfo) -> SelfAttention:
    a = info.layer.args
    return SelfAttention(info.in_shape[0], a["num_heads"], a["key_dim"], a["value_dim"], a["dropout"], a["use_bias"])


def _encoder(info: LayerInfo) -> TransformerEncoder:
    a = info.layer.args
    activation = _ACTIVATIONS.get(a["activation"], lambda x: x)
    return TransformerEncoder(
        info.in_shape[0],
        a["intermediate_dim"],
        a["num_heads"],
        activation,
        a["dropout"],
        a["layer_norm_epsilon"],
        a["normalize_first"],
    )


_SEQUENCE_BUILDERS = {
    "LSTM": _recurrent,
    "GRU": _recurrent,
    "Bidirectional": _recurrent,
    "MultiHeadAttention": _attention,
    "TransformerEncoder": _encoder,
    "LayerNormalization": lambda info: LayerNormalization(info.in_shape[0], eps=info.layer.args["epsilon"]),
    "SinePositionEncoding": lambda info: SinePositionEncoding(*info.in_shape, info.layer.args["max_wavelength"]),
    "PositionEmbedding": lambda info: PositionEmbedding(info.in_shape[0], info.layer.args["sequence_length"]),
}


def _keras_init(model: nn.Module) -> None:
    """Glorot-uniform weights and zero biases, as Keras initialises Dense and Conv layers."""
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
