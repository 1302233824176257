"""Patterns from attributions: TF-MoDISco seqlets and clusters, matched to JASPAR.

The filters of the first layer show what single kernels respond to; a pattern shows what the
whole network relies on. Hypothetical DeepLIFT/SHAP contributions of the target class over many
sequences (by default a run's correctly classified test positives) go to TF-MoDISco
(modisco-lite, Shrikumar et al. 2018): it cuts out seqlets, the windows of high contribution,
and clusters them into patterns. Each pattern's letter probabilities are trimmed to the
positions that carry at least ``trim`` of its largest contribution (the rule of modisco's own
report) and matched against JASPAR with Tomtom (:func:`seqcnn.interpret.motif_matching.match`).

Writes ``patterns.meme``, ``patterns.tsv`` and, per pattern, a contribution and a probability
logo under ``plots/patterns/``.
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.interpret import motif_matching
from seqcnn.interpret.attribution import deep_lift_shap
from seqcnn.interpret.filters import consensus, information_content
from seqcnn.io.meme import MemeMotif
from seqcnn.report.logos import plot_pattern_logo
from seqcnn.runs.folder import RunFolder

TSV_COLUMNS = [
    "pattern",
    "n_seqlets",
    "information_content",
    "jaspar_id",
    "jaspar_name",
    "p_value",
    "q_value",
    "orientation",
]


@dataclass
class Pattern:
    """One TF-MoDISco pattern, trimmed.

    Attributes:
        name: ``pos_NN`` (raises the target's score) or ``neg_NN`` (lowers it).
        ppm: letter probabilities of its seqlets ``(4, W)``.
        cwm: their mean contribution ``(4, W)`` (the contribution weight matrix).
        n_seqlets: the seqlets clustered into it.
    """

    name: str
    ppm: np.ndarray
    cwm: np.ndarray
    n_seqlets: int

    def information_content(self) -> float:
        """Total information content of :attr:`ppm` in bits."""

        return float(information_content(self.ppm).sum())


@dataclass
class PatternOptions:
    """Settings of :func:`explain_patterns` (written to ``explain.json``).

    Attributes:
        target: the output (class) explained.
        n_shuffles: dinucleotide-shuffled references per sequence for DeepLIFT/SHAP.
        seed: seed of the shuffles.
        max_sequences: sequences attributed at most (the highest-scoring first).
        max_seqlets: seqlets clustered at most per sign (modisco's ``max_seqlets_per_metacluster``).
        window: the seqlet core width (modisco's ``sliding_window_size``; its default, 21 with
            10 bp flanks, is made for 1 kb inputs and loses most seqlets of 50-100 bp ones off
            their ends).
        flank: bases added on each side of a seqlet core.
        width: the most informative window a pattern is trimmed to before ``flank`` is added
            again (modisco's ``trim_to_window_size``); wide enough for the longest JASPAR sites.
        min_seqlets: fewest seqlets of one sign for clustering, and fewest in a pattern.
        n_leiden_runs: Leiden clusterings tried per step (modisco's default is 50).
        trim: positions kept where the contribution reaches this fraction of the pattern's largest.
        top: JASPAR matches per pattern in ``patterns.tsv``.
    """

    target: int = 1
    n_shuffles: int = 20
    seed: int = 0
    max_sequences: int = 2000
    max_seqlets: int = 5000
    window: int = 10
    flank: int = 3
    width: int = 20
    min_seqlets: int = 20
    n_leiden_runs: int = 10
    trim: float = 0.3
    top: int = 5

    def check(self) -> PatternOptions:
        """Validate values; raise :class:`InputError` naming the option."""
        for name in (
            "n_shuffles",
            "max_sequences",
            "max_seqlets",
            "window",
            "width",
            "min_seqlets",
            "n_leiden_runs",
            "top",
        ):
            if getattr(self, name) < 1:
                raise InputError(f"pattern option {name} must be at least 1, got {getattr(self, name)}")
        if self.flank < 0:
            raise InputError(f"pattern option flank must be at least 0, got {self.flank}")
        if not 0.0 < self.trim < 1.0:
            raise InputError(f"pattern option trim must be in (0, 1), got {self.trim}")
        return self


def start_compiling() -> None:
    """Start compiling modisco-lite's numba kernels in forked children, into numba's disk cache.

    modisco-lite forks only while the process runs no other thread and no numba thread pool
    that is unsafe to fork (a progress bar's monitor thread is enough to stop it); otherwise
    each process compiles the kernels itself on first use, which costs a minute or more. So
    this is called as early as possible; later calls do nothing. Where it cannot fork, the
    kernels' disk cache is turned on here all the same, so that only the first process ever
    compiles them.
    """
    from modiscolite import precompile

    precompile.start()
    for group in getattr(precompile, "_kernels", list)():  # modisco-lite 3.0's list of its kernels
        for dispatcher, _ in group:
            with contextlib.suppress(Exception):  # no writable cache: numba compiles in memory
                if getattr(dispatcher, "_cache", None) is None or type(dispatcher._cache).__name__ == "NullCache":
                    dispatcher.enable_caching()


def hypothetical_contributions(model, x: np.ndarray, options: PatternOptions) -> np.ndarray:
    """Hypothetical DeepLIFT/SHAP contributions of the target class. Shape: ``(N, 4, L)`` -> ``(N, 4, L)``."""

    return deep_lift_shap(model, x, options.target, options.n_shuffles, options.seed, hypothetical=True)


def find_patterns(
    x: np.ndarray, hypothetical: np.ndarray, options: PatternOptions | None = None
) -> tuple[list[Pattern], dict]:
    """Cluster seqlets into patterns with modisco-lite's TF-MoDISco.

    Args:
        x: one-hot sequences ``(N, 4, L)``.
        hypothetical: their hypothetical contributions ``(N, 4, L)``.
        options: the settings; defaults when None.

    Returns:
        The patterns (positive ones first, each sign by decreasing seqlet count) and the
        number of patterns of each sign.

    Raises:
        InputError: for arrays of different or wrong shapes, or sequences shorter than a seqlet.
    """
    from modiscolite.tfmodisco import TFMoDISco

    options = (options or PatternOptions()).check()
    _check_arrays(x, hypothetical, options)
    one_hot = np.ascontiguousarray(x.transpose(0, 2, 1), dtype=np.float32)  # (N, L, 4), modisco's layout
    hyp = np.ascontiguousarray(hypothetical.transpose(0, 2, 1), dtype=np.float32)
    log = io.StringIO()
    with contextlib.redirect_stdout(log):  # modisco prints its progress
        positive, negative = TFMoDISco(
            one_hot,
            hyp,
            sliding_window_size=options.window,
            flank_size=options.flank,
            min_metacluster_size=options.min_seqlets,
            max_seqlets_per_metacluster=options.max_seqlets,
            n_leiden_runs=options.n_leiden_runs,
            final_min_cluster_size=options.min_seqlets,
            min_num_to_trim_to=options.min_seqlets,
            trim_to_window_size=options.width,
            initial_flank_to_add=options.flank,
            verbose=False,
        )
    found = _convert(positive or [], "pos", options.trim) + _convert(negative or [], "neg", options.trim)
    return found, {"positive_patterns": len(positive or []), "negative_patterns": len(negative or [])}


def _check_arrays(x: np.ndarray, hypothetical: np.ndarray, options: PatternOptions) -> None:
    if x.ndim != 3 or x.shape[1] != 4 or hypothetical.shape != x.shape:
        raise InputError(
            "expected one-hot sequences and contributions of the same shape (N, 4, L), "
            f"got {x.shape} and {hypothetical.shape}"
        )
    span = options.window + 2 * options.flank
    if x.shape[2] < span:
        raise InputError(
            f"sequences of {x.shape[2]} bp are shorter than a seqlet "
            f"({options.window} + 2 x {options.flank} flank = {span} bp)"
        )


def _convert(found: list, sign: str, trim: float) -> list[Pattern]:
    """modisco's patterns (``(W, 4)`` arrays) as trimmed :class:`Pattern` objects ``(4, W)``."""
    patterns = []
    for k, pattern in enumerate(sorted(found, key=lambda p: -len(p.seqlets))):
        ppm, cwm = (
            np.asarray(pattern.sequence, dtype=np.float64).T,
            np.asarray(pattern.contrib_scores, dtype=np.float64).T,
        )
        start, end = trim_span(cwm, trim)
        ppm = ppm[:, start:end] + 1e-3  # Tomtom and the information content need no exact zeros
        patterns.append(Pattern(f"{sign}_{k:02d}", ppm / ppm.sum(axis=0), cwm[:, start:end], len(pattern.seqlets)))
    return patterns


def trim_span(cwm: np.ndarray, fraction: float = 0.3) -> tuple[int, int]:
    """``(start, end)`` of the positions of ``cwm`` ``(4, W)`` whose summed absolute contribution
    reaches ``fraction`` of the largest, with everything between them kept."""
    score = np.abs(cwm).sum(axis=0)
    keep = np.flatnonzero(score >= fraction * score.max())
    return int(keep[0]), int(keep[-1]) + 1


# --- the whole step, written into a folder ---------------------------------------------------


def explain_patterns(model, x: np.ndarray, targets, out: str | Path, options: PatternOptions | None = None) -> dict:
    """Attribute, find patterns, match them to ``targets`` and write the results into ``out``.

    Args:
        model: the network (a spec model or a plain module taking ``(N, 4, L)``).
        x: one-hot sequences ``(N, 4, L)``, e.g. a run's correctly classified test positives;
            the first ``options.max_sequences`` are used.
        targets: JASPAR (and any extra) motifs, :class:`seqcnn.io.jaspar.Motif`.
        out: the folder to write ``patterns.meme``, ``patterns.tsv`` and ``plots/patterns/`` into.
        options: the settings.

    Returns:
        The summary for ``explain.json``: counts, seconds per step, and each pattern's best match.

    Raises:
        InputError: for bad options or sequences (see :func:`find_patterns`).
    """

    options = (options or PatternOptions()).check()
    start_compiling()  # while the attributions run
    out, x = Path(out), np.asarray(x)[: options.max_sequences]
    seconds = {}
    started = time.time()
    hypothetical = hypothetical_contributions(model, x, options)
    seconds["attributions"], started = round(time.time() - started, 2), time.time()
    found, counts = find_patterns(x, hypothetical, options)
    seconds["modisco"], started = round(time.time() - started, 2), time.time()
    matches = motif_matching.match([p.ppm for p in found], targets, options.top) if found else []
    seconds["tomtom"] = round(time.time() - started, 2)
    write_patterns(out, found, matches, targets)
    return _summary(found, matches, targets, len(x), counts, seconds, options)


def _summary(found, matches, targets, n_sequences: int, counts: dict, seconds: dict, options: PatternOptions) -> dict:
    rows = []
    for pattern, best in zip(found, matches):
        top = best[0] if best else None
        rows.append(
            {
                "pattern": pattern.name,
                "n_seqlets": pattern.n_seqlets,
                "information_content": round(pattern.information_content(), 3),
                "best_match": targets[top.target].name if top else None,
                "jaspar_id": targets[top.target].id if top else None,
                "q_value": top.q_value if top else None,
            }
        )
    return {
        "sequences": n_sequences,
        "method": "hypothetical DeepLIFT/SHAP -> TF-MoDISco (modisco-lite) -> Tomtom (memelite)",
        "options": {k: v for k, v in vars(options).items()},
        **counts,
        "matched_q_below_0.05": sum(1 for r in rows if r["q_value"] is not None and r["q_value"] < 0.05),
        "patterns": rows,
        "seconds": seconds,
        "files": ["patterns.meme", "patterns.tsv", "plots/patterns"],
    }


def write_patterns(out: Path, found: list[Pattern], matches: list, targets) -> None:
    """Write ``patterns.meme``, ``patterns.tsv`` and the logos under ``plots/patterns/`` (atomically)."""

    out.mkdir(parents=True, exist_ok=True)
    folder = RunFolder(out)
    folder.write_motifs("patterns.meme", [MemeMotif(p.name, p.ppm, consensus(p.ppm), p.n_seqlets) for p in found])
    rows = []
    for i, pattern in enumerate(found):
        head = [pattern.name, str(pattern.n_seqlets), f"{pattern.information_content():.3f}"]
        for m in (matches[i] if i < len(matches) else []) or [None]:
            rows.append(head + motif_matching.match_columns(m, targets))
    folder.write_table("patterns.tsv", TSV_COLUMNS, rows)
    _logos(folder.plot_folder("patterns"), found, matches, targets)  # no stale logos of an earlier run


def _logos(folder: Path, found: list[Pattern], matches: list, targets) -> None:

    for pattern, best in zip(found, matches):
        top = best[0] if best else None
        label = (
            f"best match {targets[top.target].name} (q={top.q_value:.2g})"
            if top and top.q_value < 0.05
            else "no match with q < 0.05"
        )
        title = f"{pattern.name}: {pattern.n_seqlets} seqlets, {pattern.information_content():.1f} bits, {label}"
        plot_pattern_logo(
            pattern.cwm, pattern.ppm, information_content(pattern.ppm), folder / f"{pattern.name}.png", title=title
        )
