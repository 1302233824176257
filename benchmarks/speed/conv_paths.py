"""Conv1D on the CPU: oneDNN's convolution against seqcnn's sliding-window matrix product.

    .venv/bin/python -m benchmarks.speed.conv_paths [--threads 1]

For the primer, DeepBind, zeng2016-1layer_128motif and default ChIP-seq (``chipseq``) models, at batch sizes
32 to 1,024, the
milliseconds of a training step's forward and backward pass (no optimiser) and of an inference
forward pass, with ``seqcnn.models.network.FAST_CPU_PATHS`` off (torch's own path) and on (the
default, which takes the matrix product in training when its window matrix holds at most a
million values; see :class:`seqcnn.models.network.Conv1D`). Also the 50-epoch primer fit with
both. Results: ``benchmarks/results/speed/conv_paths-<machine>.json`` and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import time
from datetime import date

import torch

from benchmarks.harness import machine, result_path, write_json
from seqcnn.models import network, zoo  # noqa: E402
from seqcnn.models.network import build_model  # noqa: E402


def per_call_ms(fn, repeats: int) -> float:
    fn()
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e3


def step_times(name: str, length: int, batch: int, repeats: int) -> dict:
    torch.manual_seed(0)
    from seqcnn.models.lookup import resolve_spec

    model = build_model(resolve_spec(name, classes=2, input_shape=(4, length)), (4, length))  # zoo names and "chipseq"
    x = torch.randn(batch, 4, length)
    row = {"model": name, "batch": batch}
    for fast in (False, True):
        network.FAST_CPU_PATHS = fast
        with torch.inference_mode():
            row[f"infer_{'fast' if fast else 'torch'}"] = per_call_ms(lambda: model(x), repeats)
        row[f"train_{'fast' if fast else 'torch'}"] = per_call_ms(lambda: model(x).square().mean().backward(), repeats)
    network.FAST_CPU_PATHS = True
    return row


def primer_fit(fast: bool) -> float:
    from benchmarks.parity.primer import primer_split
    from seqcnn.data.batches import tensor_set
    from seqcnn.training.loop import fit
    from seqcnn.training.recipes import RECIPES

    train, val, _ = primer_split()
    sets = [tensor_set(s, "cpu") for s in (train, val)]
    network.FAST_CPU_PATHS = fast
    torch.manual_seed(0)
    model = build_model(zoo.get("primer"), train.input_shape)
    start = time.perf_counter()
    fit(model, sets[0], sets[1], RECIPES["seqcnn"], progress=False)
    network.FAST_CPU_PATHS = True
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    importlib.import_module("torch._dynamo")  # imported by the first optimiser; kept out of the fit times

    rows = [step_times(name, length, batch, args.repeats)
            for name, length in (("primer", 50), ("deepbind", 101), ("zeng2016-1layer_128motif", 101), ("chipseq", 101))
            for batch in (32, 64, 128, 256, 512, 1024)]
    fits = {"torch": [], "fast": []}
    for _ in range(3):
        for fast in (False, True):
            fits["fast" if fast else "torch"].append(round(primer_fit(fast), 3))
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "torch": torch.__version__,
        "threads": args.threads,
        "steps": rows,
        "primer_fit_seconds": fits,
    }
    write_json(result_path(__file__, "json"), result)
    print(
        f"{result['date']}, torch {result['torch']}, {args.threads} thread(s); ms per call, torch's path -> seqcnn's "
        "default\n"
    )
    print("| model | batch | training forward+backward | inference forward |\n|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | {r['batch']} | {r['train_torch']:.2f} -> {r['train_fast']:.2f} | "
            f"{r['infer_torch']:.2f} -> {r['infer_fast']:.2f} |"
        )
    print(f"\nPrimer 50-epoch fit (s): torch's path {fits['torch']}, seqcnn's default {fits['fast']}")


if __name__ == "__main__":
    main()
