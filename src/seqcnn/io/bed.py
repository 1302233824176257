"""BED peaks and an indexed genome FASTA: fixed-width windows around peaks, chromosome hold-out.

A window of ``width`` bases is centred on the middle of each BED interval, or on its summit
when a summit column is named (column 10 of ENCODE narrowPeak files: the summit's offset from
the interval's start). Windows that would cross a chromosome end are shifted inside it. The
genome is read with pyfaidx (it writes a ``.fai`` index beside the FASTA on first use).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.io.text import numbered_lines
from seqcnn.sequence import CODE_OF_BYTE, INVALID, N_CODE

Window = tuple[str, int, int]  # chrom, 0-based start, end (exclusive)


@dataclass(frozen=True)
class Peak:
    """One BED record: 0-based half-open interval, optional summit offset, its line number."""

    chrom: str
    start: int
    end: int
    summit: int | None
    line: int


class Genome:
    """An indexed genome FASTA (pyfaidx).

    Raises:
        InputError: for a missing or unreadable FASTA.
    """

    def __init__(self, path: str | Path):
        # pyfaidx: only when a genome is read
        import pyfaidx

        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: genome FASTA not found")
        try:
            self.fasta = pyfaidx.Fasta(str(self.path), as_raw=True, sequence_always_upper=True)
        except (pyfaidx.FastaIndexingError, ValueError, OSError) as exc:
            raise InputError(f"{self.path}: cannot index the genome FASTA ({exc})") from None
        self.lengths = {name: len(self.fasta[name]) for name in self.fasta.keys()}

    def codes(self, chrom: str, start: int, end: int) -> np.ndarray:
        """uint8 codes ``(end - start,)`` of a 0-based half-open region (unknown letters become N)."""
        raw = np.frombuffer(self.fasta[chrom][start:end].encode("latin-1"), dtype=np.uint8)
        codes = CODE_OF_BYTE[raw]
        codes[codes == INVALID] = N_CODE
        return codes

    def random_windows(
        self, width: int, n: int, rng: np.random.Generator, chroms: Sequence[str] | None = None
    ) -> tuple[np.ndarray, list[Window]]:
        """``n`` windows drawn uniformly over ``chroms`` (all by default): codes ``(n, width)`` and places."""
        names = [c for c in (chroms or self.lengths) if self.lengths.get(c, 0) >= width]
        if not names:
            raise InputError(f"{self.path}: no chromosome of at least {width} bp to draw background windows from")
        sizes = np.array([self.lengths[c] - width + 1 for c in names], dtype=np.float64)
        which = rng.choice(len(names), size=n, p=sizes / sizes.sum())
        starts = (rng.random(n) * sizes[which]).astype(np.int64)
        where = [(names[c], int(s), int(s) + width) for c, s in zip(which, starts)]
        return np.stack([self.codes(*w) for w in where]) if n else np.zeros((0, width), np.uint8), where


def read_bed(path: str | Path, summit_column: int | None = None) -> list[Peak]:
    """Read BED (or narrowPeak) records; ``track``, ``browser`` and ``#`` lines are skipped.

    Args:
        path: the file (gzip allowed).
        summit_column: 1-based column holding the summit's offset from the start (10 for
            narrowPeak); -1 there means "no summit" (the centre is used).

    Raises:
        InputError: naming file and line for too few columns, non-integer coordinates,
            ``start >= end`` or a negative start, a missing summit column or a summit outside
            its interval.
    """
    peaks = []
    for number, line in numbered_lines(path):
        fields = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
        if not fields or not fields[0] or fields[0].startswith(("#", "track", "browser")):
            continue
        peaks.append(_peak(fields, path, number, summit_column))
    if not peaks:
        raise InputError(f"{path}: no BED records found (empty file?)")
    return peaks


def _peak(fields: list[str], path, number: int, summit_column: int | None) -> Peak:
    if len(fields) < 3:
        raise InputError(f"{path}, line {number}: {len(fields)} columns, expected at least 3 (chrom, start, end)")
    try:
        start, end = int(fields[1]), int(fields[2])
    except ValueError:
        raise InputError(
            f"{path}, line {number}: start {fields[1]!r} and end {fields[2]!r} must be whole numbers"
        ) from None
    if start < 0 or start >= end:
        raise InputError(
            f"{path}, line {number}: interval {fields[0]}:{start}-{end} is empty or negative; expected 0 <= start < end"
        )
    summit = None
    if summit_column is not None:
        if len(fields) < summit_column:
            raise InputError(
                f"{path}, line {number}: no column {summit_column} (summit offset); the line has {len(fields)} columns"
            )
        try:
            summit = int(fields[summit_column - 1])
        except ValueError:
            raise InputError(
                f"{path}, line {number}: summit {fields[summit_column - 1]!r} (column {summit_column}) is not a whole "
                "number"
            ) from None
        if summit != -1 and not 0 <= summit < end - start:
            raise InputError(
                f"{path}, line {number}: summit offset {summit} lies outside the interval of length {end - start}"
            )
        summit = None if summit == -1 else summit
    return Peak(fields[0], start, end, summit, number)


def peak_windows(peaks: list[Peak], genome: Genome, width: int, source: str | Path) -> list[Window]:
    """Fixed-width windows centred on each peak's summit (or middle), shifted inside the chromosome.

    Raises:
        InputError: for a chromosome absent from the genome or an interval beyond its end,
            naming the BED file and line.
    """
    if width < 1:
        raise InputError(f"--width must be at least 1, got {width}")
    out = []
    for p in peaks:
        size = genome.lengths.get(p.chrom)
        if size is None:
            known = ", ".join(list(genome.lengths)[:5])
            raise InputError(
                f"{source}, line {p.line}: chromosome {p.chrom!r} is not in the genome {genome.path} (it has "
                f"{known}{', ...' if len(genome.lengths) > 5 else ''})"
            )
        if p.end > size:
            raise InputError(
                f"{source}, line {p.line}: interval {p.chrom}:{p.start}-{p.end} lies outside the chromosome (length "
                f"{size})"
            )
        if size < width:
            raise InputError(
                f"{source}, line {p.line}: chromosome {p.chrom} ({size} bp) is shorter than the window width {width}"
            )
        centre = p.start + (p.summit if p.summit is not None else (p.end - p.start) // 2)
        start = min(max(centre - width // 2, 0), size - width)
        out.append((p.chrom, start, start + width))
    return out


def overlaps_any(windows: Sequence[Window], intervals: Sequence[Window]) -> np.ndarray:
    """For each window, whether it overlaps any of ``intervals`` (half-open coordinates)."""
    by_chrom: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for chrom in {c for c, _, _ in intervals}:
        rows = sorted((s, e) for c, s, e in intervals if c == chrom)
        starts = np.array([s for s, _ in rows])
        by_chrom[chrom] = (starts, np.maximum.accumulate(np.array([e for _, e in rows])))
    hit = np.zeros(len(windows), dtype=bool)
    for i, (chrom, start, end) in enumerate(windows):
        if chrom in by_chrom:
            starts, max_end = by_chrom[chrom]
            k = np.searchsorted(starts, end, side="left")  # intervals starting before this window ends
            hit[i] = k > 0 and max_end[k - 1] > start
    return hit


def check_no_overlap(train: Sequence[Window], test: Sequence[Window], source: str | Path) -> None:
    """Refuse a split in which a training window overlaps a test window.

    Raises:
        InputError: with the count and the first such window.
    """
    hit = overlaps_any(train, test)
    if hit.any():
        c, s, e = train[int(np.flatnonzero(hit)[0])]
        raise InputError(f"{source}: {int(hit.sum())} training windows overlap test windows (first {c}:{s}-{e}); "
                         "hold out whole chromosomes with --test-chroms")


def chromosome_split(
    windows: Sequence[Window], test_chroms: Sequence[str], source: str | Path
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of training and test windows: a window is a test window when its chromosome is held out.

    Raises:
        InputError: when no window lies on the held-out chromosomes, or all do.
    """
    held = np.array([c in set(test_chroms) for c, _, _ in windows])
    if not held.any():
        raise InputError(f"{source}: no peaks on the held-out chromosomes {','.join(test_chroms)}; check --test-chroms")
    if held.all():
        raise InputError(
            f"{source}: every peak is on the held-out chromosomes {','.join(test_chroms)}; nothing left to train on"
        )
    return np.flatnonzero(~held), np.flatnonzero(held)
