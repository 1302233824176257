"""What a design may change: an edit budget, editable positions, motifs to avoid, a GC range.

A design's violations are counted by :meth:`Constraints.penalty` for a whole batch of candidates at
once: every hit of a motif to avoid (either strand) plus the bases by which the GC content falls
outside its range. Design methods prefer fewer violations before a better objective, so a start that
breaks a rule is mended first, and a design that still breaks one is flagged, never hidden.

A motif to avoid is an IUPAC string (``GAATTC``: a hit is a window of allowed bases) or a matrix
(JASPAR ID or name, ``--motifs`` name: a hit is a window whose log-odds score, in 0.1-bit bins against
a uniform background, is at least the score that a random window reaches with probability 1e-4, as
FIMO's threshold; computed exactly from the score distribution, :func:`score_threshold`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from seqcnn.errors import InputError
from seqcnn.io.motif_lookup import IUPAC, NamedMotif
from seqcnn.sequence import decode, onehot

P_THRESHOLD = 1e-4
BIN = 0.1


def score_threshold(pwm: np.ndarray, p: float = P_THRESHOLD) -> tuple[np.ndarray, float]:
    """Binned log-odds weights ``(4, W)`` (integers, 0.1 bit each) and the smallest binned score that a uniform
    random window reaches with probability at most ``p`` (``inf`` when no window is that rare)."""
    weights = np.round(np.log2((pwm + 1e-4) / 0.25) / BIN).astype(np.int64)  # (4, W)
    dist, offset = np.array([1.0]), 0
    for col in weights.T:
        low = int(col.min())
        grown = np.zeros(len(dist) + int(col.max()) - low)
        for value in col:
            grown[value - low : value - low + len(dist)] += 0.25 * dist
        dist, offset = grown, offset + low
    tail = np.cumsum(dist[::-1])[::-1]  # P(score >= offset + i)
    rare = np.nonzero(tail <= p)[0]
    return weights.astype(np.float32), float(offset + rare[0]) if len(rare) else math.inf


@dataclass
class AvoidMotif:
    """One motif to avoid as a filter of both strands: weights ``(2, 4, W)`` and the score of a hit."""

    label: str
    weights: torch.Tensor
    threshold: float

    @classmethod
    def from_motif(cls, motif: NamedMotif) -> AvoidMotif:
        if motif.iupac is not None:
            w = np.array([[base in IUPAC[letter] for letter in motif.iupac] for base in "ACGT"], dtype=np.float32)
            threshold = motif.width - 1e-3
        else:
            w, threshold = score_threshold(motif.pwm)
        both = np.stack([w, w[::-1, ::-1]])  # reverse complement: channels A,C,G,T reversed, positions reversed
        return cls(motif.label, torch.from_numpy(np.ascontiguousarray(both)), threshold)

    @property
    def width(self) -> int:
        return int(self.weights.shape[2])

    def matches_everything(self) -> bool:
        """Whether every window is a hit (its lowest possible score reaches the threshold)."""
        return float(self.weights[0].min(dim=0).values.sum()) >= self.threshold

    def hits(self, x: torch.Tensor) -> torch.Tensor:
        """Hit windows ``(N, 2, L - W + 1)`` (bool) of one-hot ``x`` ``(N, 4, L)``."""
        if x.shape[2] < self.width:
            return torch.zeros((x.shape[0], 2, 0), dtype=torch.bool, device=x.device)
        return torch.nn.functional.conv1d(x, self.weights.to(x.device, x.dtype)) >= self.threshold - 1e-4


@dataclass
class Constraints:
    """The rules every design keeps.

    Attributes:
        max_edits: the most bases a design may differ from its start by (Hamming distance).
        editable: ``(L,)`` bool, the positions that may change.
        avoid: motifs no design may contain.
        gc: the allowed GC fraction ``(low, high)``, or None.
    """

    max_edits: int
    editable: np.ndarray
    avoid: list[AvoidMotif] = field(default_factory=list)
    gc: tuple[float, float] | None = None

    def gc_bounds(self, length: int) -> tuple[int, int]:
        """The allowed count of G and C bases in ``length`` bases."""
        if self.gc is None:
            return 0, length
        return math.ceil(self.gc[0] * length - 1e-9), math.floor(self.gc[1] * length + 1e-9)

    def penalty(self, x: torch.Tensor) -> torch.Tensor:
        """Violations of one-hot ``(N, 4, L)`` -> ``(N,)``: avoided-motif hits plus GC bases out of range."""
        total = torch.zeros(x.shape[0], device=x.device)
        for motif in self.avoid:
            total += motif.hits(x).flatten(1).sum(dim=1)
        if self.gc is not None:
            low, high = self.gc_bounds(x.shape[2])
            gc = x[:, 1:3].sum(dim=(1, 2))
            total += (low - gc).clamp(min=0) + (gc - high).clamp(min=0)
        return total


def parse_positions(text: str | None, length: int) -> np.ndarray:
    """``--positions 40-60,80-90`` (1-based, inclusive) -> editable mask ``(L,)``; all positions when None.

    Raises:
        InputError: for a malformed range or one outside ``1..length``.
    """
    mask = np.zeros(length, dtype=bool)
    if text is None:
        mask[:] = True
        return mask
    for part in text.split(","):
        try:
            first, _, last = part.strip().partition("-")
            a, b = int(first), int(last or first)
        except ValueError:
            raise InputError(f"--positions must be ranges like 40-60 (1-based, inclusive), got {part!r}") from None
        if not 1 <= a <= b <= length:
            raise InputError(f"--positions range {part.strip()} must lie within 1-{length} (the model's length), "
                             "first <= last")
        mask[a - 1 : b] = True
    return mask


def parse_gc(text: str | None) -> tuple[float, float] | None:
    """``--gc 0.4:0.6`` -> ``(0.4, 0.6)``.

    Raises:
        InputError: unless ``0 <= MIN <= MAX <= 1``.
    """
    if text is None:
        return None
    try:
        low, high = (float(v) for v in text.split(":"))
    except ValueError:
        raise InputError(f"--gc must be MIN:MAX fractions, e.g. 0.35:0.65, got {text!r}") from None
    if not 0 <= low <= high <= 1:
        raise InputError(f"--gc must have 0 <= MIN <= MAX <= 1, got {text!r}")
    return low, high


def check_satisfiable(constraints: Constraints, starts: np.ndarray, ids: list[str]) -> None:
    """Refuse rules that no design can keep.

    Raises:
        InputError: for ``max_edits`` below 1, a motif that every window matches, single bases that
            cover all four, a GC range with no whole count of bases, or a start whose avoided motif
            lies entirely in positions that may not change.
    """
    if constraints.max_edits < 1:
        raise InputError(f"--max-edits must be at least 1, got {constraints.max_edits}")
    length = starts.shape[1]
    for motif in constraints.avoid:
        if motif.width <= length and motif.matches_everything():
            raise InputError(f"--avoid {motif.label}: every window of {motif.width} bases matches it; no sequence "
                             "can avoid it")
    singles = [m for m in constraints.avoid if m.width == 1]
    if singles and bool(torch.stack([m.weights[0, :, 0] > 0 for m in singles]).any(dim=0).all()):
        raise InputError(f"--avoid {', '.join(m.label for m in singles)}: together these forbid all four bases")
    low, high = constraints.gc_bounds(length)
    if low > high:
        raise InputError(f"--gc {constraints.gc[0]}:{constraints.gc[1]} allows no whole count of G and C in "
                         f"{length} bases")
    if constraints.avoid and not constraints.editable.all():
        _check_fixed_hits(constraints, starts, ids)


def _check_fixed_hits(constraints: Constraints, starts: np.ndarray, ids: list[str]) -> None:
    x = torch.from_numpy(onehot(starts))
    for motif in constraints.avoid:
        for n, strand, pos in torch.nonzero(motif.hits(x)).tolist():
            if not constraints.editable[pos : pos + motif.width].any():
                raise InputError(f"--avoid {motif.label}: start {ids[n]} contains it at {pos + 1}-{pos + motif.width} "
                                 f"({'+-'[strand]} strand, {decode(starts[n : n + 1, pos : pos + motif.width])[0]}), "
                                 "outside --positions, so no design of it can avoid it")

