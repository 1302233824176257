"""Does ``seqcnn tune`` find a model as good as a 27-cell grid for a third of its training epochs?

    nice -n 10 .venv/bin/python -m benchmarks.studies.tune_efficiency [--only MYC,ELK1,GABPA] [--epochs 5]
        [--trials 9] [--peaks N] [--default-space]

For each ENCODE experiment named (DeepBind's ``_AC`` training file, or its first ``--peaks`` peaks, and its
whole ``_B`` file as the test part):

- the grid: filters {32, 64, 128} x kernel {8, 16, 24} x depth {1, 2, 3} (global max pooling, the layers of
  ``seqcnn tune``'s space: padded convolutions, max pooling 2 between layers, no dropout), each cell trained by
  ``seqcnn sweep`` with the data's recipe for at most ``--epochs`` epochs (early stopping may end it sooner);
  its best cell is the one with the best *test* AUROC (which favours the grid: a user would pick by validation);
- ``seqcnn tune`` over the grid's own space (``--space``: layers 1-3, filters {32, 64, 128}, kernel {8, 16, 24},
  global pooling, no dropout, the recipe's learning rate, weight decay and batch), ``--trials`` trials of at most
  ``--epochs`` epochs, the median pruner: which of the same 27 candidates to train, and which to stop early;
  its epochs are the trials' (the search) plus the retraining of the best point (``best/``); the grid's
  finished cells are kept between runs (a sweep resumes), the search is run afresh;
- the default model (``seqcnn train`` with no model, the same epoch cap).

With ``--default-space`` the search runs over ``seqcnn tune``'s own default space (the lecture's: 1-4 layers,
filters up to 256, pooling, dropout, learning rate, weight decay, batch; its first trial the default model's point)
instead of the grid's, and the rows go to ``tune_efficiency-default-space-<machine>.tsv``: does the tuned model
match or beat the default?

One row per experiment is appended to ``benchmarks/results/studies/tune_efficiency-<machine>.tsv`` as soon as it
is done (test AUROC of each, epochs of each, the gap and the share of the grid's epochs). The run folders are
in ``runs/bench-tune_efficiency/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time

from benchmarks.harness import ENCODE, ROOT, machine, result_path, write_text

COLUMNS = ("experiment", "peaks", "epochs_cap", "grid_cells", "grid_best", "grid_best_auroc", "grid_epochs",
           "grid_seconds", "tune_trials", "tune_pruned", "tune_auroc", "tune_search_epochs", "tune_epochs",
           "tune_seconds", "default_auroc", "default_epochs", "gap", "epoch_share")


#: The grid as a ``seqcnn tune`` space; the recipe's (``chipseq``) learning rate, weight decay and batch size fixed.
GRID_SPACE = {"layers": {"low": 1, "high": 3}, "filters": [32, 64, 128], "kernel": [8, 16, 24], "pool": "global",
              "dropout": 0.0, "lr": 0.005, "weight_decay": 0.0, "batch_size": 64}


def grid_specs(folder) -> list[str]:
    """The 27 cells as spec files (the layers of ``seqcnn tune``'s space)."""
    from seqcnn.jobs.search_space import layers_spec

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for filters in (32, 64, 128):
        for kernel in (8, 16, 24):
            for depth in (1, 2, 3):
                name = f"f{filters}-k{kernel}-d{depth}"
                point = {"layers": depth, "filters": filters, "kernel": kernel, "pool": "global", "dropout": 0.0}
                path = folder / f"{name}.json"
                path.write_text(layers_spec(point, 2, name=name).to_json() + "\n")
                paths.append(str(path))
    return paths


def cut(name: str, peaks: int | None, folder) -> tuple:
    """The experiment's training and test files: DeepBind's, or its first ``peaks`` peaks (and the whole test
    file) written into ``folder``."""
    import gzip

    train_file = next(ENCODE.glob(f"{name}*_AC.seq.gz"))
    test_file = train_file.with_name(train_file.name.replace("_AC.", "_B."))
    if not peaks:
        return train_file, test_file
    folder.mkdir(parents=True, exist_ok=True)
    lines = gzip.decompress(train_file.read_bytes()).decode().splitlines()
    small = folder / f"{name}-{peaks}_AC.seq.gz"
    small.write_bytes(gzip.compress(("\n".join(lines[: peaks + 1]) + "\n").encode()))
    (folder / f"{name}-{peaks}_B.seq.gz").write_bytes(test_file.read_bytes())
    return small, folder / f"{name}-{peaks}_B.seq.gz"


def experiment(name: str, epochs: int, trials: int, peaks: int | None = None, default_space: bool = False) -> dict:
    from seqcnn import train
    from seqcnn.jobs.sweep import sweep
    from seqcnn.jobs.tune import tune

    base = ROOT / "runs" / "bench-tune_efficiency" / name
    train_file, test_file = cut(name, peaks, base / "data")
    start = time.perf_counter()
    grid = sweep(grid_specs(base / "specs"), str(train_file), base / "grid", workers=os.cpu_count() or 1, threads=1,
                 progress=False, epochs=epochs)
    grid_seconds = time.perf_counter() - start
    lines = (grid / "results.tsv").read_text().splitlines()
    cells = [dict(zip(lines[0].split("\t"), line.split("\t"))) for line in lines[1:]]
    top = max(cells, key=lambda c: float(c["auroc"]))
    folder = base / ("tune-default-space" if default_space else "tune")
    shutil.rmtree(folder, ignore_errors=True)  # a fresh search (a kept journal would be continued)
    start = time.perf_counter()
    space = None
    if not default_space:
        space = base / "space.json"
        space.write_text(json.dumps(GRID_SPACE))
    tuned = tune(str(train_file), out=folder, trials=trials, epochs=epochs, space=space, progress=False)
    tune_seconds = time.perf_counter() - start
    best = json.loads((tuned / "best.json").read_text())
    retrain = sum(1 for _ in open(tuned / "best" / "history.csv")) - 1
    default = train(str(train_file), test=str(test_file), out=base / "default", force=True, progress=False,
                    epochs=epochs)
    default_auroc = json.loads((default / "metrics.json").read_text())["auroc"]
    default_epochs = sum(1 for _ in open(default / "history.csv")) - 1
    grid_epochs = sum(int(c["epochs"]) for c in cells)
    tune_epochs = best["epochs_spent"] + retrain
    return {"experiment": name, "peaks": peaks or "all", "epochs_cap": epochs, "grid_cells": len(cells),
            "grid_best": top["model"],
            "grid_best_auroc": float(top["auroc"]), "grid_epochs": grid_epochs, "grid_seconds": round(grid_seconds),
            "tune_trials": best["trials"], "tune_pruned": best["states"]["PRUNED"], "tune_auroc": best["test"]["auroc"],
            "tune_search_epochs": best["epochs_spent"], "tune_epochs": tune_epochs, "tune_seconds": round(tune_seconds),
            "default_auroc": default_auroc, "default_epochs": default_epochs,
            "gap": round(best["test"]["auroc"] - float(top["auroc"]), 4),
            "epoch_share": round(tune_epochs / grid_epochs, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="MYC,ELK1,GABPA", help="experiments (name prefixes), in order")
    parser.add_argument("--epochs", type=int, default=5, help="epoch cap of every training")
    parser.add_argument("--trials", type=int, default=9, help="trials of seqcnn tune")
    parser.add_argument("--peaks", type=int, help="the first N peaks of each training file (default: all)")
    parser.add_argument("--default-space", action="store_true", help="search seqcnn tune's default space")
    args = parser.parse_args()
    path = result_path(__file__, "tsv", part="default-space" if args.default_space else None)
    rows: list[dict] = []
    if path.exists():  # the rows of experiments not run this time are kept
        lines = path.read_text().splitlines()
        rows = [dict(zip(lines[0].split("\t"), line.split("\t"))) for line in lines[1:]]
    for name in args.only.split(","):
        rows = [r for r in rows if r["experiment"] != name]
        rows.append(experiment(name, args.epochs, args.trials, args.peaks, args.default_space))
        text = "\t".join(COLUMNS) + "\n" + "".join("\t".join(str(r[c]) for c in COLUMNS) + "\n" for r in rows)
        write_text(path, text)
        print(json.dumps(rows[-1]), flush=True)
    info = machine()
    write_text(path.with_suffix(".md"), f"machine: {info['tag']} ({info['cpu']}, {info['cores']} cores), "
               f"{info['date']}; command: python -m benchmarks.studies.tune_efficiency --only {args.only} "
               f"--epochs {args.epochs} --trials {args.trials}{f' --peaks {args.peaks}' if args.peaks else ''}"
               f"{' --default-space' if args.default_space else ''}\n")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
