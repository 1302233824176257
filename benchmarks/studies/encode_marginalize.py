"""Marginalization on the ten ENCODE experiments: does each factor's own JASPAR motif raise its model's score more
than an unrelated factor's motif?

For each experiment of ``../shared/data/encode-deepbind``: a ``chipseq`` model (seed 0, ``--epochs`` epochs) trained
on ``--keep`` positives of its AC file and one dinucleotide shuffle of each (``make_panel.encode_set``), its B file as
the test part; then ``seqcnn.interpret.experiments.marginalize`` with the factor's own JASPAR 2024 motif (its
consensus at the centre of 200 dinucleotide-shuffled test sequences) and with the motif of the factor five places on
in the list (ARID3A <-> MYC, CTCFL <-> REST, ELK1 <-> SP1, FOXA1 <-> USF1, GABPA <-> ZBTB7A). Rows to
``benchmarks/results/studies/encode_marginalize-<machine>.tsv``.

    .venv/bin/python -m benchmarks.studies.encode_marginalize                       # all ten
    .venv/bin/python -m benchmarks.studies.encode_marginalize --only MYC,REST --keep 1000 --epochs 3
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks.harness import ENCODE, result_path, write_text
from benchmarks.studies.make_panel import encode_set

FACTORS = {"ARID3A": "MA0151.1", "CTCFL": "MA1102.3", "ELK1": "MA0028.3", "FOXA1": "MA0148.5", "GABPA": "MA0062.4",
           "MYC": "MA0147.4", "REST": "MA0138.3", "SP1": "MA0079.5", "USF1": "MA0093.4", "ZBTB7A": "MA0750.3"}
HEADER = ["experiment", "test_auroc", "own_motif", "own_delta", "own_p", "other_motif", "other_delta", "other_p",
          "own_higher", "seconds"]


def prefix_of(factor: str) -> str:
    (found,) = [p.name[: -len("_AC.seq.gz")] for p in ENCODE.glob(f"{factor}_*_AC.seq.gz")]
    return found


def one(factor: str, other: str, folder: Path, keep: int, epochs: int) -> list:
    import seqcnn
    from seqcnn.interpret.experiments import background, marginalize, paired_p
    from seqcnn.interpret.scoring import load_scorer
    from seqcnn.io.motif_lookup import find_motif

    started = time.perf_counter()
    made = encode_set(prefix_of(factor), keep, folder, factor)
    run = seqcnn.train(str(folder / made["file"]), test=str(folder / made["test"]), model="chipseq", epochs=epochs,
                       out=folder / f"run-{factor}", progress=False, seed=0)
    auroc = json.loads((run / "metrics.json").read_text())["auroc"]
    scorer = load_scorer(run)
    codes, _ = background(scorer, None, 200, seed=0)
    (own,) = marginalize(scorer, find_motif(FACTORS[factor]), codes)
    (alien,) = marginalize(scorer, find_motif(FACTORS[other]), codes)

    row = [factor, round(auroc, 4), own.motif, round(float(own.delta.mean()), 4),
           f"{paired_p(own.before, own.after):.2g}", alien.motif, round(float(alien.delta.mean()), 4),
           f"{paired_p(alien.before, alien.after):.2g}", "yes" if own.delta.mean() > alien.delta.mean() else "no",
           round(time.perf_counter() - started, 1)]
    print("\t".join(map(str, row)), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated factors (default: all ten)")
    parser.add_argument("--keep", type=int, default=2000, help="AC positives per experiment (default 2000)")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    names = list(FACTORS)
    chosen = args.only.split(",") if args.only else names
    print("\t".join(HEADER), flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for factor in chosen:
            other = names[(names.index(factor) + 5) % len(names)]
            rows.append(one(factor, other, Path(tmp), args.keep, args.epochs))
            path = result_path(__file__, "tsv")
            write_text(path, "\n".join("\t".join(map(str, r)) for r in [HEADER, *rows]) + "\n")
    print(f"{sum(r[8] == 'yes' for r in rows)} of {len(rows)}: own motif higher; results: {path}")


if __name__ == "__main__":
    main()
