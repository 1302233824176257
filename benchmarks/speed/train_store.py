"""Peak memory of ``seqcnn train`` from a store against the same sequences from a FASTA file.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.speed.train_store --sizes 100000,400000,1600000

For each size N, N random 200 bp sequences with random 0/1 labels are written once as a store and
once as a FASTA file (``label=`` in the headers; ``benchmarks/speed/pretrain_store.py``'s writer), then
``seqcnn train`` runs one epoch of the ``deepbind`` model on each in its own process (one torch
thread, batch 256), and the parent reads the peak resident set size of the child and the processes
it waited for (``ru_maxrss`` from ``os.wait4``: the largest of them) and the CPU time. The labels are
noise: this measures the data path, not learning. A store's rows are read through memory maps;
the file's pages that a process has touched count in its resident set while they stay cached,
although the kernel can drop them (they are not copies).

Results: ``benchmarks/results/speed/train_store-<machine>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.harness import result_path
from benchmarks.speed.pretrain_store import run_seqcnn, write_data


def measure(data: Path, out: Path) -> dict:
    """Run ``seqcnn train`` on ``data`` in a child process; its peak RSS (MiB), CPU and wall seconds, the split."""
    used = run_seqcnn("train", data, "--model", "deepbind", "--epochs", 1, "--batch-size", 256, "--out", out)
    return {**used, "split": json.loads((out / "config.json").read_text())["data"]["split"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,400000", help="numbers of sequences, comma-separated")
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--inputs", default="store,fasta", help="store, fasta or both (default)")
    args = parser.parse_args()
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()} {platform.processor()}, {os.cpu_count()} cores",
              "load_average": os.getloadavg(), "args": vars(args), "rows": []}
    out_file = result_path(__file__, "json")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in [int(s) for s in args.sizes.split(",")]:
            store, fasta = write_data(n, args.length, tmp, labelled=True)
            for kind, data in (("store", store), ("fasta", fasta)):
                if kind not in args.inputs.split(","):
                    continue
                row = {"sequences": n, "length": args.length, "input": kind,
                       "data_mib": round(n * args.length / 2**20, 1), **measure(data, tmp / f"run-{kind}-{n}")}
                print(row, flush=True)
                result["rows"].append(row)
                out_file.write_text(json.dumps(result, indent=1) + "\n")
            for path in (store, fasta):
                subprocess.run(["rm", "-rf", str(path)], check=True)
    print(f"results: {out_file}")


if __name__ == "__main__":
    main()
