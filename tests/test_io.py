import gzip

import numpy as np
import pytest

from seqcnn.errors import InputError
from seqcnn.io import read_sequences
from seqcnn.io.fasta import read_fasta, write_fasta


def write(path, text, mode="w"):
    if mode == "gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_bytes(text.encode())
    return path


def test_fasta_multiline_lowercase_n_and_header_labels(tmp_path):
    f = write(tmp_path / "a.fa", ">s1 label=1 some text\nacgt\nNNAC\n\n>s2 label=0\nGGGGCCCC\n")
    rec = read_fasta(f)
    assert rec.ids == ["s1", "s2"]
    assert rec.seqs == ["acgtNNAC", "GGGGCCCC"]
    np.testing.assert_array_equal(rec.labels, [1, 0])


def test_gzip_crlf_and_bom_are_read(tmp_path):
    f = write(tmp_path / "a.fa.gz", "\ufeff>s1\r\nACGT\r\n>s2\r\nTTTT\r\n", mode="gz")
    rec = read_sequences(f)
    assert rec.seqs == ["ACGT", "TTTT"] and rec.labels is None


def test_primer_files_read_as_lines_with_labels(primer_files):
    seqs, labels = primer_files
    rec = read_sequences(seqs, labels)
    assert len(rec) == 2000 and len(rec.seqs[0]) == 50
    assert int(rec.labels.sum()) == 987


def test_tables_csv_and_tsv(tmp_path):
    csv = write(tmp_path / "t.csv", "id,sequence,label\na,ACGT,1\nb,TTTT,0\n")
    tsv = write(
        tmp_path / "t.tsv.gz", "FoldID\tEventID\tseq\tBound\nA\tpeak1\tACGT\t1\nA\tpeak1_shuf\tCAGT\t0\n", mode="gz"
    )
    for f, ids in ((csv, ["a", "b"]), (tsv, ["peak1", "peak1_shuf"])):
        rec = read_sequences(f)
        assert rec.ids == ids and list(rec.labels) == [1.0, 0.0]


@pytest.mark.parametrize("text, message", [
    ("", "no FASTA records found"),
    ("ACGT\n>s1\nACGT\n", "line 1: sequence data before the first '>'"),
    (">s1\n>s2\nACGT\n", 'line 1 \\(record "s1"\\): header without a sequence'),
    (">s1\nAC\n>s1\nGT\n", 'line 3 \\(record "s1"\\): duplicate id'),
    (">s1 label=1\nAC\n>s2\nGT\n", 'record "s2"\\): no label=VALUE'),
    (">s1 label=x\nAC\n", "line 1: label 'x' is not a number"),
])
def test_bad_fasta(tmp_path, text, message):
    f = write(tmp_path / "bad.fa", text)
    with pytest.raises(InputError, match=message):
        read_fasta(f)


def test_label_file_problems(tmp_path):
    seqs = write(tmp_path / "s.txt", "ACGT\nTTTT\nGGGG\n")
    with pytest.raises(InputError, match=r"2 labels, but .* has 3 sequences"):
        read_sequences(seqs, write(tmp_path / "l.txt", "1\n0\n"))
    with pytest.raises(InputError, match=r"l2.txt, line 2: label 'yes' is not a number"):
        read_sequences(seqs, write(tmp_path / "l2.txt", "1\nyes\n0\n"))
    with pytest.raises(InputError, match="file not found"):
        read_sequences(tmp_path / "missing.txt")


def test_binary_and_truncated_gzip_rejected(tmp_path):
    with pytest.raises(InputError, match="binary data"):
        read_sequences(write(tmp_path / "b.fa", "\x00\x01\x02"))
    broken = tmp_path / "t.fa.gz"
    broken.write_bytes(gzip.compress(b">s\nACGT\n" * 100)[:30])
    with pytest.raises(InputError, match="corrupt or truncated gzip"):
        read_sequences(broken)


def test_fasta_write_read_roundtrip(tmp_path):
    ids, seqs = ["a", "b"], ["ACGT" * 40, "GG"]
    write_fasta(tmp_path / "o.fa", ids, seqs, width=7)
    rec = read_fasta(tmp_path / "o.fa")
    assert rec.ids == ids and rec.seqs == seqs
