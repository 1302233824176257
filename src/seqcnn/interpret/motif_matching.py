"""Motif matching: query PWMs against target motifs (JASPAR's, read by :mod:`seqcnn.io.jaspar`).

:func:`match` compares query PWMs with target motifs using memelite's Tomtom (Gupta et al. 2007,
the "complete score" version) and adds q-values: for each query, the Benjamini-Hochberg adjustment
of its p-values over all targets, as the MEME suite's Tomtom reports them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from seqcnn.errors import InputError
from seqcnn.io.jaspar import Motif


@dataclass(frozen=True)
class Match:
    """One query-target comparison: target index, Tomtom p-value, q-value and strand."""

    target: int
    p_value: float
    q_value: float
    orientation: str  # "+" or "-": the target's strand in the best alignment


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of each row of ``p`` ``(Q, T)`` -> ``(Q, T)``."""
    p = np.atleast_2d(np.asarray(p, dtype=np.float64))
    n = p.shape[1]
    order = np.argsort(p, axis=1)
    ranked = np.take_along_axis(p, order, axis=1) * n / np.arange(1, n + 1)
    ranked = np.minimum.accumulate(ranked[:, ::-1], axis=1)[:, ::-1]
    q = np.empty_like(p)
    np.put_along_axis(q, order, np.minimum(ranked, 1.0), axis=1)
    return q


def match(queries: list[np.ndarray], targets: list[Motif] | tuple[Motif, ...], top: int = 5) -> list[list[Match]]:
    """Tomtom p- and q-values of each query PWM against every target, best ``top`` first.

    Args:
        queries: letter probabilities ``(4, W)`` per query.
        targets: the motifs to compare with (at least 50, as the MEME suite advises, for
            p-values that do not depend on the choice of targets).
        top: matches kept per query.

    Returns:
        Per query, up to ``top`` matches sorted by p-value.

    Raises:
        InputError: without targets, or for a query that is not ``(4, W)``.
    """
    # memelite compiles with numba: only when motifs are matched
    from memelite import tomtom

    if not targets:
        raise InputError("no target motifs to match against")
    if not queries:
        return []
    for i, q in enumerate(queries):
        if q.ndim != 2 or q.shape[0] != 4:
            raise InputError(f"query motif {i} must have shape (4, W), got {q.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, _, _, _, strands = tomtom([np.asarray(q, dtype=np.float64) for q in queries], [t.pwm for t in targets])[:5]
    q_values = benjamini_hochberg(p)
    out = []
    for i in range(len(queries)):
        best = np.argsort(p[i], kind="stable")[:top]
        out.append([Match(int(j), float(p[i, j]), float(q_values[i, j]), "+-"[int(strands[i, j])]) for j in best])
    return out


def match_columns(m: Match | None, targets) -> list[str]:
    """The five TSV fields of a match (JASPAR id, name, p, q, orientation); empty fields for no match."""
    if m is None:
        return ["", "", "", "", ""]
    return [targets[m.target].id, targets[m.target].name, f"{m.p_value:.3g}", f"{m.q_value:.3g}", m.orientation]


def consensus_motif(sequence: str, name: str | None = None, purity: float = 0.97) -> Motif:
    """A motif from a consensus string: ``purity`` on the named base, the rest spread evenly.

    Raises:
        InputError: for characters other than A, C, G, T.
    """
    sequence = sequence.upper()
    if not sequence or set(sequence) - set("ACGT"):
        raise InputError(f"consensus {sequence!r} must be a non-empty string of A, C, G, T")
    pwm = np.full((4, len(sequence)), (1 - purity) / 3)
    pwm[["ACGT".index(b) for b in sequence], np.arange(len(sequence))] = purity
    return Motif(name or sequence, sequence, pwm)
