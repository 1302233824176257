"""MEME motif files: round trip, readable by memelite, clear errors for malformed files."""

from __future__ import annotations

import numpy as np
import pytest

from seqcnn.errors import InputError
from seqcnn.io.meme import MemeMotif, read_meme, write_meme


def _motifs() -> list[MemeMotif]:
    rng = np.random.default_rng(0)
    out = []
    for i, width in enumerate((6, 12, 1)):
        pwm = rng.dirichlet(np.ones(4), size=width).T  # (4, W)
        out.append(MemeMotif(f"filter_{i:02d}", pwm, alt_name=f"ALT{i}", nsites=10 * i))
    return out


def test_round_trip_keeps_names_sites_and_probabilities(tmp_path):
    motifs = _motifs()
    path = write_meme(tmp_path / "m.meme", motifs)
    back = read_meme(path)
    assert [m.name for m in back] == [m.name for m in motifs]
    assert [m.alt_name for m in back] == ["ALT0", "ALT1", "ALT2"]
    assert [m.nsites for m in back] == [0, 10, 20]
    for a, b in zip(motifs, back):
        assert b.pwm.shape == a.pwm.shape
        np.testing.assert_allclose(b.pwm, a.pwm, atol=1e-5)  # written with 6 decimals: 5e-7 of rounding


def test_memelite_reads_our_file(tmp_path):
    from memelite.io import read_meme as memelite_read

    motifs = _motifs()
    write_meme(tmp_path / "m.meme", motifs)
    theirs = memelite_read(str(tmp_path / "m.meme"))
    assert list(theirs) == [f"{m.name} {m.alt_name}" for m in motifs]
    for m, pwm in zip(motifs, theirs.values()):
        np.testing.assert_allclose(pwm, m.pwm, atol=1e-5)  # our 6 decimals, read back as float32 by memelite


def test_reads_a_file_written_by_memelite(tmp_path):
    from memelite.io import write_meme as memelite_write

    pwm = np.array([[0.7, 0.1, 0.1, 0.1], [0.0, 0.0, 1.0, 0.0], [0.25, 0.25, 0.25, 0.25]]).T
    memelite_write(str(tmp_path / "x.meme"), {"MA0001.1": pwm})
    (motif,) = read_meme(tmp_path / "x.meme")
    assert motif.name == "MA0001.1" and motif.width == 3
    np.testing.assert_allclose(motif.pwm, pwm)


HEADER = "MEME version 4\n\nALPHABET= ACGT\n\n"


@pytest.mark.parametrize(
    "body, expected",
    [
        ("", "no motifs found"),
        (
            "MOTIF a\nletter-probability matrix: alength= 4 nsites= 3\n0.25 0.25 0.25 0.25\n",
            "line 6: matrix header needs 'w=",
        ),
        (
            "MOTIF a\nletter-probability matrix: alength= 4 w= 2\n0.25 0.25 0.5\n0.25 0.25 0.25 0.25\n",
            "line 7: motif a: expected 4 non-negative",
        ),
        (
            "MOTIF a\nletter-probability matrix: alength= 4 w= 3\n0.25 0.25 0.25 0.25\n",
            "line 5: motif a has 1 matrix rows, expected w=3",
        ),
        ("MOTIF a\n\nMOTIF b\n", "line 5: motif a has no letter-probability matrix"),
        (
            "MOTIF a\nletter-probability matrix: w= 1\n1 0 0 0\nMOTIF a\nletter-probability matrix: w= 1\n0 1 0 0\n",
            "line 8: duplicate motif name 'a'",
        ),
        ("MOTIF a\nletter-probability matrix: w= 1\n-1 0 0 2\n", "line 7: motif a: expected 4 non-negative"),
    ],
)
def test_malformed_files_name_the_line(tmp_path, body, expected):
    path = tmp_path / "bad.meme"
    path.write_text(HEADER + body)
    with pytest.raises(InputError, match=expected.replace("(", r"\(")) as info:
        read_meme(path)
    assert str(path) in str(info.value)


def test_protein_alphabet_is_refused(tmp_path):
    path = tmp_path / "p.meme"
    path.write_text("MEME version 4\n\nALPHABET= ACDEFGHIKLMNPQRSTVWY\n")
    with pytest.raises(InputError, match="line 3: alphabet 'ACDEFGHIKLMNPQRSTVWY' is not supported"):
        read_meme(path)


@pytest.mark.parametrize(
    "motif, expected",
    [
        (MemeMotif("a b", np.full((4, 2), 0.25)), "free of white space"),
        (MemeMotif("a", np.full((2, 4), 0.5)), r"shape \(4, W\)"),
        (MemeMotif("a", np.array([[1.0], [-0.5], [0.25], [0.25]])), "negative or non-finite"),
    ],
)
def test_write_refuses_bad_motifs(tmp_path, motif, expected):
    with pytest.raises(InputError, match=expected):
        write_meme(tmp_path / "x.meme", [motif])
    assert not (tmp_path / "x.meme").exists()


def test_write_refuses_duplicate_names(tmp_path):
    m = MemeMotif("a", np.full((4, 2), 0.25))
    with pytest.raises(InputError, match="duplicate motif name 'a'"):
        write_meme(tmp_path / "x.meme", [m, m])
