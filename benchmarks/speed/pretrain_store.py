"""Peak memory of ``seqcnn pretrain`` from a store against the same sequences from a FASTA file.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.speed.pretrain_store
    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.speed.pretrain_store --sizes 100000,400000 --length 200
    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.speed.pretrain_store --sizes 1600000 --length 200 --append

For each size N, N random sequences of ``--length`` bp are written once as a store (streamed
through ``seqcnn.data.store.StoreWriter``, never held whole) and once as a FASTA file; then
``seqcnn pretrain`` runs on each in its own process (one torch thread, a small convolution spec
so that the data path, not the model, is what is measured; one epoch, k-mer baselines included)
and the parent reads the child's peak resident set size (``ru_maxrss`` from ``os.wait4``) and
CPU time. From a store, memory should stay flat as N grows; from a file it grows with N (the
strings and the codes are in memory).

Results: ``benchmarks/results/speed/pretrain_store-<machine>.json``; ``--append`` keeps the rows of other sizes
from an earlier run (a row of the same size and input is replaced).
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
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from benchmarks.harness import ROOT, result_path

SPEC = [{"Conv1D": {"filters": 16, "kernel_size": 9, "padding": "same", "activation": "relu"}},
        {"Conv1D": {"filters": 4, "kernel_size": 1}}]
CHUNK = 50_000


def write_data(n: int, length: int, folder: Path, labelled: bool = False) -> tuple[Path, Path]:
    """The same ``n`` random sequences as a store and as a FASTA file, written chunk by chunk; with
    ``labelled``, random 0/1 labels (in the store, and as ``label=`` in the FASTA headers)."""
    from seqcnn.data.store import StoreWriter

    rng = np.random.default_rng(0)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    store, fasta = folder / f"s{n}.store", folder / f"s{n}.fa"
    with StoreWriter(store, length, ids=False) as writer, open(fasta, "wb") as handle:
        for start in range(0, n, CHUNK):
            codes = rng.integers(0, 4, (min(CHUNK, n - start), length), dtype=np.uint8)
            labels = rng.integers(0, 2, len(codes)) if labelled else np.ones(len(codes), np.int64)
            writer.add(codes, labels)
            text = letters[codes]
            tags = [b" label=%d" % y if labelled else b"" for y in labels]
            handle.write(b"".join(b">r%d%s\n%s\n" % (start + i, tag, row.tobytes())
                                  for i, (tag, row) in enumerate(zip(tags, text))))
    return store, fasta


def measure(data: Path, spec: Path, out: Path, epochs: int) -> dict:
    """Run ``seqcnn pretrain`` on ``data`` in a child process; its peak RSS (MiB), CPU and wall seconds."""
    used = run_seqcnn("pretrain", data, "--model", spec, "--epochs", epochs, "--batch-size", 256, "--out", out)
    metrics = json.loads((out / "metrics.json").read_text())
    return {**used, "held_out_accuracy": round(metrics["accuracy"], 4), "train_sequences": metrics["train_sequences"]}


def run_seqcnn(*args) -> dict:
    """``python -m seqcnn ARGS --force --quiet`` in a child process on one torch thread: its peak RSS (MiB; of
    it and the processes it waited for, ``ru_maxrss`` from ``os.wait4``), CPU and wall seconds."""
    command = [sys.executable, "-m", "seqcnn", *map(str, args), "--force", "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT / "src")}
    started = time.time()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = child.stdout.read().decode()  # before waiting: a full pipe would block the child
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output}")
    return {"peak_rss_mib": round(usage.ru_maxrss / 1024, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "wall_s": round(time.time() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50000,200000", help="numbers of sequences, comma-separated")
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--append", action="store_true", help="add to the rows already in the results file")
    parser.add_argument("--inputs", default="store,fasta", help="store, fasta or both (default)")
    args = parser.parse_args()
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()} {platform.processor()}, {os.cpu_count()} cores",
              "load_average": os.getloadavg(), "args": vars(args), "rows": []}
    out_file = result_path(__file__, "json")
    if args.append and out_file.is_file():
        result["rows"] = json.loads(out_file.read_text())["rows"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spec = tmp / "spec.json"
        spec.write_text(json.dumps(SPEC))
        for n in [int(s) for s in args.sizes.split(",")]:
            store, fasta = write_data(n, args.length, tmp)
            for kind, data in (("store", store), ("fasta", fasta)):
                if kind not in args.inputs.split(","):
                    continue
                row = {"sequences": n, "length": args.length, "input": kind,
                       "data_mib": round(n * args.length / 2**20, 1),
                       **measure(data, spec, tmp / f"run-{kind}-{n}", args.epochs)}
                print(row, flush=True)
                key = (n, args.length, kind)
                result["rows"] = [r for r in result["rows"] if (r["sequences"], r["length"], r["input"]) != key]
                result["rows"].append(row)
                out_file.write_text(json.dumps(result, indent=1) + "\n")
            for path in (store, fasta):
                subprocess.run(["rm", "-rf", str(path)], check=True)
    out_file.write_text(json.dumps(result, indent=1) + "\n")
    print(f"results: {out_file}")


if __name__ == "__main__":
    main()
