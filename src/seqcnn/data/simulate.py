"""Simulated data for every task kind, with JASPAR motifs planted in random DNA.

Each generator returns :class:`seqcnn.io.Records` whose ``columns`` hold the targets as text,
as a file read with every column kept would, and names them in ``label_columns`` (as a label
file's), so the same target and task code handles them:

- :func:`simulate_multiclass`: one class per motif plus a ``background`` class without any.
- :func:`simulate_multilabel`: one 0/1 column per motif, each the presence of that motif.
- :func:`simulate_regression`: a measurement that is a weighted sum of motif counts plus noise
  (or, with ``poisson``, a count drawn from a rate that grows with them).

Motif instances are sampled from the JASPAR 2024 CORE position frequency matrices that pyjaspar
ships (no network), on a random strand; background bases are uniform. The same seed gives the
same data on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqcnn.errors import InputError
from seqcnn.io.jaspar import open_database
from seqcnn.io.records import Records

LETTERS = np.frombuffer(b"ACGT", dtype=np.uint8)
# Long, information-rich motifs of different families (JASPAR 2024 information content 16-23
# bits), so that a site is rarely mimicked by chance in random background.
MULTICLASS_MOTIFS = ("CTCF", "REST", "TP53")
MULTILABEL_MOTIFS = ("CTCF", "CEBPB", "HNF1A", "NR3C1")
REGRESSION_MOTIFS = ("CEBPB", "TP53")
BACKGROUND = "background"


@dataclass(frozen=True)
class PlantedMotif:
    """A motif to plant: its name, JASPAR id and letter probabilities ``(4, W)``."""

    name: str
    matrix_id: str
    pwm: np.ndarray


def jaspar_motif(name: str, release: str = "JASPAR2024") -> PlantedMotif:
    """The CORE matrix of a transcription factor by name (or id such as ``MA0139.2``), offline.

    A name with several matrices gives the one with the lowest base id, latest version.

    Raises:
        InputError: for a name or id not in the release.
    """
    with open_database(release) as db:
        if "." in name and name.upper().startswith("MA"):
            base, version = name.upper().split(".", 1)
            rows = db.execute("SELECT ID, BASE_ID, VERSION, NAME FROM MATRIX WHERE BASE_ID = ? AND VERSION = ?",
                              (base, version)).fetchall()
        else:
            rows = db.execute("SELECT ID, BASE_ID, VERSION, NAME FROM MATRIX WHERE COLLECTION = 'CORE' AND NAME = ? "
                              "ORDER BY BASE_ID, VERSION DESC", (name,)).fetchall()
        if not rows:
            raise InputError(f"motif {name!r} is not in {release} CORE; give a transcription factor name such as "
                             "CTCF, or a matrix id such as MA0139.2")
        key, base, version, tf = rows[0]
        cells = db.execute('SELECT "row", col, val FROM MATRIX_DATA WHERE ID = ?', (key,)).fetchall()
    width = max(col for _, col, _ in cells)
    counts = np.zeros((4, width))
    for row, col, val in cells:
        counts["ACGT".index(row.upper()), col - 1] = val
    counts += 0.25  # a pseudocount so that no base is impossible
    return PlantedMotif(tf, f"{base}.{version}", counts / counts.sum(axis=0, keepdims=True))


def _instance(motif: PlantedMotif, rng: np.random.Generator) -> np.ndarray:
    """One sampled site ``(W,)`` of base codes 0-3, on a random strand."""
    cumulative = motif.pwm.cumsum(axis=0)  # (4, W)
    site = (rng.random(motif.pwm.shape[1]) > cumulative).sum(axis=0).clip(0, 3)
    return 3 - site[::-1] if rng.random() < 0.5 else site


def _plant(length: int, motifs: list[PlantedMotif], rng: np.random.Generator) -> str:
    """Random bases with each motif of ``motifs`` planted once, in non-overlapping slots."""
    codes = rng.integers(0, 4, size=length)
    if motifs:
        slot = length // len(motifs)
        for index, motif in zip(rng.permutation(len(motifs)), motifs):
            width = motif.pwm.shape[1]
            start = int(index * slot + rng.integers(0, slot - width + 1))
            codes[start : start + width] = _instance(motif, rng)
    return LETTERS[codes].tobytes().decode()


def _motifs(names, length: int, per_sequence: int) -> list[PlantedMotif]:
    motifs = [jaspar_motif(name) for name in names]
    widest = max(m.pwm.shape[1] for m in motifs)
    if length // max(per_sequence, 1) < widest:
        raise InputError(f"length must be at least {widest * per_sequence} to hold {per_sequence} motif sites of up to "
                         f"{widest} bp, got {length}")
    return motifs


def simulate_multiclass(n: int = 2000, length: int = 100, motifs: tuple[str, ...] = MULTICLASS_MOTIFS,
                        seed: int = 0) -> Records:
    """Classes by motif: each sequence carries one site of its class's motif, or none.

    Args:
        n: number of sequences.
        length: sequence length.
        motifs: JASPAR names (or ids); the classes are these names plus ``background``.
        seed: random seed.

    Returns:
        Records with ids ``mc<i>`` and a ``class`` column, classes drawn uniformly.
    """
    planted = _motifs(motifs, length, 1)
    rng = np.random.default_rng(seed)
    names = [m.name for m in planted] + [BACKGROUND]
    classes = rng.integers(0, len(names), size=n)
    seqs = [_plant(length, [planted[c]] if c < len(planted) else [], rng) for c in classes]
    return Records(ids=[f"mc{i}" for i in range(n)], seqs=seqs, source="multiclass-sim",
                   columns={"class": [names[c] for c in classes]})


def simulate_multilabel(n: int = 2000, length: int = 200, motifs: tuple[str, ...] = MULTILABEL_MOTIFS,
                        p: float = 0.3, seed: int = 0) -> Records:
    """Several 0/1 targets: column ``m`` is 1 when motif ``m`` was planted, each with chance ``p``.

    Returns:
        Records with ids ``ml<i>`` and one ``0``/``1`` column per motif name.
    """
    planted = _motifs(motifs, length, len(motifs))
    rng = np.random.default_rng(seed)
    present = rng.random((n, len(planted))) < p  # (N, T)
    seqs = [_plant(length, [m for m, on in zip(planted, row) if on], rng) for row in present]
    columns = {m.name: ["1" if on else "0" for on in present[:, t]] for t, m in enumerate(planted)}
    return Records(ids=[f"ml{i}" for i in range(n)], seqs=seqs, source="multilabel-sim", columns=columns,
                   label_columns=tuple(columns))


def simulate_regression(n: int = 2000, length: int = 200, motifs: tuple[str, ...] = REGRESSION_MOTIFS,
                        weights: tuple[float, ...] = (1.0, 0.5), noise: float = 0.3, max_sites: int = 3,
                        poisson: bool = False, seed: int = 0) -> Records:
    """A measurement driven by motif counts.

    Each motif gets 0 to ``max_sites`` sites (uniformly). The ``activity`` is
    ``sum_m weights[m] * count_m + noise * N(0, 1)``; with ``poisson``, it is instead a count drawn
    from a Poisson distribution of rate ``exp(0.5 * sum_m weights[m] * count_m)``.

    Returns:
        Records with ids ``rg<i>`` and an ``activity`` column.

    Raises:
        InputError: when ``weights`` and ``motifs`` differ in length, or sites do not fit.
    """
    if len(weights) != len(motifs):
        raise InputError(f"{len(weights)} weights for {len(motifs)} motifs; expected one weight per motif")
    planted = _motifs(motifs, length, len(motifs) * max_sites)
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, max_sites + 1, size=(n, len(planted)))  # (N, T)
    seqs = [_plant(length, [m for m, c in zip(planted, row) for _ in range(c)], rng) for row in counts]
    signal = counts @ np.asarray(weights, dtype=np.float64)
    if poisson:
        values = [str(int(v)) for v in rng.poisson(np.exp(0.5 * signal))]
    else:
        values = [f"{v:.4f}" for v in signal + noise * rng.normal(size=n)]
    return Records(ids=[f"rg{i}" for i in range(n)], seqs=seqs, source="regression-sim", columns={"activity": values})
