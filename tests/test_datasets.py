import numpy as np
import pytest

from seqcnn.data.builtin import PRIMER_MOTIF, simulate_primer
from seqcnn.data.load import load_data
from seqcnn.data.sets import to_labelled
from seqcnn.data.split import split
from seqcnn.errors import InputError
from seqcnn.io import Records


def test_simulation_is_seeded_and_planted():
    a, b = simulate_primer(), simulate_primer()
    assert a.seqs == b.seqs and len(a) == 2000 and len(a.seqs[0]) == 50
    assert simulate_primer(seed=1).seqs != a.seqs
    labels = a.labels.astype(int)
    has_motif = np.array([PRIMER_MOTIF in s for s in a.seqs])
    np.testing.assert_array_equal(has_motif, labels == 1)
    assert 900 < labels.sum() < 1100


def test_primer_protocol_split_sizes():
    labels = load_data().train.labels
    train, val, test = split(labels, 0.25, 0.25, seed=42)
    assert (len(train), len(val), len(test)) == (1125, 375, 500)
    assert not set(train) & set(test) and not set(val) & set(test)
    # stratified: class balance within one example of the whole
    assert abs(labels[test].mean() - labels.mean()) < 0.01


def test_split_is_stratified_exactly_and_seeded():
    labels = np.array([0] * 70 + [1] * 30)
    train, val, test = split(labels, 0.25, 0.25, seed=1)
    assert np.bincount(labels[test]).tolist() == [18, 7]  # 25 = ceil(0.25 * 100): 17.5 + 7.5, one half rounded up
    assert np.bincount(labels[val]).tolist() == [13, 6]  # 19 = ceil(0.25 * 75) of the remaining 52 + 23
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(100))
    assert not np.array_equal(split(labels, 0.25, 0.25, seed=2)[2], test)
    assert all(np.array_equal(a, b) for a, b in zip(split(labels, 0.25, 0.25, seed=1), (train, val, test)))


def test_split_does_not_stratify_a_class_of_one():
    labels = np.array([0, 0, 0, 0, 0, 0, 0, 1])  # class 1 alone: a random split, no error
    train, val, test = split(labels, 0.25, 0.25, seed=0)
    assert (len(train), len(val), len(test)) == (4, 2, 2)


def test_single_class_and_bad_labels_rejected():
    rec = Records(ids=["a", "b"], seqs=["AC", "GT"], labels=np.array([1.0, 1.0]), source="x.fa")
    with pytest.raises(InputError, match="all 2 labels are 1; classification needs at least 2 classes"):
        to_labelled(rec)
    rec.labels = np.array([0.0, 0.5])
    with pytest.raises(InputError, match='record "b"\\): label 0.5 is not a class index'):
        to_labelled(rec)


def test_unknown_builtin_lists_names():
    with pytest.raises(InputError, match="not a built-in data set \\(valid names: primer-sim"):
        load_data("no-such-set")


def test_labelled_files_default_to_the_panel_choice_and_built_in_data_to_the_primer(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,sequence,label\na,ACGTACGT,0\nb,TTGCACGT,1\nc,ACGAACGT,0\nd,TTGCATTT,1\n")
    labelled = load_data(path)
    assert (labelled.default_model, labelled.default_recipe) == ("chipseq", "labelled")
    assert (load_data().default_model, load_data().default_recipe) == ("primer", "seqcnn")
