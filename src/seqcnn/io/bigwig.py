"""bigWig signal tracks, read and written through pyBigWig (the ``profile`` extra).

A track is read window by window (:meth:`BigWig.values`): bases without data read as 0, a stored NaN reads as 0
(counted, and said once per file by the caller), negative values are refused with the file, chromosome and
position, since read counts cannot be negative. Chromosome names are matched across files that name them
differently (``chr1`` in one, ``1`` in another, ``chrM`` against ``MT``) by :func:`match_chrom`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError

#: What to run when pyBigWig is missing.
INSTALL_HINT = "pip install 'seqcnn[profile]' (or pip install pyBigWig)"


def pybigwig():
    """The pyBigWig module.

    Raises:
        InputError: one line saying how to install it, when it is missing.
    """
    try:
        import pyBigWig  # the `profile` extra: only profile runs read bigWig files
    except ImportError:
        raise InputError(f"bigWig files need the pyBigWig package, which is not installed: {INSTALL_HINT}") from None
    return pyBigWig


def match_chrom(name: str, available: Iterable[str]) -> str | None:
    """The name in ``available`` that means chromosome ``name``: itself, else with or without ``chr``
    (``chr1`` and ``1``), ``chrM`` and ``MT``; None when none does."""
    names = set(available)
    if name in names:
        return name
    bare = name[3:] if name.startswith("chr") else name
    for candidate in (bare, "chr" + bare, "MT" if bare == "M" else "", "chrM" if bare == "MT" else ""):
        if candidate and candidate in names:
            return candidate
    return None


class BigWig:
    """One bigWig file open for reading.

    Args:
        path: the file.

    Attributes:
        chroms: chromosome name -> length, as the file names them.
        nan_values: how many NaN values were read as 0 so far.

    Raises:
        InputError: for a file that is not a readable bigWig.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: bigWig file not found")
        module = pybigwig()
        try:
            self._file = module.open(str(self.path))
        except RuntimeError:
            self._file = None
        if self._file is None or not self._file.isBigWig():
            raise InputError(f"{self.path}: not a bigWig file (expected the binary bigWig format, as bedGraphToBigWig "
                             "writes it)")
        self.chroms: dict[str, int] = dict(self._file.chroms())
        self.nan_values = 0

    def values(self, chrom: str, start: int, end: int) -> np.ndarray:
        """The signal at ``chrom:start-end`` (0-based, half open), float32 of length ``end - start``.

        ``chrom`` is this file's own name (see :func:`match_chrom`); positions without data read as 0.

        Raises:
            InputError: for a negative value, naming the file, chromosome and position.
        """
        length = self.chroms[chrom]
        out = np.zeros(end - start, dtype=np.float32)
        lo, hi = max(start, 0), min(end, length)
        if hi <= lo:
            return out
        got = np.zeros(hi - lo, dtype=np.float32)
        for a, b, value in self._file.intervals(chrom, lo, hi) or ():  # bases without an interval stay 0
            got[max(a, lo) - lo:min(b, hi) - lo] = value
        nan = np.isnan(got)
        if nan.any():
            self.nan_values += int(nan.sum())
            got[nan] = 0.0
        if (got < 0).any():
            at = lo + int(np.argmax(got < 0))
            raise InputError(f"{self.path}: negative value {float(got[at - lo]):g} at {chrom}:{at + 1}; a signal "
                             "track of read counts cannot be negative (give the raw coverage, not a log ratio)")
        out[lo - start:hi - start] = got
        return out

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def write_bigwig(path: str | Path, chroms: Mapping[str, int], tracks: Mapping[str, np.ndarray]) -> Path:
    """Write a bigWig of per-base values; only runs of non-zero bases are stored.

    Args:
        path: the file to write.
        chroms: chromosome name -> length, in the order of the header.
        tracks: chromosome name -> values ``(length,)`` (chromosomes absent here have no data).

    Returns:
        The path.
    """
    return write_bigwig_entries(path, chroms, _nonzero_runs(chroms, tracks))


def _nonzero_runs(chroms: Mapping[str, int], tracks: Mapping[str, np.ndarray]):
    """``(chrom, start, values)`` for each run of consecutive non-zero bases, in header order."""
    for name in chroms:
        if tracks.get(name) is None:
            continue
        values = np.asarray(tracks[name], dtype=np.float64)
        edges = np.diff(np.concatenate([[0], (values != 0).astype(np.int8), [0]]))
        for first, last in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            yield name, int(first), values[first:last]


def write_bigwig_entries(path: str | Path, chroms: Mapping[str, int],
                         entries: Iterable[tuple[str, int, np.ndarray]]) -> Path:
    """Write a bigWig from runs of per-base values ``(chrom, start, values)``, in header order and not overlapping.

    Args:
        path: the file to write.
        chroms: chromosome name -> length, in the order of the header.
        entries: the runs, sorted by chromosome (header order) and start.

    Returns:
        The path.
    """
    module = pybigwig()
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    out = module.open(str(tmp), "w")
    out.addHeader([(name, int(n)) for name, n in chroms.items()], maxZooms=0)
    for chrom, start, values in entries:
        out.addEntries(chrom, int(start), values=np.asarray(values, dtype=np.float64).tolist(), span=1, step=1)
    out.close()
    tmp.replace(path)
    return path
