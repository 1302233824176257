"""Leakage between data sets: the same sequence (or its reverse complement) on both sides.

A test sequence that also occurs in training measures memory, not generalisation. Sequences are
compared by a canonical form: upper case, and for DNA the lesser of the sequence and its reverse
complement, so a peak and its opposite strand count as one. One pass puts the first set's
canonical strings in a hash set; each sequence of the second is then one look-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from seqcnn.io.records import Records

COMPLEMENT = str.maketrans("ACGTRYKMBVDHNSW", "TGCAYRMKVBHDNSW")


def canonical(seq: str, reverse_complement: bool = True) -> str:
    """Upper-case ``seq``, or (DNA) the lesser of it and its reverse complement."""
    seq = seq.upper()
    if not reverse_complement:
        return seq
    other = seq.translate(COMPLEMENT)[::-1]
    return min(seq, other)


@dataclass(frozen=True)
class Leakage:
    """Sequences of one set that also occur in another.

    Attributes:
        n_shared: records of ``b`` whose canonical sequence occurs in ``a``.
        n: records in ``b``.
        index: their positions in ``b``.
        message: one line for the user (empty when nothing is shared).
    """

    n_shared: int
    n: int
    index: np.ndarray
    message: str


def shared(a: Sequence[str], b: Sequence[str], reverse_complement: bool = True,
           names: tuple[str, str] = ("training", "test")) -> Leakage:
    """Count the sequences of ``b`` identical to one of ``a`` (or to its reverse complement).

    Args:
        a: sequences of the first set (e.g. training).
        b: sequences of the second set (e.g. test).
        reverse_complement: also match the opposite strand (DNA); False for other alphabets.
        names: the sets' names for the message.

    Returns:
        :class:`Leakage` with the positions in ``b`` and a warning line when any is shared.
    """
    seen = {canonical(s, reverse_complement) for s in a}
    index = np.array([i for i, s in enumerate(b) if canonical(s, reverse_complement) in seen], dtype=np.int64)
    message = ""
    if index.size:
        strand = " or reverse complements" if reverse_complement else ""
        message = (f"warning: {index.size} of {len(b)} {names[1]} sequences ({index.size / max(len(b), 1):.1%}) also "
                   f"occur in the {names[0]} set (identical{strand}); their metrics measure memory; --dedupe removes "
                   "duplicates before the split")
    return Leakage(int(index.size), len(b), index, message)


@dataclass(frozen=True)
class Dedupe:
    """What :func:`dedupe` kept.

    Attributes:
        keep: positions of the records kept (the first of each group of duplicates), in order.
        n_removed: records dropped.
        n_conflicts: groups of duplicates whose target values differ.
        examples: up to three ids of conflicting records, for the message.
        message: one or two lines for the user.
    """

    keep: np.ndarray
    n_removed: int
    n_conflicts: int
    examples: tuple[str, ...]
    message: str


def dedupe(records: Records, targets: Iterable[str] = (), reverse_complement: bool = True) -> tuple[Records, Dedupe]:
    """Drop repeated sequences (first occurrence kept), before any split.

    Args:
        records: the records (with ``columns`` holding the targets).
        targets: target columns whose values are compared between duplicates: a group whose
            values differ is counted as a conflict (and warned about), still keeping the first.
        reverse_complement: a sequence and its reverse complement are duplicates (DNA).

    Returns:
        The records kept and a :class:`Dedupe` summary whose message says how many were dropped.
    """
    targets = [t for t in targets if t in records.columns]
    first: dict[str, int] = {}
    values: dict[str, set[tuple[str, ...]]] = {}
    keep = []
    for i, seq in enumerate(records.seqs):
        key = canonical(seq, reverse_complement)
        row = tuple(records.columns[t][i].strip() for t in targets)
        if key not in first:
            first[key] = i
            keep.append(i)
        values.setdefault(key, set()).add(row)
    conflicts = [records.ids[first[k]] for k, rows in values.items() if len(rows) > 1]
    index = np.asarray(keep, dtype=np.int64)
    removed = len(records) - index.size
    src = records.source or "<input>"
    message = f"{src}: --dedupe removed {removed} repeated sequence(s) of {len(records)}; {index.size} remain"
    if conflicts:
        message += (f"\nwarning: {len(conflicts)} repeated sequence(s) carry different target values (e.g. record "
                    f"{', '.join(map(repr, conflicts[:3]))}); the first occurrence's values were kept")
    summary = Dedupe(index, removed, len(conflicts), tuple(conflicts[:3]), message)
    return records.subset(index), summary
