"""Every task kind through the real command line (`seqcnn train`, default model and recipe), against floors.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.accuracy.targets_cli [--epochs N] [--only NAME ...]

Part (a), the built-in simulated sets (`--dataset multiclass-sim` etc.): nothing is given but the name,
so the target, the task, the zoo head, the default model and recipe are the product's. Floors (as
benchmarks/accuracy/targets_sim.py, which measured the core with a hand-written loop):

- multiclass-sim accuracy >= 0.80 (chance 0.25; one JASPAR site per class);
- multilabel-sim mean per-task AUROC >= 0.90 (chance 0.5);
- regression-sim Pearson r >= 0.80 (noise ceiling about 0.97).

Part (b), data shaped like the public sets a user brings (made here, as the tests do; no download):

- a UCI-splice-like CSV ``Class,Donor,Sequence`` (EI/IE/N; 3,190 rows, 60 bp, donor and acceptor
  consensus planted with point mutations, 185 sequences repeated as in the real set): 3 named classes,
  accuracy floor 0.80; the leakage warning's count is recorded, then the run is repeated with --dedupe;
- a sparse multi-label table (3 experiments, each labelling only its own half of the rows, the other
  cells empty): mean AUROC floor 0.85;
- a regression table (an activity = motif count + noise, offset 100): Pearson floor 0.80;
- a flat ``.npz`` (X (N, 784) uint8, Y one-hot) with ``--input-shape 28,28,1``: accuracy floor 0.80
  (each class lights one block of pixels in noise).

Writes benchmarks/results/accuracy/targets_cli-<machine>.tsv and prints one line per case.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import ROOT, result_path

RESULTS = result_path(__file__, "tsv")


def run_cli(args: list[str], out: Path) -> tuple[dict, str, float]:
    """``seqcnn train ARGS --out OUT``: its metrics.json, stderr and seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "seqcnn", "train", *args, "--quiet", "--out", str(out)],
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"seqcnn train {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads((out / "metrics.json").read_text()), proc.stderr, seconds


def mutate(seq: str, rng: np.random.Generator, rate: float) -> str:
    return "".join(rng.choice(list("ACGT")) if rng.random() < rate else b for b in seq)


def splice_like(path: Path, rng: np.random.Generator, n: int = 3190, repeats: int = 185) -> None:
    """EI (donor, exon|intron: ...AG|GTAAGT...), IE (acceptor, ...(Y)nNCAG|G...) and N (neither), about
    25/25/50 % as in the UCI set, each site with 15 % of its bases mutated; some sequences repeated."""
    donor, acceptor = "CAGGTAAGT", "TTTTTTCCCTTTCAGG"
    classes = rng.choice(["EI", "IE", "N"], size=n - repeats, p=[0.24, 0.24, 0.52])
    rows = []
    for i, c in enumerate(classes):
        seq = "".join(rng.choice(list("ACGT"), size=60))
        site = {"EI": donor, "IE": acceptor, "N": ""}[c]
        if site:
            at = 30 - len(site) // 2
            seq = seq[:at] + mutate(site, rng, 0.15) + seq[at + len(site):]
        rows.append((c, f"HS{i:05d}", seq))
    rows += [(c, f"REP{i:05d}", s) for i, (c, _, s) in enumerate(rows[: repeats])]
    order = rng.permutation(len(rows))
    path.write_text("Class,Donor,Sequence\n" + "".join(",".join(rows[i]) + "\n" for i in order))


def sparse_multilabel(path: Path, rng: np.random.Generator, n: int = 3000) -> None:
    """Three experiments; each row is labelled by one of them only (1 when its motif is there), as one
    model over several ChIP-seq experiments' own sequences."""
    motifs = {"expA": "CAGGTAAGT", "expB": "TGACTCA", "expC": "CACGTGAC"}
    owner = rng.integers(0, 3, size=n)
    lines = ["id,sequence," + ",".join(motifs)]
    for i in range(n):
        seq = list(rng.choice(list("ACGT"), size=100))
        cells = [""] * 3
        for t, motif in enumerate(motifs.values()):
            if rng.random() < 0.4:
                at = int(rng.integers(0, 100 - len(motif)))
                seq[at:at + len(motif)] = motif
                if t == owner[i]:
                    cells[t] = "1"
        cells[owner[i]] = cells[owner[i]] or "0"
        lines.append(f"r{i},{''.join(seq)}," + ",".join(cells))
    path.write_text("\n".join(lines) + "\n")


def regression_like(path: Path, rng: np.random.Generator, n: int = 3000) -> None:
    counts = rng.integers(0, 4, size=n)
    lines = ["sequence\tactivity"]
    for k in counts:
        seq = list(rng.choice(list("ACGT"), size=120))
        for j in range(k):
            at = 5 + 28 * j + int(rng.integers(0, 10))
            seq[at:at + 8] = "TGACTCAT"
        lines.append(f"{''.join(seq)}\t{100 + 2 * k + rng.normal(scale=0.8):.3f}")
    path.write_text("\n".join(lines) + "\n")


def flat_npz(path: Path, rng: np.random.Generator, n: int = 1500, k: int = 5) -> None:
    y = rng.integers(0, k, size=n)
    x = (rng.random((n, 28, 28)) * 160).astype(np.uint8)
    for i, c in enumerate(y):
        x[i, 4 + 4 * c: 8 + 4 * c, 6:22] = 255
    np.savez(path, X=x.reshape(n, 784), Y=np.eye(k, dtype=np.float32)[y])


CASES = {
    "multiclass-sim": (["--dataset", "multiclass-sim"], "accuracy", 0.80),
    "multilabel-sim": (["--dataset", "multilabel-sim"], "auroc", 0.90),
    "regression-sim": (["--dataset", "regression-sim"], "pearson", 0.80),
    "splice-like.csv": (["{dir}/splice.csv"], "accuracy", 0.80),
    "splice-like.csv --dedupe": (["{dir}/splice.csv", "--dedupe"], "accuracy", 0.80),
    "sparse-multilabel.csv": (["{dir}/sparse.csv", "--target", "expA,expB,expC"], "auroc", 0.85),
    "regression.tsv": (["{dir}/regression.tsv"], "pearson", 0.80),
    "flat.npz --input-shape 28,28,1": (["{dir}/flat.npz", "--input-shape", "28,28,1"], "accuracy", 0.80),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="override the recipe's epochs (default: the recipe's)")
    parser.add_argument("--only", nargs="*", help="case names to run")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rng = np.random.default_rng(14)
        splice_like(folder / "splice.csv", rng)
        sparse_multilabel(folder / "sparse.csv", rng)
        regression_like(folder / "regression.tsv", rng)
        flat_npz(folder / "flat.npz", rng)
        for name, (argv, key, floor) in CASES.items():
            if args.only and name not in args.only:
                continue
            argv = [a.format(dir=folder) for a in argv] + (["--epochs", str(args.epochs)] if args.epochs else [])
            metrics, err, seconds = run_cli(argv, folder / re.sub(r"\W+", "-", name))
            lines = err.splitlines()
            task = next((line.split("task: ", 1)[1] for line in lines if "task: " in line), "(image classes)")
            shared = re.search(r"warning: (\d+) of (\d+) test sequences", err)
            value = metrics[key]
            row = {"case": name, "task": task.split(" (")[0], "metric": key, "value": round(value, 4), "floor": floor,
                   "passes": value >= floor, "shared_test_sequences": f"{shared[1]}/{shared[2]}" if shared else "0",
                   "classes": ",".join(metrics.get("classes", [])) or ",".join(metrics.get("tasks", {})),
                   "seconds": round(seconds, 1)}
            rows.append(row)
            print("\t".join(str(v) for v in row.values()), flush=True)
    RESULTS.write_text("\t".join(rows[0]) + "\n" + "".join("\t".join(str(v) for v in r.values()) + "\n" for r in rows))
    if not all(r["passes"] for r in rows):
        raise SystemExit("a case is below its floor")


if __name__ == "__main__":
    main()
