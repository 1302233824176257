"""Does a labelled DNA set read the same on both strands? A k-mer test that decides reverse-complement training.

A transcription factor's site counts on either strand, so for ChIP-seq peaks, accessible regions
or enhancers a model should be trained on both strands (reverse-complement augmentation) and
predict the mean of both (strand averaging): on three ENCODE tables that the defaults panel did not
see, that is +0.013 to +0.023 test AUROC (BENCHMARKS.md, Defaults panel). A splice site, an oriented
promoter or an RNA motif counts on one strand only, and the same augmentation would teach the model
that the other strand's reading means the same.

The test: for each class against the others, the k-mers of the training part whose frequency
differs most between them (a z-score of the log ratio of their counts, ``|z| >= Z``), and the
slope through the origin of their reverse complements' z-scores on theirs. On data that read the
same on both strands a motif's k-mers and their reverse complements are enriched alike (slope near
1); on stranded data the reverse complements are not (near 0). When too few k-mers are enriched
to tell (a weak signal: one CTCF site in 300 bp, 1,000 rows), both strands are used, as for most
DNA-binding data; the printed line says so and how to keep one strand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from seqcnn.sequence import N_CODE

#: k-mer length: 4**5 = 1,024 k-mers, enough counts in a thousand 50-bp sequences, and no palindromes (k odd).
K = 5
#: |z| of a k-mer's enrichment for it to count (about p < 1e-4 each, over 1,024 k-mers per class).
Z = 4.0
#: Enriched k-mers needed to decide.
MIN_KMERS = 4
#: Slope above which the set reads the same on both strands.
SYMMETRIC = 0.5
#: Rows counted at once (the window index is N x L int64).
CHUNK = 8192


@dataclass(frozen=True)
class StrandCheck:
    """The outcome of :func:`check_strands`.

    Attributes:
        slope: the reverse complements' z-scores regressed on the enriched k-mers' (through 0); None
            when fewer than :data:`MIN_KMERS` k-mers are enriched.
        kmers: the enriched k-mers (over all classes).
        both_strands: True (train and predict on both strands), False (one strand), None (undecided:
            both strands are used).
    """

    slope: float | None
    kmers: int
    both_strands: bool | None

    def record(self) -> dict:
        """What ``config.json`` keeps."""
        return {"k": K, "z": Z, **asdict(self)}

    def line(self) -> str:
        """The line printed when the choice is made."""
        if self.both_strands is None:
            return (f"seqcnn: strands: only {self.kmers} {K}-mer(s) tell the classes apart (|z| >= {Z:g}), too few to "
                    "tell whether the data read the same on both strands: reverse-complement augmentation and "
                    "strand averaging on, as for most DNA-binding data (--augment none --no-rc-average keeps one "
                    "strand)")
        evidence = f"slope {self.slope:.2f} over {self.kmers} {K}-mers with |z| >= {Z:g}"
        if self.both_strands:
            return (f"seqcnn: strands: the {K}-mers that tell the classes apart are as enriched on the other strand "
                    f"({evidence}): reverse-complement augmentation and strand averaging on (--augment none "
                    "--no-rc-average keeps one strand)")
        return (f"seqcnn: strands: the {K}-mers that tell the classes apart are not enriched on the other strand "
                f"({evidence}): the data look strand-specific, trained and predicted on one strand (--augment rc "
                "--rc-average uses both)")


def kmer_counts(codes: np.ndarray, k: int = K) -> np.ndarray:
    """Counts of every k-mer over all rows of ``codes`` ``(N, L)``; windows with N or padding are skipped.

    Returns:
        int64 ``(4**k,)``, indexed by the k-mer's base-4 number (A=0, C=1, G=2, T=3, first base most significant).
    """
    counts = np.zeros(4**k, dtype=np.int64)
    if codes.ndim != 2 or codes.shape[1] < k:
        return counts
    width = codes.shape[1] - k + 1
    for start in range(0, len(codes), CHUNK):
        block = codes[start : start + CHUNK].astype(np.int64)
        index = np.zeros((len(block), width), dtype=np.int64)
        valid = np.ones((len(block), width), dtype=bool)
        for j in range(k):
            column = block[:, j : j + width]
            index = index * 4 + np.minimum(column, 3)
            valid &= column < N_CODE
        counts += np.bincount(index[valid], minlength=4**k)
    return counts


def reverse_complement_index(k: int = K) -> np.ndarray:
    """``rc[i]``: the number of k-mer ``i``'s reverse complement."""
    digits = (np.arange(4**k)[:, None] // 4 ** np.arange(k)[None, :]) % 4  # least significant digit first
    return ((3 - digits) * 4 ** np.arange(k)[::-1][None, :]).sum(axis=1)


def enrichment_z(inside: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """z-score of each k-mer's log frequency ratio between two count vectors (a pseudocount of 1 each)."""
    a, b = inside + 1.0, outside + 1.0
    log_ratio = np.log(a / a.sum()) - np.log(b / b.sum())
    return log_ratio / np.sqrt(1 / a + 1 / b)


def check_strands(codes: np.ndarray, labels: np.ndarray) -> StrandCheck:
    """Whether the k-mers that separate the classes are enriched alike on both strands (see the module).

    Args:
        codes: uint8 base codes ``(N, L)`` of the training part.
        labels: class indices ``(N,)``.
    """
    classes = np.unique(labels)
    if len(classes) < 2:  # nothing to tell apart (a training part with one class)
        return StrandCheck(None, 0, None)
    per_class = {c: kmer_counts(codes[labels == c]) for c in classes}
    total = sum(per_class.values())
    rc = reverse_complement_index()
    own, other = [], []
    for c in classes if len(classes) > 2 else classes[1:]:  # two classes: one comparison, not the same one twice
        z = enrichment_z(per_class[c], total - per_class[c])
        chosen = np.flatnonzero(np.abs(z) >= Z)
        own.append(z[chosen])
        other.append(z[rc[chosen]])
    own_z, other_z = np.concatenate(own), np.concatenate(other)
    if len(own_z) < MIN_KMERS:
        return StrandCheck(None, len(own_z), None)
    slope = float(own_z @ other_z / (own_z @ own_z))
    return StrandCheck(round(slope, 4), len(own_z), slope >= SYMMETRIC)
