"""In-memory tensors and batching.

Sequences travel as uint8 base codes ``(N, L)`` (1 byte per base) and are one-hot encoded on
the device, batch by batch, into ``(B, 4, L)`` float32; small sets are encoded once up front.
Images travel as float tensors ``(N, C, H, W)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from seqcnn.sequence import onehot_table

#: Below this many one-hot bytes a set is encoded once instead of per batch.
EAGER_ONEHOT_BYTES = 256 * 1024 * 1024


@dataclass
class TensorSet:
    """Inputs and labels on one device.

    Attributes:
        x: float inputs ``(N, C, ...)``, or uint8 codes ``(N, L)`` to be one-hot encoded per batch.
        y: int64 labels ``(N,)`` (or None for unlabelled data).
        table: the ``(6, 4)`` one-hot table when ``x`` holds codes, else None.
    """

    x: torch.Tensor
    y: torch.Tensor | None
    table: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.x.shape[0]

    def inputs(self, index: torch.Tensor | slice) -> torch.Tensor:
        """Model inputs for ``index``: ``(B, C, ...)`` float32."""
        x = self.x[index]
        if self.table is None:
            return x
        return self.table[x.long()].transpose(1, 2)  # (B, L, 4) -> (B, 4, L)


def sequence_set(codes: np.ndarray, labels: np.ndarray | None, device: torch.device | str = "cpu", unknown: str = "uniform") -> TensorSet:
    """Put encoded sequences on ``device``; one-hot now if small, else per batch.

    Args:
        codes: uint8 codes ``(N, L)``.
        labels: int labels ``(N,)`` or None.
        device: where the tensors live.
        unknown: how N is encoded (see :func:`seqcnn.sequence.onehot_table`).
    """
    table = torch.from_numpy(onehot_table(unknown)).to(device)
    x = torch.from_numpy(np.ascontiguousarray(codes)).to(device)
    y = None if labels is None else torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(device)
    data = TensorSet(x, y, table)
    if codes.size * 16 <= EAGER_ONEHOT_BYTES:
        data = TensorSet(data.inputs(slice(None)).contiguous(), y, None)
    return data


def image_set(images: np.ndarray, labels: np.ndarray | None, device: torch.device | str = "cpu") -> TensorSet:
    """Put float images ``(N, C, H, W)`` on ``device``."""
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(device)
    y = None if labels is None else torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(device)
    return TensorSet(x, y, None)


def batches(data: TensorSet, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """Yield ``(inputs, labels)`` batches, in a shuffled order when asked."""
    n = len(data)
    if shuffle:
        order = torch.randperm(n, generator=generator).to(data.x.device)
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            yield data.inputs(index), None if data.y is None else data.y[index]
    else:
        for start in range(0, n, batch_size):
            index = slice(start, start + batch_size)
            yield data.inputs(index), None if data.y is None else data.y[index]
