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
    tsv = write(tmp_path / "t.tsv.gz", "FoldID\tEventID\tseq\tBound\nA\tpeak1\tACGT\t1\nA\tpeak1_shuf\tCAGT\t0\n", mode="gz")
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


# --- .npz as people ship them -------------------------------------------------------------------

def test_npz_upper_case_keys_flat_rows_and_one_hot_labels(tmp_path):
    import warnings

    from seqcnn.io.images import read_npz

    images = np.arange(4 * 6 * 5 * 1, dtype=np.uint8).reshape(4, 6, 5, 1)
    classes = np.array([2, 0, 1, 2])
    np.savez(tmp_path / "m.npz", X=images.reshape(4, 30), Y=np.eye(3)[classes])
    with pytest.raises(InputError, match=r"\[X\]: images are flat rows of 30 values .*--input-shape H,W,C"):
        read_npz(tmp_path / "m.npz")
    with pytest.raises(InputError, match=r"--input-shape 5,5,1 holds 25 values, but each row has 30"):
        read_npz(tmp_path / "m.npz", input_shape=(5, 5, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no third-party warning may reach the user
        got = read_npz(tmp_path / "m.npz", input_shape=(6, 5, 1))
    assert got.x.shape == (4, 1, 6, 5) and got.labels.tolist() == [2, 0, 1, 2]
    np.testing.assert_allclose(got.x[:, 0], images[..., 0] / 255.0, rtol=1e-6)


def test_npz_square_rows_get_a_hint_and_missing_keys_name_both_lists(tmp_path):
    from seqcnn.io.images import read_npz

    np.savez(tmp_path / "a.npz", Images=np.zeros((2, 784), dtype=np.uint8), Labels=np.array([0, 1]))
    with pytest.raises(InputError, match=r"e\.g\. --input-shape 28,28,1"):
        read_npz(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", pixels=np.zeros((2, 4, 4)), y=np.array([0, 1]))
    with pytest.raises(InputError, match=r"b\.npz: no images array; expected one of the keys \['x', 'images'.*"
                                         r"\(any case\); and for labels one of \['y', 'labels'.*found \['pixels', 'y'\]"):
        read_npz(tmp_path / "b.npz")


def test_npz_text_labels_keras_test_part_and_bad_one_hot(tmp_path):
    from seqcnn.io.images import read_npz

    x = np.zeros((4, 3, 3), dtype=np.uint8)
    np.savez(tmp_path / "k.npz", x_train=x, y_train=np.array(["cat", "dog", "cat", "ant"]),
             x_test=x[:2], y_test=np.array(["dog", "ant"]))
    train = read_npz(tmp_path / "k.npz")
    assert train.class_names == ["ant", "cat", "dog"] and train.labels.tolist() == [1, 2, 1, 0]
    test = read_npz(tmp_path / "k.npz", part="test", classes=train.class_names)
    assert test.x.shape == (2, 1, 3, 3) and test.labels.tolist() == [2, 0]
    with pytest.raises(InputError, match=r"\[y_test\]: label 'dog' is not one of the classes ant, cat"):
        read_npz(tmp_path / "k.npz", part="test", classes=["ant", "cat"])
    np.savez(tmp_path / "h.npz", x=x, y=np.array([[1, 0], [1, 1], [0, 1], [1, 0]]))
    with pytest.raises(InputError, match=r"h\.npz \[y\]: labels have shape \(4, 2\) but row 1 is not one-hot"):
        read_npz(tmp_path / "h.npz")
    np.savez(tmp_path / "i.npz", x=np.full((2, 3, 3), 300, dtype=np.int64), y=np.array([0, 1]))
    with pytest.raises(InputError, match=r"integer images must lie in 0-255, found values from 300 to 300"):
        read_npz(tmp_path / "i.npz")


# --- every column kept --------------------------------------------------------------------------

def test_tables_keep_every_column_with_original_names(tmp_path):
    from seqcnn.io.table import read_table

    f = write(tmp_path / "t.tsv", "EventID\tSeq\tClass\t\tScore\nev1\tACGT\tEI\tx\t1.5\nev2\tTTTT\tN\t\t\n")
    rec = read_table(f, legacy_labels=False)
    assert rec.columns == {"EventID": ["ev1", "ev2"], "Class": ["EI", "N"], "column4": ["x", ""], "Score": ["1.5", ""]}
    assert rec.id_column == "EventID" and rec.ids == ["ev1", "ev2"] and rec.labels is None
    sub = rec.subset(np.array([1]))
    assert sub.columns["Class"] == ["N"] and sub.where(0) == f'{f}, line 3 (record "ev2")'
    with pytest.raises(InputError, match=r"line 1: column 3 is named 'label' like column 2"):
        read_table(write(tmp_path / "d.csv", "sequence,Label,label\nACGT,1,0\n"), legacy_labels=False)


def test_legacy_reading_is_unchanged_and_raw_reading_accepts_text(tmp_path):
    f = write(tmp_path / "t.csv", "sequence,label\nACGT,EI\nTTTT,IE\n")
    with pytest.raises(InputError, match="label 'EI' is not a number"):
        read_sequences(f)
    assert read_sequences(f, legacy_labels=False).columns == {"label": ["EI", "IE"]}


def test_fasta_repeated_key_and_label_file_header_guess(tmp_path):
    from seqcnn.io.labels import read_label_table

    with pytest.raises(InputError, match=r'line 1 \(record "s1"\): key \'cell\' given twice'):
        read_fasta(write(tmp_path / "a.fa", ">s1 cell=a cell=b\nACGT\n"), legacy_labels=False)
    assert read_label_table(write(tmp_path / "h.txt", "class\nEI\nIE\nEI\n")) == {"class": ["EI", "IE", "EI"]}
    assert read_label_table(write(tmp_path / "n.txt", "EI\nIE\nEI\n")) == {"label": ["EI", "IE", "EI"]}
    assert read_label_table(write(tmp_path / "s.txt", "1 0\n0 1\n")) == {"label1": ["1", "0"], "label2": ["0", "1"]}
