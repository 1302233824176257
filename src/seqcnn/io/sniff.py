"""Choosing a reader from a file's name and first bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.io.fasta import read_fasta
from seqcnn.io.labels import read_label_file, read_label_table
from seqcnn.io.records import Records
from seqcnn.io.table import SEQ_COLUMNS, read_lines, read_table
from seqcnn.io.text import read_text

FASTA_SUFFIXES = {".fa", ".fasta", ".fna", ".fas"}
TABLE_SUFFIXES = {".csv", ".tsv", ".seq"}


def sequence_format(path: str | Path) -> str:
    """Return ``"fasta"``, ``"table"`` or ``"lines"`` for a sequence file."""
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in FASTA_SUFFIXES:
        return "fasta"
    if suffix in TABLE_SUFFIXES:
        return "table"
    first = next((line.strip() for line in read_text(path).splitlines() if line.strip()), "")
    if first.startswith(">"):
        return "fasta"
    cells = [c.strip().lower() for c in first.replace("\t", ",").split(",")]
    if any(c in SEQ_COLUMNS for c in cells):
        return "table"
    return "lines"


def read_sequences(path: str | Path, labels: str | Path | None = None, *, legacy_labels: bool = True) -> Records:
    """Read sequences (and labels) from FASTA, a table or a plain one-per-line file.

    Args:
        path: the sequence file; gzip is read transparently.
        labels: an optional label file, in the order of the records. Legacy: one number per
            line, replacing labels found in the sequence file. Otherwise one or more columns,
            with or without a header (:func:`seqcnn.io.labels.read_label_table`), added to
            ``Records.columns`` and named in ``Records.label_columns``.
        legacy_labels: parse one numeric label per record into ``Records.labels`` as seqcnn did
            before :mod:`seqcnn.data.targets`; False keeps every column as raw text only.

    Raises:
        InputError: for malformed files, or when the label count differs from the number of
            sequences (giving both counts).
    """
    kind = sequence_format(path)
    if kind == "lines":
        records = read_lines(path)
    else:
        records = (read_fasta if kind == "fasta" else read_table)(path, legacy_labels=legacy_labels)
    if labels is not None and not legacy_labels:
        columns = read_label_table(labels, len(records), of=path)
        records.columns.update(columns)
        records.label_columns = tuple(columns)
    elif labels is not None:
        values = read_label_file(labels)
        if len(values) != len(records):
            raise InputError(
                f"{labels}: {len(values)} labels, but {path} has {len(records)} sequences; "
                "expected one label per sequence"
            )
        records.labels = values
    return records


def read_labels(path: str | Path) -> np.ndarray:
    """Read a label file (one number per line)."""
    return read_label_file(path)


__all__ = ["read_sequences", "read_labels", "sequence_format", "Records"]
