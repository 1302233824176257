"""Masked-nucleotide pretraining on ENCODE peaks, then fine-tuning with 500 positives against training from scratch.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.studies.pretrain                 # small: 2 experiments
    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.studies.pretrain --all --per-experiment 5000 --epochs 10

1. Unlabelled sequences: ``--per-experiment`` random positives (seed 0) of each of the ten
   ``_AC`` training files, without their labels. ``seqcnn.training.pretrain`` trains ``mlm-trunk`` on
   them (15 % of positions hidden) and reports the masked-nucleotide accuracy on its held-out
   10 % against the best k-mer baseline.
2. Fine-tuning (the transfer benchmark's protocol, ``benchmarks/accuracy/encode_transfer.py``): each
   experiment's ``_AC`` file cut to 500 random positives (seed 0); ``mlm-classifier`` trained
   with the ChIP-seq recipe from scratch and from the pretrained run (``--init-from``, all
   layers trained); test AUROC on the experiment's ``_B`` file. ``--only`` picks experiments,
   ``--all`` runs the ten.

Results: ``benchmarks/results/studies/pretrain-<tag>-<machine>.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from benchmarks.harness import ENCODE as DATA
from benchmarks.harness import ROOT, result_path


def _rows(path: Path) -> tuple[str, list[str]]:
    header, *rows = gzip.open(path, "rt").read().splitlines()
    return header, rows


def unlabelled_pool(per_experiment: int, out: Path) -> Path:
    """A file of sequences, one per line: ``per_experiment`` random training positives of each experiment."""
    seqs = []
    for path in sorted(DATA.glob("*_AC.seq.gz")):
        header, rows = _rows(path)
        column = header.split("\t").index("seq")
        chosen = np.random.default_rng(0).choice(len(rows), min(per_experiment, len(rows)), replace=False)
        seqs += [rows[i].split("\t")[column] for i in sorted(chosen)]
    out.write_text("\n".join(seqs) + "\n")
    return out


def cut(name: str, n: int, folder: Path) -> Path:
    """The experiment's training file cut to ``n`` random positives (seed 0)."""
    header, rows = _rows(DATA / f"{name}_AC.seq.gz")
    chosen = sorted(np.random.default_rng(0).choice(len(rows), n, replace=False))
    out = folder / f"{name}_{n}_AC.seq.gz"
    with gzip.open(out, "wt") as handle:
        handle.write("\n".join([header] + [rows[i] for i in chosen]) + "\n")
    return out


def fine_tune(name: str, train_file: Path, pretrained: Path | None, args) -> dict:
    import seqcnn

    start = "pretrained" if pretrained else "scratch"
    started = time.time()
    run = seqcnn.train(
        train_file,
        test=DATA / f"{name}_B.seq.gz",
        model="mlm-classifier",
        init_from=pretrained,
        out=ROOT / "runs" / "pretrain" / args.tag / name / start,
        force=True,
        progress=False,
        threads=args.threads,
        epochs=args.finetune_epochs,
    )
    metrics = json.loads((run / "metrics.json").read_text())
    epochs = len((run / "history.csv").read_text().splitlines()) - 1
    return {
        "experiment": name,
        "start": start,
        "auroc": round(metrics["auroc"], 4),
        "epochs": epochs,
        "seconds": round(time.time() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-experiment", type=int, default=800, help="unlabelled sequences from each experiment")
    parser.add_argument("--epochs", type=int, default=3, help="pretraining epochs")
    parser.add_argument("--finetune-epochs", type=int, default=12, help="at most this many epochs when fine-tuning")
    parser.add_argument("--positives", type=int, default=500)
    parser.add_argument("--only", default="MYC,ZBTB7A", help="experiment name prefixes for fine-tuning")
    parser.add_argument("--all", action="store_true", help="fine-tune on all ten experiments")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tag", default="small")
    args = parser.parse_args()

    from seqcnn.training.pretrain import PretrainConfig, pretrain

    names = sorted(p.name[: -len("_AC.seq.gz")] for p in DATA.glob("*_AC.seq.gz"))
    if not args.all:
        names = [n for n in names if any(n.startswith(k) for k in args.only.split(","))]
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor()}",
        "args": vars(args),
    }
    out = result_path(__file__, "json", args.tag)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        started = time.time()
        run = pretrain(
            unlabelled_pool(args.per_experiment, tmp / "pool.txt"),
            ROOT / "runs" / "pretrain" / args.tag / "trunk",
            config=PretrainConfig(epochs=args.epochs, threads=args.threads),
            force=True,
        )
        result["pretraining"] = {
            **json.loads((run / "metrics.json").read_text()),
            "seconds": round(time.time() - started, 1),
        }
        out.write_text(json.dumps(result, indent=1) + "\n")
        rows = []
        for name in names:
            small = cut(name, args.positives, tmp)
            for pretrained in (None, run):
                rows.append(fine_tune(name, small, pretrained, args))
                print(rows[-1], flush=True)
                result["fine_tuning"] = rows
                out.write_text(json.dumps(result, indent=1) + "\n")
    for start in ("scratch", "pretrained"):
        aurocs = [r["auroc"] for r in rows if r["start"] == start]
        result[f"median_auroc_{start}"] = statistics.median(aurocs)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "fine_tuning"}, indent=1))


if __name__ == "__main__":
    main()
