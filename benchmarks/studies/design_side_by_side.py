"""Sequence design side by side: seqcnn's greedy, evolve and ledidi against tangermeme's greedy_substitution and
Ledidi used directly, from the same starts with the same model, scored by an independent oracle.

The data: 150 bp random sequences, half of them (label 1) with one site drawn from JASPAR's HNF4A (MA0114.5) or
TP53 (MA0106.3) matrix at a random place (alternating), 4,000 sequences per set. The model (``chipseq``, seed 0)
learns set A; the oracle (same architecture, seed 1) learns set B, other sequences. The starts are random 150 bp
sequences (negatives by construction). Every method gets at most ``--max-edits`` edits (10) and maximises the
model's probability of class 1 (both strands averaged, as the run predicts):

- seqcnn ``greedy``: up to 10 rounds, each the best single substitution of all (batched over every start);
- seqcnn ``evolve``: population 50, 30 generations; seqcnn ``ledidi``: 300 iterations, edit weight 0.01;
- tangermeme 1.6 ``greedy_substitution``: single bases, ``max_iter`` 10, default ``tol``, one start at a time,
  ``batch_size`` 512 (its default of 32 is slower);
- Ledidi 2.2 directly: its defaults (L1 input loss, MSE output loss, ``l`` 0.1), 300 iterations, the logit of class
  1 driven to logit(0.98); the best of its samples with at most 10 edits, else the one with the fewest.

gReLU 1.1 (``design.evolve``) is not installed here and is not measured.

Reported per method: seconds (2 CPU threads), the median edits, the model's and the oracle's median probability of
class 1 for the designs, and how many designs the oracle calls positive (> 0.5); to
``benchmarks/results/studies/design_side_by_side-<machine>.tsv`` and ``.json``.

    .venv/bin/python -m benchmarks.studies.design_side_by_side                 # 20 starts
    .venv/bin/python -m benchmarks.studies.design_side_by_side --starts 5 --methods greedy,tangermeme
    ... --data encode-MYC --part encode-MYC     # an ENCODE dev model: 4,000 rows of MYC's AC file, shuffled starts
    ... --methods greedy,tangermeme,greedy,tangermeme,greedy,tangermeme --part timing   # timings, three each
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import machine, result_path, write_text

LENGTH = 150
METHODS = ("greedy", "evolve", "ledidi", "tangermeme", "ledidi-direct")
HEADER = ["method", "starts", "seconds", "seconds_per_start", "median_edits", "max_edits_used", "model_median_start",
          "model_median", "oracle_median_start", "oracle_median", "oracle_positive"]


def planted_set(path: Path, n: int, seed: int) -> Path:
    """``n`` sequences of LENGTH bases; odd rows (label 1) carry one HNF4A or TP53 site drawn from its matrix."""
    from seqcnn.io.motif_lookup import find_motif

    motifs = [find_motif("MA0114.5"), find_motif("MA0106.3")]
    rng = np.random.default_rng(seed)
    lines = ["id\tsequence\tlabel"]
    for i in range(n):
        codes = rng.integers(0, 4, LENGTH)
        if i % 2:
            pwm = motifs[(i // 2) % 2].pwm
            site = np.array([rng.choice(4, p=col / col.sum()) for col in pwm.T])
            at = rng.integers(0, LENGTH - len(site) + 1)
            codes[at : at + len(site)] = site
        lines.append(f"s{i}\t{''.join('ACGT'[c] for c in codes)}\t{i % 2}")
    path.write_text("\n".join(lines) + "\n")
    return path


def train_models(folder: Path, n: int, epochs: int, data: str = "planted") -> tuple[Path, Path]:
    """The model (seed 0) and the oracle (seed 1), each on its own data: two planted sets, or two random draws of
    ``n // 2`` positives (and a shuffle each) from an ENCODE experiment's AC file (``encode-FACTOR``)."""
    import seqcnn

    if data == "planted":
        files = [planted_set(folder / f"{part}.tsv", n, seed) for seed, part in enumerate("ab")]
    else:
        from benchmarks.studies.encode_marginalize import prefix_of
        from benchmarks.studies.make_panel import encode_set

        prefix = prefix_of(data.removeprefix("encode-"))
        files = [folder / encode_set(prefix, n // 2, folder, f"set{seed}", seed=seed)["file"] for seed in (0, 1)]
    model = seqcnn.train(str(files[0]), model="chipseq", epochs=epochs, out=folder / "model", progress=False, seed=0)
    oracle = seqcnn.train(str(files[1]), model="chipseq", epochs=epochs, out=folder / "oracle", progress=False,
                          seed=1)
    for run in (model, oracle):
        print(f"{run.name}: {json.loads((run / 'metrics.json').read_text())['auroc']:.4f} test AUROC", flush=True)
    return model, oracle


class Positive:
    """The model's probability of class 1 (or its logit) as a ``(N, 1)`` torch module, for the peers."""

    def __new__(cls, scorer, logit: bool = False):
        import torch

        class Module(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.net = scorer.model

            def forward(self, x):
                p = scorer.outputs(x)[:, 1:2].clamp(1e-6, 1 - 1e-6)
                return torch.log(p / (1 - p)) if logit else p

        return Module().eval()


def seqcnn_method(name: str, scorer, starts: np.ndarray, max_edits: int) -> np.ndarray:
    from seqcnn.interpret.constraints import Constraints
    from seqcnn.interpret.design import DesignOptions, design
    from seqcnn.interpret.objective import build_objective

    options = {"greedy": DesignOptions("greedy"), "evolve": DesignOptions("evolve", rounds=30, population=50),
               "ledidi": DesignOptions("ledidi", rounds=300)}[name]
    rules = Constraints(max_edits, np.ones(starts.shape[1], dtype=bool))
    return design(scorer, build_objective(scorer.names, scorer.task.kind), rules, starts, options).designs


def tangermeme_method(scorer, starts: np.ndarray, max_edits: int) -> np.ndarray:
    import torch
    from tangermeme.design import greedy_substitution

    model = Positive(scorer)
    out = []
    for row in starts:
        x = torch.from_numpy(_onehot(row[None]))
        designed = greedy_substitution(model, x, max_iter=max_edits, batch_size=512, device="cpu")
        out.append(designed[0].argmax(dim=0).numpy().astype(np.uint8))
    return np.stack(out)


def ledidi_direct(scorer, starts: np.ndarray, max_edits: int) -> np.ndarray:
    import torch
    from ledidi import ledidi

    model = Positive(scorer, logit=True)
    target = torch.tensor([[float(np.log(0.98 / 0.02))]])
    out = []
    for k, row in enumerate(starts):
        x = torch.from_numpy(_onehot(row[None]))
        samples = ledidi(model, x, target, max_iter=300, device="cpu", verbose=False, random_state=k)
        codes = samples.argmax(dim=1).numpy().astype(np.uint8)
        edits = (codes != row[None]).sum(axis=1)
        with torch.no_grad():
            score = model(torch.from_numpy(_onehot(codes)))[:, 0].numpy()
        fits = edits <= max_edits
        out.append(codes[np.nonzero(fits)[0][np.argmax(score[fits])]] if fits.any() else codes[np.argmin(edits)])
    return np.stack(out)


def _onehot(codes: np.ndarray) -> np.ndarray:
    from seqcnn.sequence import onehot

    return onehot(codes)


def measure(method: str, scorer, oracle, starts: np.ndarray, max_edits: int) -> list:
    started = time.perf_counter()
    if method == "tangermeme":
        designs = tangermeme_method(scorer, starts, max_edits)
    elif method == "ledidi-direct":
        designs = ledidi_direct(scorer, starts, max_edits)
    else:
        designs = seqcnn_method(method, scorer, starts, max_edits)
    seconds = time.perf_counter() - started
    edits = (designs != starts).sum(axis=1)
    own0, own = scorer.predict(_onehot(starts))[:, 1], scorer.predict(_onehot(designs))[:, 1]
    ora0, ora = oracle.predict(_onehot(starts))[:, 1], oracle.predict(_onehot(designs))[:, 1]
    row = [method, len(starts), round(seconds, 2), round(seconds / len(starts), 3), float(np.median(edits)),
           int(edits.max()), round(float(np.median(own0)), 4), round(float(np.median(own)), 4),
           round(float(np.median(ora0)), 4), round(float(np.median(ora)), 4), int((ora > 0.5).sum())]
    print("\t".join(map(str, row)), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--sequences", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--max-edits", type=int, default=10)
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated; a method may repeat (timing)")
    parser.add_argument("--data", default="planted", help="planted (default) or encode-FACTOR (e.g. encode-MYC): "
                        "the model's and the oracle's data; ENCODE starts are shuffled test sequences")
    parser.add_argument("--part", help="results file part (e.g. timing), so that a partial rerun keeps the full one")
    args = parser.parse_args()
    import torch

    from seqcnn.interpret.scoring import load_scorer

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        model_run, oracle_run = train_models(Path(tmp), args.sequences, args.epochs, args.data)
        scorer, oracle = load_scorer(model_run), load_scorer(oracle_run)
        if args.data == "planted":
            starts = np.random.default_rng(2).integers(0, 4, (args.starts, LENGTH)).astype(np.uint8)
        else:  # the test sequences, dinucleotide-shuffled: ChIP-seq-like composition, no site left whole
            from seqcnn.interpret.experiments import background

            starts = background(scorer, None, args.starts, seed=2)[0]
        print("\t".join(HEADER), flush=True)
        rows = [measure(m, scorer, oracle, starts, args.max_edits) for m in args.methods.split(",")]
    tsv = result_path(__file__, "tsv", part=args.part)
    write_text(tsv, "\n".join("\t".join(map(str, r)) for r in [HEADER, *rows]) + "\n")
    write_text(result_path(__file__, "json", part=args.part), json.dumps(
        {"machine": machine(), "args": vars(args), "rows": [dict(zip(HEADER, r)) for r in rows],
         "not_measured": "gReLU 1.1 design.evolve: gReLU is not installed"}, indent=1) + "\n")
    print(f"results: {tsv}")


if __name__ == "__main__":
    main()
