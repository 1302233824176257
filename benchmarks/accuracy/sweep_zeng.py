"""The Zeng et al. 2016 study on the ten ENCODE experiments, and the sweep's worker/thread choice.

    nice -n 10 .venv/bin/python -m benchmarks.accuracy.sweep_zeng threads     # 2 workers x 1 thread vs 1 x 2
    nice -n 10 .venv/bin/python -m benchmarks.accuracy.sweep_zeng zeng [--only MYC,ARID3A] [--epochs N]

``threads`` trains the same two cells (zeng2016-1layer on MYC and ELK1, 2 epochs) once with
``--workers 2 --threads 1`` and once with ``--workers 1 --threads 2`` and prints both wall
times. ``zeng`` runs ``seqcnn sweep --models zeng2016`` into runs/sweep-zeng2016 (resumable)
and prints its summary.md; wall time and per-model throughput are in the summary. A whole sweep (no
``--only``, no ``--epochs``) copies its table, summary and box plot to
``benchmarks/results/accuracy/sweep_zeng-<machine>/``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time

from benchmarks.harness import ENCODE as DATA
from benchmarks.harness import ROOT, result_path

KEPT = ("results.tsv", "summary.md", "auroc_boxplot.png")  # what the results folder keeps of a whole sweep


def files(only: str | None) -> str:
    names = sorted(DATA.glob("*_AC.seq.gz"))
    if only:
        names = [p for p in names if any(p.name.startswith(k) for k in only.split(","))]
    return ",".join(str(p) for p in names)


def threads() -> None:
    from seqcnn.jobs.sweep import sweep

    data = files("MYC,ELK1")
    for workers, per in ((2, 1), (1, 2)):
        out = ROOT / "runs" / f"sweep-threads-{workers}x{per}"
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        sweep(["zeng2016-1layer"], data, out, workers=workers, threads=per, progress=False, epochs=2, patience=100)
        print(f"{workers} workers x {per} threads: {time.perf_counter() - start:.1f} s for 2 cells", flush=True)


def zeng(only: str | None, epochs: int | None, workers: int) -> None:
    from seqcnn.jobs.sweep import sweep

    out = ROOT / "runs" / ("sweep-zeng2016" + (f"-{only.replace(',', '-')}" if only else ""))
    start = time.perf_counter()
    options = {"epochs": epochs} if epochs else {}
    sweep(["zeng2016"], files(only), out, workers=workers, threads=max(1, 2 // workers), **options)
    print(f"wall time {time.perf_counter() - start:.0f} s (this invocation; finished cells are skipped)")
    print((out / "summary.md").read_text())
    if not only and not epochs:
        kept = result_path(__file__, "")
        kept.mkdir(exist_ok=True)
        for name in KEPT:
            shutil.copy2(out / name, kept / name)
        print(f"results: {kept}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("threads", "zeng"))
    parser.add_argument("--only")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    threads() if args.what == "threads" else zeng(args.only, args.epochs, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
