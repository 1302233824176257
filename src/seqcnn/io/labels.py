"""Label files (one label per line) and label parsing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.io.text import header_names, numbered_lines


def parse_label(text: str, path: str | Path | None, line: int | None) -> float:
    """Parse one numeric label; raise naming the file and line if it is not a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{path}, line {line}: label {text!r} is not a number, expected e.g. 0 or 1") from None
    if not math.isfinite(value):
        raise InputError(f"{path}, line {line}: label {text!r} is not a finite number")
    return value


def read_label_file(path: str | Path) -> np.ndarray:
    """Read one label per non-empty line.

    Raises:
        InputError: for an empty file or a non-numeric label (naming the line).
    """
    values = [parse_label(line.strip(), path, n) for n, line in numbered_lines(path) if line.strip()]
    if not values:
        raise InputError(f"{path}: no labels found (empty file?)")
    return np.asarray(values, dtype=np.float64)


def is_number(text: str) -> bool:
    """True when ``text`` parses as a float (``nan`` and ``inf`` included)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_label_table(
    path: str | Path, n_records: int | None = None, of: str | Path | None = None
) -> dict[str, list[str]]:
    """Read a label file with one or more columns, with or without a header, as raw text.

    Columns are tab-separated, else comma-separated, else (when every line splits alike)
    separated by runs of spaces; a file with none of these has one column. Whether the first
    line is a header is decided by the number of records when it is known (``n_records`` rows:
    none; ``n_records + 1``: the first is a header). Without it, the first line is a header when
    each of its cells is text that does not occur again in its column.

    Args:
        path: the label file (gzip allowed).
        n_records: the number of sequences the labels belong to, if known.
        of: the sequence file they belong to, for messages.

    Returns:
        Columns of raw strings keyed by header name, or ``label`` (one column) and ``label1``,
        ``label2``, ... without a header. Empty cells are ``""`` (missing).

    Raises:
        InputError: for an empty file, a line with a different number of columns than the first,
            a header repeating a name, or a row count that fits neither reading of ``n_records``.
    """
    rows = _split_rows(path)
    header = _has_header(rows, n_records)
    if n_records is not None and len(rows) - header != n_records:
        raise InputError(
            f"{path}: {len(rows)} labels, but {of or 'the sequence file'} has {n_records} sequences; "
            "expected one label per sequence (after an optional header line)"
        )
    if header:
        names = header_names(path, rows[0])
    else:
        names = ["label"] if len(rows[0]) == 1 else [f"label{i}" for i in range(1, len(rows[0]) + 1)]
    body = rows[1:] if header else rows
    return {name: [row[i] for row in body] for i, name in enumerate(names)}


def _split_rows(path) -> list[list[str]]:
    lines = [(n, line.rstrip("\r\n")) for n, line in numbered_lines(path) if line.strip()]
    if not lines:
        raise InputError(f"{path}: no labels found (empty file?)")
    first = lines[0][1]
    if "\t" in first or "," in first:
        sep = "\t" if "\t" in first else ","
        rows = [[cell.strip() for cell in line.split(sep)] for _, line in lines]
    elif len(first.split()) > 1 and len({len(line.split()) for _, line in lines}) == 1:
        rows = [line.split() for _, line in lines]
    else:
        rows = [[line.strip()] for _, line in lines]
    for (number, _), row in zip(lines, rows):
        if len(row) != len(rows[0]):
            raise InputError(
                f"{path}, line {number}: {len(row)} columns, expected {len(rows[0])} as on line {lines[0][0]}"
            )
    return rows


def _has_header(rows: list[list[str]], n_records: int | None) -> bool:
    if n_records is not None and len(rows) == n_records + 1:
        return True
    if n_records is not None:
        return False
    first = rows[0]
    if any(is_number(cell) or not cell for cell in first):
        return False
    return all(cell not in {row[i] for row in rows[1:]} for i, cell in enumerate(first))
