"""The machine a run trains on: the device and the number of torch CPU threads."""

from __future__ import annotations

import torch

from seqcnn.models.spec import ModelSpec
from seqcnn.training import resolve_device

#: Below this many multiply-adds per example a model trains fastest on one CPU thread (BENCHMARKS.md).
SMALL_MODEL_MACS = 5_000_000
_TORCH_DEFAULT_THREADS: int | None = None


def cpu_threads(threads: int | None, spec: ModelSpec, input_shape: tuple[int, ...], device) -> int:
    """torch CPU threads for a run: the user's choice, else 1 for small models, else torch's.

    Small models (the primer's, DeepBind's) spend their time in per-batch overhead that more
    threads cannot split, and on a busy machine a second thread that has to wait for a core
    slows every step by an order of magnitude (measured: 4.5 s against 35-100 s for the
    primer's 50 epochs).
    """
    global _TORCH_DEFAULT_THREADS
    if _TORCH_DEFAULT_THREADS is None:  # before any run of this process changed it
        _TORCH_DEFAULT_THREADS = torch.get_num_threads()
    if threads:
        return threads
    macs = sum(info.macs for info in spec.analyse(input_shape))
    small = getattr(device, "type", str(device)) == "cpu" and macs < SMALL_MODEL_MACS
    return 1 if small else _TORCH_DEFAULT_THREADS


def use_machine(device_name: str, threads: int | None, spec: ModelSpec, input_shape: tuple[int, ...]) -> torch.device:
    """Resolve the device and set torch's CPU threads for a run (see :func:`cpu_threads`)."""
    device = resolve_device(device_name)
    torch.set_num_threads(cpu_threads(threads, spec, input_shape, device))
    return device


def device_name(device_choice: str, threads: int | None, spec: ModelSpec, input_shape: tuple[int, ...]) -> str:
    """The device a run trains on, in words: ``cpu (2 threads)`` or ``cuda (NVIDIA H100 80GB HBM3)``.

    The thread count is :func:`cpu_threads`'s, the rule training follows, so the ``config.json``
    written before the first epoch already says what the run will use.
    """
    device = resolve_device(device_choice)
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    count = cpu_threads(threads, spec, input_shape, device)
    return f"{device.type} ({count} thread{'s' if count > 1 else ''})"
