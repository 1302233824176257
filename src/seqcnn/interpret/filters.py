"""First-layer convolution filters as position weight matrices (the DeepBind/Basset method).

For each filter, every input window whose activation exceeds ``threshold`` times the filter's
largest activation over the data is taken, the windows are aligned and their bases counted.
The counts, with a small pseudocount, give a position frequency matrix (PFM) per filter, its
information content and a logo (Alipanahi et al. 2015, supplementary notes 10; Kelley et al.
2016, "Basset").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seqcnn.errors import InputError, SpecError

BACKGROUND = np.full(4, 0.25)


@dataclass
class FilterMotifs:
    """The PWMs of a model's first-layer filters.

    Attributes:
        counts: base counts of the aligned windows ``(F, 4, W)``; ``W`` spans the kernel.
        n_sites: windows counted per filter ``(F,)``.
        max_activation: each filter's largest activation over the data ``(F,)``.
        threshold: the fraction of the maximum a window needed.
    """

    counts: np.ndarray
    n_sites: np.ndarray
    max_activation: np.ndarray
    threshold: float

    def __len__(self) -> int:
        return len(self.counts)

    def pwms(self, pseudocount: float = 0.5) -> np.ndarray:
        """Letter probabilities ``(F, 4, W)``, with ``pseudocount`` added to every cell."""
        counts = self.counts + pseudocount
        return counts / counts.sum(axis=1, keepdims=True)

    def information_content(self, pseudocount: float = 0.5) -> np.ndarray:
        """Total information content in bits ``(F,)`` (0 for filters with no sites)."""
        ic = information_content(self.pwms(pseudocount)).sum(axis=-1)
        return np.where(self.n_sites > 0, ic, 0.0)


def information_content(pwm: np.ndarray, background: np.ndarray = BACKGROUND) -> np.ndarray:
    """Information content in bits of each column of ``pwm`` ``(..., 4, W)`` -> ``(..., W)``."""
    p = np.clip(pwm, 1e-12, 1.0)
    return np.sum(pwm * np.log2(p / background[:, None]), axis=-2)


def first_conv(model: nn.Module) -> nn.Conv1d:
    """The model's first layer when it is a 1-D convolution over the four bases.

    Raises:
        SpecError: when the first layer with weights is not a ``Conv1D`` over 4 channels.
    """
    first = next((m for m in model.modules() if isinstance(m, nn.Module) and list(m.parameters(recurse=False))), None)
    if not isinstance(first, nn.Conv1d) or first.in_channels != 4:
        found = type(first).__name__ if first is not None else "nothing"
        raise SpecError(
            f"filter PWMs need a Conv1D first layer over the 4 bases, but the model's first layer is {found}"
        )
    if first.groups != 1:
        raise SpecError(f"filter PWMs need an ungrouped Conv1D first layer, got groups={first.groups}")
    return first


def _padding(conv: nn.Conv1d) -> tuple[int, int]:
    """All zero padding (left, right) of ``conv``: seqcnn's explicit ``pad`` plus torch's own."""
    explicit = tuple(getattr(conv, "pad", ()) or ()) or (0, 0)
    own = conv.padding
    if isinstance(own, str):  # "same" or "valid" on a plain nn.Conv1d
        total = conv.dilation[0] * (conv.kernel_size[0] - 1) if own == "same" else 0
        return explicit[0] + total // 2, explicit[1] + total - total // 2
    return explicit[0] + own[0], explicit[1] + own[0]


def filter_activations(conv: nn.Conv1d, x: torch.Tensor) -> torch.Tensor:
    """Pre-activation outputs of ``conv`` ``(N, F, L_out)`` for one-hot ``x`` ``(N, 4, L)``."""
    pad = _padding(conv)
    return F.conv1d(F.pad(x, pad), conv.weight, conv.bias, stride=conv.stride, dilation=conv.dilation)


def filter_motifs(model: nn.Module, x: np.ndarray, threshold: float = 0.5, batch_size: int = 512) -> FilterMotifs:
    """Count the aligned input windows that activate each first-layer filter.

    Args:
        model: a spec model or plain module whose first layer is a Conv1D over ``(N, 4, L)``.
        x: one-hot sequences ``(N, 4, L)``, typically the test set.
        threshold: a window counts when its activation exceeds ``threshold`` times the
            filter's maximum over ``x`` (DeepBind and Basset use 0.5); filters whose maximum
            is not positive get no sites.
        batch_size: sequences per pass.

    Returns:
        The counts and site numbers per filter.

    Raises:
        SpecError: for a model without a Conv1D first layer.
        InputError: for a threshold outside (0, 1] or input that is not ``(N, 4, L)``.
    """
    if not 0.0 < threshold <= 1.0:
        raise InputError(f"threshold must be in (0, 1], got {threshold}")
    conv = first_conv(model)
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    if x.ndim != 3 or x.shape[1] != 4 or len(x) == 0:
        raise InputError(f"expected one-hot sequences of shape (N, 4, L) with N >= 1, got {tuple(x.shape)}")
    device = conv.weight.device
    with torch.inference_mode():
        top = torch.cat([filter_activations(conv, x[i : i + batch_size].to(device)).amax(dim=(0, 2))[None]
                         for i in range(0, len(x), batch_size)]).amax(dim=0)  # (F,)
        cut = torch.where(top > 0, threshold * top, torch.full_like(top, float("inf")))
        counts, sites = _count_windows(conv, x, cut, batch_size)
    return FilterMotifs(
        counts.double().cpu().numpy(), sites.cpu().numpy().astype(np.int64), top.cpu().numpy(), threshold
    )


def _count_windows(
    conv: nn.Conv1d, x: torch.Tensor, cut: torch.Tensor, batch_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum of the windows whose activation exceeds ``cut`` per filter: ``(F, 4, W)`` and ``(F,)``."""
    pad = _padding(conv)
    span = conv.dilation[0] * (conv.kernel_size[0] - 1) + 1
    device = conv.weight.device
    counts = torch.zeros(conv.out_channels, 4, span, dtype=torch.float64, device=device)
    sites = torch.zeros(conv.out_channels, dtype=torch.int64, device=device)
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].to(device)
        act = filter_activations(conv, xb)  # (B, F, L_out)
        hot = (act > cut[None, :, None]).float()
        windows = F.pad(xb, pad).unfold(2, span, conv.stride[0])[:, :, : act.shape[2]]  # (B, 4, L_out, W)
        counts += torch.einsum("bfj,bcjw->fcw", hot, windows).double()
        sites += hot.sum(dim=(0, 2)).long()
    return counts, sites


def consensus(pwm: np.ndarray, min_probability: float = 0.5) -> str:
    """Consensus of a ``(4, W)`` PWM: the top base where it has at least ``min_probability``, else N."""
    best = pwm.argmax(axis=0)
    return "".join("ACGT"[b] if pwm[b, j] >= min_probability else "N" for j, b in enumerate(best))


def trim(pwm: np.ndarray, min_ic: float = 0.25) -> tuple[int, int]:
    """``(start, end)`` of ``pwm`` ``(4, W)`` without the end columns below ``min_ic`` bits.

    An uninformative PWM keeps its full width.
    """
    ic = information_content(pwm)
    keep = np.flatnonzero(ic >= min_ic)
    if keep.size == 0:
        return 0, pwm.shape[1]
    return int(keep[0]), int(keep[-1]) + 1
