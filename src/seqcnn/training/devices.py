"""The machine a run trains on: the device, the number of torch CPU threads, and the precision it runs natively."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

from seqcnn.errors import InputError
from seqcnn.models.spec import ModelSpec
from seqcnn.training import distributed


def resolve_device(name: str) -> torch.device:
    """``"auto"`` gives CUDA when available, else the CPU; under ``torchrun``, ``cuda`` is this rank's GPU."""
    if name == "auto":
        return distributed.local_device(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    try:
        return distributed.local_device(torch.device(name))
    except RuntimeError:
        raise InputError(f"--device must be 'auto', 'cpu' or 'cuda[:N]', but got {name!r}") from None


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


#: CPU flags (``/proc/cpuinfo``) of instructions that compute in bfloat16: AVX-512 BF16 and AMX on x86-64,
#: the BF16 extension on Arm. Without them torch and oneDNN emulate bf16, slower than float32.
BF16_FLAGS = {"x86": ("avx512_bf16", "amx_bf16"), "arm": ("bf16",)}


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The instruction-set flags of the first CPU in ``cpuinfo`` (x86 ``flags``, Arm ``Features``); empty where
    there is no such file (macOS, Windows)."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return set(value.split())
    return set()


def cpu_bf16(machine: str, capability: str, flags: set[str], onednn_isa: str | None) -> tuple[bool, str]:
    """Whether a CPU computes bfloat16 natively, and the evidence in words.

    Args:
        machine: ``platform.machine()`` (``x86_64``, ``AMD64``, ``aarch64``, ``arm64``).
        capability: ``torch.backends.cpu.get_cpu_capability()``, the vector kernels torch dispatches to
            (``AVX512``, ``AVX2``...; lowered by ``ATEN_CPU_CAPABILITY``).
        flags: the CPU's flags (:func:`cpu_flags`).
        onednn_isa: the ``ONEDNN_MAX_CPU_ISA`` cap on oneDNN's kernels, when set.
    """
    arch = "x86" if machine.lower() in ("x86_64", "amd64", "i686", "x86") else "arm" if machine.lower() in (
        "aarch64", "arm64") else ""
    if not arch:
        return False, f"no bf16 instructions known for a {machine or 'unknown'} CPU"
    found = [f for f in BF16_FLAGS[arch] if f in flags]
    if not found:
        wanted = " or ".join(BF16_FLAGS[arch])
        return False, f"this CPU has no bf16 instructions ({wanted} not among its flags)"
    if arch == "x86" and not capability.upper().startswith("AVX512"):
        return False, f"torch runs this CPU's {capability} kernels, which emulate bf16"
    if onednn_isa and onednn_isa.upper() != "ALL" and not any(k in onednn_isa.upper() for k in ("BF16", "AMX")):
        return False, f"ONEDNN_MAX_CPU_ISA={onednn_isa} keeps oneDNN below its bf16 kernels"
    return True, f"this CPU computes bf16 natively ({', '.join(found)})"


def bf16_support(device: torch.device) -> tuple[bool, str]:
    """Whether ``device`` computes bfloat16 natively, and the evidence in words."""
    if device.type == "cuda":
        native = torch.cuda.is_bf16_supported()
        name = torch.cuda.get_device_name(device)
        return native, f"{name} {'computes bf16 natively' if native else 'has no bf16 units'}"
    if device.type != "cpu":
        return False, f"bf16 on {device.type} is not known to be native"
    return cpu_bf16(platform.machine(), torch.backends.cpu.get_cpu_capability(), cpu_flags(),
                    os.environ.get("ONEDNN_MAX_CPU_ISA"))


def fit_precision(asked: str, by_user: bool, device: torch.device) -> tuple[str, dict | None]:
    """The precision a run trains in, and the record of the choice (None when there was none to make).

    A recipe's bf16 is kept only where the device computes bf16 natively: on a CPU that emulates it, a training
    step of the Fashion-MNIST CNN takes 3x (AVX-512 without BF16) to 15x (AVX2) as long as in float32
    (BENCHMARKS.md, Any machine). A precision the user named (``--precision``) is kept as it is.
    """
    if asked != "bf16" or by_user:
        return asked, None
    native, evidence = bf16_support(device)
    used = "bf16" if native else "fp32"
    return used, {"asked": asked, "used": used, "evidence": evidence}


def precision_line(record: dict) -> str:
    """The line that says which precision a run trains in and why."""
    if record["used"] == record["asked"]:
        return f"seqcnn: precision: {record['used']}, the recipe's ({record['evidence']})"
    return (f"seqcnn: precision: {record['used']} instead of the recipe's {record['asked']}: {record['evidence']}, "
            f"so {record['asked']} would be emulated and slower; --precision {record['asked']} forces it")
