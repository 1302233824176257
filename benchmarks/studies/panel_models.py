"""Candidate default models on the development panel (docs/benchmarks/panel.md).

Trains every candidate model on every set of ``benchmarks/panel/`` (made by ``benchmarks.studies.make_panel``)
through ``seqcnn.train`` with one recipe, and writes the test AUROC (macro one-vs-rest for the
multi-class set) per set, model and seed to ``benchmarks/results/studies/panel_models[-<tag>]-<machine>.tsv``.
A cell (set, model, seed) measured again replaces its row; other cells of the file are kept, so that a table
grows over several invocations (more seeds, more models).

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.studies.panel_models
    ... --models primer,chipseq --sets planted-L150-m2-n4k       # a part of the grid
    ... --seeds 0,1,2 --tag seeds                                # several seeds per cell
    ... --table chipseq --tag seeds                              # per-seed and mean table
    ... --models default                                         # `seqcnn train TABLE` with nothing named

A seed decides the training/validation/test split (of sets without their own test file) and the
initial weights, so the spread over seeds is that of a user's one run.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.harness import result_path, write_text
from benchmarks.studies.make_panel import PANEL

HEADER = ["set", "model", "seed", "auroc", "accuracy", "best_epoch", "epochs", "collapses", "fit_s", "recipe"]

#: Candidates: a zoo name, or layers (before the output layer) of a spec made per class count.
MODELS: dict[str, str | list] = {
    "primer": "primer",  # seqcnn's default for labelled sequences before this panel
    "chipseq": "chipseq",  # 256 x 12 conv, global max pool, output layer
    "local": "local",  # 64 x 9 conv, max pool 4, dense 32 with dropout: the position-aware zoo model
    "deepbind": "deepbind",  # 16 x 24 conv, global max pool, Dense 32 + Dropout
    "c128k12": [{"Conv1D": {"filters": 128, "kernel_size": 12, "activation": "relu"}}, {"GlobalMaxPooling1D": {}}],
    "c64k12": [{"Conv1D": {"filters": 64, "kernel_size": 12, "activation": "relu"}}, {"GlobalMaxPooling1D": {}}],
    # position-aware candidates: local max pooling keeps where a motif sits, the dense layer reads it
    "l64k9p4": [{"Conv1D": {"filters": 64, "kernel_size": 9, "activation": "relu"}}, {"MaxPooling1D": {"pool_size": 4}},
                {"Flatten": {}}, {"Dropout": {"rate": 0.5}}, {"Dense": {"units": 32, "activation": "relu"}},
                {"Dropout": {"rate": 0.5}}],
    "l128k12p4": [{"Conv1D": {"filters": 128, "kernel_size": 12, "activation": "relu"}},
                  {"MaxPooling1D": {"pool_size": 4}}, {"Flatten": {}}, {"Dropout": {"rate": 0.5}},
                  {"Dense": {"units": 32, "activation": "relu"}}, {"Dropout": {"rate": 0.5}}],
    "l64k9p8": [{"Conv1D": {"filters": 64, "kernel_size": 9, "activation": "relu"}}, {"MaxPooling1D": {"pool_size": 8}},
                {"Flatten": {}}, {"Dropout": {"rate": 0.5}}, {"Dense": {"units": 32, "activation": "relu"}},
                {"Dropout": {"rate": 0.5}}],
    "l64k9p4d2": [{"Conv1D": {"filters": 64, "kernel_size": 9, "activation": "relu"}},
                  {"MaxPooling1D": {"pool_size": 4}}, {"Flatten": {}}, {"Dropout": {"rate": 0.2}},
                  {"Dense": {"units": 32, "activation": "relu"}}, {"Dropout": {"rate": 0.5}}],
    "l64k9p8d2": [{"Conv1D": {"filters": 64, "kernel_size": 9, "activation": "relu"}},
                  {"MaxPooling1D": {"pool_size": 8}}, {"Flatten": {}}, {"Dropout": {"rate": 0.2}},
                  {"Dense": {"units": 32, "activation": "relu"}}, {"Dropout": {"rate": 0.5}}],
    "l64k9p12": [{"Conv1D": {"filters": 64, "kernel_size": 9, "activation": "relu"}},
                 {"MaxPooling1D": {"pool_size": 12}}, {"Flatten": {}}, {"Dropout": {"rate": 0.5}},
                 {"Dense": {"units": 32, "activation": "relu"}}, {"Dropout": {"rate": 0.5}}],
    "l64k9bnp12": [{"Conv1D": {"filters": 64, "kernel_size": 9}}, {"BatchNormalization": {}},
                   {"Activation": {"activation": "relu"}},
                   {"MaxPooling1D": {"pool_size": 12}}, {"Flatten": {}}, {"Dropout": {"rate": 0.5}},
                   {"Dense": {"units": 32, "activation": "relu"}}, {"Dropout": {"rate": 0.5}}],
    "l64k9p4n": [{"Conv1D": {"filters": 64, "kernel_size": 9, "activation": "relu"}},
                 {"MaxPooling1D": {"pool_size": 4}}, {"Flatten": {}}, {"Dense": {"units": 32, "activation": "relu"}}],
}
#: The recipe every candidate is trained with: the ``labelled`` recipe of :mod:`seqcnn.training`
#: (AdamW one-cycle peak 3e-3, weight decay 0.1, batch 32, 20 epochs, the best validation epoch's weights).
BASE_RECIPE = "labelled"


#: The candidate name that runs ``seqcnn train TABLE`` as a user would, nothing named: the strand test and the
#: position race (``seqcnn.jobs.position``) decide; the model the race chose is in the results' ``recipe`` column.
DEFAULT = "default"


def model_arg(name: str, classes: int, work: Path) -> str | None:
    """A zoo name as is, or a spec file for layer-list candidates with a softmax output for ``classes``; None for
    :data:`DEFAULT`."""
    if name == DEFAULT:
        return None
    layers = MODELS[name]
    if isinstance(layers, str):
        return layers
    path = work / f"{name}-{classes}.json"
    spec = {
        "name": name,
        "description": f"panel candidate {name}",
        "layers": layers + [{"Dense": {"units": classes, "activation": "softmax"}}],
    }
    path.write_text(json.dumps(spec))
    return str(path)


def read_cells(path: Path) -> dict[tuple[str, str], dict[int, float]]:
    """Test AUROC per (set, model) and seed of a results file (a triple's last row wins)."""
    cells: dict[tuple[str, str], dict[int, float]] = {}
    with open(path) as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            seed = int(r["seed"]) if r.get("seed") else json.loads(r["recipe"]).get("seed", 0)
            cells.setdefault((r["set"], r["model"]), {})[seed] = float(r["auroc"])
    return cells


def table(path: Path, default: str, old: str = "primer") -> str:
    """Markdown: mean AUROC over seeds per set and model, the best mean, and the criteria for ``default``.

    A cell is ``mean ± sd`` (sample sd over seeds). The gap is the mean over seeds of ``default``'s AUROC
    minus the best other model's (by mean) on the same seed (the same split), ± its standard error.
    """
    cells = read_cells(path)
    sets = list(dict.fromkeys(s for s, _ in cells))
    models = list(dict.fromkeys(m for _, m in cells))
    lines = [
        "| set | seeds | "
        + " | ".join(models)
        + f" | best | {default} - best other (paired, ± se) | {default} within 0.005 of best | {default} > {old} |",
        "|---" * (len(models) + 6) + "|",
    ]
    for name in sets:
        got = {m: cells[(name, m)] for m in models if (name, m) in cells}
        mean = {m: statistics.fmean(v.values()) for m, v in got.items()}
        best = max(mean, key=mean.get)
        ours, theirs = mean.get(default), mean.get(old)
        near = "-" if ours is None else "yes" if ours >= mean[best] - 0.005 else "**no**"
        better = "-" if ours is None or theirs is None else "yes" if ours > theirs else "**no**"
        seeds = "/".join(str(len(got[m])) for m in models if m in got)
        lines.append(
            f"| {name} | {seeds} | "
            + " | ".join(spread(got[m].values()) if m in got else "-" for m in models)
            + f" | {best} | {gap_text(got, default, mean)} | {near} | {better} |"
        )
    return "\n".join(lines)


def spread(values) -> str:
    """``0.7025 ± 0.0117`` (sample sd) for several values, ``0.7132`` for one."""
    values = list(values)
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.fmean(values):.4f} ± {statistics.stdev(values):.4f}"


def gap_text(got: dict[str, dict[int, float]], default: str, mean: dict[str, float]) -> str:
    """Mean paired difference ``default - other`` over the seeds both have, ± its standard error, and the other.

    The other is the model with the best mean besides ``default``.
    """
    others = [m for m in mean if m != default]
    if default not in got or not others:
        return "-"
    other = max(others, key=mean.get)
    common = sorted(set(got[default]) & set(got[other]))
    diffs = [got[default][s] - got[other][s] for s in common]
    if len(diffs) < 2:
        return f"{diffs[0]:+.4f} ({other})" if diffs else "-"
    return f"{statistics.fmean(diffs):+.4f} ± {statistics.stdev(diffs) / len(diffs) ** 0.5:.4f} ({other})"


def per_seed_table(path: Path) -> str:
    """Markdown: test AUROC per set and model, one value per seed in seed order (0, 1, 2, ...)."""
    cells = read_cells(path)
    sets = list(dict.fromkeys(s for s, _ in cells))
    models = list(dict.fromkeys(m for _, m in cells))
    lines = ["| set | " + " | ".join(f"{m} (seed 0, 1, ...)" for m in models) + " |", "|---" * (len(models) + 1) + "|"]
    for name in sets:
        values = [
            " ".join(f"{v:.4f}" for _, v in sorted(cells[(name, m)].items())) if (name, m) in cells else "-"
            for m in models
        ]
        lines.append(f"| {name} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--sets", default=None, help="comma-separated set names (default: all of panel.json)")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--recipe", default="{}", help=f"JSON overrides of the {BASE_RECIPE} recipe")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, each a run per set and model")
    parser.add_argument("--tag", help="names the results file: panel_models-<tag>-<machine>.tsv")
    parser.add_argument("--out", type=Path, help="the results file (default: named by --tag)")
    parser.add_argument("--table", metavar="MODEL", help="only print the markdown table of --out, judged for MODEL")
    parser.add_argument("--per-seed", action="store_true", help="only print --out's AUROC per set, seed and model")
    args = parser.parse_args()
    args.out = args.out or result_path(__file__, "tsv", args.tag)
    if args.table:
        print(table(args.out, args.table))
        return
    if args.per_seed:
        print(per_seed_table(args.out))
        return
    sets = json.loads((PANEL / "panel.json").read_text())
    if args.sets:  # in the order given (the most contested first)
        by_name = {s["name"]: s for s in sets}
        unknown = [n for n in args.sets.split(",") if n not in by_name]
        if unknown:
            parser.error(f"unknown set(s) {', '.join(unknown)}; panel.json has: {', '.join(by_name)}")
        sets = [by_name[n] for n in args.sets.split(",")]
    base = json.loads(args.recipe)
    if args.epochs:
        base["epochs"] = args.epochs
    rows = read_rows(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        for data_set in sets:
            for seed in [int(s) for s in args.seeds.split(",")]:
                for name in args.models.split(","):
                    row = run_cell(data_set, name, {**base, "seed": seed}, Path(tmp))
                    rows[(str(row[0]), str(row[1]), str(row[2]))] = row
                    write_rows(args.out, rows.values())  # after every cell: an interrupted grid keeps its numbers
                    print("\t".join(map(str, row)), time.strftime("%H:%M:%S"), flush=True)


def read_rows(path: Path) -> dict[tuple[str, str, str], list]:
    """The rows of a results file by (set, model, seed), in file order."""
    if not path.is_file():
        return {}
    with open(path, newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        if next(reader) != HEADER:
            raise SystemExit(f"{path}: not in this script's layout (an older one, without seeds?); name another --tag")
        return {(r[0], r[1], r[2]): r for r in reader}


def write_rows(path: Path, rows) -> None:
    """The results file: the header, then ``rows``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def run_cell(data_set: dict, name: str, overrides: dict, tmp: Path) -> list:
    """Train model ``name`` on one panel set with the base recipe and ``overrides``; the results row."""
    import seqcnn
    from seqcnn.training.loop import find_collapses

    data = data_set["file"] if data_set["file"] == "primer-sim" else str(PANEL / data_set["file"])
    test = str(PANEL / data_set["test"]) if data_set.get("test") else None
    out = tmp / f"{data_set['name']}-{name}"
    seqcnn.train(
        data,
        test=test,
        model=model_arg(name, data_set.get("classes", 2), tmp),
        recipe=None if name == DEFAULT else BASE_RECIPE,
        out=out,
        force=True,
        progress=False,
        **overrides,
    )
    metrics = json.loads((out / "metrics.json").read_text())
    with open(out / "history.csv") as h:
        hist = [{k: float(v) for k, v in r.items() if v != ""} for r in csv.DictReader(h)]
    best = min(hist, key=lambda r: r["val_loss"])["epoch"]
    if name == DEFAULT:  # what the user's run decided, beside the overrides
        config = json.loads((out / "config.json").read_text())
        overrides = {**overrides, "model": config["model"], "recipe": config["recipe"],
                     "rc": config["predict"]["rc_average"]}
    return [
        data_set["name"],
        name,
        overrides["seed"],
        metrics.get("auroc"),
        metrics["accuracy"],
        int(best),
        len(hist),
        len(find_collapses(hist)),
        round(sum(r["seconds"] for r in hist), 1),
        json.dumps(overrides),
    ]


if __name__ == "__main__":
    main()
