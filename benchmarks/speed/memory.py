"""Peak resident memory of ``seqcnn train`` on ENCODE experiments (docs/benchmarks/startup.md, memory).

Runs ``python -m seqcnn train <name>_AC.seq.gz --test <name>_B.seq.gz`` (the ENCODE default: 4
dinucleotide shuffles per positive, the ``chipseq`` recipe) under ``/usr/bin/time -v`` with one or
more source trees, and writes one row per run to ``benchmarks/results/speed/memory-<machine>.tsv`` (replacing
the row of the same tree label, experiment and epochs from an earlier run): peak RSS,
wall, user and system seconds, and the test AUROC. ``--epochs`` caps the run (the peak of a
full run is reached in its first epochs: the per-epoch buffers are freed at every epoch's end);
without it the recipe's own epochs and early stopping run.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.speed.memory --src before=/tmp/base/src --src after=src \\
        --experiments GABPA,FOXA1 --epochs 2

``--stages NAME`` instead prints the resident memory (now and peak) of this process after each
step of a run on experiment NAME, with the source tree on ``sys.path``: load, split, tensors,
model, an evaluation of the validation set, 100 training steps, another evaluation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import ENCODE, result_path, write_text

RESULTS = result_path(__file__, "tsv")
COLUMNS = ("date", "tree", "experiment", "epochs", "peak_rss_mb", "wall_s", "user_s", "sys_s", "auroc", "machine")


def experiment_files(name: str) -> tuple[Path, Path]:
    """The AC (training) and B (test) files of an experiment named by its first word, e.g. ``GABPA``."""
    found = sorted(ENCODE.glob(f"{name}_*_AC.seq.gz"))
    if len(found) != 1:
        raise SystemExit(f"{ENCODE}: expected one {name}_*_AC.seq.gz, found {len(found)}")
    return found[0], Path(str(found[0]).replace("_AC.seq.gz", "_B.seq.gz"))


def measure(src: Path, name: str, epochs: int | None, out: Path) -> dict:
    """One run under ``/usr/bin/time -v``: peak RSS (MB), seconds and the test AUROC."""
    train, test = experiment_files(name)
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "seqcnn", "train", str(train), "--test", str(test),
           "--out", str(out), "--force", "--quiet"]
    if epochs:
        cmd += ["--epochs", str(epochs)]
    env = {**os.environ, "PYTHONPATH": str(src.resolve()), "MPLBACKEND": "Agg"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])

    def field(label: str) -> str:
        return re.search(rf"{re.escape(label)}: (.+)", done.stderr).group(1).strip()

    h, m, s = (["0"] + field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"))[-3:]
    metrics = json.loads((out / "metrics.json").read_text())
    return {"peak_rss_mb": round(int(field("Maximum resident set size (kbytes)")) / 1024),
            "wall_s": round(int(h) * 3600 + int(m) * 60 + float(s), 1), "user_s": float(field("User time (seconds)")),
            "sys_s": float(field("System time (seconds)")), "auroc": round(metrics["auroc"], 4)}


def stages(name: str) -> None:
    """Resident memory after each step of a run on ``name`` (see the module docstring)."""
    import dataclasses

    import torch

    from seqcnn.data.batches import TensorSet, tensor_set
    from seqcnn.data.load import load_data
    from seqcnn.data.split import split_bundle
    from seqcnn.models.lookup import resolve_spec
    from seqcnn.models.network import build_model
    from seqcnn.training.loop import evaluate, train_epoch
    from seqcnn.training.optimizers import make_optimizer
    from seqcnn.training.recipes import RECIPES

    def show(step: str) -> None:
        status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        print(f"{step:<28} RSS {status['VmRSS'].strip():>12}  peak {status['VmHWM'].strip():>12}", flush=True)

    show("imports")
    train, test = experiment_files(name)
    bundle = load_data(train, test=test)
    show(f"load ({len(bundle.train)} sequences)")
    parts = split_bundle(bundle, 0.25, 0.1, 0)
    show("split")
    train_set, val_set = tensor_set(parts[0]), tensor_set(parts[1])
    show(f"tensors ({train_set.x.dtype})")
    spec = resolve_spec(bundle.default_model, classes=2, input_shape=parts[0].input_shape)
    net = build_model(spec, parts[0].input_shape)
    evaluate(net, val_set)
    show("evaluate validation")
    config = dataclasses.replace(RECIPES[bundle.default_recipe])
    n = min(len(train_set), 100 * config.batch_size)
    first = TensorSet(train_set.x[:n], train_set.y[:n], train_set.table)
    train_epoch(net, first, make_optimizer(net, config), None, config, torch.Generator().manual_seed(0), 1)
    show("100 training steps")
    evaluate(net, val_set)
    show("evaluate validation")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", metavar="NAME", help="memory after each step of a run, in this process")
    parser.add_argument("--src", action="append", default=[], metavar="NAME=PATH",
                        help="a source tree to measure (repeatable), e.g. after=src")
    parser.add_argument("--experiments", default="GABPA", help="comma-separated experiment names")
    parser.add_argument("--epochs", type=int, help="cap on the epochs (default: the recipe's)")
    args = parser.parse_args()
    if args.stages:
        return stages(args.stages)
    trees = dict(item.split("=", 1) for item in args.src)
    machine = f"{platform.node()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    rows = [line.split("\t") for line in RESULTS.read_text().splitlines()[1:]] if RESULTS.is_file() else []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.experiments.split(","):
            for tree, src in trees.items():
                row = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "tree": tree, "experiment": name,
                       "epochs": args.epochs or "recipe", **measure(Path(src), name, args.epochs, Path(tmp) / tree),
                       "machine": machine}
                print(json.dumps(row), flush=True)
                key = [str(row[c]) for c in ("tree", "experiment", "epochs")]
                rows = [r for r in rows if r[1:4] != key] + [[str(row[c]) for c in COLUMNS]]
                write_text(RESULTS, "".join("\t".join(r) + "\n" for r in [list(COLUMNS), *rows]))


if __name__ == "__main__":
    main()
