"""BED peaks + genome FASTA: windows, chromosome hold-out, overlap check, GC-matched background, errors."""

import json

import numpy as np
import pytest

from seqcnn.data.negatives import gc_matched_background
from seqcnn.errors import InputError
from seqcnn.io.bed import Genome, check_no_overlap, chromosome_split, overlaps_any, peak_windows, read_bed
from seqcnn.sequence import gc_fraction

MOTIF = "TTGACGTCAA"


@pytest.fixture
def genome(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "genome.fa"
    chroms = {"chr1": 6000, "chr2": 4000, "chr8": 3000}
    text = []
    for name, size in chroms.items():
        seq = "".join("ACGT"[i] for i in rng.integers(0, 4, size))
        text.append(f">{name}\n" + "\n".join(seq[i : i + 60] for i in range(0, size, 60)))
    path.write_text("\n".join(text) + "\n")
    return path


def test_windows_centre_on_summit_or_middle_and_stay_inside(genome, tmp_path):
    bed = tmp_path / "p.narrowPeak"
    bed.write_text(
        "track name=x\nchr1\t100\t300\tp1\t0\t.\t0\t0\t0\t50\nchr1\t10\t30\tp2\t0\t.\t0\t0\t0\t-1\n"
        "chr2\t3990\t4000\tp3\t0\t.\t0\t0\t0\t5\n"
    )
    g = Genome(genome)
    assert g.lengths == {"chr1": 6000, "chr2": 4000, "chr8": 3000}
    assert peak_windows(read_bed(bed, summit_column=10), g, 101, bed) == [
        ("chr1", 100, 201),
        ("chr1", 0, 101),
        ("chr2", 3899, 4000),
    ]
    assert peak_windows(read_bed(bed), g, 100, bed)[0] == ("chr1", 150, 250)
    assert g.codes("chr1", 0, 5).tolist() == [ "ACGT".index(c) for c in genome.read_text().splitlines()[1][:5]]


def test_overlap_and_chromosome_split():
    windows = [("chr1", 0, 100), ("chr8", 50, 150), ("chr1", 500, 600)]
    train, test = chromosome_split(windows, ["chr8"], "p.bed")
    assert train.tolist() == [0, 2] and test.tolist() == [1]
    assert overlaps_any(
        [("chr1", 90, 200), ("chr1", 100, 200), ("chr2", 0, 10)], [("chr1", 0, 100), ("chr1", 20, 30)]
    ).tolist() == [True, False, False]
    with pytest.raises(InputError, match="p.bed: 1 training windows overlap test windows \\(first chr1:550-650\\)"):
        check_no_overlap([("chr1", 550, 650), ("chr1", 0, 10)], [("chr1", 500, 600)], "p.bed")
    with pytest.raises(InputError, match="no peaks on the held-out chromosomes chr9"):
        chromosome_split(windows, ["chr9"], "p.bed")


def test_gc_matched_background_follows_positives_and_avoids_peaks(genome):
    g = Genome(genome)
    rng = np.random.default_rng(1)
    pos, _ = g.random_windows(50, 200, rng)
    peaks = [("chr1", 0, 3000)]
    codes, where = gc_matched_background(g, pos, exclude=peaks, chroms=["chr1", "chr2"], seed=2)
    assert codes.shape == (200, 50) and not overlaps_any(where, peaks).any()
    assert {c for c, _, _ in where} <= {"chr1", "chr2"}
    assert abs(np.median(gc_fraction(codes)) - np.median(gc_fraction(pos))) <= 0.05  # seeded: same on any machine
    np.testing.assert_array_equal(codes[0], g.codes(*where[0]))


def _peaks_bed(genome_path, path):
    """Peaks with a planted motif on chr1/chr2 (train) and chr8 (test)."""
    lines = []
    for chrom, size in (("chr1", 6000), ("chr2", 4000), ("chr8", 3000)):
        for start in range(100, size - 200, 150):
            lines.append(f"{chrom}\t{start}\t{start + 60}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_on_bed_with_held_out_chromosome(cli, genome, tmp_path):
    bed = _peaks_bed(genome, tmp_path / "peaks.bed")
    out = tmp_path / "run"
    code, stdout, err = cli(
        "train",
        bed,
        "--genome",
        genome,
        "--width",
        "40",
        "--test-chroms",
        "chr8",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        out,
    )
    assert code == 0, err
    config = json.loads((out / "config.json").read_text())
    n_test = len(range(100, 3000 - 200, 150))
    assert config["data"]["split"]["test"] == 5 * n_test  # peaks on chr8 plus four shuffles each (the default)
    assert config["model"] == "chipseq" and config["predict"]["rc_average"] is True
    assert "adding dinucleotide-shuffled negatives" in err and config["data"]["split"]["val_size"] == 0.1


@pytest.mark.parametrize("bed_text, message", [
    ("chr1\t100\t7000\n", "peaks.bed, line 1: interval chr1:100-7000 lies outside the chromosome \\(length 6000\\)"),
    ("chr1\t100\t200\nchrZ\t100\t200\n", "peaks.bed, line 2: chromosome 'chrZ' is not in the genome"),
    ("chr1\t100\n", "peaks.bed, line 1: 2 columns, expected at least 3"),
    ("chr1\t300\t200\n", "peaks.bed, line 1: interval chr1:300-200 is empty or negative"),
])
def test_bad_bed_exits_2_naming_file_and_line(cli, genome, tmp_path, bed_text, message):
    import re

    bed = tmp_path / "peaks.bed"
    bed.write_text(bed_text)
    code, _, err = cli("train", bed, "--genome", genome, "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert code == 2 and len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert not (tmp_path / "run").exists()
