"""Sweep cells per hour on one CPU node: the local process pool against Ray (one task per cell).

    nice -n 10 .venv/bin/python -m benchmarks.speed.ray_sweep [--only MYC,ELK1] [--models zeng2016] [--epochs 3]

Trains the same cells (the Zeng et al. 2016 models on the named ENCODE experiments, ``--epochs`` each)
twice: with ``--engine local --workers C --threads 1`` and with ``--engine ray --cpus-per-cell 1`` on a Ray
instance of C CPUs on this machine (C = the machine's cores), each into a fresh folder. Prints and writes
the wall time, cells per hour for the node, and whether both engines gave the same test AUROC per cell,
to ``benchmarks/results/speed/ray_sweep-<machine>.json``. Cells per hour for a cluster is this number times
the nodes (the cells are independent; the data are read from a shared filesystem).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

from benchmarks.harness import ENCODE, ROOT, machine, result_path, write_json


def files(only: str) -> str:
    names = [p for p in sorted(ENCODE.glob("*_AC.seq.gz")) if any(p.name.startswith(k) for k in only.split(","))]
    return ",".join(str(p) for p in names)


def run(engine: str, models: list[str], data: str, epochs: int, cpus: int) -> dict:
    from seqcnn.jobs.sweep import sweep

    out = ROOT / "runs" / f"bench-ray_sweep-{engine}"
    shutil.rmtree(out, ignore_errors=True)
    options = {"workers": cpus, "threads": 1} if engine == "local" else {"engine": "ray", "cpus_per_cell": 1}
    start = time.perf_counter()
    sweep(models, data, out, progress=False, epochs=epochs, **options)
    wall = time.perf_counter() - start
    rows = [line.split("\t") for line in (out / "results.tsv").read_text().splitlines()]
    header, body = rows[0], rows[1:]
    cells = {(r[0], r[1]): dict(zip(header, r)) for r in body}
    return {"engine": engine, "cells": len(cells), "wall_seconds": round(wall, 1),
            "cells_per_hour": round(len(cells) / wall * 3600, 1),
            "auroc": {f"{e}|{m}": c["auroc"] for (e, m), c in cells.items()},
            "nodes": sorted({c["node"] for c in cells.values()})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="MYC,ELK1", help="experiments (name prefixes)")
    parser.add_argument("--models", default="zeng2016", help="zoo names or families, comma-separated")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cpus = os.cpu_count() or 1
    data, models = files(args.only), args.models.split(",")
    import ray

    results = [run("local", models, data, args.epochs, cpus)]
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    try:
        results.append(run("ray", models, data, args.epochs, cpus))
    finally:
        ray.shutdown()
    local, remote = results
    same = local["auroc"] == remote["auroc"]
    for r in results:
        print(f"{r['engine']}: {r['cells']} cells in {r['wall_seconds']} s = {r['cells_per_hour']} cells/hour "
              f"on one {cpus}-CPU node", flush=True)
    print(f"same test AUROC in every cell: {same}")
    path = write_json(result_path(__file__, "json"), {
        "machine": machine(), "experiments": args.only, "models": args.models, "epochs": args.epochs,
        "cpus": cpus, "results": results, "same_auroc": same})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
