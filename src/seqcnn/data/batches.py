"""Tensors and batching, in memory or from an on-disk store.

Sequences travel as uint8 base codes ``(N, L)`` (1 byte per base) and are one-hot encoded on
the device, batch by batch, into ``(B, 4, L)`` float32; small sets are encoded once up front.
Images travel as float tensors ``(N, C, H, W)``.

A :class:`StoreSet` reads its batches from a memory-mapped :mod:`seqcnn.data.store` instead: only
the codes of one batch are copied (into pinned memory on a GPU, then sent without blocking),
so a data set larger than RAM trains in bounded memory.

Under ``torchrun`` each rank takes its share of every global batch (``shard=(rank, world)``),
so N processes with batch B see exactly the batches of one process with batch B.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from seqcnn.data.sets import LabelledSet
from seqcnn.data.store import StorePart
from seqcnn.data.targets import Task
from seqcnn.sequence import onehot_table

#: Below this many one-hot bytes a set is encoded once instead of per batch. Small: a one-hot copy
#: is 16 times the codes (and twice that while it is made), and encoding a batch costs little
#: beside its forward pass (BENCHMARKS.md, Memory and start-up).
EAGER_ONEHOT_BYTES = 16 * 1024 * 1024


@dataclass
class TensorSet:
    """Inputs and labels on one device.

    Attributes:
        x: float inputs ``(N, C, ...)``, or uint8 codes ``(N, L)`` to be one-hot encoded per batch.
        y: int64 labels ``(N,)``, or float32 targets ``(N, T)`` with NaN where a label is missing
            (the mask of the loss and the metrics), or None for unlabelled data.
        table: the ``(6, 4)`` one-hot table when ``x`` holds codes, else None.
        task: the task the targets are for; the loss of float targets needs it.
    """

    x: torch.Tensor
    y: torch.Tensor | None
    table: torch.Tensor | None = None
    task: Task | None = None

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def device(self) -> torch.device:
        return self.x.device

    def inputs(self, index: torch.Tensor | slice) -> torch.Tensor:
        """Model inputs for ``index``: ``(B, C, ...)`` float32."""
        x = self.x[index]
        if self.table is None:
            return x
        return F.embedding(x.long(), self.table).transpose(
            1, 2
        )  # (B, L, 4) -> (B, 4, L); 30x faster than table[x] on CPU


def sequence_set(
    codes: np.ndarray, labels: np.ndarray | None, device: torch.device | str = "cpu", unknown: str = "uniform"
) -> TensorSet:
    """Put encoded sequences on ``device``; one-hot now if small, else per batch.

    Args:
        codes: uint8 codes ``(N, L)``.
        labels: int labels ``(N,)`` or None.
        device: where the tensors live.
        unknown: how N is encoded (see :func:`seqcnn.sequence.onehot_table`).
    """
    table = torch.from_numpy(onehot_table(unknown)).to(device)
    x = torch.from_numpy(np.ascontiguousarray(codes)).to(device)
    y = label_tensor(labels, device)
    data = TensorSet(x, y, table)
    if codes.size * 16 <= EAGER_ONEHOT_BYTES:
        data = TensorSet(data.inputs(slice(None)).contiguous(), y, None)
    return data


def label_tensor(labels: np.ndarray | None, device: torch.device | str = "cpu") -> torch.Tensor | None:
    """Labels on ``device``: int64 classes ``(N,)``, or float32 targets ``(N, T)`` kept as floats (NaN missing)."""
    if labels is None:
        return None
    labels = np.asarray(labels)
    dtype = np.float32 if labels.dtype.kind == "f" and labels.ndim == 2 else np.int64
    return torch.from_numpy(np.ascontiguousarray(labels, dtype=dtype)).to(device)


def image_set(images: np.ndarray, labels: np.ndarray | None, device: torch.device | str = "cpu") -> TensorSet:
    """Put float images ``(N, C, H, W)`` on ``device``."""
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(device)
    return TensorSet(x, label_tensor(labels, device), None)


class StoreSet:
    """Labelled sequences read batch by batch from a memory-mapped store; used like a :class:`TensorSet`.

    A shuffled pass draws the store's blocks of neighbouring rows in random order and shuffles
    the rows of each window of about ``window`` rows, so reads stay local on disk and memory
    holds one window's row numbers, never a permutation of the whole store.

    Args:
        part: the rows to read.
        device: where batches go; codes are one-hot encoded there.
        unknown: how N is encoded (see :func:`seqcnn.sequence.onehot_table`).
        window: rows shuffled together (whole blocks, at least one).
        prefetch: batches read ahead by a background thread (default: 2 on a GPU, 0 on the CPU).
    """

    def __init__(
        self,
        part: StorePart,
        device: torch.device | str = "cpu",
        unknown: str = "uniform",
        window: int = 1 << 16,
        prefetch: int | None = None,
    ):
        self.part = part
        self.store = part.store
        self._device = torch.device(device)
        self.table = torch.from_numpy(onehot_table(unknown)).to(self._device)
        sizes = part.blocks[:, 1] - part.blocks[:, 0] if len(part.blocks) else np.ones(1)
        self.window = max(1, int(window) // int(sizes.max()))  # in blocks
        self.pin = self._device.type == "cuda"
        self.prefetch = (2 if self.pin else 0) if prefetch is None else int(prefetch)
        self._y: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.part)

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def y(self) -> torch.Tensor:
        """All labels ``(N,)`` on the device, in pass order (read once, for evaluation)."""
        if self._y is None:
            self._y = torch.from_numpy(self.part.labels).to(self._device)
        return self._y

    def row_batches(self, batch_size: int, shuffle: bool, generator: torch.Generator | None) -> Iterator[np.ndarray]:
        """Global row numbers of each batch: all batches full but the last, as for a TensorSet."""
        blocks = self.part.blocks
        if shuffle:
            blocks = blocks[torch.randperm(len(blocks), generator=generator).numpy()]
        carry = np.zeros(0, np.int64)
        for w in range(0, len(blocks), self.window):
            rows = np.concatenate([carry] + [np.arange(a, b, dtype=np.int64) for a, b in blocks[w : w + self.window]])
            if shuffle:
                fresh = rows[len(carry):]
                rows = np.concatenate([carry, fresh[torch.randperm(len(fresh), generator=generator).numpy()]])
            full = len(rows) // batch_size * batch_size
            for start in range(0, full, batch_size):
                yield rows[start : start + batch_size]
            carry = rows[full:]
            self.store.release()  # resident memory stays about one window, whatever the store's size
        if len(carry):
            yield carry

    def load(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes ``(B, L)`` uint8 and labels ``(B,)`` of ``rows`` as tensors on the device."""
        codes, labels = self.store.read(rows)
        x, y = torch.from_numpy(codes), torch.from_numpy(labels)
        if self.pin:
            x, y = x.pin_memory(), y.pin_memory()
        return x.to(self._device, non_blocking=True), y.to(self._device, non_blocking=True)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """One-hot ``(B, 4, L)`` float32 of codes ``(B, L)`` already on the device."""
        return F.embedding(x.long(), self.table).transpose(
            1, 2
        )  # (B, L, 4) -> (B, 4, L); 30x faster than table[x] on CPU


def store_set(part: StorePart, device: torch.device | str = "cpu", unknown: str = "uniform") -> StoreSet:
    """A :class:`StoreSet` of a store part on ``device``."""
    return StoreSet(part, device, unknown)


def tensor_set(ds: LabelledSet | StorePart, device: torch.device | str = "cpu") -> TensorSet | StoreSet:
    """A labelled set (sequences or images) as tensors on ``device``; a store part is read batch by batch."""
    if isinstance(ds, StorePart):
        return store_set(ds, device)
    data = sequence_set(ds.x, ds.labels, device) if ds.kind == "sequence" else image_set(ds.x, ds.labels, device)
    data.task = ds.task
    return data


def batches(
    data: TensorSet | StoreSet,
    batch_size: int,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    shard: tuple[int, int] = (0, 1),
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """Yield ``(inputs, labels)`` batches, in a shuffled order when asked.

    Args:
        data: in-memory tensors or a store.
        batch_size: the global batch size B.
        shuffle: draw a new order from ``generator``.
        generator: the random order (every rank must pass one in the same state).
        shard: ``(rank, world)``. Shuffled, each global batch is cut into ``world`` nearly equal
            slices and this rank gets slice ``rank``; a last batch smaller than ``world`` is
            skipped by every rank. In order (evaluation), each rank gets one contiguous run
            of rows.
    """
    rank, world = shard
    if not shuffle and world > 1:
        lo, hi = len(data) * rank // world, len(data) * (rank + 1) // world
        yield from _rows(data, batch_size, lo, hi)
        return
    if isinstance(data, StoreSet):
        if (
            shuffle
        ):  # the pass gets its own generator: the read-ahead thread must not draw from one the caller also uses
            generator = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
        loads = (
            data.load(_slice_of(rows, rank, world))
            for rows in data.row_batches(batch_size, shuffle, generator)
            if len(rows) >= world
        )
        for x, y in _prefetched(loads, data.prefetch):
            yield data.inputs(x), y
        return
    if not shuffle:
        yield from _rows(data, batch_size, 0, len(data))
        return
    order = torch.randperm(len(data), generator=generator).to(data.x.device)
    for start in range(0, len(data), batch_size):
        index = order[start : start + batch_size]
        if len(index) >= world:
            index = _slice_of(index, rank, world)
            yield data.inputs(index), None if data.y is None else data.y[index]


def _slice_of(index, rank: int, world: int):
    """Slice ``rank`` of ``world`` nearly equal contiguous slices of a batch's indices."""
    if world == 1:
        return index
    n = len(index)
    return index[n * rank // world : n * (rank + 1) // world]


def _rows(
    data: TensorSet | StoreSet, batch_size: int, lo: int, hi: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """Batches of the rows ``lo .. hi - 1`` in order."""
    if isinstance(data, StoreSet):
        rows = data.part.rows()[lo:hi] if (lo, hi) != (0, len(data)) else None
        chunks = (
            (rows[s : s + batch_size] for s in range(0, hi - lo, batch_size))
            if rows is not None
            else data.row_batches(batch_size, False, None)
        )
        for x, y in _prefetched((data.load(r) for r in chunks), data.prefetch):
            yield data.inputs(x), y
        return
    for start in range(lo, hi, batch_size):
        index = slice(start, min(start + batch_size, hi))
        yield data.inputs(index), None if data.y is None else data.y[index]


def _prefetched(items: Iterator, depth: int) -> Iterator:
    """``items`` produced ``depth`` ahead by a background thread (as they are when ``depth`` is 0)."""
    if depth <= 0:
        yield from items
        return
    box: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for item in items:
                box.put(item)
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(exc)
        box.put(done)

    threading.Thread(target=produce, daemon=True).start()
    while (item := box.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item
