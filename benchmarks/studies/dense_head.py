"""Does a Dense + Dropout head die? Zeng et al.'s models under two recipes (docs/benchmarks/encode.md).

Three cells of the Zeng sweep (results/accuracy/sweep_zeng-xeon-2c-amx/) never left chance under the
``chipseq`` recipe (Adam 5e-3): ``zeng2016-1layer_128motif`` on ARID3A and ZBTB7A and
``zeng2016-1layer_64motif`` on ZBTB7A. This trains those models on a subsample of the same
experiments' positives (DeepBind's AC files, positives only, so seqcnn adds shuffled negatives as
for the full files) with each recipe and reports the test AUROC on the B file.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.studies.dense_head --positives 1500
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import tempfile
import time
from pathlib import Path

from benchmarks.harness import ENCODE as DATA
from benchmarks.harness import result_path

CELLS = [
    ("ZBTB7A_HepG2_ZBTB7A_(SC-34508)_HudsonAlpha", "zeng2016-1layer_128motif"),
    ("ZBTB7A_HepG2_ZBTB7A_(SC-34508)_HudsonAlpha", "zeng2016-1layer_64motif"),
    ("ARID3A_K562_ARID3A_(sc-8821)_Stanford", "zeng2016-1layer_128motif"),
]
#: Recipes compared: a built-in recipe and overrides of its fields.
RECIPES = {
    "chipseq": ("chipseq", {}),
    "chipseq-adamw3e-3-onecycle": (
        "chipseq",
        {"lr": 3e-3, "optimizer": "adamw", "weight_decay": 0.1, "schedule": "onecycle", "patience": None},
    ),
}


def subsample(prefix: str, positives: int, out: Path) -> Path:
    """``positives`` rows of an AC file, every k-th (spread over the file), in the same format."""
    with gzip.open(DATA / f"{prefix}_AC.seq.gz", "rt") as fh:
        header, *rows = fh.readlines()
    step = max(1, len(rows) // positives)
    path = out / f"{prefix}_AC.seq.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(header)
        fh.writelines(rows[::step][:positives])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positives", type=int, default=1500)
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--out", type=Path, default=result_path(__file__, "tsv"))
    args = parser.parse_args()
    import seqcnn

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for prefix, model in CELLS:
            train = subsample(prefix, args.positives, Path(tmp))
            for recipe in args.recipes.split(","):
                out = Path(tmp) / f"{model}-{recipe}"
                base, overrides = RECIPES[recipe]
                seqcnn.train(
                    train,
                    test=DATA / f"{prefix}_B.seq.gz",
                    model=model,
                    recipe=base,
                    out=out,
                    force=True,
                    progress=False,
                    **overrides,
                )
                metrics = json.loads((out / "metrics.json").read_text())
                config = json.loads((out / "config.json").read_text())
                with open(out / "history.csv") as fh:
                    history = list(csv.DictReader(fh))
                rows.append(
                    {
                        "experiment": prefix.split("_")[0],
                        "model": model,
                        "recipe": recipe,
                        "auroc": round(metrics["auroc"], 4),
                        "epochs": len(history),
                        "best_val_loss": round(min(float(r["val_loss"]) for r in history), 4),
                        "train": json.dumps(config.get("train", {})),
                    }
                )
                print("\t".join(str(v) for v in rows[-1].values()), time.strftime("%H:%M:%S"), flush=True)
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
