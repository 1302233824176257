"""How the ``seqcnn`` recipe's weight average starts: short and full runs (docs/benchmarks/primer.md).

The average (``TrainConfig.average``, ``training.ExponentialAverage``) is bias-corrected: after ``n``
steps it weighs the weights after step ``k`` by ``decay ** (n - k)``, normalised. Two other rules are
patched in for comparison: ``plain`` (the first step's weights start the average, which keeps
``decay ** n`` of them) and ``warmup`` (TensorFlow's ``ExponentialMovingAverage`` with
``num_updates``: step ``n`` keeps ``min(decay, (1 + n) / (10 + n))``); ``none`` trains without the
average. The primer model on the built-in data, through ``seqcnn.train``; test accuracy per seed.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.studies.average_variants --epochs 1,3,10 --seeds 0,1,2

Prints a Markdown table and writes it to ``benchmarks/results/studies/average_variants-<machine>.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import torch

from benchmarks.harness import result_path, write_text


def patched(rule: str):
    """An ``update_parameters`` for ``ExponentialAverage`` with another start rule."""

    @torch.no_grad()
    def update(self, current: torch.nn.Module) -> None:
        if self.pairs is None:
            mine = [*self.module.parameters(), *self.module.buffers()]
            self.pairs = list(zip(mine, [*current.parameters(), *current.buffers()], strict=True))
        n = int(self.n_averaged)
        keep = self.decay if rule == "plain" else min(self.decay, (1 + n) / (10 + n))
        for average, now in self.pairs:
            if n == 0 or not average.is_floating_point():
                average.copy_(now)
            else:
                average.lerp_(now, 1 - keep)
        self.n_averaged += 1

    return update


def main() -> None:
    import seqcnn
    from seqcnn.training.optimizers import ExponentialAverage

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", default="1,3,10", help="comma-separated; 0: the recipe's own (50)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--variants", default="none,corrected,warmup,plain")
    args = parser.parse_args()
    corrected = ExponentialAverage.update_parameters
    table = ["| average | epochs | test accuracy per seed | median |", "|---|---|---|---|"]
    print("\n".join(table))
    with tempfile.TemporaryDirectory() as tmp:
        for variant in args.variants.split(","):
            ExponentialAverage.update_parameters = corrected if variant in ("none", "corrected") else patched(variant)
            for epochs in map(int, args.epochs.split(",")):
                accuracies = []
                for seed in map(int, args.seeds.split(",")):
                    out = Path(tmp) / f"{variant}-{epochs}-{seed}"
                    options = {"average": 0.0} if variant == "none" else {}
                    if epochs:
                        options["epochs"] = epochs
                    seqcnn.train(None, model="primer", out=out, force=True, progress=False, seed=seed, **options)
                    accuracies.append(json.loads((out / "metrics.json").read_text())["accuracy"])
                per_seed = " ".join(f"{a:.3f}" for a in accuracies)
                table.append(f"| {variant} | {epochs or 50} | {per_seed} | {statistics.median(accuracies):.3f} |")
                print(table[-1], flush=True)
    write_text(result_path(__file__, "md"), "\n".join(table) + "\n")


if __name__ == "__main__":
    main()
