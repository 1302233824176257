"""GPU training throughput from an on-disk store: bf16 autocast, pinned memory, non-blocking copies.

For the ``deepbind`` zoo model (101 bp) and a Basset-sized model (Kelley et al. 2016: three
convolutions of 300/200/200 filters, two dense layers of 1,000, 164 sigmoid outputs, 600 bp,
about 4.1 M parameters, defined below since the zoo lacks it), this measures:

* loader alone: batches/s of ``seqcnn.data.batches`` over a ``StoreSet`` on the device
  (memory-mapped read, pinned host copy, non-blocking transfer, one-hot on the device,
  two batches read ahead by a background thread);
* step alone: batches/s of ``seqcnn.training.train_step`` on a batch already on the device;
* training from the store: sequences/s of both together, with GPU utilisation sampled by
  ``nvidia-smi`` every 200 ms during the timed part.

It runs, slowly, on the CPU too (``--device cpu``), which is how it is tested. Usage on a GPU
machine, from the repository root::

    python3 -m benchmarks.speed.gpu --seconds 20

Results: ``benchmarks/results/speed/gpu-<machine>.json`` (the GPU's model, e.g. ``gpu-h100.json``; ``--out``
names another file) and a Markdown table on stdout; the ``nvidia-smi`` samples stay in ``--work``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import calls_within, result_path

#: Basset (Kelley, Snoek and Rinn 2016, Genome Research 26:990), in seqcnn's spec language.
BASSET = {
    "name": "basset",
    "description": "Basset-sized: 300x19, 200x11, 200x7 convolutions with batch norm, 2 x Dense 1000, 164 sigmoid "
                   "outputs",
    "layers": [
        {"Conv1D": {"filters": 300, "kernel_size": 19}},
        {"BatchNormalization": {}},
        {"Activation": {"activation": "relu"}},
        {"MaxPooling1D": {"pool_size": 3}},
        {"Conv1D": {"filters": 200, "kernel_size": 11}},
        {"BatchNormalization": {}},
        {"Activation": {"activation": "relu"}},
        {"MaxPooling1D": {"pool_size": 4}},
        {"Conv1D": {"filters": 200, "kernel_size": 7}},
        {"BatchNormalization": {}},
        {"Activation": {"activation": "relu"}},
        {"MaxPooling1D": {"pool_size": 4}},
        {"Flatten": {}},
        {"Dense": {"units": 1000, "activation": "relu"}},
        {"Dropout": {"rate": 0.3}},
        {"Dense": {"units": 1000, "activation": "relu"}},
        {"Dropout": {"rate": 0.3}},
        {"Dense": {"units": 164, "activation": "sigmoid"}},
    ],
}
MODELS = {"deepbind": {"length": 101, "classes": 2}, "basset": {"length": 600, "classes": 164}}


def build(name: str):
    """The model ``name`` and its input length."""
    from seqcnn.models import zoo
    from seqcnn.models.network import build_model
    from seqcnn.models.spec import ModelSpec

    length, classes = MODELS[name]["length"], MODELS[name]["classes"]
    spec = ModelSpec.from_obj(BASSET) if name == "basset" else zoo.get(name, classes=classes, input_shape=(4, length))
    return build_model(spec, (4, length)), length, classes


def make_store(path: Path, rows: int, length: int, classes: int) -> Path:
    """A store of random sequences and labels (made once, kept in ``--work``)."""
    from seqcnn.data.store import StoreWriter

    if (path / "manifest.json").is_file():
        return path
    rng = np.random.default_rng(0)
    with StoreWriter(path, length, ids=False, force=True) as writer:
        for start in range(0, rows, 1 << 18):
            n = min(1 << 18, rows - start)
            writer.add(rng.integers(0, 4, size=(n, length), dtype=np.uint8), rng.integers(0, classes, size=n))
    return path


class GpuSampler:
    """``nvidia-smi`` utilisation and memory samples every 200 ms while in a ``with`` block."""

    def __init__(self, log: Path):
        self.log, self.proc = log, None

    def __enter__(self) -> GpuSampler:
        if shutil.which("nvidia-smi"):
            query = [
                "nvidia-smi",
                "--query-gpu=utilization.gpu,memory.used",
                "--format=csv,noheader,nounits",
                "-lms",
                "200",
            ]
            self.proc = subprocess.Popen(query, stdout=open(self.log, "w"), stderr=subprocess.DEVNULL)  # noqa: SIM115
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()

    def summary(self) -> dict | None:
        if self.proc is None or not self.log.is_file():
            return None
        rows = [
            [float(v) for v in line.split(",")[:2]]
            for line in self.log.read_text().splitlines()
            if line.strip() and "," in line
        ]
        if not rows:
            return None
        util = np.array([r[0] for r in rows])
        return {
            "samples": len(rows),
            "utilisation_mean": float(util.mean()),
            "utilisation_median": float(np.median(util)),
            "memory_used_mib_max": float(max(r[1] for r in rows)),
        }


def sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device, seconds: float, warmup: int = 10) -> tuple[int, float]:
    """Call ``fn`` ``warmup`` times, then as often as fits in ``seconds``; returns (calls, seconds)."""
    return calls_within(fn, seconds, warmup, sync=lambda: sync(device))


def bench_model(name: str, args, device, work: Path) -> dict:
    import torch

    from seqcnn.data.batches import batches, store_set
    from seqcnn.data.store import Store
    from seqcnn.training.loop import train_step
    from seqcnn.training.optimizers import make_optimizer
    from seqcnn.training.recipes import TrainConfig

    torch.manual_seed(0)
    model, length, classes = build(name)
    model = model.to(device)
    config = TrainConfig(batch_size=args.batch_size, precision=args.precision, device=str(device))
    optimizer = make_optimizer(model, config)
    store = make_store(work / f"{name}-{args.rows}x{length}", args.rows, length, classes)
    data = store_set(Store(store).all(), device)
    generator = torch.Generator().manual_seed(0)

    def endless():
        while True:
            yield from batches(data, args.batch_size, shuffle=True, generator=generator)

    stream = endless()
    n, secs = timed(lambda: next(stream), device, args.seconds / 3)
    loader = n / secs
    xb, yb = next(stream)
    n, secs = timed(lambda: train_step(model, xb, yb, optimizer, config), device, args.seconds / 3)
    step = n / secs

    def one():
        x, y = next(stream)
        train_step(model, x, y, optimizer, config)

    with GpuSampler(work / f"nvidia-smi-{name}.csv") as sampler:
        n, secs = timed(one, device, args.seconds)
    params = sum(p.numel() for p in model.parameters())
    return {
        "model": name,
        "parameters": params,
        "length": length,
        "batch_size": args.batch_size,
        "precision": args.precision,
        "loader_batches_per_s": loader,
        "step_batches_per_s": step,
        "train_batches_per_s": n / secs,
        "train_sequences_per_s": n * args.batch_size / secs,
        "gpu": sampler.summary(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda when present), cuda or cpu")
    parser.add_argument("--models", default="deepbind,basset")
    parser.add_argument("--rows", type=int, default=200_000, help="rows of each benchmark store")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--precision", default="bf16", help="bf16 (autocast) or fp32")
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="timed training per model (loader and step alone: a third each)"
    )
    parser.add_argument("--work", default="/tmp/seqcnn-gpu-bench", help="folder for the stores")
    parser.add_argument("--out", help="results file (default: benchmarks/results/speed/gpu-<machine>.json)")
    args = parser.parse_args()

    import torch

    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out) if args.out else result_path(__file__, "json", device=str(device))
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    card = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "device": str(device),
        "card": card,
        "torch": torch.__version__,
        "runs": [],
    }
    for name in args.models.split(","):
        result["runs"].append(bench_model(name.strip(), args, device, work))
        print(json.dumps(result["runs"][-1]), flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\n{card} ({device}), torch {torch.__version__}, {args.precision}, batch {args.batch_size}\n")
    print("| model | parameters | loader batches/s | step batches/s | training sequences/s | GPU utilisation (mean) |")
    print("|---|---|---|---|---|---|")
    for r in result["runs"]:
        util = f"{r['gpu']['utilisation_mean']:.0f} %" if r["gpu"] else "n/a"
        print(
            f"| {r['model']} | {r['parameters']:,} | {r['loader_batches_per_s']:,.0f} | "
            f"{r['step_batches_per_s']:,.0f} | {r['train_sequences_per_s']:,.0f} | {util} |"
        )


if __name__ == "__main__":
    main()
