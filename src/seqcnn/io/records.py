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
        labels: float labels ``(N,)``, or None when the file holds none.
        source: the file they came from (for messages and hashes).
        lines: the 1-based line where each record starts, for messages.
    """

    ids: list[str]
    seqs: list[str]
    labels: np.ndarray | None = None
    source: str | None = None
    lines: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.seqs)

    def subset(self, index: np.ndarray) -> "Records":
        """Return the records at ``index`` (an integer array), in that order."""
        index = np.asarray(index)
        return Records(
            ids=[self.ids[i] for i in index],
            seqs=[self.seqs[i] for i in index],
            labels=None if self.labels is None else self.labels[index],
            source=self.source,
            lines=[self.lines[i] for i in index] if self.lines else [],
        )


def check_unique_ids(path, ids: list[str], lines: list[int]) -> None:
    """Raise :class:`InputError` at the first repeated id, naming both lines."""
    seen: dict[str, int] = {}
    for rec, line in zip(ids, lines):
        if rec in seen:
            raise InputError(f'{path}, line {line} (record "{rec}"): duplicate id, first seen on line {seen[rec]}')
        seen[rec] = line
