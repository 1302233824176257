"""Training-time augmentations, applied to each batch on its device.

Each augmentation takes a batch of model inputs and a ``torch.Generator`` and returns a batch
of the same shape. Names are what ``--augment`` and ``TrainConfig.augment`` accept.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from seqcnn.errors import InputError


def reverse_complement(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Replace a random half of one-hot sequences ``(B, 4, L)`` by their reverse complement.

    With channels in A, C, G, T order, complementing is reversing the channel axis.
    """
    flip = torch.rand(x.shape[0], generator=generator).to(x.device) < 0.5
    return torch.where(flip.view(-1, 1, 1), x.flip(1, 2), x)


def shift(x: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Shift each image ``(B, C, H, W)`` by up to ``max_shift`` pixels in each direction (zero fill).

    Vectorised: two gathers from the zero-padded batch instead of a loop over images.
    """
    b, c, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)  # (B, C, H + 2m, W + 2m)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * max_shift + 1, (b,), generator=generator).to(x.device)
    rows = (dy.view(b, 1, 1, 1) + torch.arange(h, device=x.device).view(1, 1, h, 1)).expand(b, c, h, padded.shape[3])
    padded = padded.gather(2, rows)  # (B, C, H, W + 2m)
    cols = (dx.view(b, 1, 1, 1) + torch.arange(w, device=x.device).view(1, 1, 1, w)).expand(b, c, h, w)
    return padded.gather(3, cols)  # (B, C, H, W)


def flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror a random half of images ``(B, C, H, W)`` left to right."""
    mirror = torch.rand(x.shape[0], generator=generator).to(x.device) < 0.5
    return torch.where(mirror.view(-1, 1, 1, 1), x.flip(3), x)


AUGMENTATIONS: dict[str, Callable[[torch.Tensor, torch.Generator], torch.Tensor]] = {
    "rc": reverse_complement,
    "shift": shift,
    "flip": flip,
}


def check(names: tuple[str, ...]) -> tuple[str, ...]:
    """Validate augmentation names; raise :class:`InputError` listing the valid ones."""
    for name in names:
        if name not in AUGMENTATIONS:
            raise InputError(f"unknown augmentation {name!r}; valid: {', '.join(AUGMENTATIONS)}")
    return tuple(names)


def apply(x: torch.Tensor, names: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """Apply the named augmentations in order."""
    for name in names:
        x = AUGMENTATIONS[name](x, generator)
    return x
