"""Variants from a VCF (plain or bgzipped, read with pysam) or a plain table ``chrom pos ref alt [id]``.

Each record becomes one :class:`Variant` per ALT allele (multi-allelic records are split).
Records that a VCF may legitimately hold but that cannot be scored on a sequence window are
not errors: symbolic alleles (``<DEL>``, breakends such as ``G]17:198982]``), the spanning
deletion ``*``, a missing ALT (``.``) and alleles with letters other than A, C, G, T, N are
counted in a :class:`Skips` and the first of each kind is named. A file that is not a VCF (no
``#CHROM`` header line) or a record that cannot be parsed is an :class:`InputError` naming the
file and line.

Positions are 1-based, as in VCF, in both formats. The records need not be sorted: each one is
scored on its own window, fetched from the genome by coordinates, so the order of the file
does not matter and the output keeps it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from seqcnn.errors import InputError
from seqcnn.io.text import numbered_lines, read_bytes

#: Letters an allele may hold to be scored (N is read as an unknown base).
ALLELE = re.compile(r"^[ACGTN]+$")


@dataclass(frozen=True)
class Variant:
    """One ALT allele of one record: 1-based ``pos`` of the first REF base, as in VCF."""

    chrom: str
    pos: int
    id: str
    ref: str
    alt: str
    line: int

    def label(self) -> str:
        """``chrom:pos ref>alt``, for messages."""
        return f"{self.chrom}:{self.pos} {self.ref}>{self.alt}"


@dataclass
class Skips:
    """Records or alleles left out, counted by reason, with the first of each reason described."""

    counts: Counter = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)

    def add(self, reason: str, where: str) -> None:
        """Count one skipped allele (or record) for ``reason``; remember the first one's ``where``."""
        self.counts[reason] += 1
        self.first.setdefault(reason, where)

    def total(self) -> int:
        """How many were skipped, all reasons together."""
        return sum(self.counts.values())

    def summary(self) -> str:
        """``3 REF does not match the genome (first: ...); 1 symbolic ALT (first: ...)``, or ``none``."""
        if not self.counts:
            return "none"
        return "; ".join(f"{n} {reason} (first: {self.first[reason]})" for reason, n in self.counts.most_common())


def read_variants(path: str | Path, kind: str) -> tuple[list[Variant], Skips]:
    """Read a VCF (``kind="vcf"``) or a variant table (``kind="table"``).

    Raises:
        InputError: for a missing file, a file that is not of that kind, or a malformed record
            (naming the file and line), or for a file without any variant.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: variant file not found")
    variants, skips = read_vcf(path) if kind == "vcf" else read_table(path)
    if not variants and not skips.total():
        raise InputError(f"{path}: no variant records found")
    return variants, skips


def read_vcf(path: str | Path) -> tuple[list[Variant], Skips]:
    """Read every record of a VCF or BCF (plain or bgzipped) with pysam, split per ALT.

    Raises:
        InputError: for a file without a VCF header or a record pysam cannot parse.
    """
    import pysam

    pysam.set_verbosity(0)  # htslib's own warnings would go to stderr past our one-line errors
    path = Path(path)
    first_line = _header_lines(path) + 1
    try:
        handle = pysam.VariantFile(str(path))
    except (ValueError, OSError):
        raise InputError(
            f"{path}: not a VCF file; expected '##fileformat=VCF...' header lines and a '#CHROM POS ID REF ALT' line "
            "before the records (for a plain table 'chrom pos ref alt [id]' use --variants)"
        ) from None
    variants, skips = [], Skips()
    number = first_line
    try:
        with handle:
            for number, record in enumerate(handle, start=first_line):
                _add_alleles(
                    record.chrom, record.pos, record.id, record.ref, record.alts, number, path, variants, skips
                )
    except (ValueError, OSError) as exc:
        line = number + 1 if variants or skips.total() else first_line
        raise InputError(
            f"{path}, line {line}: cannot parse the VCF record ({exc}); expected 8 or more tab-separated "
            "fields CHROM POS ID REF ALT QUAL FILTER INFO with a whole-number POS"
        ) from None
    return variants, skips


def _header_lines(path: Path) -> int:
    """The number of ``#`` lines at the start of a (possibly gzipped) VCF, for line numbers in messages."""
    try:
        text = read_bytes(path)
    except InputError:
        return 0
    count = 0
    for line in text.split(b"\n"):
        if not line.startswith(b"#"):
            break
        count += 1
    return count


def read_table(path: str | Path) -> tuple[list[Variant], Skips]:
    """Read a table of ``chrom pos ref alt [id]`` (tabs or spaces; ``#`` lines and a header row skipped).

    ALT may list several alleles separated by commas, as in VCF.

    Raises:
        InputError: naming file and line for fewer than 4 fields or a position that is not a
            positive whole number.
    """
    variants, skips = [], Skips()
    for number, line in numbered_lines(path):
        fields = line.split("\t") if "\t" in line else line.split()
        fields = [f.strip() for f in fields]
        if not line.strip() or fields[0].startswith("#") or (not variants and _is_header(fields)):
            continue
        if len(fields) < 4:
            raise InputError(f"{path}, line {number}: {len(fields)} fields, expected chrom pos ref alt [id]")
        if not fields[1].isdigit() or int(fields[1]) < 1:
            raise InputError(
                f"{path}, line {number}: position {fields[1]!r} is not a whole number >= 1 "
                "(positions are 1-based, as in VCF)"
            )
        alts = None if fields[3] in (".", "") else tuple(fields[3].split(","))
        vid = fields[4] if len(fields) > 4 and fields[4] not in ("", ".") else None
        _add_alleles(fields[0], int(fields[1]), vid, fields[2], alts, number, path, variants, skips)
    return variants, skips


def _is_header(fields: list[str]) -> bool:
    return (
        len(fields) >= 2
        and fields[0].lower().lstrip("#") in ("chrom", "chr", "chromosome", "contig")
        and not fields[1].isdigit()
    )


def _add_alleles(chrom, pos, vid, ref, alts, line, path, variants: list[Variant], skips: Skips) -> None:
    """Append one :class:`Variant` per scorable ALT of a record; count the others in ``skips``."""
    where = f"{path}, line {line}: {chrom}:{pos}"
    ref = (ref or "").upper()
    if not alts:
        skips.add("missing ALT", f"{where} {ref}>.")
        return
    for alt in alts:
        reason = _unscorable(ref, alt.upper())
        if reason:
            skips.add(reason, f"{where} {ref}>{alt}")
        else:
            variants.append(Variant(chrom, int(pos), vid or ".", ref, alt.upper(), line))


def _unscorable(ref: str, alt: str) -> str | None:
    """Why an allele cannot be scored on a sequence window, or None when it can."""
    if alt.startswith("<") or "[" in alt or "]" in alt:
        return "symbolic ALT"
    if alt == "*":
        return "ALT '*' (spanning deletion)"
    if alt == ".":
        return "missing ALT"
    if not ALLELE.match(ref) or not ALLELE.match(alt):
        return "allele with letters other than A, C, G, T, N"
    if ref == alt:
        return "ALT equal to REF"
    return None
