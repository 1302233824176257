"""Precision that fits the CPU: bf16 against float32 where the CPU computes bf16 natively or emulates it.

Two measurements, each under this CPU's own kernels and under AVX2 kernels (``ATEN_CPU_CAPABILITY=avx2
ONEDNN_MAX_CPU_ISA=AVX2``: what torch and oneDNN run on an AVX2-only CPU such as an AMD EPYC of 2019):

1. one training step of the Fashion-MNIST CNN (1.4 M parameters) at batch 32 on one thread, float32 and bf16
   autocast, channels-last as the ``fashion`` recipe trains it (median of ``--steps`` steps after one warm-up);
2. the whole command ``seqcnn train fashion10k.npz --input-shape 28,28,1 --epochs 2`` with the defaults
   (the ``fashion`` recipe: seqcnn keeps its bf16 only where it is native), on 10,000 Fashion-MNIST test images
   as flat rows (a stand-in for MNIST's test file), wall time and the precision it chose.

    .venv/bin/python -m benchmarks.speed.precision [--steps 5] [--skip-command]

Writes ``benchmarks/results/speed/precision-<machine>.json`` and prints a table for docs/benchmarks/fashion.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import FASHION, result_path, write_text

SETTINGS = {"native": {}, "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}}

STEP = r"""
import json, statistics, sys, time, torch
from seqcnn.training.devices import bf16_support
from seqcnn.models.lookup import resolve_spec
from seqcnn.models.network import build_model
torch.set_num_threads(1)
torch.manual_seed(0)
steps = int(sys.argv[1])
spec = resolve_spec("fashion-cnn", classes=10, input_shape=(1, 28, 28))
model = build_model(spec, (1, 28, 28)).to(memory_format=torch.channels_last)
x = torch.randn(32, 1, 28, 28).to(memory_format=torch.channels_last)
y = torch.randint(0, 10, (32,))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
out = {"capability": torch.backends.cpu.get_cpu_capability(), "bf16_native": bf16_support(torch.device("cpu"))}
for precision in ("fp32", "bf16"):
    times = []
    for i in range(steps + 1):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.float(), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i:
            times.append(time.perf_counter() - start)
    out[precision] = statistics.median(times)
print(json.dumps(out))
"""


def environment(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")}
    return {**env, **extra, "SEQCNN_REPORT_WORKERS": "0"}


def step_times(extra: dict, steps: int) -> dict:
    done = subprocess.run([sys.executable, "-c", STEP, str(steps)], capture_output=True, text=True,
                          env=environment(extra), check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def fashion_npz(path: Path) -> None:
    """The 10,000 Fashion-MNIST test images as flat rows (N, 784) with their labels."""
    import numpy as np

    from seqcnn.io.idx import read_idx

    images = read_idx(FASHION / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)
    labels = read_idx(FASHION / "t10k-labels-idx1-ubyte.gz")
    np.savez(path, x=images, y=labels)


def command_time(extra: dict, data: Path, out: Path) -> dict:
    command = [sys.executable, "-m", "seqcnn", "train", str(data), "--input-shape", "28,28,1", "--epochs", "2",
               "--out", str(out), "--quiet"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=environment(extra))
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    config = json.loads((out / "config.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    return {"seconds": round(seconds, 1), "precision": config["train"]["precision"],
            "chosen": config.get("precision"), "accuracy": round(metrics["accuracy"], 4),
            "device": config["machine"]["device"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--skip-command", action="store_true")
    args = parser.parse_args()
    result = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "settings": {}}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "fashion10k.npz"
        if not args.skip_command:
            fashion_npz(data)
        for name, extra in SETTINGS.items():
            row = {"steps": step_times(extra, args.steps)}
            if not args.skip_command:
                row["command"] = command_time(extra, data, Path(tmp) / f"run-{name}")
            result["settings"][name] = row
            print(name, json.dumps(row), flush=True)
    write_text(result_path(__file__, "json"), json.dumps(result, indent=1) + "\n")
    print(f"\n{result['machine']}, {result['cpus']} CPUs, {result['date']}")
    print("| kernels | bf16 native? | fp32 step (s) | bf16 step (s) | bf16 / fp32 | `train --epochs 2` (s) "
          "| precision |")
    print("|---|---|---|---|---|---|---|")
    for row in result["settings"].values():
        steps, command = row["steps"], row.get("command", {})
        print(f"| {steps['capability']} | {'yes' if steps['bf16_native'][0] else 'no'} | {steps['fp32']:.3f} | "
              f"{steps['bf16']:.3f} | {steps['bf16'] / steps['fp32']:.1f} | {command.get('seconds', '')} | "
              f"{command.get('precision', '')} |")


if __name__ == "__main__":
    main()
