"""How seqcnn's first default recipe was chosen: candidate recipes x 5 seeds on the primer's real files.

    .venv/bin/python -m benchmarks.studies.primer_recipes [NAME ...] [--primer-split]

Each candidate trains the `primer` zoo model for 50 epochs (unless it says otherwise) on one
thread and reports the median and per-seed test accuracy. By default the split is seqcnn's
(stratified, seed 42); `--primer-split` uses the primer notebook's (unstratified, random_state 42).
Results are printed as they come, one line per candidate (docs/benchmarks/primer.md); no results file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace

import numpy as np
import torch

from benchmarks.harness import PRIMER as DATA

CANDIDATES = {
    "primer": {},
    "adam3e-3-onecycle-best": dict(lr=3e-3, schedule="onecycle", restore_best=True),
    "adam1e-2-onecycle-best": dict(lr=1e-2, schedule="onecycle", restore_best=True),
    "adam1e-3-best": dict(restore_best=True),
    "adam3e-3-cosine-b64-best": dict(lr=3e-3, schedule="cosine", batch_size=64, restore_best=True),
    "sgd5e-2-onecycle-best": dict(lr=5e-2, optimizer="sgd", schedule="onecycle", restore_best=True),
    "adamw1e-2-wd1e-2-best": dict(
        lr=1e-2, optimizer="adamw", weight_decay=1e-2, schedule="onecycle", restore_best=True
    ),
    "adamw1e-2-wd1e-2-last": dict(lr=1e-2, optimizer="adamw", weight_decay=1e-2, schedule="onecycle"),
    "adamw1e-2-wd1e-2-100ep": dict(
        lr=1e-2, optimizer="adamw", weight_decay=1e-2, schedule="onecycle", restore_best=True, epochs=100
    ),
    "adamw3e-3-wd1e-3-b16": dict(
        lr=3e-3, optimizer="adamw", weight_decay=1e-3, schedule="onecycle", restore_best=True, batch_size=16
    ),
    "adamw2e-2-wd1e-2": dict(lr=2e-2, optimizer="adamw", weight_decay=1e-2, schedule="onecycle", restore_best=True),
    "adamw3e-2-wd1e-2": dict(lr=3e-2, optimizer="adamw", weight_decay=1e-2, schedule="onecycle", restore_best=True),
    "adamw5e-2-wd1e-2": dict(lr=5e-2, optimizer="adamw", weight_decay=1e-2, schedule="onecycle", restore_best=True),
    "adamw1e-2-wd5e-2": dict(lr=1e-2, optimizer="adamw", weight_decay=5e-2, schedule="onecycle", restore_best=True),
    "adamw2e-2-wd5e-2": dict(lr=2e-2, optimizer="adamw", weight_decay=5e-2, schedule="onecycle", restore_best=True),
    "adamw2e-2-wd2e-2-b64": dict(
        lr=2e-2, optimizer="adamw", weight_decay=2e-2, schedule="onecycle", restore_best=True, batch_size=64
    ),
    "adamw2e-2-wd0.1": dict(lr=2e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", restore_best=True),
    "adamw2e-2-wd0.1-last": dict(lr=2e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle"),
    "adamw2e-2-wd0.2": dict(lr=2e-2, optimizer="adamw", weight_decay=0.2, schedule="onecycle", restore_best=True),
    "adamw3e-2-wd0.1 (the default)": dict(
        lr=3e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", restore_best=True
    ),
    "adamw5e-2-wd0.1": dict(lr=5e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", restore_best=True),
}


def sets(primer_split: bool):
    from sklearn.model_selection import train_test_split

    from seqcnn.data.batches import sequence_set
    from seqcnn.data.load import load_data
    from seqcnn.data.split import split

    data = load_data(DATA / "sequences.txt", DATA / "labels.txt").train
    if primer_split:
        index = np.arange(len(data))
        rest, test = train_test_split(index, test_size=0.25, random_state=42)
        train, val = train_test_split(rest, test_size=0.25, random_state=42)
    else:
        train, val, test = split(data.labels, 0.25, 0.25, seed=42)
    return [sequence_set(data.x[i], data.labels[i]) for i in (train, val, test)]


def main() -> None:
    from seqcnn.models import zoo
    from seqcnn.models.network import build_model
    from seqcnn.training.loop import evaluate, fit
    from seqcnn.training.recipes import RECIPES

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"candidates (default: all): {', '.join(CANDIDATES)}")
    parser.add_argument("--primer-split", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train, val, test = sets(args.primer_split)
    for name in args.names or CANDIDATES:
        accs = []
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            model = build_model(zoo.get("primer"), (4, 50))
            config = replace(RECIPES["primer"], seed=seed, **CANDIDATES[name])
            fit(model, train, val, config, progress=False)
            accs.append(evaluate(model, test)[1])
        print(
            f"{name:32s} median {statistics.median(accs):.3f}  seeds {', '.join(f'{a:.3f}' for a in accs)}", flush=True
        )


if __name__ == "__main__":
    sys.exit(main())
