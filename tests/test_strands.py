"""The strand test of labelled DNA tables (seqcnn.data.strands) and what `seqcnn train` does with it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seqcnn.data.strands import K, check_strands, kmer_counts, reverse_complement_index
from seqcnn.sequence import encode

MOTIF = "CGACCGAACTCC"


def kmer_number(text: str) -> int:
    return int("".join(str("ACGT".index(b)) for b in text), 4)


def test_kmer_counts_skip_windows_with_n_and_padding():
    codes = np.stack([encode("ACGTACGT"), encode("ACGTNACG")])
    counts = kmer_counts(codes, k=4)
    assert counts[kmer_number("ACGT")] == 3 and counts[kmer_number("CGTA")] == 1 and counts[kmer_number("TACG")] == 1
    assert counts.sum() == 5 + 1  # 5 windows of the first; the second's windows all hold the N but the first


def test_reverse_complement_index_pairs_each_kmer_with_its_reverse_complement():
    rc = reverse_complement_index()
    assert rc[kmer_number("AAAAC")] == kmer_number("GTTTT") and rc[kmer_number("ACGGT")] == kmer_number("ACCGT")
    assert np.array_equal(rc[rc], np.arange(4**K)) and not np.any(rc == np.arange(4**K))  # odd k: no palindromes


def planted(n: int, length: int, strand, seed: int = 0, signal: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Random sequences; positives get the motif on ``strand(rng)``, negatives its reverse complement when
    ``strand`` is "opposite", else nothing."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, (n, length)).astype(np.uint8)
    y = np.arange(n) % 2
    forward, reverse = encode(MOTIF), encode(MOTIF)[::-1].copy()
    reverse = (3 - reverse).astype(np.uint8)
    for i in range(n):
        at = rng.integers(0, length - len(MOTIF) + 1)
        if not signal:
            continue
        if strand == "opposite":
            x[i, at : at + len(MOTIF)] = forward if y[i] else reverse
        elif y[i]:
            x[i, at : at + len(MOTIF)] = forward if strand == "forward" or rng.random() < 0.5 else reverse
    return x, y


def test_a_motif_on_either_strand_reads_the_same_on_both():
    check = check_strands(*planted(1000, 60, "either"))
    assert check.both_strands is True and check.slope > 0.8 and check.kmers >= 8  # seeded counts: 0.993 anywhere


@pytest.mark.parametrize("strand", ["forward", "opposite"])
def test_a_motif_on_one_strand_is_strand_specific(strand):
    check = check_strands(*planted(1000, 60, strand))
    assert check.both_strands is False and check.slope < 0.3  # seeded counts: -0.04 and -0.99 anywhere
    assert "strand-specific" in check.line() and "--augment rc --rc-average" in check.line()


def test_one_class_decides_nothing():
    x, _ = planted(100, 60, "either")
    assert check_strands(x, np.zeros(len(x), dtype=np.int64)).both_strands is None


def test_no_signal_decides_nothing():
    check = check_strands(*planted(600, 60, "either", signal=False))
    assert check.both_strands is None and check.slope is None and "too few" in check.line()


def test_multiclass_compares_each_class_with_the_others():
    x, y = planted(900, 60, "either", seed=1)
    y3 = np.where(y == 1, 1 + (np.arange(len(y)) % 4 == 1), 0)  # the motif class split in two named classes
    assert check_strands(x, y3).both_strands is True


def write_table(path, strand: str, seed: int = 0):
    x, y = planted(600, 60, strand, seed=seed)
    path.write_text("id,sequence,label\n" + "".join(
        f"s{i},{''.join('ACGT'[c] for c in row)},{label}\n" for i, (row, label) in enumerate(zip(x, y))))
    return path


@pytest.mark.parametrize(("strand", "both"), [("either", True), ("forward", False)])
def test_train_uses_both_strands_only_when_the_table_reads_the_same_on_both(cli, tmp_path, strand, both):
    table = write_table(tmp_path / "t.csv", strand)
    code, _, err = cli("train", table, "--epochs", "1", "--out", tmp_path / "run", "--quiet")
    assert code == 0, err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["train"]["augment"] == (["rc"] if both else [])
    assert config["predict"]["rc_average"] is both
    assert config["strands"]["both_strands"] is both and config["strands"]["k"] == K
    assert ("as enriched on the other strand" if both else "look strand-specific") in err


def test_a_strand_option_given_skips_the_test(cli, tmp_path):
    table = write_table(tmp_path / "t.csv", "either")
    code, _, err = cli("train", table, "--epochs", "1", "--augment", "none", "--out", tmp_path / "run", "--quiet")
    assert code == 0, err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["train"]["augment"] == [] and config["predict"]["rc_average"] is False
    assert "strands" not in config and "strands:" not in err
