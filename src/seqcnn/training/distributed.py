"""Data-parallel training on PyTorch's own engine: ``torchrun`` and ``torch.distributed``.

Run any training command under ``torchrun`` (``docs/scale.md``)::

    torchrun --standalone --nproc_per_node 4 -m seqcnn train STORE --model deepbind

``torchrun`` starts one process per GPU (or per CPU worker) and sets ``RANK``, ``WORLD_SIZE``
and ``LOCAL_RANK``; :func:`setup` finds them and joins the process group, with NCCL when the
model runs on CUDA and gloo on the CPU. :func:`seqcnn.training.loop.fit` then wraps the model in
``DistributedDataParallel`` (gradients all-reduced after every backward pass), each rank
trains on its slice of every global batch (:func:`seqcnn.data.batches.batches`), losses and
accuracies are summed across ranks, and only rank 0 shows progress and writes the run folder.

Without ``torchrun`` (``WORLD_SIZE`` unset or 1) every function here is a no-op, so the
single-process path is unchanged to the last digit.
"""

from __future__ import annotations

import hashlib
import os
import sys
from datetime import timedelta

import torch
import torch.distributed as dist

from seqcnn.errors import RunError


def world_size() -> int:
    """Number of processes in this job (1 outside ``torchrun``)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's rank, 0 .. world_size - 1 (0 outside ``torchrun``)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    """This process's index on its machine (picks its GPU)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main() -> bool:
    """Whether this process is rank 0, the one that prints and writes files."""
    return rank() == 0


def active() -> bool:
    """Whether more than one process takes part (a process group is, or will be, needed)."""
    return world_size() > 1


def shard() -> tuple[int, int]:
    """``(rank, world_size)``, the ``shard`` argument of :func:`seqcnn.data.batches.batches`."""
    return rank(), world_size()


def local_device(device: torch.device) -> torch.device:
    """Under ``torchrun``, a CUDA device without an index becomes this rank's GPU (``cuda:LOCAL_RANK``)."""
    if device.type == "cuda" and device.index is None and active():
        return torch.device("cuda", local_rank())
    return device


def backend_for(device: torch.device) -> str:
    """``"nccl"`` for CUDA devices, ``"gloo"`` otherwise."""
    return "nccl" if device.type == "cuda" else "gloo"


def setup(device: torch.device | str = "cpu", timeout_minutes: float = 30.0) -> bool:
    """Join the ``torchrun`` process group once (idempotent); returns whether distributed.

    The backend is NCCL when ``device`` is CUDA (each rank on ``cuda:LOCAL_RANK``), else gloo.
    Ranks other than 0 stop writing to stdout, so a command prints its results once.

    Raises:
        RunError: when torch was built without ``torch.distributed``.
    """
    if not active():
        return False
    if not dist.is_available():
        raise RunError("WORLD_SIZE > 1, but this torch build has no torch.distributed; run without torchrun")
    if dist.is_initialized():
        return True
    auto = str(device) == "auto"
    device = local_device(
        torch.device("cuda" if torch.cuda.is_available() else "cpu") if auto else torch.device(device)
    )
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend_for(device), timeout=timedelta(minutes=timeout_minutes))
    if not is_main():
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    return True


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` in :class:`DataParallel` when distributed, else ``model`` itself.

    Wrapping broadcasts rank 0's weights, so every rank starts from the same model. On CUDA,
    BatchNorm layers become ``SyncBatchNorm`` (statistics over the global batch).
    """
    if not active():
        return model
    device = next(model.parameters()).device
    setup(device)
    if device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return DataParallel(model, device_ids=[device.index])
    return DataParallel(model)


class DataParallel(torch.nn.parallel.DistributedDataParallel):
    """``DistributedDataParallel`` that passes on the spec model's ``output_activation``."""

    @property
    def output_activation(self) -> str | None:
        return getattr(self.module, "output_activation", None)


def loss_weight(local: int, step: int, total: int, batch_size: int) -> float:
    """Factor on a rank's mean loss so that DDP's average of gradients is the global batch's mean.

    DDP averages gradients over ranks; a rank holding ``local`` of the ``n`` examples of global
    batch ``step`` weighs its mean loss by ``local * world / n``, which makes the average
    exactly the gradient of the mean over the whole global batch, even for an uneven last batch.
    """
    world = world_size()
    if world == 1:
        return 1.0
    n = min(batch_size, total - step * batch_size)
    return local * world / n


def sum_all(*values: torch.Tensor | float | int) -> list[float]:
    """Sum numbers over all ranks (float64); the numbers themselves when not distributed."""
    if not (active() and dist.is_initialized()):
        return [v.item() if isinstance(v, torch.Tensor) else v for v in values]
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    packed = torch.tensor(
        [float(v.item() if isinstance(v, torch.Tensor) else v) for v in values], dtype=torch.float64, device=device
    )
    dist.all_reduce(packed)
    return packed.tolist()


def sum_array(values):
    """Element-wise sum of a numpy array over all ranks (float64, exact for counts below 2**53); the
    array itself when not distributed."""
    if not (active() and dist.is_initialized()):
        return values
    packed = torch.from_numpy(values.astype("float64"))
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    packed = packed.to(device)
    dist.all_reduce(packed)
    return packed.cpu().numpy().astype(values.dtype)


def gather_rows(local: torch.Tensor, total: int) -> torch.Tensor:
    """Concatenate every rank's rows ``(n_r, ...)`` in rank order into ``(total, ...)`` on every rank.

    Ranks may hold different numbers of rows (contiguous shards of an ordered pass); they are
    padded to the largest for ``all_gather`` and trimmed after.
    """
    if not (active() and dist.is_initialized()):
        return local
    world = world_size()
    sizes = [total * (r + 1) // world - total * r // world for r in range(world)]
    padded = torch.zeros((max(sizes), *local.shape[1:]), dtype=local.dtype, device=local.device)
    padded[: len(local)] = local
    parts = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(parts, padded)
    return torch.cat([p[:n] for p, n in zip(parts, sizes)])


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of a model's parameters and buffers, in ``state_dict`` order."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def check_same_weights(model: torch.nn.Module) -> list[str]:
    """Digests of the model's weights on every rank (one entry when not distributed).

    Raises:
        RunError: when the ranks' weights differ (they must stay identical under DDP).
    """
    mine = weights_digest(model)
    if not (active() and dist.is_initialized()):
        return [mine]
    every: list[str | None] = [None] * world_size()
    dist.all_gather_object(every, mine)
    if len(set(every)) != 1:
        raise RunError(
            f"weights differ across ranks after training (digests {', '.join(d[:12] for d in every)}); this is a bug, "
            "please report it"
        )
    return every


def broadcast(obj):
    """Rank 0's ``obj`` on every rank (``obj`` itself when not distributed)."""
    if not (active() and dist.is_initialized()):
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier() -> None:
    """Wait for every rank (nothing when not distributed)."""
    if active() and dist.is_initialized():
        dist.barrier()


def record(model: torch.nn.Module) -> dict | None:
    """``{"world_size", "backend", "weights_sha256"}`` of a finished distributed job, for ``config.json``.

    Every rank must call it (it gathers each rank's weight digest, see :func:`check_same_weights`);
    None when single-process.
    """
    if not (active() and dist.is_initialized()):
        return None
    return {"world_size": world_size(), "backend": dist.get_backend(), "weights_sha256": check_same_weights(model)}


def augment_generator(generator: torch.Generator, seed: int, epoch: int) -> torch.Generator:
    """The generator for augmentations: ``generator`` itself in one process; under ``torchrun``
    one per rank and epoch, so that augmenting slices of different sizes never puts the ranks'
    shared batch-order generator out of step."""
    if not active():
        return generator
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) * 4099 + rank())
