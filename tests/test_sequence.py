import numpy as np
import pytest

from seqcnn.errors import InputError
from seqcnn.sequence import (
    CODE_OF_BYTE,
    PAD_CODE,
    decode,
    decode_onehot,
    encode,
    encode_batch,
    gc_content,
    onehot,
    reverse_complement,
)


def test_lookup_table_maps_every_byte():
    assert CODE_OF_BYTE.shape == (256,)
    for i, base in enumerate("ACGT"):
        assert CODE_OF_BYTE[ord(base)] == i and CODE_OF_BYTE[ord(base.lower())] == i
    assert CODE_OF_BYTE[ord("N")] == 4 and CODE_OF_BYTE[ord("r")] == 4
    assert CODE_OF_BYTE[ord("X")] == 255 and CODE_OF_BYTE[ord("-")] == 255


def test_onehot_shape_values_and_case():
    x = onehot(encode_batch(["ACGTN", "acgtn"]))
    assert x.shape == (2, 4, 5) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, :, :4], np.eye(4))
    np.testing.assert_array_equal(x[0], x[1])
    np.testing.assert_array_equal(x[0, :, 4], [0.25] * 4)
    np.testing.assert_array_equal(onehot(encode_batch(["N"]), unknown="zeros")[0, :, 0], [0, 0, 0, 0])


def test_invalid_character_names_record_and_position():
    with pytest.raises(InputError, match=r'seqs.fa \(record "r2"\): invalid character \'X\' at position 3'):
        encode_batch(["ACGT", "ACXT"], ids=["r1", "r2"], source="seqs.fa")


def test_length_mismatch_names_first_offender_unless_fitted():
    with pytest.raises(InputError, match=r'record "b"\): sequence has length 3, expected 4'):
        encode_batch(["ACGT", "ACG", "A"], ids=["a", "b", "c"])
    padded = encode_batch(["ACGT", "CG"], fit="pad")
    assert decode(padded) == ["ACGT", "-CG-"]
    cropped = encode_batch(["ACGTAC", "ACGT"], length=4, fit="crop")
    assert decode(cropped) == ["CGTA", "ACGT"]
    assert (onehot(padded)[1, :, 0] == 0).all()  # padding is all zeros


def test_decode_roundtrips_and_reverse_complement():
    seqs = ["ACGTTGCA", "NNACGTAA"]
    assert decode(encode_batch(seqs)) == seqs
    assert decode_onehot(onehot(encode_batch(seqs))) == seqs
    assert reverse_complement("AACGTN") == "NACGTT"
    assert gc_content(encode("GGCCAT")) == pytest.approx(4 / 6)
    assert PAD_CODE == 5
