"""Transfer learning on ENCODE: a small training set from scratch vs fine-tuned from a related run.

    nice -n 10 .venv/bin/python -m benchmarks.accuracy.encode_transfer \
        --source "runs/encode/default/ELK1_GM12878_ELK1_(1277-1)_Stanford" --target GABPA [--n 500]

(the source is a run of ``benchmarks.accuracy.encode``). Prints its table; no results file.

Cuts the target's ``_AC`` file to ``n`` random positives (seeded), then trains the default model
(i) from scratch, (ii) from the source run's weights (all layers trainable) and (iii) from the
source with the convolution frozen (``--freeze 1``), three seeds each, and tests on the
target's ``_B`` file. GABPA and ELK1 are both ETS factors (GGAA core), so the motif detectors
of one should help the other.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
from pathlib import Path

import numpy as np

from benchmarks.harness import ENCODE as DATA
from benchmarks.harness import ROOT


def cut(target: str, n: int, out: Path) -> tuple[Path, Path]:
    train = next(DATA.glob(f"{target}*_AC.seq.gz"))
    lines = gzip.open(train, "rt").read().splitlines()
    rows = np.random.default_rng(0).choice(len(lines) - 1, size=n, replace=False) + 1
    out.mkdir(parents=True, exist_ok=True)
    small = out / f"{target}_{n}_AC.seq.gz"
    with gzip.open(small, "wt") as handle:
        handle.write("\n".join([lines[0]] + [lines[i] for i in sorted(rows)]) + "\n")
    return small, Path(str(train).replace("_AC.seq.gz", "_B.seq.gz"))


def main() -> int:
    import seqcnn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="run folder trained on the related experiment")
    parser.add_argument("--target", default="ELK1")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    out = ROOT / "runs" / "transfer"
    train, test = cut(args.target, args.n, out)
    results: dict[str, list[float]] = {}
    for label, extra in (
        ("scratch", {}),
        ("fine-tune", {"init_from": args.source}),
        ("fine-tune, conv frozen", {"init_from": args.source, "freeze": 1}),
    ):
        for seed in range(args.seeds):
            run = seqcnn.train(
                train,
                test=test,
                out=out / f"{label.replace(' ', '').replace(',', '-')}-{seed}",
                force=True,
                progress=False,
                seed=seed,
                **extra,
            )
            results.setdefault(label, []).append(json.loads((run / "metrics.json").read_text())["auroc"])
    print(f"target {args.target}, {args.n} positives (+ shuffles), source {args.source}")
    print("| start | test AUROC (median of seeds) | seeds |\n|---|---|---|")
    for label, values in results.items():
        print(f"| {label} | {statistics.median(values):.3f} | {', '.join(f'{v:.3f}' for v in values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
