"""A zoo model named with no recipe: the primer model on the primer's files, as a user types it.

`seqcnn train sequences.txt --labels labels.txt --model primer` gets the recipe tuned for the primer model
(`seqcnn`) instead of the generic `labelled` recipe of labelled tables. This trains both over seeds through
the command line and counts collapses (a `training` record in config.json: the validation accuracy fell
below 0.90 after reaching 0.95, or the training loss gave back half of what it gained).

    .venv/bin/python -m benchmarks.accuracy.named_model --seeds 0,1,2,3,4

Writes ``benchmarks/results/accuracy/named_model-<machine>.tsv`` (one row per recipe and seed) and prints the
summary table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import PRIMER, result_path

#: What the user types (no recipe: seqcnn chooses), and the recipe it got before a model's own recipe was used.
VARIANTS = {"named (no --recipe)": [], "--recipe labelled": ["--recipe", "labelled"]}


def run(extra: list[str], seed: int, out: Path) -> dict:
    command = [sys.executable, "-m", "seqcnn", "train", str(PRIMER / "sequences.txt"), "--labels",
               str(PRIMER / "labels.txt"), "--model", "primer", "--seed", str(seed), "--out", str(out), "--quiet",
               *extra]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={"SEQCNN_REPORT_WORKERS": "0",
                                                                         "PATH": "/usr/bin:/bin",
                                                                         "PYTHONPATH": os.environ["PYTHONPATH"]})
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"seed {seed}: {done.stderr}")
    config = json.loads((out / "config.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    training = config.get("training") or {}
    return {"recipe": config["recipe"], "seed": seed, "collapsed": int(bool(training.get("collapses"))),
            "kept_epoch": training.get("kept_epoch", ""), "test_accuracy": round(metrics["accuracy"], 4),
            "seconds": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, extra in VARIANTS.items():
            for seed in seeds:
                row = {"variant": label, **run(extra, seed, Path(tmp) / f"{len(rows)}")}
                rows.append(row)
                print("\t".join(str(v) for v in row.values()), flush=True)
    with open(result_path(__file__, "tsv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
    print(f"\n{platform.processor() or platform.machine()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| variant | recipe | runs | collapses | test accuracy per seed | median |")
    print("|---|---|---|---|---|---|")
    for label in VARIANTS:
        mine = [r for r in rows if r["variant"] == label]
        accs = [r["test_accuracy"] for r in mine]
        print(f"| {label} | {mine[0]['recipe']} | {len(mine)} | {sum(r['collapsed'] for r in mine)} | "
              f"{', '.join(f'{a:.3f}' for a in accs)} | {statistics.median(accs):.3f} |")


if __name__ == "__main__":
    main()
