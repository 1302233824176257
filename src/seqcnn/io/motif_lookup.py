"""A motif named on the command line: a JASPAR ID or name, a name in a MEME file, or an IUPAC string.

:func:`find_motif` resolves one name, in this order, and says what it chose (:attr:`NamedMotif.found`):

1. a motif of the ``--motifs`` MEME files, by its name or its second word (``MOTIF name alt``);
2. a JASPAR matrix ID (``MA0114.5``, or ``MA0114`` for its latest version) of the release, any
   collection, offline from pyjaspar's SQLite file (:mod:`seqcnn.io.jaspar`);
3. the name of a JASPAR CORE vertebrates motif (``HNF4A``), case-insensitive; a name shared by
   several motifs is refused with their IDs;
4. an IUPAC string of A, C, G, T and the ambiguity codes (``TGACTCA``, ``GATWAR``); ``iupac:STRING``
   forces this reading for a string that is also a JASPAR name (``iupac:SRY``).

Anything else is refused with the closest names. A motif's letter probabilities are ``(4, W)``,
rows A, C, G, T; an IUPAC string keeps its letters, so that an inserted copy draws each ambiguous
base from its allowed ones rather than from a consensus.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.io import jaspar
from seqcnn.io.meme import read_meme

#: The bases each IUPAC letter allows.
IUPAC = {
    "A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}
_JASPAR_ID = re.compile(r"^(MA|PB|PF|PH|PL|CN|POL|UN)\d{4}(\.\d+)?$", re.IGNORECASE)


@dataclass(frozen=True)
class NamedMotif:
    """A resolved motif.

    Attributes:
        name: what the user wrote.
        id: the motif's identifier (JASPAR ID, MEME name, or the IUPAC string).
        label: a short readable name (``MA0114.5 HNF4A``).
        pwm: letter probabilities ``(4, W)``, rows A, C, G, T.
        iupac: the IUPAC string for a motif given as one, else None.
        found: where it was found, in words (printed).
    """

    name: str
    id: str
    label: str
    pwm: np.ndarray
    iupac: str | None
    found: str

    @property
    def width(self) -> int:
        return int(self.pwm.shape[1])

    def consensus(self) -> str:
        """The most probable base of each column (an IUPAC string's own letters are not kept)."""
        return "".join("ACGT"[i] for i in self.pwm.argmax(axis=0))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` copies as uint8 codes ``(n, W)``: the consensus, or for an IUPAC string each ambiguous
        letter drawn from its allowed bases."""
        if self.iupac is None:
            return np.tile(np.array(["ACGT".index(b) for b in self.consensus()], dtype=np.uint8), (n, 1))
        out = np.empty((n, self.width), dtype=np.uint8)
        for j, letter in enumerate(self.iupac):
            allowed = np.array(["ACGT".index(b) for b in IUPAC[letter]], dtype=np.uint8)
            out[:, j] = allowed[rng.integers(0, len(allowed), n)]
        return out


def iupac_pwm(text: str) -> np.ndarray:
    """Letter probabilities ``(4, W)`` of an IUPAC string: each allowed base equally likely.

    Raises:
        InputError: for an empty string or a letter outside the IUPAC code.
    """
    text = text.upper()
    bad = sorted(set(text) - set(IUPAC))
    if not text or bad:
        raise InputError(f"IUPAC string {text!r} must be non-empty letters of {''.join(IUPAC)}; found {bad}")
    pwm = np.zeros((4, len(text)))
    for j, letter in enumerate(text):
        for base in IUPAC[letter]:
            pwm["ACGT".index(base), j] = 1.0 / len(IUPAC[letter])
    return pwm


def find_motif(name: str, meme_files: list[str | Path] | tuple = (),
               release: str = jaspar.DEFAULT_RELEASE) -> NamedMotif:
    """Resolve a motif name (see the module's docstring for the order).

    Args:
        name: a MEME motif name, a JASPAR ID or name, or an IUPAC string (``iupac:`` forces it).
        meme_files: MEME files searched first (``--motifs``).
        release: the JASPAR release.

    Returns:
        The motif and where it was found.

    Raises:
        InputError: for an unknown name (with the closest known names), a JASPAR name shared by
            several motifs, or an unreadable MEME file.
    """
    text = name.strip()
    if text.lower().startswith("iupac:"):
        letters = text[6:].upper()
        return NamedMotif(name, letters, letters, iupac_pwm(letters), letters, "IUPAC string")
    memes = [(Path(f), m) for f in meme_files for m in read_meme(f)]
    for path, motif in memes:
        if text in (motif.name, motif.alt_name):
            label = f"{motif.name} {motif.alt_name}".strip()
            return NamedMotif(name, motif.name, label, motif.pwm, None, f"motif {motif.name} of {path}")
    if _JASPAR_ID.match(text):
        found = _jaspar_by_id(text.upper(), release)
        if found is not None:
            return found
    by_name = [m for m in jaspar.load_jaspar(release) if m.name.upper() == text.upper()]
    if len(by_name) > 1:
        raise InputError(f"motif {text!r} names {len(by_name)} {release} motifs: "
                         f"{', '.join(m.id for m in by_name)}; give one ID")
    if by_name:
        m = by_name[0]
        also = "; also an IUPAC string: write iupac:" + text if not set(text.upper()) - set(IUPAC) else ""
        return NamedMotif(name, m.id, f"{m.id} {m.name}", m.pwm, None, f"{release} {m.id} ({m.name}){also}")
    if text and not set(text.upper()) - set(IUPAC):
        letters = text.upper()
        return NamedMotif(name, letters, letters, iupac_pwm(letters), letters, "IUPAC string")
    raise InputError(_unknown(text, [m.name for _, m in memes], release))


def _jaspar_by_id(motif_id: str, release: str) -> NamedMotif | None:
    """A JASPAR matrix by ID, any collection and taxon (without a version: the latest), or None."""
    base, _, version = motif_id.partition(".")
    with jaspar.open_database(release) as db:
        sql = "SELECT ID, BASE_ID, VERSION, NAME FROM MATRIX WHERE BASE_ID = ?"
        sql += " AND VERSION = ?" if version else ""
        rows = db.execute(sql, (base, int(version)) if version else (base,)).fetchall()
        if not rows:
            return None
        internal, base, version, tf = max(rows, key=lambda r: r[2])
        data = db.execute("SELECT row, col, val FROM MATRIX_DATA WHERE ID = ?", (internal,)).fetchall()
    width = max(int(c) for _, c, _ in data)
    matrix = np.full((4, width), 1e-3)  # JASPAR counts have zeros
    for row, col, val in data:
        matrix["ACGT".index(str(row).upper()), int(col) - 1] += float(val)
    full = f"{base}.{version}"
    return NamedMotif(motif_id, full, f"{full} {tf}", matrix / matrix.sum(axis=0, keepdims=True), None,
                      f"{release} {full} ({tf})")


def _unknown(text: str, meme_names: list[str], release: str) -> str:
    motifs = jaspar.load_jaspar(release)
    names = {m.name.upper(): f"{m.name} ({m.id})" for m in motifs}
    names.update({m.id.upper(): f"{m.id} ({m.name})" for m in motifs})
    names.update({n.upper(): f"{n} (--motifs)" for n in meme_names})
    close = difflib.get_close_matches(text.upper(), list(names), n=5, cutoff=0.5)
    hint = f"; closest: {', '.join(names[c] for c in close)}" if close else ""
    return (f"unknown motif {text!r}: not a name in --motifs, a {release} ID or CORE vertebrates name, "
            f"nor an IUPAC string ({''.join(IUPAC)}){hint}")
