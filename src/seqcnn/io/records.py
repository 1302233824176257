"""The container every sequence reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from seqcnn.errors import InputError


@dataclass
class Records:
    """Sequences read from one file.

    Attributes:
        ids: one id per record (unique within the file).
        seqs: the sequences as text, in file order.
        labels: float labels ``(N,)`` parsed the way seqcnn read one numeric label per record,
            or None when the file holds none (or the reader was asked for raw columns only).
        source: the file they came from (for messages and hashes).
        lines: the 1-based line where each record starts, for messages.
        columns: every other field of the file as raw text, one list of ``N`` strings per
            column, keyed by the header name as written (original case): a table's non-sequence
            columns, a FASTA header's ``key=value`` tokens (``""`` where a record lacks the key),
            a label file's columns. An empty string is a missing value.
        id_column: the column the ids were taken from, if any (it is also in ``columns``).
        label_columns: the columns that came from a separate label file: every one of them is a
            target unless the user picks some (see :func:`seqcnn.data.targets.choose_targets`).
    """

    ids: list[str]
    seqs: list[str]
    labels: np.ndarray | None = None
    source: str | None = None
    lines: list[int] = field(default_factory=list)
    columns: dict[str, list[str]] = field(default_factory=dict)
    id_column: str | None = None
    label_columns: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.seqs)

    def subset(self, index: np.ndarray) -> Records:
        """Return the records at ``index`` (an integer array), in that order."""
        index = np.asarray(index, dtype=np.int64)
        return Records(
            ids=[self.ids[i] for i in index],
            seqs=[self.seqs[i] for i in index],
            labels=None if self.labels is None else self.labels[index],
            source=self.source,
            lines=[self.lines[i] for i in index] if self.lines else [],
            columns={name: [values[i] for i in index] for name, values in self.columns.items()},
            id_column=self.id_column,
            label_columns=self.label_columns,
        )

    def where(self, i: int) -> str:
        """The location of record ``i`` for a message: ``'file, line 7 (record "s3")'``."""
        line = f", line {self.lines[i]}" if self.lines else ""
        return f'{self.source or "<input>"}{line} (record "{self.ids[i]}")'


def check_unique_ids(path, ids: list[str], lines: list[int]) -> None:
    """Raise :class:`InputError` at the first repeated id, naming both lines."""
    seen: dict[str, int] = {}
    for rec, line in zip(ids, lines):
        if rec in seen:
            raise InputError(f'{path}, line {line} (record "{rec}"): duplicate id, first seen on line {seen[rec]}')
        seen[rec] = line
