"""Attributions for one-hot DNA: gradient x input, in-silico saturation mutagenesis, DeepLIFT/SHAP.

Every method explains one number per sequence, the *score* of a target class computed from the
model's logits (:func:`class_score`): the log-odds ``logit[t] - logit[1 - t]`` for two classes
(what a softmax over two classes turns into a probability), the logit itself for a single
output, and ``logit[t] - mean(logits)`` for more classes. Scores are additive in the logits, so
DeepLIFT's rules see a linear last step.

Works for any model built from a spec (:class:`seqcnn.models.network.SpecModel`) and for a
plain ``torch.nn.Module`` that takes one-hot ``(N, 4, L)`` input and returns logits ``(N, K)``.
DeepLIFT/SHAP and the dinucleotide shuffles are tangermeme's (Schreiber); a spec model is first
rewritten into plain torch layers (:func:`deeplift_module`) so that tangermeme's rules find its
non-linearities.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seqcnn.errors import InputError
from seqcnn.models.network import Conv1D, Conv2D, Dense, GlobalPool, MaxPool1D, MaxPool2D, SpecModel, activate

#: The most one-hot floats that one ISM chunk holds in the first layer's output.
ISM_CHUNK_ELEMENTS = 1 << 24


def class_score(logits: torch.Tensor, target: int) -> torch.Tensor:
    """The explained score of class ``target``. Shape: ``(N, K)`` -> ``(N,)``.

    Raises:
        InputError: for outputs that are not ``(N, K)`` or a target outside ``0..K-1``.
    """
    if logits.ndim != 2:
        raise InputError(f"the model must return (N, K) logits for attributions, got shape {tuple(logits.shape)}")
    k = logits.shape[1]
    if not (0 <= target < max(k, 2)):
        raise InputError(f"target class must be in 0..{max(k, 2) - 1}, got {target}")
    if k == 1:
        return logits[:, 0] if target == 1 else -logits[:, 0]
    if k == 2:
        return logits[:, target] - logits[:, 1 - target]
    return logits[:, target] - logits.mean(dim=1)


class TargetScore(nn.Module):
    """Wrap a model so that it returns the score of one class. Shape: ``(N, 4, L)`` -> ``(N, 1)``."""

    def __init__(self, model: nn.Module, target: int = 1):
        super().__init__()
        self.model, self.target = model, target

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return class_score(self.model(x), self.target).unsqueeze(1)


def _device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _check_input(model: nn.Module, x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """One-hot input as float32 ``(N, 4, L)`` on the model's device, checked against its input shape."""
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=torch.float32)
    if x.ndim != 3 or x.shape[1] != 4:
        raise InputError(f"expected one-hot sequences of shape (N, 4, L), got {tuple(x.shape)}")
    expected = getattr(model, "input_shape", None)
    if expected is not None and tuple(expected) != tuple(x.shape[1:]):
        raise InputError(f"sequences have length {x.shape[2]}, but the model expects {expected[-1]}; use --pad/--crop")
    return x.to(_device(model))


def gradient_x_input(model: nn.Module, x: np.ndarray, target: int = 1, batch_size: int = 256) -> np.ndarray:
    """Gradient of the class score with respect to the input, times the input (the primer's map).

    Args:
        model: a spec model or a plain module taking ``(N, 4, L)``.
        x: one-hot sequences ``(N, 4, L)``.
        target: the class explained.
        batch_size: sequences per backward pass.

    Returns:
        float32 ``(N, 4, L)``; non-zero only at the observed bases.
    """
    x = _check_input(model, x)
    score = TargetScore(model, target).eval()
    out = []
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(score(xb).sum(), xb)
        out.append((grad * xb).detach().cpu())
    return torch.cat(out).numpy()


def position_profile(model: nn.Module, x: np.ndarray, target: int = 1, batch_size: int = 256) -> np.ndarray:
    """Where a model looks: the mean over sequences of the absolute gradient x input at each position.

    A model that reads which motifs a sequence holds wherever they sit spreads its attribution over the
    length (motifs sit anywhere); one that reads position concentrates it where the signal is placed.

    Args:
        model: a spec model or a plain module taking ``(N, 4, L)``.
        x: one-hot sequences ``(N, 4, L)``.
        target: the class (or output) explained.
        batch_size: sequences per backward pass.

    Returns:
        float64 ``(L,)``: the mean over the ``N`` sequences of ``|attribution|`` summed over the four bases.
    """
    total = np.zeros(x.shape[-1])
    for start in range(0, len(x), batch_size):
        block = gradient_x_input(model, x[start : start + batch_size], target, batch_size)
        total += np.abs(block).sum(axis=1).sum(axis=0)
    return total / max(len(x), 1)


def saturation_mutagenesis(model: nn.Module, x: np.ndarray, target: int = 1, progress: bool = False) -> np.ndarray:
    """In-silico saturation mutagenesis: the change of the class score for every single-base edit.

    Every position is set to each base that is not already there (identity substitutions are
    skipped; their change is 0), in inference mode and in batches. For a spec model whose first
    layer is a stride-1 Conv1D, the first layer of each variant is updated from the original's
    (an edit changes at most ``kernel_size`` of its outputs) and only the layers after it run in
    full, which skips most of the work; other models run every variant in full.

    Args:
        model: a spec model or a plain module taking ``(N, 4, L)``.
        x: one-hot sequences ``(N, 4, L)``.
        target: the class explained.
        progress: show a progress bar.

    Returns:
        float32 ``(N, 4, L)``: ``score(variant with base b at position p) - score(x)``.
    """
    from tqdm import tqdm

    x = _check_input(model, x)
    model.eval()
    one_hot = bool(((x == 0) | (x == 1)).all() and (x.sum(dim=1) == 1).all())
    method, per_variant = _ism_method(model, x.shape[2], one_hot)
    chunk = max(1, ISM_CHUNK_ELEMENTS // (3 * x.shape[2] * per_variant))
    out = torch.zeros(x.shape, dtype=torch.float32)
    with torch.inference_mode():
        for start in tqdm(range(0, len(x), chunk), desc="ISM", unit="chunk", disable=not progress, leave=False):
            out[start : start + chunk] = method(x[start : start + chunk], target).cpu()
    return out.numpy()


def _ism_method(model: nn.Module, length: int, one_hot: bool):
    """The fastest exact ISM for ``model``, and the floats it holds per variant."""
    from functools import partial

    conv = _first_conv_for_ism(model)
    if conv is None:
        return partial(_ism_full, model), 4 * length
    taps, n_out = conv.kernel_size[0], _conv_length(conv, length)
    if conv.dilation[0] == 1 and isinstance(model.layers[1], GlobalPool) and model.layers[1].mode == "max" and one_hot:
        return partial(_ism_global_max, model, conv), 2 * taps * conv.out_channels
    return partial(_ism_fast, model, conv), n_out * conv.out_channels + taps * conv.out_channels


def _edits(xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Indices ``(seq, base, position)`` of every single-base edit that changes ``xb``."""
    identity = (xb == 1) & (xb.sum(dim=1, keepdim=True) == 1)
    seq, base, pos = torch.nonzero(~identity, as_tuple=True)
    return seq, base, pos


def _ism_full(model: nn.Module, xb: torch.Tensor, target: int) -> torch.Tensor:
    """ISM by running every variant through the whole model."""
    seq, base, pos = _edits(xb)
    y0 = class_score(model(xb), target)
    variants = xb[seq]  # (V, 4, L)
    rows = torch.arange(len(seq), device=xb.device)
    variants[rows, :, pos] = 0.0
    variants[rows, base, pos] = 1.0
    delta = torch.zeros(xb.shape, device=xb.device)
    delta[seq, base, pos] = class_score(model(variants), target) - y0[seq]
    return delta


def _first_conv_for_ism(model: nn.Module):
    """The first layer of a spec model when it allows the incremental ISM path, else None."""

    if not isinstance(model, SpecModel) or not isinstance(model.layers[0], Conv1D):
        return None
    conv = model.layers[0]
    return conv if conv.stride[0] == 1 and conv.groups == 1 and conv.padding[0] == 0 else None


def _first_layer_change(conv, xb: torch.Tensor, edits) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """How each edit changes the first layer's pre-activations.

    Returns:
        ``change`` ``(V, K, F)``: the change of the output that reads the edit with tap k;
        ``out_pos`` ``(V, K)``: that output's position; ``hit`` ``(V, K)``: whether it exists.
    """
    seq, base, pos = edits
    weight, dil = conv.weight, conv.dilation[0]  # weight (F, 4, K)
    left = conv.pad[0] if any(conv.pad) else 0
    n_out = _conv_length(conv, xb.shape[2])
    per_tap = weight.permute(2, 1, 0)  # (K, 4, F)
    column = xb[seq, :, pos]  # (V, 4): what the edited position holds now
    change = per_tap[:, base].transpose(0, 1) - torch.einsum("vc,kcf->vkf", column, per_tap)
    out_pos = pos[:, None] + left - dil * torch.arange(weight.shape[2], device=xb.device)
    return change, out_pos, (out_pos >= 0) & (out_pos < n_out)


def _conv_length(conv, length: int) -> int:
    total = length + (sum(conv.pad) if any(conv.pad) else 0)
    return total - conv.dilation[0] * (conv.kernel_size[0] - 1)


def _pre_activation(conv, xb: torch.Tensor) -> torch.Tensor:
    """The first layer's output before its activation. Shape: ``(B, 4, L)`` -> ``(B, F, L_out)``."""
    pad = tuple(conv.pad) if any(conv.pad) else (0, 0)
    return F.conv1d(F.pad(xb, pad), conv.weight, conv.bias, dilation=conv.dilation)


def _ism_fast(model: nn.Module, conv, xb: torch.Tensor, target: int) -> torch.Tensor:
    """ISM with the first Conv1D updated incrementally; the other layers run on each variant."""

    ref = _pre_activation(conv, xb)  # (B, F, L_out)
    rest = model.layers[1:]
    y0 = class_score(rest(activate(ref, conv.activation)), target)
    edits = _edits(xb)
    change, out_pos, hit = _first_layer_change(conv, xb, edits)
    seq, n_out = edits[0], ref.shape[2]
    pre = ref.transpose(1, 2).contiguous()[seq]  # (V, L_out, F): a copy, each output's filters contiguous
    rows = (torch.arange(len(seq), device=xb.device)[:, None] * n_out + out_pos)[hit]
    pre.view(-1, pre.shape[2]).index_add_(0, rows, change[hit])
    delta = torch.zeros(xb.shape, device=xb.device)
    delta[edits] = class_score(rest(activate(pre.transpose(1, 2), conv.activation)), target) - y0[seq]
    return delta


#: The three other bases of each base, for one-hot columns.
_OTHER_BASES = torch.tensor([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])


def _ism_global_max(model: nn.Module, conv, xb: torch.Tensor, target: int) -> torch.Tensor:
    """ISM for Conv1D -> global max pooling (DeepBind) on strictly one-hot sequences (:func:`substitution_logits`)."""

    y0 = class_score(model(xb), target)
    logits = substitution_logits(model, xb, conv)  # (B, L, 3, K)
    scores = class_score(logits.reshape(-1, logits.shape[-1]), target).reshape(logits.shape[:3])  # (B, L, 3)
    ref_base = xb.argmax(dim=1)  # (B, L)
    delta = torch.zeros(xb.shape, device=xb.device)
    delta.scatter_(
        1, _OTHER_BASES.to(xb.device)[ref_base].transpose(1, 2), (scores - y0[:, None, None]).transpose(1, 2)
    )
    return delta


def global_max_model(model: nn.Module):
    """The first Conv1D of a spec model whose second layer is global max pooling (stride 1, no dilation, no
    padding or groups), for which :func:`substitution_logits` is exact; None for other models."""
    conv = _first_conv_for_ism(model)
    if conv is None or conv.dilation[0] != 1 or not isinstance(model.layers[1], GlobalPool):
        return None
    return conv if model.layers[1].mode == "max" else None


def substitution_logits(model: nn.Module, xb: torch.Tensor, conv=None) -> torch.Tensor:
    """The logits of every single-base substitution of strictly one-hot sequences, for Conv1D -> global max models.

    An edit changes only the ``kernel_size`` outputs of the first layer that read it; the
    maximum over the others comes from prefix and suffix maxima of the original sequence, so a
    variant costs ``kernel_size x filters`` values instead of a whole forward pass. The part of
    those outputs that does not depend on the edited base is computed once per position and
    shared by its three substitutions. The layers after the pooling run on every variant.

    Args:
        model: a spec model accepted by :func:`global_max_model`.
        xb: one-hot sequences ``(B, 4, L)``, exactly one 1 per column.
        conv: its first layer (found when None).

    Returns:
        ``(B, L, 3, K)``: at position p, the three other bases of the sequence's base in ascending order.
    """
    conv = conv if conv is not None else global_max_model(model)
    pre = _pre_activation(conv, xb)  # (B, F, L_out)
    act = activate(pre, conv.activation)
    length, taps = xb.shape[2], conv.kernel_size[0]
    per_tap = conv.weight.permute(1, 2, 0)  # (4, K, F)
    left = conv.pad[0] if any(conv.pad) else 0
    out_pos = torch.arange(length)[:, None] + left - torch.arange(taps)  # (L, K)
    ref_base = xb.argmax(dim=1)  # (B, L)
    outside = _outside_max(act, out_pos[:, -1], out_pos[:, 0])  # (B, L, F)
    if conv.activation in (None, "linear", "relu") and xb.device.type == "cpu":
        pooled = torch.from_numpy(
            _global_max_kernel(
                pre.numpy(),
                ref_base.numpy(),
                per_tap.contiguous().numpy(),
                outside.contiguous().numpy(),
                left,
                conv.activation == "relu",
            )
        )
    else:
        pooled = _changed_max(pre, xb, per_tap, out_pos, ref_base, outside, conv.activation)  # (B, L, 3, F)
    logits = model.layers[2:](pooled.reshape(-1, pooled.shape[-1]))
    return logits.reshape(*pooled.shape[:3], logits.shape[-1])


def _changed_max(pre, xb, per_tap, out_pos, ref_base, outside, activation) -> torch.Tensor:
    """Global max of each substitution's first-layer outputs ``(B, L, 3, F)``, in torch."""

    n_out = pre.shape[2]
    valid = (out_pos >= 0) & (out_pos < n_out)
    kept = pre.transpose(1, 2)[:, out_pos.clamp(0, n_out - 1)] - torch.einsum(
        "bcl,ckf->blkf", xb, per_tap
    )  # (B, L, K, F)
    new = per_tap[_OTHER_BASES.to(xb.device)[ref_base]]  # (B, L, 3, K, F)
    new += kept[:, :, None]
    new = activate(new, activation).masked_fill(~valid[None, :, None, :, None], float("-inf")).amax(dim=3)
    return torch.maximum(new, outside[:, :, None])


def _global_max_kernel(pre, ref_base, per_tap, outside, left, relu):
    """:func:`_changed_max` fused into one numba loop, for relu or linear filters.

    Shapes: ``pre`` (B, F, L_out), ``ref_base`` (B, L), ``per_tap`` (4, K, F), ``outside``
    (B, L, F) -> (B, L, 3, F). Nothing of size ``K`` per variant is ever stored.
    """
    return _compile_global_max()(pre, ref_base, per_tap, outside, left, relu)


@lru_cache(maxsize=1)
def _compile_global_max():
    import numba

    @numba.njit(parallel=True, cache=True)
    def kernel(pre, ref_base, per_tap, outside, left, relu):
        n_seq, n_filters, n_out = pre.shape
        length, taps = ref_base.shape[1], per_tap.shape[1]
        out = np.empty((n_seq, length, 3, n_filters), dtype=np.float32)
        for n in numba.prange(n_seq):
            for p in range(length):
                ref = ref_base[n, p]
                slot = 0
                for b in range(4):
                    if b == ref:
                        continue  # identity substitution: skipped
                    for f in range(n_filters):
                        best = outside[n, p, f]
                        for k in range(taps):
                            j = p + left - k
                            if 0 <= j < n_out:
                                v = pre[n, f, j] - per_tap[ref, k, f] + per_tap[b, k, f]
                                if relu and v < 0.0:
                                    v = 0.0
                                if v > best:
                                    best = v
                        out[n, p, slot, f] = best
                    slot += 1
        return out

    return kernel


def _outside_max(act: torch.Tensor, first: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
    """Max of ``act`` ``(B, F, L_out)`` outside ``[first[p], last[p]]`` for each position p -> ``(B, L, F)``."""
    n_out = act.shape[2]
    prefix = torch.cummax(act, dim=2).values
    suffix = torch.cummax(act.flip(2), dim=2).values.flip(2)
    before = prefix[:, :, (first - 1).clamp(0, n_out - 1)].masked_fill(first < 1, float("-inf"))
    after = suffix[:, :, (last + 1).clamp(0, n_out - 1)].masked_fill(last >= n_out - 1, float("-inf"))
    return torch.maximum(before, after).transpose(1, 2)


def deep_lift_shap(
    model: nn.Module,
    x: np.ndarray,
    target: int = 1,
    n_shuffles: int = 20,
    seed: int = 0,
    batch_size: int = 256,
    hypothetical: bool = False,
) -> np.ndarray:
    """DeepLIFT/SHAP attributions against dinucleotide-shuffled references (tangermeme).

    Args:
        model: a spec model or a plain module built from torch layers (``nn.ReLU`` etc.).
        x: one-hot sequences ``(N, 4, L)`` of A/C/G/T only.
        target: the class explained.
        n_shuffles: references per sequence.
        seed: seed of the shuffles.
        batch_size: sequence-reference pairs per pass.
        hypothetical: return hypothetical contributions instead: for every base at every
            position, what it would contribute there (TF-MoDISco's input).

    Returns:
        float32 ``(N, 4, L)``; non-zero only at the observed bases unless ``hypothetical``.

    Raises:
        InputError: for sequences that are not strictly one-hot (N or padding).
    """
    from tangermeme.deep_lift_shap import deep_lift_shap as tangermeme_dls

    x = _check_input(model, x)
    if not bool(((x == 0) | (x == 1)).all() and (x.sum(dim=1) == 1).all()):
        raise InputError(
            "DeepLIFT/SHAP needs sequences of A, C, G and T only (no N or padding) for its dinucleotide shuffles"
        )
    _warn_no_rule(model)
    plain, extra_ops = deeplift_module(model)
    net = TargetScore(plain, target).eval()
    attr = tangermeme_dls(
        net,
        x.cpu(),
        target=0,
        n_shuffles=n_shuffles,
        random_state=seed,
        batch_size=batch_size,
        device=_device(model),
        additional_nonlinear_ops=extra_ops,
        warning_threshold=1e-3,
        hypothetical=hypothetical,
    )
    return attr.detach().float().cpu().numpy()


def _warn_no_rule(model: nn.Module) -> None:
    """Say once, plainly, when DeepLIFT/SHAP can only approximate a model's recurrent or attention layers."""
    import sys

    from seqcnn.models.spec import MIXING_LAYERS

    names = [layer.name for layer in getattr(getattr(model, "spec", None), "layers", []) if layer.type in MIXING_LAYERS]
    if names:
        print(
            f"seqcnn: warning: DeepLIFT/SHAP has no rule for the gates of LSTM/GRU or the softmax and products of "
            f"attention ({', '.join(names)}); tangermeme passes gradients through them, so these attributions are "
            "approximate and may be far off (tangermeme reports how far their sums miss the score change); "
            "gradient x input and ISM need no such rules",
            file=sys.stderr,
        )


class Exp(nn.Module):
    """``torch.exp`` as a module, so that DeepLIFT's rescale rule can be attached to it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(x)


def rescale_rule(module: nn.Module, grad_input: tuple, grad_output: tuple) -> tuple[torch.Tensor]:
    """DeepLIFT's rescale rule for an element-wise non-linearity, as a tangermeme rule.

    The gradient through the layer becomes the secant ``delta_out / delta_in`` between each
    sequence's activation and its reference's, times the gradient from above; where the input
    barely moves (``|delta_in| < 1e-6``) the secant is unstable and the layer's own gradient is
    kept. These are tangermeme's numbers for its built-in activations, written here so that seqcnn
    depends only on tangermeme's documented rule interface: ``rule(module, grad_input,
    grad_output)`` called with ``module.input``/``module.output`` set to the sequences' batch
    followed by the references' batch (as its ``integrated_gradients_op`` reads them).

    Args:
        module: the activation module, carrying ``input`` and ``output`` of shape ``(2 * N, ...)``.
        grad_input: the layer's ordinary input gradient, one tensor ``(2 * N, ...)``.
        grad_output: the gradient with respect to the layer's output, one tensor ``(2 * N, ...)``.

    Returns:
        The replacement input gradient, one tensor ``(2 * N, ...)``.
    """
    delta_in = torch.sub(*module.input.chunk(2))  # (N, ...): sequences minus references
    delta_out = torch.sub(*module.output.chunk(2))
    shape = (2, *delta_in.shape)  # the same secant serves both halves of the batch
    grad = torch.where(
        torch.abs(delta_in) < 1e-6,
        grad_input[0].reshape(shape),
        grad_output[0].reshape(shape) * (delta_out / delta_in),
    )
    return (grad.reshape(grad_input[0].shape),)


def _activation_module(name: str | None) -> list[nn.Module]:
    table = {
        "relu": nn.ReLU,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "elu": nn.ELU,
        "gelu": nn.GELU,
        "exponential": Exp,
    }
    if name in (None, "linear"):
        return []
    if name == "softmax":
        return [nn.Softmax(dim=1)]
    return [table[name]()]


def deeplift_module(model: nn.Module) -> tuple[nn.Module, dict]:
    """Rewrite a spec model into plain torch layers that tangermeme's DeepLIFT rules recognise.

    seqcnn's layers apply padding and activations inside their ``forward``; here each becomes
    an explicit ``nn.ConstantPad``, the plain ``nn.Conv1d``/``nn.Linear`` (sharing the weights)
    and an activation module, and global max pooling becomes ``nn.MaxPool1d`` over the whole
    length. A plain module is returned as it is.

    Returns:
        ``(module, additional_nonlinear_ops)`` for :func:`tangermeme.deep_lift_shap.deep_lift_shap`.
    """
    if not isinstance(model, SpecModel):
        return model, {}
    layers: list[nn.Module] = []
    for layer, info in zip(model.layers, model.infos):
        layers += _plain_layers(layer, info)
    return nn.Sequential(*layers).eval(), {Exp: rescale_rule}


def _plain_layers(layer: nn.Module, info) -> list[nn.Module]:

    ndim = len(info.in_shape) - 1
    pad_cls = nn.ConstantPad1d if ndim == 1 else nn.ConstantPad2d
    if isinstance(layer, (Conv1D, Conv2D)):
        cls = nn.Conv1d if isinstance(layer, Conv1D) else nn.Conv2d
        conv = cls(
            layer.in_channels,
            layer.out_channels,
            layer.kernel_size,
            stride=layer.stride,
            dilation=layer.dilation,
            bias=layer.bias is not None,
        )
        conv.weight, conv.bias = layer.weight, layer.bias
        padding = [pad_cls(layer.pad, 0.0)] if any(layer.pad) else []
        return padding + [conv] + _activation_module(layer.activation)
    if isinstance(layer, (MaxPool1D, MaxPool2D)):
        # a finite fill: DeepLIFT subtracts padded inputs from each other, and -inf - -inf is nan
        padding = [pad_cls(layer.pad, -1e30)] if any(layer.pad) else []
        return padding + [(nn.MaxPool1d if ndim == 1 else nn.MaxPool2d)(layer.kernel_size, layer.stride)]
    if isinstance(layer, GlobalPool) and layer.mode == "max":
        window = info.in_shape[1] if ndim == 1 else tuple(info.in_shape[1:])
        return [(nn.MaxPool1d if ndim == 1 else nn.MaxPool2d)(window), nn.Flatten()]
    if isinstance(layer, Dense):
        dense = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
        dense.weight, dense.bias = layer.weight, layer.bias
        return [dense] + _activation_module(layer.activation)
    if type(layer).__name__ == "Activation":
        return _activation_module(layer.activation)
    return [layer]  # linear in inference: Flatten, Dropout, BatchNorm, average pooling


def best_window(attr: np.ndarray, width: int) -> np.ndarray:
    """Start of the ``width``-bp window with the largest summed attribution, per sequence.

    Args:
        attr: attributions ``(N, 4, L)`` (or per-position ``(N, L)``).
        width: window width, at most ``L``.

    Returns:
        int64 starts ``(N,)``.
    """
    per_pos = attr.sum(axis=1) if attr.ndim == 3 else attr  # (N, L)
    if not 1 <= width <= per_pos.shape[1]:
        raise InputError(f"window width must be in 1..{per_pos.shape[1]}, got {width}")
    csum = np.concatenate([np.zeros((len(per_pos), 1)), np.cumsum(per_pos, axis=1)], axis=1)
    return np.argmax(csum[:, width:] - csum[:, :-width], axis=1).astype(np.int64)
