"""ENCODE as one sparse multi-task model against ten single-task runs (issue 14).

Each ``<name>_AC.seq.gz`` (positives only) gives ``--positives`` positives (seed 0) and four
dinucleotide-shuffled negatives per positive (:func:`seqcnn.data.negatives.dinucleotide_shuffle`, seed 0).
The multi-task table has one column per experiment: each row is labelled 1/0 in its own
experiment's column and left empty in the nine others. One ``multilabel`` model is trained on it
with the task's default model and recipe, and evaluated per column on the ``_B`` files (same
sparse layout). The single-task side runs ``seqcnn train SUBSAMPLE --test B`` with the defaults for
positives-only data (chipseq model and recipe, four shuffles per positive).

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.accuracy.encode_multitask --positives 300

Results: ``benchmarks/results/accuracy/encode_multitask-<tag>-<machine>.tsv`` (tag ``p<positives>``) and a
markdown table on stdout.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import ENCODE as DATA
from benchmarks.harness import ROOT, result_path

COPIES = 4  # shuffles per positive, as seqcnn adds to positives-only data by default


def read_deepbind(path: Path) -> list[dict]:
    """Rows of a DeepBind ``FoldID EventID seq Bound`` file."""
    with gzip.open(path, "rt") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def subsample(rows: list[dict], n: int | None, seed: int = 0) -> list[dict]:
    """``n`` rows drawn without replacement (all rows when ``n`` is None), in file order."""
    if n is None or n >= len(rows):
        return rows
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), size=n, replace=False))
    return [rows[i] for i in keep]


def with_shuffles(rows: list[dict]) -> list[tuple[str, str, int]]:
    """(id, sequence, label) for the positives and ``COPIES`` dinucleotide shuffles of each."""
    from seqcnn.data.negatives import dinucleotide_shuffle
    from seqcnn.sequence import decode, encode_batch

    seqs = [r["seq"] for r in rows]
    shuffled = decode(dinucleotide_shuffle(encode_batch(seqs), COPIES, seed=0))
    ids = [r["EventID"] for r in rows]
    negs = [f"{i}_shuf{c}" for c in range(COPIES) for i in ids]
    return [(i, s, 1) for i, s in zip(ids, seqs)] + [(i, s, 0) for i, s in zip(negs, shuffled)]


def write_sparse(path: Path, columns: list[str], labelled: dict[str, list[tuple[str, str, int]]]) -> None:
    """One table ``id,sequence,<col>...``: each row labelled in its own column only."""
    lines = [",".join(["id", "sequence", *columns])]
    for col, rows in labelled.items():
        for rid, seq, label in rows:
            cells = [str(label) if c == col else "" for c in columns]
            lines.append(",".join([f"{col}:{rid}", seq, *cells]))
    path.write_text("\n".join(lines) + "\n")


def write_single(path: Path, rows: list[dict]) -> None:
    """The subsampled positives in the DeepBind layout (seqcnn adds the shuffles itself)."""
    text = "FoldID\tEventID\tseq\tBound\n" + "".join(f"{r['FoldID']}\t{r['EventID']}\t{r['seq']}\t1\n" for r in rows)
    with gzip.open(path, "wt") as handle:
        handle.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positives", type=int, default=None, help="positives per experiment (default: all)")
    parser.add_argument("--epochs", type=int, default=None, help="cap on epochs for both sides (default: recipes')")
    parser.add_argument("--tag", default=None, help="results tag (default: p<positives>)")
    args = parser.parse_args(argv)
    tag = args.tag or f"p{args.positives or 'all'}"
    work = ROOT / "runs" / "encode-multitask" / tag
    work.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name[: -len("_AC.seq.gz")] for p in DATA.glob("*_AC.seq.gz"))
    short = {n: n.split("_")[0] for n in names}
    columns = [short[n] for n in names]
    train_sets, test_sets = {}, {}
    for name in names:
        rows = subsample(read_deepbind(DATA / f"{name}_AC.seq.gz"), args.positives)
        write_single(work / f"{short[name]}_AC.seq.gz", rows)
        train_sets[short[name]] = with_shuffles(rows)
        test_sets[short[name]] = [(r["EventID"], r["seq"], int(r["Bound"]))
                                  for r in read_deepbind(DATA / f"{name}_B.seq.gz")]
    write_sparse(work / "train.csv", columns, train_sets)
    write_sparse(work / "test.csv", columns, test_sets)
    multi, multi_seconds = run_multi(work, columns, args.epochs)
    results = [run_single(work, name, short[name], args.epochs) | {"multi_auroc": multi[short[name]]}
               for name in names]
    write(results, multi_seconds, args, tag)
    return 0


def run_multi(work: Path, columns: list[str], epochs: int | None) -> tuple[dict[str, float], float]:
    """Train the multilabel model; per-column AUROC on the sparse test table (empty cells skipped)."""
    import seqcnn
    from seqcnn.jobs.inference import evaluate_file

    started = time.time()
    extra = {"epochs": epochs} if epochs else {}
    # The B table is the run's test set, as --test B is for the single-task runs: nothing of the
    # training table is held out for a test.
    run = seqcnn.train(work / "train.csv", target=columns, task="multilabel", test=work / "test.csv",
                       out=work / "multi", force=True, progress=False, **extra)
    seconds = time.time() - started
    metrics = evaluate_file(run, work / "test.csv")
    (work / "multi-test-metrics.json").write_text(json.dumps(metrics, indent=1, default=str))
    return per_column(metrics, columns), seconds


def per_column(metrics: dict, columns: list[str]) -> dict[str, float]:
    """Per-task AUROC from the product's multilabel metrics (missing cells left out by it)."""
    return {col: metrics["tasks"][col]["auroc"] for col in columns}


def run_single(work: Path, name: str, col: str, epochs: int | None) -> dict:
    """One positives-only run with the defaults, tested on the B file."""
    import seqcnn

    started = time.time()
    extra = {"epochs": epochs} if epochs else {}
    run = seqcnn.train(work / f"{col}_AC.seq.gz", test=DATA / f"{name}_B.seq.gz", out=work / f"single-{col}",
                       force=True, progress=False, **extra)
    metrics = json.loads((Path(run) / "metrics.json").read_text())
    return {"experiment": name, "single_auroc": metrics["auroc"], "single_seconds": round(time.time() - started, 1)}


def write(results: list[dict], multi_seconds: float, args, tag: str) -> None:
    from seqcnn.files import atomic_write_text

    head = ["experiment", "single_auroc", "multi_auroc", "single_seconds"]
    lines = ["\t".join(head)] + ["\t".join(f"{r[k]:.4f}" if isinstance(r[k], float) and k != "single_seconds"
                                           else str(r[k]) for k in head) for r in results]
    single_total = sum(r["single_seconds"] for r in results)
    lines.append(f"# total seconds: single {single_total:.1f}, multi {multi_seconds:.1f}; "
                 f"positives {args.positives or 'all'}, epochs {args.epochs or 'recipe default'}")
    out = result_path(__file__, "tsv", tag)
    atomic_write_text(out, "\n".join(lines) + "\n")
    print("| experiment | single-task AUROC | multi-task AUROC | single-task s |")
    print("|---|---|---|---|")
    for r in results:
        print(f"| {r['experiment']} | {r['single_auroc']:.4f} | {r['multi_auroc']:.4f} | {r['single_seconds']} |")
    print(f"| median | {statistics.median(r['single_auroc'] for r in results):.4f} | "
          f"{statistics.median(r['multi_auroc'] for r in results):.4f} | |")
    print(f"total wall time: single-task {single_total:.1f} s (ten runs), multi-task {multi_seconds:.1f} s (one run)")


if __name__ == "__main__":
    raise SystemExit(main())
