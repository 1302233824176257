"""Property tests (hypothesis): any bytes either parse or raise seqcnn's own error; round trips hold.

The budget is small (a few dozen examples per property) so that the file runs in seconds.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqcnn.errors import SeqcnnError

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Bytes that look a little like our formats, so examples reach past the first check.
FRAGMENTS = [
    b">",
    b"id",
    b" label=",
    b"1",
    b"0",
    b"nan",
    b"ACGT",
    b"acgtn",
    b"X",
    b"\n",
    b"\r\n",
    b"\t",
    b",",
    b"sequence",
    b"label",
    b"\xef\xbb\xbf",
    b"\x00",
    b"\xff",
    b"chr1",
    b"100",
    b"-5",
    b"MOTIF m",
    b"letter-probability matrix: w= 2",
    b"ALPHABET= ACGT",
    b"0.25 0.25 0.25 0.25",
    b"\x1f\x8b",
    b"\x00\x00\x08\x03",
    b"\x00\x00\x00\x02",
]
DATA = st.one_of(st.binary(max_size=200), st.lists(st.sampled_from(FRAGMENTS), max_size=30).map(b"".join))


def parses_or_refuses(reader, data: bytes, suffix: str):
    """Write ``data`` to a file and read it: any exception but a SeqcnnError fails the test."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            return reader(path)
        except SeqcnnError as exc:
            assert "\n" not in str(exc).strip() or str(path) in str(exc)
            return None


def _readers():
    from seqcnn.io.bed import read_bed
    from seqcnn.io.fasta import read_fasta
    from seqcnn.io.idx import read_idx
    from seqcnn.io.labels import read_label_file
    from seqcnn.io.meme import read_meme
    from seqcnn.io.sniff import read_sequences
    from seqcnn.io.table import read_lines, read_table
    from seqcnn.models.spec import ModelSpec

    return {
        "fasta": (read_fasta, ".fa"), "table": (read_table, ".csv"), "lines": (read_lines, ".txt"),
        "sniffed": (read_sequences, ".seq.gz"), "labels": (read_label_file, ".txt"), "bed": (read_bed, ".bed"),
        "idx": (read_idx, ""), "meme": (read_meme, ".meme"), "spec": (ModelSpec.load, ".json"),
    }


READERS = _readers()


@pytest.mark.parametrize("reader", sorted(READERS))
@FAST
@given(data=DATA)
def test_any_bytes_parse_or_raise_a_seqcnn_error(reader, data):
    function, suffix = READERS[reader]
    parses_or_refuses(function, data, suffix)


@FAST
@given(text=st.text(max_size=60))
def test_encode_accepts_dna_or_raises_a_seqcnn_error(text):
    from seqcnn.sequence import IUPAC_AMBIGUOUS, encode

    try:
        codes = encode(text)
    except SeqcnnError:
        assert any(c.upper() not in "ACGTU" + IUPAC_AMBIGUOUS for c in text)
        return
    assert codes.shape == (len(text),) and codes.max(initial=0) <= 4


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**13) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "layers",
                    "name",
                    "meta",
                    "Conv1D",
                    "Dense",
                    "Flatten",
                    "filters",
                    "kernel_size",
                    "units",
                    "padding",
                    "strides",
                    "rate",
                    "Dropout",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@FAST
@given(obj=JSONISH)
def test_any_json_value_is_a_spec_or_a_spec_error(obj):
    from seqcnn.models.spec import ModelSpec

    try:
        spec = ModelSpec.from_obj(obj)
    except SeqcnnError:
        return
    assert ModelSpec.from_obj(json.loads(spec.to_json())).to_obj() == spec.to_obj()


SEQ = st.text(alphabet="ACGTN", min_size=1, max_size=130)
# A FASTA id is the header's first word: no white space or control characters in it.
IDS = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters=">;",
                                     exclude_categories=("Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=12)


@FAST
@given(records=st.dictionaries(IDS, SEQ, min_size=1, max_size=8), width=st.integers(1, 70))
def test_fasta_write_then_read_gives_the_records_back(records, width):
    from seqcnn.io.fasta import read_fasta, write_fasta

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.fa"
        write_fasta(path, list(records), list(records.values()), width=width)
        back = read_fasta(path)
    assert back.ids == list(records) and back.seqs == list(records.values())


@FAST
@given(
    seqs=st.integers(1, 40).flatmap(
        lambda n: st.lists(st.text(alphabet="ACGTN", min_size=n, max_size=n), min_size=1, max_size=6)
    )
)
def test_one_hot_then_decode_is_the_identity(seqs):
    from seqcnn.sequence import decode_onehot, onehot_strings

    x = onehot_strings(seqs)
    assert x.shape == (len(seqs), 4, len(seqs[0])) and np.allclose(x.sum(axis=1), 1.0)
    assert decode_onehot(x) == seqs


@FAST
@given(filters=st.integers(1, 64), kernel=st.integers(1, 20), pool=st.integers(1, 5), units=st.integers(1, 32),
       act=st.sampled_from(["relu", "tanh", None]), padding=st.sampled_from(["valid", "same"]))
def test_spec_to_json_and_back_is_the_same_spec(filters, kernel, pool, units, act, padding):
    from seqcnn.models.spec import ModelSpec

    spec = ModelSpec.from_obj({"name": "p", "layers": [
        {"Conv1D": {"filters": filters, "kernel_size": kernel, "activation": act, "padding": padding}},
        {"MaxPooling1D": {"pool_size": pool}}, {"Flatten": {}}, {"Dense": {"units": units, "activation": "softmax"}}]})
    again = ModelSpec.from_obj(json.loads(spec.to_json()))
    assert again.to_obj() == spec.to_obj() and again.name == "p"
    shape = (4, 100)
    assert [i.out_shape for i in again.analyse(shape)] == [i.out_shape for i in spec.analyse(shape)]


@FAST
@given(name=st.text(max_size=120))
def test_names_from_input_data_stay_inside_the_output_folder(name):
    from seqcnn.files import safe_name

    safe = safe_name(name)
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe and safe not in (".", "..")
    root = Path("/out").resolve()
    assert (root / f"00_{safe}.png").resolve().parent == root and (root / safe).resolve().parent == root
