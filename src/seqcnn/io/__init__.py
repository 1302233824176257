"""Readers and writers, one module per file format.

Each reader returns a :class:`seqcnn.io.records.Records` (ids, sequences, every other column as
raw text, source) and raises :class:`seqcnn.errors.InputError` naming the file and line for bad
input. :func:`read_sequences` picks the reader from the file name and its first bytes; which
columns are targets is decided by :mod:`seqcnn.data.targets`.
"""

from seqcnn.io.labels import read_label_table
from seqcnn.io.records import Records
from seqcnn.io.sniff import read_labels, read_sequences

__all__ = ["Records", "read_sequences", "read_labels", "read_label_table"]
