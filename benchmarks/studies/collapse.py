"""Does a recipe collapse? Per-seed training curves of the primer model (docs/benchmarks/primer.md).

Trains the primer model with each candidate recipe on the built-in ``primer-sim`` data (8 seeds)
and on the primer's own files (3 seeds), through ``seqcnn.train``, and counts collapses as the
issue defines them: the validation accuracy falls below 0.90 after it first reached 0.95.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.studies.collapse --recipes new --tag final
    .venv/bin/python -m benchmarks.studies.collapse --tag final --plot-only   # redraw the figure from the curves

Writes ``benchmarks/results/studies/collapse[-<tag>]-<machine>.tsv`` (one row per recipe, set and seed),
``....curves.csv`` (every epoch) and ``....curves.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.harness import PRIMER, result_path

#: The ``seqcnn`` recipe before the defaults panel; candidates change some of its fields.
BASE = dict(
    epochs=50,
    batch_size=32,
    lr=3e-2,
    optimizer="adamw",
    weight_decay=0.1,
    schedule="onecycle",
    restore_best=True,
    clip_norm=None,
    eps=1e-8,
    label_smoothing=0.0,
    amsgrad=False,
    beta2=0.999,
    average=0.0,
)
#: Candidate recipes: changes to ``BASE`` ("new": the ``seqcnn`` recipe of this tree as it is).
CANDIDATES = {
    "old": dict(lr=3e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", clip_norm=None),
    "old-clip1": dict(lr=3e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", clip_norm=1.0),
    "lr1e-2": dict(lr=1e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", clip_norm=None),
    "lr1e-2-clip1": dict(lr=1e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", clip_norm=1.0),
    "lr3e-3": dict(lr=3e-3, optimizer="adamw", weight_decay=0.1, schedule="onecycle", clip_norm=None),
    "lr3e-3-clip1": dict(lr=3e-3, optimizer="adamw", weight_decay=0.1, schedule="onecycle", clip_norm=1.0),
    "lr1e-2-wd0.3": dict(lr=1e-2, optimizer="adamw", weight_decay=0.3, schedule="onecycle", clip_norm=None),
    "lr1e-2-wd0.3-clip1": dict(lr=1e-2, optimizer="adamw", weight_decay=0.3, schedule="onecycle", clip_norm=1.0),
    "old-eps1e-4": dict(lr=3e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", eps=1e-4),
    "old-ls0.05": dict(lr=3e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", label_smoothing=0.05),
    "lr1e-2-ls0.05": dict(lr=1e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", label_smoothing=0.05),
    "old-ls0.1": dict(lr=3e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", label_smoothing=0.1),
    "lr1e-2-ls0.1": dict(lr=1e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", label_smoothing=0.1),
    "lr2e-2-ls0.1": dict(lr=2e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", label_smoothing=0.1),
    "lr1e-2-ls0.1-b64": dict(
        lr=1e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", label_smoothing=0.1, batch_size=64
    ),
    "lr5e-3-ls0.1": dict(lr=5e-3, optimizer="adamw", weight_decay=0.1, schedule="onecycle", label_smoothing=0.1),
    "labelled": dict(
        lr=3e-3, optimizer="adamw", weight_decay=0.1, schedule="onecycle", epochs=20
    ),  # the panel's recipe
    "new": {},  # the seqcnn recipe of this tree as it is
    # second search: the primer model's remaining test errors on the built-in data (median 0.990)
    "primer-recipe": dict(lr=1e-3, optimizer="adam", weight_decay=0.0, schedule="constant", batch_size=32,
                          restore_best=True),
    "b64-ep100": dict(lr=1e-2, label_smoothing=0.1, batch_size=64, epochs=100),
    "b64-lr3e-3": dict(lr=3e-3, label_smoothing=0.1, batch_size=64),
    "b64-wd0.01": dict(lr=1e-2, label_smoothing=0.1, batch_size=64, weight_decay=0.01),
    "b64-ep200": dict(lr=1e-2, label_smoothing=0.1, batch_size=64, epochs=200),
    "b64-ep100-ls0.05": dict(lr=1e-2, label_smoothing=0.05, batch_size=64, epochs=100),
    "b64-ep100-wd0.3": dict(lr=1e-2, label_smoothing=0.1, batch_size=64, epochs=100, weight_decay=0.3),
    "b128-ep100": dict(lr=1e-2, label_smoothing=0.1, batch_size=128, epochs=100),
    "b64-ams": dict(lr=1e-2, label_smoothing=0.1, batch_size=64, amsgrad=True),
    "b64-ep100-ams": dict(lr=1e-2, label_smoothing=0.1, batch_size=64, epochs=100, amsgrad=True),
    "b64-ep100-ams-ls0": dict(lr=1e-2, label_smoothing=0.0, batch_size=64, epochs=100, amsgrad=True),
    "b64-ep100-lr5e-3": dict(lr=5e-3, label_smoothing=0.1, batch_size=64, epochs=100),
    "b64-rc": dict(lr=1e-2, label_smoothing=0.1, batch_size=64, augment=("rc",)),
    # third search: the rates that learned best (3e-2) without the collapse; clipping, or a second moment
    # that forgets faster (beta2), against Adam's huge steps when gradients grow after a long quiet stretch
    "ls-clip1": dict(label_smoothing=0.1, clip_norm=1.0),
    "ls-b2.99": dict(label_smoothing=0.1, beta2=0.99),
    "ls-b2.95": dict(label_smoothing=0.1, beta2=0.95),
    "ls-clip1-b2.99": dict(label_smoothing=0.1, clip_norm=1.0, beta2=0.99),
    "b64-lr2e-2-b2.99": dict(lr=2e-2, label_smoothing=0.1, batch_size=64, beta2=0.99),
    "b64-b2.99": dict(lr=1e-2, label_smoothing=0.1, batch_size=64, beta2=0.99),
    "b64-ep100-b2.99": dict(lr=1e-2, label_smoothing=0.1, batch_size=64, epochs=100, beta2=0.99),
    "b32-ep100-lr1e-2-b2.99": dict(lr=1e-2, label_smoothing=0.1, epochs=100, beta2=0.99),
    "ls-clip0.5": dict(label_smoothing=0.1, clip_norm=0.5),
    "ls-clip0.25": dict(label_smoothing=0.1, clip_norm=0.25),
    "ls-clip1-lr2e-2": dict(label_smoothing=0.1, clip_norm=1.0, lr=2e-2),
    "ls-clip1-b64": dict(label_smoothing=0.1, clip_norm=1.0, batch_size=64),
    "ls-clip0.5-b64": dict(label_smoothing=0.1, clip_norm=0.5, batch_size=64),
    # the weights' moving average (TrainConfig.average) on top of clipping: no dip left (the recipe since then)
    "ls-clip1-avg0.99": dict(label_smoothing=0.1, clip_norm=1.0, average=0.99),
    "ls-clip1-avg0.995": dict(label_smoothing=0.1, clip_norm=1.0, average=0.995),
    "ls-avg0.99": dict(label_smoothing=0.1, average=0.99),
}
SETS = ("primer-sim", "primer-files")


def issue_collapses(val_acc: list[float], reached: float = 0.95, fall: float = 0.90) -> int:
    """Epochs where validation accuracy is below ``fall`` after it first reached ``reached``, counted per episode."""
    count, seen, down = 0, False, False
    for acc in val_acc:
        seen = seen or acc >= reached
        if seen and acc < fall and not down:
            count += 1
        down = seen and acc < fall
    return count


def run_one(name: str, data_set: str, seed: int, work: Path, model: str = "primer") -> tuple[dict, list[dict]]:
    """Train once; the summary row and the per-epoch curve."""
    import seqcnn
    from seqcnn.training.recipes import RECIPES

    fields = RECIPES["seqcnn"].__dataclass_fields__
    overrides = {**(BASE if name != "new" else {}), **CANDIDATES[name], "seed": seed}
    assert set(overrides) <= set(fields), overrides
    files = (None, None) if data_set == "primer-sim" else (PRIMER / "sequences.txt", PRIMER / "labels.txt")
    out = work / f"{name}-{data_set}-{seed}"
    start = time.perf_counter()
    seqcnn.train(files[0], files[1], model=model, recipe="seqcnn", out=out, force=True, progress=False, **overrides)
    wall = time.perf_counter() - start
    with open(out / "history.csv") as fh:
        rows = [{k: float(v) for k, v in r.items() if v != ""} for r in csv.DictReader(fh)]
    metrics = json.loads((out / "metrics.json").read_text())
    val = [r["val_accuracy"] for r in rows]
    summary = {
        "recipe": name,
        "model": Path(model).stem,
        "set": data_set,
        "seed": seed,
        "collapses": issue_collapses(val),
        "min_val_after_095": min((a for i, a in enumerate(val) if max(val[: i + 1]) >= 0.95), default=float("nan")),
        "final_val_accuracy": val[-1],
        "test_accuracy": metrics["accuracy"],
        "test_auroc": metrics.get("auroc"),
        "fit_s": sum(r["seconds"] for r in rows),
        "wall_s": wall,
        "config": json.dumps(overrides),
    }
    curve = [
        {
            "recipe": name,
            "model": Path(model).stem,
            "set": data_set,
            "seed": seed,
            "epoch": int(r["epoch"]),
            "loss": r["loss"],
            "val_accuracy": r["val_accuracy"],
            "lr": r["lr"],
        }
        for r in rows
    ]
    return summary, curve


def plot(curves_file: Path, png: Path) -> None:
    """One panel per recipe: validation accuracy per epoch, one line per set and seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(curves_file) as fh:
        rows = list(csv.DictReader(fh))
    recipes = list(dict.fromkeys(r["recipe"] for r in rows))
    fig, axes = plt.subplots(1, len(recipes), figsize=(4 * len(recipes), 3.4), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], recipes):
        runs: dict[tuple, list] = {}
        for r in rows:
            if r["recipe"] == name:
                runs.setdefault((r["set"], r["seed"]), []).append((int(r["epoch"]), float(r["val_accuracy"])))
        for (data_set, _), points in runs.items():
            ax.plot(*zip(*points), lw=0.9, color="tab:blue" if data_set == "primer-sim" else "tab:orange", alpha=0.8)
        ax.axhline(0.90, color="grey", lw=0.6, ls="--")
        ax.set_title(name)
        ax.set_xlabel("epoch")
    axes[0][0].set_ylabel("validation accuracy")
    fig.suptitle("one line per seed; blue: built-in primer-sim, orange: the primer's files; dashed: 0.90", fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="old,new", help=f"comma-separated, from {list(CANDIDATES)}")
    parser.add_argument("--tag", help="names the results files: collapse-<tag>-<machine>.tsv")
    parser.add_argument("--plot-only", action="store_true")
    parser.add_argument("--model", default="primer", help="zoo name or spec file (default: primer)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument(
        "--seeds", default="8,3", help="seeds of primer-sim and of the primer's files (a quick screen: 4,0)"
    )
    args = parser.parse_args()
    tsv, curves_file, png = (result_path(__file__, ext, args.tag) for ext in ("tsv", "curves.csv", "curves.png"))
    if not args.plot_only:
        summaries, curves = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for name in args.recipes.split(","):
                for data_set, n in zip(SETS, map(int, args.seeds.split(","))):
                    for seed in range(args.first_seed, args.first_seed + n):
                        summary, curve = run_one(name, data_set, seed, Path(tmp), args.model)
                        summaries.append(summary)
                        curves += curve
                        print("\t".join(str(v) for v in summary.values()), flush=True)
                        write_rows(
                            tsv, summaries, "\t"
                        )  # after every run: a long search killed halfway keeps its results
                        write_rows(curves_file, curves, ",")
        for name in args.recipes.split(","):
            mine = [s for s in summaries if s["recipe"] == name]
            accuracy = statistics.median(s["test_accuracy"] for s in mine)
            fit = statistics.median(s["fit_s"] for s in mine)
            collapsed = sum(s["collapses"] > 0 for s in mine)
            print(f"{name}: collapses in {collapsed}/{len(mine)} runs, median test accuracy {accuracy:.4f}, "
                  f"median fit {fit:.2f} s")
        machine = platform.processor() or platform.machine()
        print(f"machine: {platform.node()} {machine}, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    plot(curves_file, png)


def write_rows(path: Path, rows: list[dict], sep: str) -> None:
    """A delimited file with a header (rows share their keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=sep)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
