"""In-silico experiments on a run's model: marginalize a motif, space two motifs, ablate a motif's sites.

- :func:`marginalize`: a motif written into the centre of background sequences (by default the run's
  test sequences, dinucleotide-shuffled so that their own motifs are broken up while their composition
  stays); each output compared before and after, sequence by sequence.
- :func:`space`: two motifs at each distance (the gap in bases between A's end and B's start), B on
  the same strand as A (``+``) or reverse-complemented (``-``), the pair centred; the effect of both
  against the sum of each one's effect alone at the same place (``interaction = both - (a + b)``).
- :func:`ablate`: a motif's FIMO hits (memelite, p < 1e-4, both strands) in given sequences, each
  hit's bases shuffled (a random permutation, ``n_shuffles`` times, outputs averaged); sequences
  without a hit are counted, not scored.

An effect is ``after - before`` in the output's own units: probability for classifiers and multi-label
runs, the target's units for regression (:attr:`RunScorer.units`). ``p`` is the two-sided paired t-test
of after against before (scipy's ``ttest_rel``) over the sequences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqcnn.data.negatives import dinucleotide_shuffle
from seqcnn.errors import InputError
from seqcnn.files import atomic_write_text
from seqcnn.interpret.scoring import RunScorer, onehot_tensor, run_test_codes
from seqcnn.io import read_sequences
from seqcnn.io.motif_lookup import NamedMotif
from seqcnn.sequence import COMPLEMENT_CODE, encode_batch

EFFECT_COLUMNS = ["motif", "task", "n", "mean_before", "mean_after", "mean_delta", "sd_delta", "p", "units"]
FIMO_THRESHOLD = 1e-4


@dataclass
class Effect:
    """The paired effect of one change on one output over ``n`` sequences."""

    motif: str
    task: str
    before: np.ndarray
    after: np.ndarray
    units: str

    @property
    def delta(self) -> np.ndarray:
        return self.after - self.before

    def row(self) -> list[str]:
        """The TSV fields of :data:`EFFECT_COLUMNS`."""
        d = self.delta
        return [self.motif, self.task, str(len(d)), f"{self.before.mean():.6g}", f"{self.after.mean():.6g}",
                f"{d.mean():.6g}", f"{_sd(d):.6g}", f"{paired_p(self.before, self.after):.3g}", self.units]


def _sd(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else float("nan")


def paired_p(before: np.ndarray, after: np.ndarray) -> float:
    """Two-sided paired t-test p-value of ``after`` against ``before``: 1 when every difference is 0,
    0 when they are all equal and not 0 (no spread: the t statistic is infinite)."""
    d = np.asarray(after, dtype=np.float64) - np.asarray(before, dtype=np.float64)
    if len(d) < 2:
        return float("nan")
    if np.all(d == d[0]):
        return 1.0 if d[0] == 0 else 0.0
    # scipy is slow to import: only when a test is computed
    from scipy.stats import ttest_rel

    return float(ttest_rel(after, before).pvalue)


def background(scorer: RunScorer, file: str | Path | None, n: int, seed: int = 0, fit: str = "error") -> tuple:
    """Background codes ``(n, L)`` and their description: ``file``'s first ``n`` sequences as they are, or the
    run's test sequences dinucleotide-shuffled (drawn with replacement when fewer than ``n``).

    Raises:
        InputError: for ``n`` below 1 or a file whose sequences do not fit the model.
        RunError: without a file, for a run whose test sequences cannot be read again.
    """
    if n < 1:
        raise InputError(f"-n must be at least 1, got {n}")
    if file is not None:
        records = read_sequences(file, legacy_labels=False)
        codes = encode_batch(records.seqs, length=scorer.length, fit=fit, ids=records.ids, source=records.source)
        return codes[:n], f"the first {min(n, len(codes))} sequences of {file}"
    codes = run_test_codes(scorer.run, scorer.length)
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(codes))[:n] if len(codes) >= n else rng.integers(0, len(codes), n)
    shuffled = dinucleotide_shuffle(codes[pick], copies=1, seed=seed)
    return shuffled.reshape(len(pick), -1), f"{len(pick)} test sequences of the run, dinucleotide-shuffled"


def insert(codes: np.ndarray, motif_codes: np.ndarray, start: int) -> np.ndarray:
    """A copy of ``codes`` ``(N, L)`` with ``motif_codes`` ``(N, W)`` written from ``start``.

    Raises:
        InputError: when the motif does not fit inside the sequence.
    """
    width = motif_codes.shape[1]
    if start < 0 or start + width > codes.shape[1]:
        raise InputError(f"a motif of {width} bases at position {start} does not fit sequences of {codes.shape[1]}")
    out = codes.copy()
    out[:, start : start + width] = motif_codes
    return out


def _centre(length: int, width: int) -> int:
    return (length - width) // 2


def effects(scorer: RunScorer, label: str, before_codes: np.ndarray, after_codes: np.ndarray) -> list[Effect]:
    """One :class:`Effect` per reported output of the run."""
    before = scorer.predict(onehot_tensor(before_codes))
    after = scorer.predict(onehot_tensor(after_codes))
    return [Effect(label, name, before[:, i], after[:, i], scorer.units) for i, name in scorer.reported()]


def marginalize(scorer: RunScorer, motif: NamedMotif, codes: np.ndarray, seed: int = 0) -> list[Effect]:
    """The effect of ``motif`` written at the centre of each background sequence ``codes`` ``(N, L)``.

    Returns:
        One effect per reported output (see :meth:`RunScorer.reported`).
    """
    rng = np.random.default_rng(seed)
    inserted = insert(codes, motif.sample(len(codes), rng), _centre(codes.shape[1], motif.width))
    return effects(scorer, motif.label, codes, inserted)


@dataclass
class Spacing:
    """Both motifs at one distance and orientation, for one output."""

    distance: int
    orientation: str
    task: str
    a: np.ndarray  # effect of A alone, per sequence
    b: np.ndarray  # effect of B alone at its place
    both: np.ndarray

    def row(self) -> list[str]:
        alone = self.a + self.b
        return [str(self.distance), self.orientation, self.task, str(len(self.a)), f"{self.a.mean():.6g}",
                f"{self.b.mean():.6g}", f"{self.both.mean():.6g}", f"{alone.mean():.6g}",
                f"{(self.both - alone).mean():.6g}", f"{paired_p(alone, self.both):.3g}"]


SPACE_COLUMNS = ["distance", "orientation", "task", "n", "effect_a", "effect_b", "effect_both", "sum_alone",
                 "interaction", "p"]


def parse_distances(text: str) -> list[int]:
    """``START:STOP:STEP`` (STOP included when on the grid) or a comma list -> distances.

    Raises:
        InputError: for another form, a negative distance or a step below 1.
    """
    try:
        if ":" in text:
            start, stop, step = (int(v) for v in text.split(":"))
            if step < 1:
                raise ValueError
            values = list(range(start, stop + 1, step))
        else:
            values = [int(v) for v in text.split(",")]
    except ValueError:
        raise InputError(f"--distances must be START:STOP:STEP (step >= 1) or a comma list of integers, "
                         f"got {text!r}") from None
    if not values or min(values) < 0:
        raise InputError(f"--distances must be non-negative and not empty, got {text!r}")
    return values


def space(scorer: RunScorer, a: NamedMotif, b: NamedMotif, codes: np.ndarray, distances: list[int],
          seed: int = 0) -> list[Spacing]:
    """The effect of A and B together at each distance and orientation, against each alone.

    Raises:
        InputError: when no distance fits both motifs into the sequences (those that do not fit are
            left out; :func:`fitting_distances` says which).
    """
    rng = np.random.default_rng(seed)
    length = codes.shape[1]
    fitting = fitting_distances(length, a.width, b.width, distances)
    base = scorer.predict(onehot_tensor(codes))
    a_codes, b_codes = a.sample(len(codes), rng), b.sample(len(codes), rng)
    rows: list[Spacing] = []
    for d in fitting:
        start_a = (length - (a.width + d + b.width)) // 2
        start_b = start_a + a.width + d
        alone_a = scorer.predict(onehot_tensor(insert(codes, a_codes, start_a))) - base
        with_a = insert(codes, a_codes, start_a)
        for orientation, bc in (("+", b_codes), ("-", COMPLEMENT_CODE[b_codes[:, ::-1]])):
            alone_b = scorer.predict(onehot_tensor(insert(codes, bc, start_b))) - base
            both = scorer.predict(onehot_tensor(insert(with_a, bc, start_b))) - base
            rows += [Spacing(d, orientation, name, alone_a[:, i], alone_b[:, i], both[:, i])
                     for i, name in scorer.reported()]
    return rows


def fitting_distances(length: int, width_a: int, width_b: int, distances: list[int]) -> list[int]:
    """The distances at which both motifs fit in ``length`` bases.

    Raises:
        InputError: when none does.
    """
    fitting = [d for d in distances if width_a + d + width_b <= length]
    if not fitting:
        raise InputError(f"no distance in {distances[0]}..{distances[-1]} fits motifs of {width_a} and {width_b} "
                         f"bases into sequences of {length}; the largest is {length - width_a - width_b}")
    return fitting


@dataclass
class Ablation:
    """Ablation of a motif's hits: per scored sequence, and the count of sequences without a hit."""

    motif: str
    ids: list[str]
    hits: np.ndarray  # (n,) hits per scored sequence
    effects: list[Effect]
    without_hit: int
    total: int
    skipped_ids: list[str] = field(default_factory=list)


def fimo_hits(motif: NamedMotif, codes: np.ndarray, threshold: float = FIMO_THRESHOLD) -> list[list[tuple[int, int]]]:
    """The FIMO hits (memelite; both strands, p below ``threshold``) of one motif, ``(start, end)`` per sequence."""
    # memelite compiles with numba: only when motifs are scanned
    from memelite import fimo

    x = onehot_tensor(codes).numpy()
    found: list[list[tuple[int, int]]] = [[] for _ in range(len(codes))]
    table = fimo({motif.id: motif.pwm}, x, threshold=threshold)[0]
    for seq, start, end in zip(table["sequence_name"], table["start"], table["end"]):
        found[int(seq)].append((int(start), int(end)))
    return found


def ablate(scorer: RunScorer, motif: NamedMotif, ids: list[str], codes: np.ndarray, n_shuffles: int = 10,
           seed: int = 0) -> Ablation:
    """Shuffle out every FIMO hit of ``motif`` in each sequence and score the drop (``n_shuffles`` averaged).

    Raises:
        InputError: for ``n_shuffles`` below 1.
    """
    if n_shuffles < 1:
        raise InputError(f"--shuffles must be at least 1, got {n_shuffles}")
    hits = fimo_hits(motif, codes)
    keep = [i for i, h in enumerate(hits) if h]
    rng = np.random.default_rng(seed)
    before = scorer.predict(onehot_tensor(codes[keep])) if keep else np.zeros((0, len(scorer.names)))
    after = np.zeros_like(before)
    for _ in range(n_shuffles):
        edited = codes[keep].copy()
        for row, i in enumerate(keep):
            for start, end in hits[i]:
                edited[row, start:end] = rng.permutation(edited[row, start:end])
        after += scorer.predict(onehot_tensor(edited)) / n_shuffles
    rows = [Effect(motif.label, name, before[:, j], after[:, j], scorer.units) for j, name in scorer.reported()]
    return Ablation(motif.label, [ids[i] for i in keep], np.array([len(hits[i]) for i in keep]), rows,
                    len(codes) - len(keep), len(codes), [ids[i] for i in range(len(codes)) if not hits[i]])


def write_table(path: str | Path, columns: list[str], rows: list[list[str]]) -> Path:
    """A tab-separated table with a header row, written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n".join("\t".join(r) for r in [columns, *rows]) + "\n")
    return path


def write_ablation(path: str | Path, result: Ablation) -> tuple[Path, Path]:
    """The summary (:data:`EFFECT_COLUMNS` plus ``without_hit``) and, beside it, one row per scored sequence."""
    path = Path(path)
    summary = write_table(path, EFFECT_COLUMNS + ["without_hit"],
                          [e.row() + [str(result.without_hit)] for e in result.effects])
    per = path.with_name(path.stem + ".sequences.tsv")
    rows = [[seq_id, e.task, str(int(result.hits[k])), f"{e.before[k]:.6g}", f"{e.after[k]:.6g}",
             f"{e.delta[k]:.6g}"] for e in result.effects for k, seq_id in enumerate(result.ids)]
    write_table(per, ["id", "task", "hits", "before", "after", "delta"], rows)
    return summary, per
