"""seqcnn's error types.

Every mistake a user can fix raises a :class:`SeqcnnError` whose message names where the
problem is (file, line or record, field), what was expected and what was found. The command
line prints that message on one line and exits with status 2; it never shows a traceback for
these errors.
"""

from __future__ import annotations

from pathlib import Path


class SeqcnnError(Exception):
    """Base class of every error a user can fix by changing their input or options."""


class InputError(SeqcnnError, ValueError):
    """A data file or an array given by the user is malformed."""


class SpecError(SeqcnnError, ValueError):
    """A model spec is malformed or its layers do not fit together."""


class RunError(SeqcnnError):
    """A run folder is missing, incomplete or inconsistent."""


class DivergedError(SeqcnnError):
    """Training produced a NaN or infinite loss (the message names the epoch and batch)."""


def where(path: str | Path | None, line: int | None = None, record: str | None = None) -> str:
    """Format a location prefix such as ``'data.fa, line 12 (record "seq3")'``.

    Args:
        path: the file, or None for in-memory data.
        line: 1-based line number, if known.
        record: record id, if known.

    Returns:
        The location text, without a trailing colon.
    """
    parts = [str(path) if path is not None else "<input>"]
    if line is not None:
        parts.append(f"line {line}")
    text = ", ".join(parts)
    if record is not None:
        text += f' (record "{record}")'
    return text
