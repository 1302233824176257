"""Train many models on many experiments (the Zeng et al. 2016 study) and compare them.

Examples:
  seqcnn sweep --models zeng2016 --data ../shared/data/encode-deepbind --out sweeps/zeng
  seqcnn sweep --grid filters=16,64,128 kernel=12,24 pool=global,local3 depth=1,2 --data DIR --out sweeps/grid
  seqcnn sweep --models zeng2016 --data DIR --out sweeps/zeng --engine ray --address HEAD:6379 --cpus-per-cell 2

DATA is a folder of DeepBind <name>_AC.seq.gz files (with <name>_B.seq.gz as test files), a
text file listing `TRAIN [TEST]` per line, or comma-separated training files. An existing
--out is resumed: finished cells are kept, partial ones restarted. With --engine ray each cell is a
Ray task (pip install 'seqcnn[cluster]'); data and --out must be on a filesystem every node sees.
"""

from __future__ import annotations

import argparse

VERB = "sweep"
ORDER = 15


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--models", default="", help="comma-separated zoo names, family names (zeng2016) or spec .json files"
    )
    parser.add_argument(
        "--grid", nargs="+", metavar="KEY=V1,V2", help="grid of filters, kernel, pool (global, localN) and depth"
    )
    parser.add_argument("--data", required=True, help="folder, list file or comma-separated training files")
    parser.add_argument("--out", required=True, help="sweep folder (resumed when it exists)")
    parser.add_argument("--workers", type=int, default=1, help="cells trained at the same time (processes; default 1)")
    parser.add_argument("--threads", type=int, help="torch threads per worker (default: cores / workers)")
    parser.add_argument("--epochs", type=int, help="training epochs per cell (default: the recipe's)")
    parser.add_argument("--recipe", help="training recipe for every cell (default: the data's)")
    parser.add_argument("--seed", type=int, help="random seed of every cell")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    ray = parser.add_argument_group("engine")
    ray.add_argument("--engine", choices=("local", "ray"), default="local",
                     help="local: a process pool here (default); ray: one Ray task per cell")
    ray.add_argument("--address", help="with --engine ray: the cluster's HOST:PORT (ray start --head) or 'auto'; "
                     "default: Ray on this machine")
    ray.add_argument("--cpus-per-cell", type=int, default=1, metavar="N", help="CPUs Ray reserves per cell (default 1)")
    ray.add_argument("--gpus-per-cell", type=float, default=0, metavar="N",
                     help="GPUs Ray reserves per cell (default 0)")


def run(args: argparse.Namespace) -> int:
    from seqcnn.jobs.sweep import parse_grid, sweep

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    options = {
        k: v for k, v in (("epochs", args.epochs), ("recipe", args.recipe), ("seed", args.seed)) if v is not None
    }
    out = sweep(models, args.data, args.out, grid=parse_grid(args.grid or []) or None, workers=args.workers,
                threads=args.threads, progress=not args.quiet, engine=args.engine, address=args.address,
                cpus_per_cell=args.cpus_per_cell, gpus_per_cell=args.gpus_per_cell, **options)
    print(
        f"results: {out / 'results.tsv'}\nsummary: {out / 'summary.md'}\nbox plot: "
        f"{out / 'plots' / 'auroc_boxplot.png'}"
    )
    return 0
