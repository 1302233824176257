"""MEME motif format (minimal MEME format, version 4): write and read letter-probability matrices.

The files follow the MEME suite's "minimal MEME format", which the MEME tools, memelite and
tangermeme all read::

    MEME version 4

    ALPHABET= ACGT

    strands: + -

    Background letter frequencies
    A 0.25 C 0.25 G 0.25 T 0.25

    MOTIF filter_00 CGACCGAACTCC
    letter-probability matrix: alength= 4 w= 12 nsites= 212 E= 0
     0.010 0.950 0.020 0.020
     ...

In memory a motif's matrix is channels first, ``(4, W)`` (rows A, C, G, T), like the one-hot
sequences of :mod:`seqcnn.sequence`; the file holds one row per position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError, where
from seqcnn.files import atomic_write_text
from seqcnn.io.text import numbered_lines

_MATRIX_LINE = re.compile(r"letter-probability matrix:(?P<fields>.*)", re.IGNORECASE)
_FIELD = re.compile(r"(\w+)\s*=\s*(\S+)")


@dataclass
class MemeMotif:
    """One motif of a MEME file.

    Attributes:
        name: the motif's identifier (first word of its ``MOTIF`` line, no spaces).
        pwm: letter probabilities ``(4, W)``, rows A, C, G, T; each column sums to 1.
        alt_name: the optional second word of the ``MOTIF`` line (a consensus, a factor name).
        nsites: the number of sites the matrix was counted from.
    """

    name: str
    pwm: np.ndarray
    alt_name: str = ""
    nsites: int = 0

    @property
    def width(self) -> int:
        return int(self.pwm.shape[1])


def write_meme(
    path: str | Path, motifs: list[MemeMotif], background: tuple[float, ...] = (0.25, 0.25, 0.25, 0.25)
) -> Path:
    """Write motifs to a MEME file, atomically.

    Args:
        path: the output file.
        motifs: the motifs; names must be unique and free of white space.
        background: letter frequencies of A, C, G, T.

    Returns:
        The path written.

    Raises:
        InputError: for a duplicate or empty name, or a matrix that is not ``(4, W)`` with
            ``W >= 1`` and columns of non-negative probabilities.
    """
    seen: set[str] = set()
    lines = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "",
             "Background letter frequencies", " ".join(f"{b} {f:.4g}" for b, f in zip("ACGT", background)), ""]
    for motif in motifs:
        _check_motif(motif, seen)
        head = f"MOTIF {motif.name}" + (f" {motif.alt_name}" if motif.alt_name else "")
        lines += [head, f"letter-probability matrix: alength= 4 w= {motif.width} nsites= {int(motif.nsites)} E= 0"]
        lines += [" ".join(f"{p:.6f}" for p in column) for column in np.asarray(motif.pwm, dtype=float).T]
        lines.append("")
    atomic_write_text(path, "\n".join(lines) + "\n")
    return Path(path)


def _check_motif(motif: MemeMotif, seen: set[str]) -> None:
    if not motif.name or any(c.isspace() for c in motif.name):
        raise InputError(f"motif name {motif.name!r} must be non-empty and free of white space")
    if motif.alt_name and any(c.isspace() for c in motif.alt_name):
        raise InputError(f"motif {motif.name}: alt_name {motif.alt_name!r} must be free of white space")
    if motif.name in seen:
        raise InputError(f"duplicate motif name {motif.name!r}; MEME files need unique names")
    seen.add(motif.name)
    pwm = np.asarray(motif.pwm)
    if pwm.ndim != 2 or pwm.shape[0] != 4 or pwm.shape[1] < 1:
        raise InputError(f"motif {motif.name}: matrix must have shape (4, W) with W >= 1, got {pwm.shape}")
    if not np.all(np.isfinite(pwm)) or (pwm < 0).any():
        raise InputError(f"motif {motif.name}: matrix holds negative or non-finite values; expected probabilities")


def read_meme(path: str | Path) -> list[MemeMotif]:
    """Read the motifs of a MEME file (DNA alphabet).

    Args:
        path: a MEME file (minimal format or a full MEME/STREME/Tomtom output).

    Returns:
        The motifs in file order, each column normalised to sum to 1.

    Raises:
        InputError: naming the file and line for a file without motifs, a non-DNA alphabet, a
            matrix header without ``w=``, a row without four numbers, a matrix cut short, or a
            duplicate motif name.
    """

    motifs: list[MemeMotif] = []
    current: dict | None = None
    for number, raw in numbered_lines(path):
        line = raw.strip()
        if current is not None and current.get("rows") is not None and len(current["rows"]) < current["width"]:
            if not line:
                continue
            current["rows"].append(_matrix_row(line, path, number, current["name"]))
            if len(current["rows"]) == current["width"]:
                motifs.append(_finish(current, path, motifs))
            continue
        if line.startswith("ALPHABET"):
            _check_alphabet(line, path, number)
        elif line.startswith("MOTIF"):
            _incomplete(current, path)
            words = line.split()
            if len(words) < 2:
                raise InputError(f"{where(path, number)}: MOTIF line without a name")
            current = {"name": words[1], "alt": words[2] if len(words) > 2 else "", "line": number, "rows": None}
        elif current is not None and _MATRIX_LINE.match(line):
            current.update(_matrix_header(line, path, number))
    _incomplete(current, path)
    if not motifs:
        raise InputError(
            f"{where(path)}: no motifs found; expected 'MOTIF name' lines followed by a letter-probability matrix"
        )
    return motifs


def _check_alphabet(line: str, path, number: int) -> None:
    letters = line.split("=", 1)[1].strip() if "=" in line else ""
    if letters.upper() != "ACGT":
        raise InputError(f"{where(path, number)}: alphabet {letters!r} is not supported; expected ALPHABET= ACGT")


def _matrix_header(line: str, path, number: int) -> dict:
    fields = dict(_FIELD.findall(_MATRIX_LINE.match(line).group("fields")))
    try:
        width = int(fields["w"])
        nsites = int(float(fields.get("nsites", 0)))
    except (KeyError, ValueError):
        raise InputError(f"{where(path, number)}: matrix header needs 'w= <width>', got {line!r}") from None
    if fields.get("alength", "4") != "4":
        raise InputError(f"{where(path, number)}: alength={fields['alength']}; expected 4 (DNA)")
    if width < 1:
        raise InputError(f"{where(path, number)}: motif width must be at least 1, got w={width}")
    return {"width": width, "nsites": nsites, "rows": []}


def _matrix_row(line: str, path, number: int, name: str) -> list[float]:
    try:
        row = [float(v) for v in line.split()]
    except ValueError:
        row = []
    if len(row) != 4 or any(v < 0 or not np.isfinite(v) for v in row) or sum(row) <= 0:
        raise InputError(
            f"{where(path, number)}: motif {name}: expected 4 non-negative probabilities (A C G T), got {line!r}"
        )
    return row


def _finish(current: dict, path, motifs: list[MemeMotif]) -> MemeMotif:
    if any(m.name == current["name"] for m in motifs):
        raise InputError(f"{where(path, current['line'])}: duplicate motif name {current['name']!r}")
    rows = np.asarray(current["rows"], dtype=np.float64)  # (W, 4)
    pwm = (rows / rows.sum(axis=1, keepdims=True)).T  # (4, W)
    current["rows"] = None
    current["done"] = True
    return MemeMotif(current["name"], pwm, current["alt"], current["nsites"])


def _incomplete(current: dict | None, path) -> None:
    if current is None or current.get("done"):
        return
    if current.get("rows") is None:
        raise InputError(f"{where(path, current['line'])}: motif {current['name']} has no letter-probability matrix")
    raise InputError(
        f"{where(path, current['line'])}: motif {current['name']} has {len(current['rows'])} matrix rows, expected "
        f"w={current['width']}"
    )
