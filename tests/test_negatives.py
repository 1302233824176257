"""Dinucleotide shuffles, negatives for positives-only data, GC-matched background."""

from collections import Counter

import numpy as np
import pytest

from seqcnn.data.negatives import dinucleotide_counts, dinucleotide_shuffle, shared_sequences
from seqcnn.data.sequence_sets import parse_negatives, training_set
from seqcnn.errors import InputError
from seqcnn.io import Records
from seqcnn.sequence import encode_batch


def test_shuffle_keeps_dinucleotide_counts_and_ends_exactly():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 5, size=(300, 101)).astype(np.uint8)  # N included as a letter
    out = dinucleotide_shuffle(codes, copies=2, seed=4)
    assert out.shape == (600, 101)
    for c in range(2):
        part = out[c * 300 : (c + 1) * 300]
        np.testing.assert_array_equal(dinucleotide_counts(part), dinucleotide_counts(codes))
        np.testing.assert_array_equal(part[:, 0], codes[:, 0])
        np.testing.assert_array_equal(part[:, -1], codes[:, -1])
    assert (out[:300] != codes).any(1).mean() > 0.99  # actually shuffled
    assert (out[:300] != out[300:]).any(1).mean() > 0.99  # copies differ


def test_shuffle_is_seeded():
    codes = np.random.default_rng(2).integers(0, 4, size=(50, 40)).astype(np.uint8)
    np.testing.assert_array_equal(dinucleotide_shuffle(codes, seed=7), dinucleotide_shuffle(codes, seed=7))
    assert (dinucleotide_shuffle(codes, seed=7) != dinucleotide_shuffle(codes, seed=8)).any()


def test_shuffle_is_uniform_over_eulerian_paths():
    # ACAGACTA has exactly 6 sequences with its dinucleotide counts, first and last base
    codes = np.repeat(encode_batch(["ACAGACTA"]), 6000, axis=0)
    counts = Counter(row.tobytes() for row in dinucleotide_shuffle(codes, seed=3))
    assert len(counts) == 6
    assert min(counts.values()) > 850 and max(counts.values()) < 1150


def test_shuffle_rejects_bad_codes():
    with pytest.raises(InputError, match="codes must be 0..5"):
        dinucleotide_shuffle(np.full((2, 5), 9, dtype=np.uint8))
    with pytest.raises(InputError, match="shape \\(N, L\\)"):
        dinucleotide_shuffle(np.zeros(5, dtype=np.uint8))


def test_positives_only_records_get_shuffled_negatives():
    rng = np.random.default_rng(0)
    seqs = ["".join("ACGT"[i] for i in row) for row in rng.integers(0, 4, size=(20, 30))]
    notes = []
    rec = Records(ids=[f"p{i}" for i in range(20)], seqs=seqs, labels=np.ones(20), source="pos.fa")
    ds = training_set(rec, negatives="3", note=notes.append)
    assert len(ds) == 80 and ds.labels.sum() == 20 and ds.ids[20] == "p0_shuf0"
    assert (
        len(notes) == 1
        and "all 20 training sequences are positives" in notes[0]
        and "60 dinucleotide-shuffled" in notes[0]
    )
    np.testing.assert_array_equal(dinucleotide_counts(ds.x[20:40]), dinucleotide_counts(ds.x[:20]))


def test_labelled_records_are_left_alone_and_none_refuses():
    rec = Records(ids=["a", "b"], seqs=["ACGTAC", "GTACGT"], labels=np.array([1.0, 0.0]), source="x.fa")
    assert len(training_set(rec, note=None)) == 2
    rec = Records(ids=["a", "b"], seqs=["ACGTAC", "GTACGT"], labels=np.array([1.0, 1.0]), source="x.fa")
    with pytest.raises(InputError, match="all 2 labels are 1"):
        training_set(rec, negatives="none")


def test_parse_negatives():
    assert (
        parse_negatives(None) == ("auto", 4)
        and parse_negatives("shuffle") == ("shuffle", 1)
        and parse_negatives("4") == ("shuffle", 4)
    )
    with pytest.raises(InputError, match="--negatives must be"):
        parse_negatives("0")


def test_shared_sequences_counts_test_rows_in_train():
    train = encode_batch(["ACGT", "AAAA", "CCCC"])
    test = encode_batch(["AAAA", "GGGG", "CCCC", "CCCC"])
    assert shared_sequences(train, test) == 3
