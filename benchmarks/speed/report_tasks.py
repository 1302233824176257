"""Size and write time of report.html for run folders of every task kind, written file by file.

Each run folder holds what `seqcnn train` writes for its task (config.json with "task",
metrics.json from seqcnn.metrics.task_metrics, predictions.tsv from seqcnn.data.targets, history.csv),
made from synthetic arrays of realistic sizes: binary (2,000 test examples), multiclass (10
classes), multilabel (12 tasks, and 919 tasks as DeepSEA, half the cells missing), regression
(8 targets) and Poisson counts; one of them with a training collapse recorded. For each, the
page's size, its inlined images, and the time of write_report the first time (figures drawn)
and again (figures current: nothing drawn), median of --repeat.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python -m benchmarks.speed.report_tasks [--out DIR] [--repeat 3]

Results: ``benchmarks/results/speed/report_tasks-<machine>.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from benchmarks.harness import result_path
from seqcnn.data.targets import Task
from seqcnn.metrics import task_metrics
from seqcnn.report.html import write_report
from seqcnn.runs.predictions import prediction_header, prediction_rows

N = 2000  # test examples of every run


def history_csv(epochs: int = 20) -> str:
    rows = ["epoch,loss,accuracy,lr,val_loss,val_accuracy,seconds"]
    rows += [f"{e},{1 / e:.4f},{0.5 + 0.02 * e:.4f},0.001,{1.1 / e:.4f},{0.5 + 0.018 * e:.4f},1.0"
             for e in range(1, epochs + 1)]
    return "\n".join(rows) + "\n"


def write_run(root: Path, task: Task, y: np.ndarray, outputs: np.ndarray, training: dict | None = None) -> Path:
    """A run folder of ``task`` with its config, metrics, predictions and history."""
    root.mkdir(parents=True, exist_ok=True)
    config = {"command": ["seqcnn", "train", "data.tsv"], "model": "chipseq", "recipe": "seqcnn",
              "data": {"source": "data.tsv", "kind": "sequence", "files": [], "n": len(y), "input_shape": [4, 101]},
              "train": {"epochs": 20, "seed": 0}, "task": task.to_json()}
    if training:
        config["training"] = training
    (root / "config.json").write_text(json.dumps(config))
    (root / "metrics.json").write_text(json.dumps(task_metrics(task, y, outputs)))
    ids = [f"seq{i}" for i in range(len(y))]
    header = "\t".join(prediction_header(task, labelled=True))
    (root / "predictions.tsv").write_text("\n".join([header] + prediction_rows(task, ids, outputs, y)) + "\n")
    (root / "history.csv").write_text(history_csv())
    return root


def class_run(root: Path, k: int, rng: np.random.Generator, training: dict | None = None) -> Path:
    y = rng.integers(0, k, N)
    probs = rng.dirichlet(np.ones(k), N) + np.eye(k)[y]  # informative scores, not perfect
    probs /= probs.sum(1, keepdims=True)
    classes = ("0", "1") if k == 2 else tuple(f"class_{c}" for c in range(k))
    task = Task("binary" if k == 2 else "multiclass", ("label",), classes, "name")
    return write_run(root, task, y, probs, training)


def multilabel_run(root: Path, t: int, rng: np.random.Generator) -> Path:
    y = rng.integers(0, 2, (N, t)).astype(float)
    y[rng.random(y.shape) < 0.5] = np.nan  # sparse: half the cells unlabelled
    probs = np.clip(0.3 + 0.4 * np.nan_to_num(y) + rng.normal(0, 0.3, y.shape), 0.001, 0.999)
    return write_run(root, Task("multilabel", tuple(f"task_{i}" for i in range(t)), loss="bce"), y, probs)


def regression_run(root: Path, t: int, rng: np.random.Generator, poisson: bool = False) -> Path:
    names = tuple(f"target_{i}" for i in range(t))
    if poisson:
        y = rng.poisson(8, (N, t)).astype(float)
        return write_run(root, Task("regression", names, loss="poisson"), y, y * 0.8 + rng.gamma(2, 1, y.shape))
    y = rng.normal(size=(N, t))
    task = Task("regression", names, loss="mse", mean=(0.0,) * t, std=(1.0,) * t)
    return write_run(root, task, y, 0.7 * y + rng.normal(0, 0.5, y.shape))


def runs(out: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    collapse = {"best_epoch": 9, "kept_epoch": 9, "collapses": [
        {"epoch": 12, "loss": 0.69, "best_loss": 0.12, "val_accuracy": 0.5, "best_val_accuracy": 0.95,
         "recovered": 15, "kept_epoch": 9}]}
    return {
        "binary": class_run(out / "binary", 2, rng),
        "binary, collapse recorded": class_run(out / "collapse", 2, rng, collapse),
        "multiclass, 10 classes": class_run(out / "multiclass", 10, rng),
        "multilabel, 12 tasks": multilabel_run(out / "multilabel12", 12, rng),
        "multilabel, 919 tasks": multilabel_run(out / "multilabel919", 919, rng),
        "regression, 8 targets": regression_run(out / "regression", 8, rng),
        "Poisson, 1 target": regression_run(out / "poisson", 1, rng, poisson=True),
    }


def measure(run: Path, repeat: int) -> dict:
    started = time.perf_counter()
    page = write_report(run)
    first = time.perf_counter() - started
    again = []
    for _ in range(repeat):
        started = time.perf_counter()
        write_report(run)
        again.append(time.perf_counter() - started)
    html = page.read_text()
    return {"bytes": page.stat().st_size, "images": html.count('src="data:image/png;base64,'),
            "first_s": round(first, 2), "again_s": round(statistics.median(again), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where to write the run folders (default: a temporary folder)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rewrites with every figure current")
    parser.add_argument("--results", type=Path, default=result_path(__file__, "json"))
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="report-tasks-"))
    rows = {name: measure(run, args.repeat) for name, run in runs(out).items()}
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{when}, {platform.machine()}, {platform.processor() or ''} python {platform.python_version()}")
    print(f"{'run':<28} {'report.html':>12} {'images':>6} {'first write':>11} {'again':>7}")
    for name, r in rows.items():
        print(f"{name:<28} {r['bytes'] / 1e6:>9.3f} MB {r['images']:>6} {r['first_s']:>9.2f} s {r['again_s']:>5.2f} s")
    args.results.write_text(json.dumps({"date": when, "machine": platform.platform(), "runs": rows}, indent=2) + "\n")
    if args.out is None:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
