"""Leakage checks and de-duplication by canonical sequence."""

import numpy as np

from seqcnn.data.leakage import canonical, dedupe, shared
from seqcnn.io import Records


def test_canonical_joins_a_sequence_and_its_reverse_complement():
    assert canonical("aacg") == canonical("CGTT") == "AACG"
    assert canonical("AACG", reverse_complement=False) != canonical("CGTT", reverse_complement=False)


def test_shared_counts_identical_and_reverse_complement_test_sequences():
    train = ["AAAACCCC", "GGGTTTAA", "ACGTACGA"]
    test = ["aaaacccc", "GGGGTTTT", "TTAAACCC", "CATGCATG"]  # identical (case), rc of 1st, rc of 2nd, new
    leak = shared(train, test)
    assert leak.n_shared == 3 and leak.index.tolist() == [0, 1, 2] and leak.n == 4
    assert leak.message.startswith("warning: 3 of 4 test sequences (75.0%) also occur in the training set")
    assert shared(train, test, reverse_complement=False).index.tolist() == [0]
    assert shared(train, ["CATGCATG"]).message == ""


def test_dedupe_keeps_first_and_warns_on_conflicting_labels():
    rec = Records(ids=["a", "b", "c", "d", "e"], seqs=["AACG", "CGTT", "GGGG", "aacg", "TTTT"], source="x.csv",
                  lines=[2, 3, 4, 5, 6], columns={"y": ["1", "1", "0", "0", "1"]})
    kept, summary = dedupe(rec, ["y"])
    assert kept.ids == ["a", "c", "e"] and kept.columns["y"] == ["1", "0", "1"]
    assert summary.n_removed == 2 and summary.n_conflicts == 1 and summary.examples == ("a",)
    assert "removed 2 repeated sequence(s) of 5; 3 remain" in summary.message
    assert "1 repeated sequence(s) carry different target values (e.g. record 'a')" in summary.message
    same, summary = dedupe(rec.subset(np.array([0, 1, 2])), ["y"])
    assert summary.n_conflicts == 0 and "warning" not in summary.message and same.ids == ["a", "c"]
