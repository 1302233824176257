"""Candidate default models on the development panel (BENCHMARKS.md, Defaults panel).

Trains every candidate model on every set of ``benchmarks/panel/`` (made by ``make_panel.py``)
through ``seqcnn.train`` with one recipe, and writes the test AUROC (macro one-vs-rest for the
multi-class set) per set and model to ``benchmarks/results/panel-models.tsv``.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/panel_models.py
    ... --models primer,chipseq --sets planted-L150-m2-n4k       # a part of the grid
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PANEL = ROOT / "panel"
RESULTS = ROOT / "results"

#: Candidates: a zoo name, or layers (before the output layer) of a spec made per class count.
MODELS: dict[str, str | list] = {
    "primer": "primer",  # seqcnn's default for labelled sequences before this panel
    "chipseq": "chipseq",  # 256 x 12 conv, global max pool, output layer
    "deepbind": "deepbind",  # 16 x 24 conv, global max pool, Dense 32 + Dropout
    "c128k12": [{"Conv1D": {"filters": 128, "kernel_size": 12, "activation": "relu"}}, {"GlobalMaxPooling1D": {}}],
    "c64k12": [{"Conv1D": {"filters": 64, "kernel_size": 12, "activation": "relu"}}, {"GlobalMaxPooling1D": {}}],
}
#: The recipe every candidate is trained with: the ``labelled`` recipe of :mod:`seqcnn.training`
#: (AdamW one-cycle peak 3e-3, weight decay 0.1, batch 32, 20 epochs, the best validation epoch's weights).
BASE_RECIPE = "labelled"


def model_arg(name: str, classes: int, work: Path) -> str:
    """A zoo name as is, or a spec file for layer-list candidates with a softmax output for ``classes``."""
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


def table(path: Path, default: str, old: str = "primer") -> str:
    """Markdown: AUROC per set and model (a pair's last row wins), the best, and the criteria for ``default``."""
    with open(path) as fh:
        cells = {(r["set"], r["model"]): float(r["auroc"]) for r in csv.DictReader(fh, delimiter="\t")}
    sets = list(dict.fromkeys(s for s, _ in cells))
    models = list(dict.fromkeys(m for _, m in cells))
    lines = [
        "| set | " + " | ".join(models) + f" | best | {default} within 0.005 of best | {default} > {old} |",
        "|---" * (len(models) + 4) + "|",
    ]
    for name in sets:
        got = {m: cells[(name, m)] for m in models if (name, m) in cells}
        best = max(got, key=got.get)
        ours, theirs = got.get(default), got.get(old)
        near = "-" if ours is None else "yes" if ours >= got[best] - 0.005 else "**no**"
        better = "-" if ours is None or theirs is None else "yes" if ours > theirs else "**no**"
        lines.append(
            f"| {name} | "
            + " | ".join(f"{got[m]:.4f}" if m in got else "-" for m in models)
            + f" | {best} | {near} | {better} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--sets", default=None, help="comma-separated set names (default: all of panel.json)")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--recipe", default="{}", help=f"JSON overrides of the {BASE_RECIPE} recipe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "panel-models.tsv")
    parser.add_argument("--table", metavar="MODEL", help="only print the markdown table of --out, judged for MODEL")
    args = parser.parse_args()
    if args.table:
        print(table(args.out, args.table))
        return
    import seqcnn

    sets = json.loads((PANEL / "panel.json").read_text())
    if args.sets:
        wanted = args.sets.split(",")
        sets = [s for s in sets if s["name"] in wanted]
    overrides = {**json.loads(args.recipe), "seed": args.seed}
    if args.epochs:
        overrides["epochs"] = args.epochs
    new = not args.out.exists()
    with tempfile.TemporaryDirectory() as tmp, open(args.out, "a", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t")
        if new:
            writer.writerow(
                ["set", "model", "auroc", "accuracy", "best_epoch", "epochs", "collapses", "fit_s", "recipe"]
            )
        for data_set in sets:
            data = data_set["file"] if data_set["file"] == "primer-sim" else str(PANEL / data_set["file"])
            test = str(PANEL / data_set["test"]) if data_set.get("test") else None
            for name in args.models.split(","):
                out = Path(tmp) / f"{data_set['name']}-{name}"
                seqcnn.train(
                    data,
                    test=test,
                    model=model_arg(name, data_set.get("classes", 2), Path(tmp)),
                    recipe=BASE_RECIPE,
                    out=out,
                    force=True,
                    progress=False,
                    **overrides,
                )
                metrics = json.loads((out / "metrics.json").read_text())
                with open(out / "history.csv") as h:
                    rows = list(csv.DictReader(h))
                from seqcnn.training import find_collapses

                hist = [{k: float(v) for k, v in r.items() if v != ""} for r in rows]
                best = min(hist, key=lambda r: r["val_loss"])["epoch"]
                row = [
                    data_set["name"],
                    name,
                    metrics.get("auroc"),
                    metrics["accuracy"],
                    int(best),
                    len(rows),
                    len(find_collapses(hist)),
                    round(sum(r["seconds"] for r in hist), 1),
                    json.dumps(overrides),
                ]
                writer.writerow(row)
                fh.flush()
                print("\t".join(map(str, row)), time.strftime("%H:%M:%S"), flush=True)


if __name__ == "__main__":
    main()
