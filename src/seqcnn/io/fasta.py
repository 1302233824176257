"""FASTA: multi-line records, any case, IUPAC codes, optional labels in the header.

Header fields: every ``key=value`` token in a header's description (after the id) is kept as a
column of ``Records.columns``, for example ``>chr1:100-150 label=1 cell=K562``; a record without
a key has ``""`` (missing) there. Which keys are targets is decided by
:func:`seqcnn.data.targets.choose_targets`. The legacy reading (``legacy_labels=True``) also parses
``label=VALUE`` as a number into ``Records.labels``, and then either every record carries one,
or none does.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.files import atomic_write_text
from seqcnn.io.labels import parse_label
from seqcnn.io.records import Records, check_unique_ids
from seqcnn.io.text import numbered_lines

LABEL_TOKEN = re.compile(r"(?:^|\s)label=(\S+)")
FIELD_TOKEN = re.compile(r"(?:^|\s)([^\s=]+)=(\S*)")


def read_fasta(path: str | Path, *, legacy_labels: bool = True) -> Records:
    """Read a FASTA file.

    Args:
        path: the file (gzip allowed).
        legacy_labels: also parse ``label=`` tokens as numbers into ``Records.labels`` (refusing
            text), as seqcnn did before :mod:`seqcnn.data.targets`; False gives raw columns only.

    Returns:
        Records with ids (first word of each header), ``columns`` from the headers' ``key=value``
        tokens, and (legacy) labels from ``label=`` tokens.

    Raises:
        InputError: for an empty file, text before the first ``>``, a header without a
            sequence, a duplicate id, a key given twice in one header, or (legacy) labels on
            some records only.
    """
    ids: list[str] = []
    seqs: list[str] = []
    heads: list[str] = []
    lines: list[int] = []
    chunks: list[str] = []
    for number, line in numbered_lines(path):
        text = line.strip()
        if not text or text.startswith(";"):
            continue
        if text.startswith(">"):
            _close_record(path, ids, seqs, lines, chunks)
            chunks = []
            header = text[1:].strip()
            if not header:
                raise InputError(f"{path}, line {number}: empty FASTA header, expected '>id'")
            ids.append(header.split()[0])
            heads.append(header)
            lines.append(number)
        elif not ids:
            raise InputError(f"{path}, line {number}: sequence data before the first '>' header; expected FASTA")
        else:
            chunks.append(text.replace(" ", ""))
    _close_record(path, ids, seqs, lines, chunks)
    if not ids:
        raise InputError(f"{path}: no FASTA records found (empty file?)")
    check_unique_ids(path, ids, lines)
    labels = _header_labels(path, heads, ids, lines) if legacy_labels else None
    columns = header_columns(path, heads, ids, lines)
    return Records(ids=ids, seqs=seqs, labels=labels, source=str(path), lines=lines, columns=columns)


def header_columns(path, heads: list[str], ids: list[str], lines: list[int]) -> dict[str, list[str]]:
    """The ``key=value`` tokens of every header as columns (``""`` where a record lacks a key).

    Raises:
        InputError: for a key given twice in one header.
    """
    fields: list[dict[str, str]] = []
    for head, rec, line in zip(heads, ids, lines):
        parts = head.split(None, 1)
        found: dict[str, str] = {}
        for key, value in FIELD_TOKEN.findall(parts[1] if len(parts) > 1 else ""):
            if key in found:
                raise InputError(f'{path}, line {line} (record "{rec}"): key {key!r} given twice in the header')
            found[key] = value
        fields.append(found)
    keys = list(dict.fromkeys(key for found in fields for key in found))  # first-seen order
    return {key: [found.get(key, "") for found in fields] for key in keys}


def _close_record(path, ids, seqs, lines, chunks) -> None:
    if len(ids) > len(seqs):
        if not chunks:
            raise InputError(f'{path}, line {lines[-1]} (record "{ids[-1]}"): header without a sequence')
        seqs.append("".join(chunks))


def _header_labels(path, heads, ids, lines) -> np.ndarray | None:
    found = [LABEL_TOKEN.search(h) for h in heads]
    if not any(found):
        return None
    values = []
    for match, rec, line in zip(found, ids, lines):
        if match is None:
            raise InputError(
                f'{path}, line {line} (record "{rec}"): no label=VALUE in the header, but other records have one'
            )
        values.append(parse_label(match.group(1), path, line))
    return np.asarray(values, dtype=np.float64)


def write_fasta(path: str | Path, ids: list[str], seqs: list[str], width: int = 60) -> None:
    """Write records as FASTA with lines of ``width`` bases (atomically)."""
    out = []
    for rec, seq in zip(ids, seqs):
        out.append(f">{rec}")
        out.extend(seq[i : i + width] for i in range(0, len(seq), width))
    atomic_write_text(path, "\n".join(out) + "\n")
