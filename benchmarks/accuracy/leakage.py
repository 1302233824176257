"""Leakage check speed, and what it finds in the ENCODE (DeepBind) train and test files.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.accuracy.leakage [N]

1. Times seqcnn.data.leakage.shared on N (default 200,000) random 101 bp training sequences against
   N/4 test sequences of which 10 % are copies (half of them reverse complements), and checks the
   count is exact.
2. For each ENCODE experiment in ../shared/data/encode-deepbind (when present), counts the test
   (``_B``) sequences identical to a training (``_AC``) sequence or its reverse complement.

Writes benchmarks/results/accuracy/leakage-<machine>.tsv.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from benchmarks.harness import ENCODE as DATA
from benchmarks.harness import result_path


def synthetic(n: int) -> str:
    from seqcnn.data.leakage import shared
    from seqcnn.sequence import reverse_complement

    rng = np.random.default_rng(0)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    train = [letters[row].tobytes().decode() for row in rng.integers(0, 4, size=(n, 101))]
    test = [letters[row].tobytes().decode() for row in rng.integers(0, 4, size=(n // 4, 101))]
    copies = rng.choice(n, size=len(test) // 10, replace=False)
    for k, i in enumerate(copies):
        test[k] = train[i] if k % 2 else reverse_complement(train[i])
    start = time.perf_counter()
    leak = shared(train, test)
    seconds = time.perf_counter() - start
    assert leak.n_shared == len(copies), (leak.n_shared, len(copies))
    print(f"synthetic: {n:,} training x {len(test):,} test sequences of 101 bp: {seconds:.2f} s, "
          f"{leak.n_shared:,} shared found (exact)")
    return f"synthetic\t{n}\t{len(test)}\t{leak.n_shared}\t{seconds:.3f}"


def encode() -> list[str]:
    from seqcnn.data.leakage import shared
    from seqcnn.io import read_sequences

    rows = []
    for train_file in sorted(DATA.glob("*_AC.seq.gz")):
        test_file = train_file.with_name(train_file.name.replace("_AC.", "_B."))
        train, test = read_sequences(train_file, legacy_labels=False), read_sequences(test_file, legacy_labels=False)
        start = time.perf_counter()
        leak = shared(train.seqs, test.seqs)
        seconds = time.perf_counter() - start
        name = train_file.name.split("_AC.")[0]
        print(f"{name}: {leak.n_shared} of {len(test)} test sequences also in training ({seconds:.2f} s)")
        rows.append(f"{name}\t{len(train)}\t{len(test)}\t{leak.n_shared}\t{seconds:.3f}")
    return rows


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    rows = ["set\tn_train\tn_test\tshared\tseconds", synthetic(n)] + (encode() if DATA.is_dir() else [])
    out = result_path(__file__, "tsv")
    out.write_text("\n".join(rows) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
