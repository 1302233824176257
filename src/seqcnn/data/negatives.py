"""Negative examples for positives-only data: dinucleotide shuffles and GC-matched background.

ChIP-seq peaks come without negatives. DeepBind and Zeng et al. (2016) made one negative per
peak by shuffling it while keeping its dinucleotide counts exactly (Altschul and Erickson
1985, in the Eulerian-path form of Kandel et al. 1996); :func:`dinucleotide_shuffle` does the
same on uint8 codes (compiled with numba: about a million 101 bp sequences a second).
:func:`gc_matched_background` draws genome windows whose GC content follows the positives'.

The training sets built from them (a positives-only file, BED peaks) are assembled in
:mod:`seqcnn.data.sequence_sets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numba
import numpy as np

from seqcnn.errors import InputError
from seqcnn.io.bed import overlaps_any
from seqcnn.sequence import gc_fraction

#: Letters of the shuffle's graph: A, C, G, T, N and padding (see :mod:`seqcnn.sequence`).
_LETTERS = 6


@numba.njit(cache=True)
def _random_arborescence(counts, starts, succ, last, chosen):
    """Pick a last edge for every vertex but ``last`` until they form a tree rooted at ``last``."""
    while True:
        for v in range(_LETTERS):
            chosen[v] = -1
            if counts[v] > 0 and v != last:
                chosen[v] = starts[v] + np.random.randint(counts[v])
        tree = True
        for v in range(_LETTERS):
            u, steps = v, 0
            while tree and chosen[v] >= 0 and u != last:
                u = succ[chosen[u]]
                steps += 1
                tree = steps <= _LETTERS
        if tree:
            return


@numba.njit(cache=True)
def _shuffle_one(seq, dst, counts, starts, ptr, succ, chosen):
    """Write one dinucleotide shuffle of ``seq`` into ``dst`` (scratch arrays reused)."""
    n = seq.shape[0]
    counts[:] = 0
    for j in range(n - 1):
        counts[seq[j]] += 1
    total = 0
    for v in range(_LETTERS):
        starts[v] = total
        ptr[v] = total
        total += counts[v]
    for j in range(n - 1):
        succ[ptr[seq[j]]] = seq[j + 1]
        ptr[seq[j]] += 1
    last = seq[n - 1]
    _random_arborescence(counts, starts, succ, last, chosen)
    for v in range(_LETTERS):
        k = counts[v]
        if k == 0:
            continue
        free = k
        if chosen[v] >= 0:  # the tree edge goes last; the others are permuted freely
            end = starts[v] + k - 1
            succ[chosen[v]], succ[end] = succ[end], succ[chosen[v]]
            free = k - 1
        for i in range(free - 1, 0, -1):
            r = np.random.randint(i + 1)
            a, b = starts[v] + i, starts[v] + r
            succ[a], succ[b] = succ[b], succ[a]
        ptr[v] = starts[v]
    u = seq[0]
    dst[0] = u
    for j in range(1, n):
        u_next = succ[ptr[u]]
        ptr[u] += 1
        dst[j] = u_next
        u = u_next


@numba.njit(cache=True)
def _shuffle_all(codes, copies, seed, out):
    np.random.seed(seed)
    n, length = codes.shape
    counts = np.zeros(_LETTERS, np.int64)
    starts = np.zeros(_LETTERS, np.int64)
    ptr = np.zeros(_LETTERS, np.int64)
    chosen = np.zeros(_LETTERS, np.int64)
    succ = np.zeros(max(length - 1, 1), np.uint8)
    for c in range(copies):
        for i in range(n):
            if length < 3:
                out[c * n + i] = codes[i]
            else:
                _shuffle_one(codes[i], out[c * n + i], counts, starts, ptr, succ, chosen)


def dinucleotide_shuffle(codes: np.ndarray, copies: int = 1, seed: int = 0) -> np.ndarray:
    """Shuffle sequences while keeping every dinucleotide count (and the first and last base).

    Each shuffle is drawn uniformly from all sequences with the same dinucleotide counts,
    first and last base (a random Eulerian path of the sequence's dinucleotide graph).

    Args:
        codes: uint8 codes ``(N, L)`` (see :mod:`seqcnn.sequence`); N and padding are letters
            like the others.
        copies: shuffles per sequence.
        seed: random seed; the same seed gives the same shuffles on every machine.

    Returns:
        uint8 codes ``(copies * N, L)``: copy ``c`` of sequence ``i`` is row ``c * N + i``.

    Raises:
        InputError: for codes that are not a 2-D array of values 0..5, or ``copies < 1``.
    """
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    if codes.ndim != 2:
        raise InputError(f"codes must have shape (N, L), got shape {codes.shape}")
    if codes.size and codes.max() >= _LETTERS:
        raise InputError(f"codes must be 0..{_LETTERS - 1} (A, C, G, T, N, padding), found {int(codes.max())}")
    if copies < 1:
        raise InputError(f"copies must be at least 1, got {copies}")
    out = np.empty((copies * codes.shape[0], codes.shape[1]), dtype=np.uint8)
    _shuffle_all(codes, int(copies), int(seed) % (2**32), out)
    return out


def dinucleotide_counts(codes: np.ndarray) -> np.ndarray:
    """Dinucleotide counts ``(N, 6, 6)`` of codes ``(N, L)``: ``[i, a, b]`` counts ``ab`` in row ``i``."""
    codes = np.asarray(codes, dtype=np.int64)
    pairs = codes[:, :-1] * _LETTERS + codes[:, 1:]  # (N, L - 1)
    offset = np.arange(codes.shape[0])[:, None] * _LETTERS * _LETTERS
    flat = np.bincount((pairs + offset).ravel(), minlength=codes.shape[0] * _LETTERS * _LETTERS)
    return flat.reshape(codes.shape[0], _LETTERS, _LETTERS)


def shuffled_negatives(pos, copies: int = 1, seed: int = 0):
    """Dinucleotide-shuffled copies (label 0) of the sequences of a labelled set."""
    x = dinucleotide_shuffle(pos.x, copies, seed)
    ids = [f"{rec}_shuf{c}" for c in range(copies) for rec in pos.ids]
    return replace(pos, x=x, labels=np.zeros(len(x), dtype=np.int64), ids=ids)


def shared_sequences(train_codes: np.ndarray, test_codes: np.ndarray) -> int:
    """How many test sequences also occur (identically) in the training set."""
    train_keys = {row.tobytes() for row in np.ascontiguousarray(train_codes)}
    return sum(row.tobytes() in train_keys for row in np.ascontiguousarray(test_codes))


def gc_matched_background(
    genome,
    positives: np.ndarray,
    *,
    n: int | None = None,
    exclude: Sequence[tuple[str, int, int]] = (),
    chroms: Sequence[str] | None = None,
    bins: int = 20,
    seed: int = 0,
    oversample: int = 10,
    nearest: bool = False,
) -> tuple[np.ndarray, list[tuple[str, int, int]]]:
    """Random genome windows whose GC content follows that of the positives.

    Candidate windows of the positives' width are drawn uniformly over ``chroms`` (all of the
    genome's by default), windows with more than 10 % N or overlapping ``exclude`` are dropped,
    and each GC bin of the positives gets as many windows from the same bin as it has positives.

    Args:
        genome: a :class:`seqcnn.io.bed.Genome`.
        positives: codes ``(N, L)`` of the positive windows.
        n: number of windows (default: one per positive).
        exclude: ``(chrom, start, end)`` intervals the windows must not overlap (the peaks).
        chroms: chromosomes to draw from.
        bins: GC bins between 0 and 1.
        seed: random seed.
        oversample: candidates drawn per window wanted.
        nearest: a GC bin without candidates takes its windows from the nearest bin that has some (profile
            windows: a planted site can make a window richer in GC than any of the genome's), instead of failing.

    Returns:
        Codes ``(n, L)`` and the windows' ``(chrom, start, end)``.

    Raises:
        InputError: when the genome cannot supply enough windows in some GC bin.
    """
    rng = np.random.default_rng(seed)
    width, n = positives.shape[1], n or len(positives)
    cand, where = genome.random_windows(width, n * oversample, rng, chroms)
    keep = ((cand == 4).mean(1) <= 0.1) & ~overlaps_any(where, exclude)
    cand, where = cand[keep], [w for w, k in zip(where, keep) if k]
    edges = np.linspace(0, 1, bins + 1)[1:-1]
    want = np.bincount(np.digitize(np.nan_to_num(gc_fraction(positives)), edges), minlength=bins)
    want = np.round(want * n / max(want.sum(), 1)).astype(int)
    have = np.digitize(np.nan_to_num(gc_fraction(cand)), edges)
    chosen = []
    filled = np.unique(have)
    for b in np.flatnonzero(want):
        pool = np.flatnonzero(have == b)
        if len(pool) == 0 and nearest and len(filled):
            pool = np.flatnonzero(have == filled[np.argmin(np.abs(filled - b))])
        if len(pool) == 0:
            raise InputError(
                f"{genome.path}: no background window with GC between {b / bins:.2f} and {(b + 1) / bins:.2f} among "
                f"{len(cand)} candidates; the positives' GC content is unusual for this genome"
            )
        chosen.append(rng.choice(pool, size=want[b], replace=len(pool) < want[b]))
    index = np.concatenate(chosen)
    return cand[index], [where[i] for i in index]


