"""Tables of sequences: one sequence per line, CSV/TSV with a header, and DeepBind's ``.seq.gz``.

A table's header must name a sequence column (``sequence`` or ``seq``) and may name an id
column (``id``, ``name`` or ``EventID``); names are matched without regard to case. Every other
column is kept, as raw text under its header name, in ``Records.columns``: which of them are
targets is decided by :func:`seqcnn.data.targets.choose_targets`, never here. DeepBind's ENCODE files
(``FoldID EventID seq Bound``, tab-separated) are such a table.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.io.labels import parse_label
from seqcnn.io.records import Records, check_unique_ids
from seqcnn.io.text import header_names, read_text

SEQ_COLUMNS = ("sequence", "seq")
LABEL_COLUMNS = ("label", "bound", "y", "target")
ID_COLUMNS = ("id", "name", "eventid")


def read_lines(path: str | Path) -> Records:
    """Read a plain file with one sequence per line (the primer's ``sequences.txt``).

    Ids are ``line<N>``. Blank lines are skipped.

    Raises:
        InputError: for an empty file.
    """
    ids, seqs, lines = [], [], []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        text = line.strip()
        if text:
            ids.append(f"line{number}")
            seqs.append(text)
            lines.append(number)
    if not seqs:
        raise InputError(f"{path}: no sequences found (empty file?)")
    return Records(ids=ids, seqs=seqs, source=str(path), lines=lines)


def read_table(path: str | Path, delimiter: str | None = None, *, legacy_labels: bool = True) -> Records:
    """Read a CSV or TSV table with a header row.

    Args:
        path: the file (gzip allowed).
        delimiter: ``","`` or ``"\\t"``; sniffed from the header when None.
        legacy_labels: also parse the first column named ``label``, ``bound``, ``y`` or ``target``
            as numbers into ``Records.labels`` (and refuse text there), as seqcnn did before
            :mod:`seqcnn.data.targets`; pass False to get raw columns only.

    Returns:
        Records whose ``columns`` hold every non-sequence column (original header names).

    Raises:
        InputError: for a missing sequence column, a repeated column name, a row with the wrong
            number of fields, or (with ``legacy_labels``) a label that is not a number.
    """
    text = read_text(path)
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise InputError(f"{path}: empty table, expected a header row naming a 'sequence' column")
    delimiter = delimiter or ("\t" if "\t" in first else ",")
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # old Mac line ends too; csv refuses a bare CR
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:  # e.g. a field over csv's size limit
        raise InputError(
            f"{path}: not a readable table ({exc}); "
            f"expected {'tab' if delimiter == chr(9) else 'comma'}-separated fields"
        ) from None

    return _parse_table(path, rows, legacy_labels)


def _parse_table(path, table: list[list[str]], legacy_labels: bool) -> Records:
    rows = iter(table)
    names = header_names(path, next(rows))
    header = [h.lower() for h in names]
    seq_col = _find_column(header, SEQ_COLUMNS)
    if seq_col is None:
        raise InputError(f"{path}, line 1: no sequence column in header {header}; expected one of {list(SEQ_COLUMNS)}")
    label_col = _find_column(header, LABEL_COLUMNS) if legacy_labels else None
    id_col = _find_column(header, ID_COLUMNS)
    kept = [i for i in range(len(names)) if i != seq_col]
    cells: list[list[str]] = [[] for _ in kept]
    ids, seqs, labels, lines = [], [], [], []
    for number, row in enumerate(rows, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(f"{path}, line {number}: {len(row)} fields, expected {len(header)} as in the header")
        seqs.append(row[seq_col].strip())
        ids.append(row[id_col].strip() if id_col is not None else f"row{number}")
        lines.append(number)
        for column, i in zip(cells, kept):
            column.append(row[i].strip())
        if label_col is not None:
            labels.append(parse_label(row[label_col].strip(), path, number))
    if not seqs:
        raise InputError(f"{path}: table has a header but no rows")
    check_unique_ids(path, ids, lines)
    label_array = np.asarray(labels, dtype=np.float64) if label_col is not None else None
    columns = {names[i]: column for i, column in zip(kept, cells)}
    id_name = names[id_col] if id_col is not None else None
    return Records(
        ids=ids, seqs=seqs, labels=label_array, source=str(path), lines=lines, columns=columns, id_column=id_name
    )


def _find_column(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None
