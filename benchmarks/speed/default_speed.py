"""Speed of the defaults on the primer's files: one training step against its arithmetic, and the whole process
against the lecture's Keras script.

1. Steps: the default model of labelled tables (``chipseq``: Conv1D 256 x 12, global max pooling, dense) on the
   primer's 50 bp at batch 32, one thread, with AdamW as the ``labelled`` recipe runs it: milliseconds per
   training step with the layers run one by one (the path before the joint Conv1D + global max step) and with
   the joint step (``seqcnn.models.network._WindowsGlobalMax``), against the step's multiply-adds and the time of
   the one matrix product that no path can skip (the forward convolution as a GEMM).
2. Whole process, in alternating pairs (so that a drifting machine load hits both alike):
   ``seqcnn train sequences.txt --labels labels.txt --epochs 50`` (the defaults: chipseq + labelled, 50 epochs,
   batch 32, as the Keras script's protocol) against ``benchmarks/parity/keras_primer.py`` (the primer's Keras
   model, 50 epochs, batch 32) in ``benchmarks/.venv-keras``.

Each under this CPU's own kernels and under AVX2 kernels (``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2``,
what torch runs on an AVX2-only CPU; Keras/TensorFlow keep their own kernels).

    .venv/bin/python -m benchmarks.speed.default_speed --pairs 3 [--steps-only]

Writes ``benchmarks/results/speed/default_speed-<machine>.json`` and prints tables for docs/benchmarks/primer.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import BENCHMARKS, PRIMER, ROOT, keras_python, result_path, timed_command, write_text

KERAS = keras_python()
SETTINGS = {"native": {}, "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}}

STEPS = r"""
import json, statistics, sys, time, torch
from seqcnn.models.lookup import resolve_spec
from seqcnn.models.network import build_model
from seqcnn.training.optimizers import make_optimizer
from seqcnn.training.recipes import TrainConfig
torch.set_num_threads(1)
torch.manual_seed(0)
repeats = int(sys.argv[1])
spec = resolve_spec("chipseq", classes=2, input_shape=(4, 50))
macs = sum(info.macs for info in spec.analyse((4, 50)))  # per example, forward
model = build_model(spec, (4, 50)).train()
config = TrainConfig(optimizer="adamw", lr=3e-3, weight_decay=0.1)
optimizer = make_optimizer(model, config)
x = torch.nn.functional.one_hot(torch.randint(0, 4, (32, 50)), 4).permute(0, 2, 1).float()
y = torch.randint(0, 2, (32,))

def timed(fn):
    for _ in range(20):
        fn()
    best = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(50):
            fn()
        best.append((time.perf_counter() - start) / 50 * 1e3)
    return statistics.median(best)

def step(run):
    def fn():
        loss = torch.nn.functional.cross_entropy(run(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return fn

windows = x.unfold(2, 12, 1).transpose(1, 2).reshape(-1, 48)
weight = torch.randn(48, 256)
out = {
    "capability": torch.backends.cpu.get_cpu_capability(),
    "forward_macs": 32 * macs,
    "layers_ms": timed(step(model.layers)),
    "joint_ms": timed(step(model)),
    "gemm_ms": timed(lambda: windows @ weight),
}
print(json.dumps(out))
"""


def environment(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")}
    return {**env, **extra, "PYTHONPATH": str(ROOT / "src")}


def steps(extra: dict, repeats: int) -> dict:
    done = subprocess.run([sys.executable, "-c", STEPS, str(repeats)], capture_output=True, text=True,
                          env=environment(extra), check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed(command: list[str], env: dict) -> dict:
    run = timed_command(command, env)
    return {"wall": run["wall_s"], "cpu": run["cpu_s"]}


def whole(extra: dict, pairs: int, tmp: Path) -> dict:
    files = [str(PRIMER / "sequences.txt"), str(PRIMER / "labels.txt")]
    ours = [sys.executable, "-m", "seqcnn", "train", files[0], "--labels", files[1], "--epochs", "50",
            "--out", str(tmp / "run"), "--force", "--quiet"]
    theirs = [str(KERAS), str(BENCHMARKS / "parity" / "keras_primer.py"), *files]
    keras_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out: dict = {"seqcnn": [], "keras": []}
    for i in range(pairs):
        order = (("seqcnn", ours, environment(extra)), ("keras", theirs, keras_env))
        for name, command, env in order if i % 2 == 0 else order[::-1]:
            out[name].append(timed(command, env))
            print(name, out[name][-1], flush=True)
    median = {name: statistics.median(r["wall"] for r in runs) for name, runs in out.items()}
    out["ratio"] = round(median["seqcnn"] / median["keras"], 3)
    out["median_wall"] = median
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps-only", action="store_true")
    args = parser.parse_args()
    if not args.steps_only and not KERAS.exists():
        raise SystemExit(f"{KERAS} is missing: see benchmarks/parity/requirements-keras.txt (or pass --steps-only)")
    result = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "settings": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in SETTINGS.items():
            row = {"steps": steps(extra, args.repeats)}
            print(name, json.dumps(row["steps"]), flush=True)
            if not args.steps_only:
                row["whole"] = whole(extra, args.pairs, Path(tmp))
            result["settings"][name] = row
    write_text(result_path(__file__, "json"), json.dumps(result, indent=1) + "\n")
    print(f"\n{result['machine']}, {result['cpus']} CPUs, {result['date']}")
    print("| kernels | forward MACs a step | GEMM floor (ms) | layers one by one (ms) | joint step (ms) |")
    print("|---|---|---|---|---|")
    for row in result["settings"].values():
        s = row["steps"]
        print(f"| {s['capability']} | {s['forward_macs'] / 1e6:.1f} M | {s['gemm_ms']:.2f} | {s['layers_ms']:.2f} | "
              f"{s['joint_ms']:.2f} |")
    if not args.steps_only:
        print("\n| kernels | seqcnn, defaults, 50 epochs (s) | Keras script (s) | ratio |")
        print("|---|---|---|---|")
        for row in result["settings"].values():
            w = row["whole"]
            print(f"| {row['steps']['capability']} | {w['median_wall']['seqcnn']:.2f} | "
                  f"{w['median_wall']['keras']:.2f} | {w['ratio']:.3f} |")


if __name__ == "__main__":
    main()
