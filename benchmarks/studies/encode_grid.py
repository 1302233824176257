"""Candidate defaults for positives-only ChIP-seq data, on the ten ENCODE experiments at once.

    .venv/bin/python -m benchmarks.studies.encode_grid --workers 8 --out runs/encode-grid    # every candidate
    .venv/bin/python -m benchmarks.studies.encode_grid --candidates base,c256 --only MYC,ELK1 --workers 1

Each (candidate, experiment) cell is ``seqcnn.train(X_AC.seq.gz, test=X_B.seq.gz, ...)`` with the
candidate's model and options and everything else left to seqcnn's defaults for such data
(dinucleotide-shuffled negatives, validation split, strand averaging). Cells run in a process pool
(spawned, so that each may use its own CUDA context on one shared GPU); smallest experiments first,
so an interrupted grid has the most complete columns; cells
finished by an earlier invocation into the same ``--out`` are read back, not retrained. ``results.tsv`` in ``--out``
is rewritten
after every cell; a Markdown table of test AUROC (candidates x experiments, with DeepBind's best
value and the median) is printed at the end. This is how the ``chipseq`` defaults are chosen
(docs/benchmarks/encode.md). ``--keep [PART]`` also writes the table to
``benchmarks/results/studies/encode_grid[-PART]-<machine>.{tsv,md}`` (the GPU's tag when the cells ran on one).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from multiprocessing import get_context
from pathlib import Path

from benchmarks.accuracy.encode import DATA, DEEPBIND, experiments
from benchmarks.harness import ROOT, result_path


def conv(filters: int, width: int) -> dict:
    return {"Conv1D": {"filters": filters, "kernel_size": width, "activation": "relu"}}


GLOBAL_MAX, HEAD = {"GlobalMaxPooling1D": {}}, {"Dense": {"units": 2, "activation": "softmax"}}

#: name -> (layers, or None for seqcnn's default model; options passed to seqcnn.train).
CANDIDATES: dict[str, tuple[list | None, dict]] = {
    "base": (None, {}),
    "neg4": (None, {"negatives": 4}),
    "adamw": (None, {"optimizer": "adamw", "weight_decay": 0.05}),
    "lr2e-3": (None, {"lr": 2e-3, "patience": 5}),
    "c256": ([conv(256, 24), GLOBAL_MAX, HEAD], {}),
    "c256-drop": ([conv(256, 24), GLOBAL_MAX, {"Dropout": {"rate": 0.3}}, HEAD], {}),
    "deep2": ([conv(128, 15), {"MaxPooling1D": {"pool_size": 4}}, conv(128, 5), GLOBAL_MAX, HEAD], {}),
    "deep2-neg4": (
        [conv(128, 15), {"MaxPooling1D": {"pool_size": 4}}, conv(128, 5), GLOBAL_MAX, HEAD],
        {"negatives": 4},
    ),
    "base-seed1": (None, {"seed": 1}),
    "c256-neg4": ([conv(256, 24), GLOBAL_MAX, HEAD], {"negatives": 4}),
    "c512": ([conv(512, 24), GLOBAL_MAX, HEAD], {}),
    "c256-k16": ([conv(256, 16), GLOBAL_MAX, HEAD], {}),
    "c256-k12": ([conv(256, 12), GLOBAL_MAX, HEAD], {}),
    "c256-k12-seed1": ([conv(256, 12), GLOBAL_MAX, HEAD], {"seed": 1}),
    "c256-k12-neg4": ([conv(256, 12), GLOBAL_MAX, HEAD], {"negatives": 4}),
    "c256-k12-neg4-seed1": ([conv(256, 12), GLOBAL_MAX, HEAD], {"negatives": 4, "seed": 1}),
    "c384-k16": ([conv(384, 16), GLOBAL_MAX, HEAD], {}),
    "c256-k16-neg4": ([conv(256, 16), GLOBAL_MAX, HEAD], {"negatives": 4}),
    "c256-k16-adamw": ([conv(256, 16), GLOBAL_MAX, HEAD], {"optimizer": "adamw", "weight_decay": 0.05}),
    "deep3": (
        [
            conv(128, 11),
            {"MaxPooling1D": {"pool_size": 2}},
            conv(128, 5),
            {"MaxPooling1D": {"pool_size": 2}},
            conv(128, 3),
            GLOBAL_MAX,
            HEAD,
        ],
        {},
    ),
}


def run_cell(candidate: str, experiment: str, data: str, out: str, threads: int, epochs: int | None = None) -> dict:
    """Train one cell; its test metrics, epochs and seconds (or the error)."""
    import torch

    torch.set_num_threads(threads)
    import seqcnn

    layers, options = CANDIDATES[candidate]
    options = options | ({"epochs": epochs} if epochs else {})
    folder = Path(out) / candidate / experiment.split("_")[0]
    model = None
    if layers is not None:
        folder.parent.mkdir(parents=True, exist_ok=True)
        model = folder.parent / "model-spec.json"
        model.write_text(json.dumps({"name": candidate, "layers": layers}))
    row = {
        "candidate": candidate,
        "experiment": experiment.split("_")[0],
        "deepbind_best": max(DEEPBIND.get(experiment, (0, 0))),
    }
    run = folder
    try:
        if not (folder / "metrics.json").is_file():  # a finished cell of an earlier invocation is read back
            run = seqcnn.train(
                Path(data) / f"{experiment}_AC.seq.gz",
                test=Path(data) / f"{experiment}_B.seq.gz",
                model=str(model) if model else None,
                out=folder,
                force=True,
                progress=False,
                **options,
            )
    except Exception as exc:  # noqa: BLE001 (a benchmark cell reports its failure and the grid goes on)
        return row | {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(limit=5)}
    metrics = json.loads((run / "metrics.json").read_text())
    config = json.loads((run / "config.json").read_text())
    history = (run / "history.csv").read_text().splitlines()
    return row | {
        "auroc": metrics["auroc"],
        "auprc": metrics["auprc"],
        "epochs": len(history) - 1,
        "seconds": config["seconds"],
        "device": config["machine"].get("device", "?"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "encode-grid")
    parser.add_argument("--candidates", help=f"comma list of {', '.join(CANDIDATES)} (default: all)")
    parser.add_argument("--only", help="comma-separated experiment name prefixes")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    parser.add_argument("--epochs", type=int, help="cap on epochs (a quick check of the script)")
    parser.add_argument("--collect", action="store_true", help="train nothing: tabulate the finished cells in --out")
    parser.add_argument(
        "--average", help="train nothing: test AUROC of the mean probability of these finished candidates (comma list)"
    )
    parser.add_argument("--keep", nargs="?", const="", metavar="PART",
                        help="also write the table to benchmarks/results/studies/encode_grid[-PART]-<machine>.*")
    args = parser.parse_args(argv)
    names = args.candidates.split(",") if args.candidates else list(CANDIDATES)
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        parser.error(f"unknown candidate(s) {unknown}; choose from {list(CANDIDATES)}")
    cells = [(c, e) for e in experiments(args.data, args.only) for c in names]
    if args.average:
        print(averaged(args.out, args.average.split(","), experiments(args.data, args.only)))
        return 0
    if args.collect:
        done = [(c, e) for c, e in cells if (args.out / c / e.split("_")[0] / "metrics.json").is_file()]
        rows = [run_cell(c, e, str(args.data), str(args.out), args.threads) for c, e in done]
        write_tsv(rows, args.out / "results.tsv")
        table = markdown(rows, [n for n in names if any(r["candidate"] == n for r in rows)])
        (args.out / "results.md").write_text(table + "\n")
        print(table)
        keep(args, rows)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    rows, started = [], time.time()
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(run_cell, c, e, str(args.data), str(args.out), args.threads, args.epochs) for c, e in cells
        ]
        for done, future in enumerate(as_completed(futures), 1):
            rows.append(future.result())
            r = rows[-1]
            status = f"AUROC {r['auroc']:.4f}" if "auroc" in r else f"FAILED {r['error']}"
            print(
                f"[{done}/{len(cells)} {time.time() - started:.0f} s] {r['candidate']} {r['experiment']}: {status}",
                file=sys.stderr,
                flush=True,
            )
            write_tsv(rows, args.out / "results.tsv")
    table = markdown(rows, names)
    (args.out / "results.md").write_text(table + "\n")
    print(table)
    keep(args, rows)
    return 0


def keep(args, rows: list[dict]) -> None:
    """With ``--keep``: copy the table of ``--out`` into benchmarks/results (tagged with the GPU if one ran it)."""
    if args.keep is None:
        return
    device = "cuda" if any(str(r.get("device", "")).startswith("cuda") for r in rows) else None
    for ext in ("tsv", "md"):
        shutil.copy2(args.out / f"results.{ext}", result_path(__file__, ext, args.keep or None, device=device))


def averaged(out: Path, names: list[str], exps: list[str]) -> str:
    """Per experiment, the test AUROC of the candidates' probabilities averaged (an ensemble of finished runs)."""
    import csv

    import numpy as np
    from sklearn.metrics import roc_auc_score

    lines, values = (
        [f"| experiment | {' | '.join(names)} | mean of the {len(names)} |", "|---" * (len(names) + 2) + "|"],
        [],
    )
    for experiment in exps:
        runs = [
            list(csv.DictReader(open(out / n / experiment.split("_")[0] / "predictions.tsv"), delimiter="\t"))
            for n in names
        ]
        if any([r["id"] for r in run] != [r["id"] for r in runs[0]] for run in runs):
            raise SystemExit(f"{experiment}: the runs' predictions are not of the same test sequences")
        y = np.array([int(r["label"]) for r in runs[0]])
        probs = [np.array([float(r["probability"]) for r in run]) for run in runs]
        values.append(roc_auc_score(y, np.mean(probs, axis=0)))
        lines.append(
            f"| {experiment.split('_')[0]} | "
            + " | ".join(f"{roc_auc_score(y, p):.4f}" for p in probs)
            + f" | {values[-1]:.4f} |"
        )
    return "\n".join(lines + [f"\nmedian of the averaged: {statistics.median(values):.4f}"])


def write_tsv(rows: list[dict], path: Path) -> None:
    keys = ["candidate", "experiment", "auroc", "auprc", "deepbind_best", "epochs", "seconds", "device", "error"]
    from seqcnn.files import atomic_write_text

    lines = ["\t".join(keys)] + ["\t".join(str(r.get(k, "")) for k in keys) for r in rows]
    atomic_write_text(path, "\n".join(lines) + "\n")


def markdown(rows: list[dict], names: list[str]) -> str:
    exps = sorted({r["experiment"] for r in rows})
    cell = {(r["candidate"], r["experiment"]): r for r in rows}
    best = {r["experiment"]: r["deepbind_best"] for r in rows}
    lines = [
        f"{date.today()}, {platform.node()}, `benchmarks/encode_grid.py`; test AUROC (bold: at or above DeepBind's "
        "best)",
        "",
        "| candidate | " + " | ".join(exps) + " | median | >= DeepBind |",
        "|---" * (len(exps) + 3) + "|",
        "| DeepBind best | " + " | ".join(f"{best[e]:.3f}" for e in exps) + " | | |",
    ]
    for name in names:
        values = [cell.get((name, e), {}).get("auroc") for e in exps]
        shown = [("-" if v is None else f"**{v:.3f}**" if v >= best[e] else f"{v:.3f}") for v, e in zip(values, exps)]
        got = [v for v in values if v is not None]
        median = f"{statistics.median(got):.4f}" if len(got) == len(exps) else "-"
        passed = sum(v is not None and v >= best[e] for v, e in zip(values, exps))
        lines.append(f"| {name} | " + " | ".join(shown) + f" | {median} | {passed}/{len(exps)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
