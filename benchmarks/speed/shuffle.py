"""Dinucleotide shuffle speed: seqcnn.data.negatives (numba) vs tangermeme.ersatz.dinucleotide_shuffle.

    nice -n 10 .venv/bin/python -m benchmarks.speed.shuffle [N]

Shuffles N (default 100,000) random 101 bp sequences with seqcnn, and 2,000 with tangermeme
(slower; its rate is extrapolated from those), checks that both keep dinucleotide counts, and
prints sequences per second (docs/benchmarks/encode.md); no results file.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

import benchmarks.harness  # noqa: F401  (this checkout's src/ on the path)


def main() -> int:
    from seqcnn.data.negatives import dinucleotide_counts, dinucleotide_shuffle
    from seqcnn.sequence import onehot

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    codes = np.random.default_rng(0).integers(0, 4, size=(n, 101)).astype(np.uint8)
    dinucleotide_shuffle(codes[:10])  # compile (cached on disk after the first run)
    start = time.perf_counter()
    out = dinucleotide_shuffle(codes, seed=1)
    ours = n / (time.perf_counter() - start)
    assert (dinucleotide_counts(out) == dinucleotide_counts(codes)).all()
    print(
        f"seqcnn.data.negatives.dinucleotide_shuffle: {n:,} x 101 bp in {n / ours:.2f} s = {ours:,.0f} seqs/s "
        "(counts exact)"
    )
    from tangermeme.ersatz import dinucleotide_shuffle as tm_shuffle

    m = 2000
    x = torch.from_numpy(onehot(codes[:m]))
    start = time.perf_counter()
    y = tm_shuffle(x, n=1, random_state=1)
    theirs = m / (time.perf_counter() - start)
    shuffled = y[:, 0].argmax(1).numpy().astype(np.uint8)
    exact = bool((dinucleotide_counts(shuffled) == dinucleotide_counts(codes[:m])).all())
    print(f"tangermeme.ersatz.dinucleotide_shuffle: {m:,} x 101 bp = {theirs:,.0f} seqs/s (counts exact: {exact})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
