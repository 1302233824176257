"""Label files (one label per line) and label parsing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.io.text import numbered_lines


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
