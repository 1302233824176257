"""``seqcnn design``: starts read or drawn, designs made (:mod:`seqcnn.interpret.design`), scored by an oracle,
written out with a page.

The output folder holds ``designed.tsv`` (id, sequence, edits = the Hamming distance to the start,
score_start, score (the objective, higher is better: an output's probability or value, minus it when
lowering, minus the distance to a ``--target``), the edits as ``pos:ref>alt`` with 1-based positions,
whether every rule is kept, each output of the run for the start and the design, and the oracle's
scores), ``designed.fa``, ``rounds.png`` (the objective by round), ``logos/`` (gradient x input of the
objective for a few starts and their designs), ``motifs.tsv`` (JASPAR motifs' FIMO hits in the starts
against the designs) and ``design.html``, one page of all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from seqcnn.errors import InputError
from seqcnn.files import atomic_write_text, safe_name
from seqcnn.interpret.constraints import AvoidMotif, Constraints, check_satisfiable, parse_gc, parse_positions
from seqcnn.interpret.design import DesignOptions, Designs, design
from seqcnn.interpret.experiments import write_table
from seqcnn.interpret.objective import Objective, build_objective
from seqcnn.interpret.scoring import RunScorer, load_scorer
from seqcnn.io import read_sequences
from seqcnn.io.motif_lookup import find_motif
from seqcnn.sequence import decode, encode_batch, onehot

LOGOS = 3  # designs drawn with before/after attributions
MOTIF_ROWS = 25  # motifs shown on the page (all are in motifs.tsv)


@dataclass
class DesignRequest:
    """What ``seqcnn design`` was asked (the command line's options, parsed).

    Attributes:
        run: the run folder.
        out: the output folder (default ``RUN/design``).
        start: a FASTA (or any sequence file) of starts; else ``n`` random starts of ``length``.
        fit: ``--pad``/``--crop`` for starts of another length.
        objective: ``lower``, ``class_name``, ``task``, ``maximize``, ``minimize``, ``target`` (see
            :func:`~seqcnn.interpret.objective.build_objective`).
        max_edits, positions, avoid, gc: the rules.
        oracle: a second run folder that scores every design.
        motif_files, release: where motif names are looked up.
    """

    run: str | Path
    out: str | Path | None = None
    start: str | Path | None = None
    n: int = 10
    length: int | None = None
    seed: int = 0
    fit: str = "error"
    lower: bool = False
    class_name: str | None = None
    task: str | None = None
    maximize: list[str] = field(default_factory=list)
    minimize: list[str] = field(default_factory=list)
    target: float | None = None
    max_edits: int = 10
    positions: str | None = None
    avoid: list[str] = field(default_factory=list)
    gc: str | None = None
    oracle: str | Path | None = None
    motif_files: list[str] = field(default_factory=list)
    release: str = "JASPAR2024"
    device: str | None = None
    options: DesignOptions = field(default_factory=DesignOptions)


@dataclass
class DesignResult:
    """What :func:`design_run` wrote and measured."""

    out: Path
    ids: list[str]
    objective: Objective
    designs: Designs
    score_start: np.ndarray
    score: np.ndarray
    oracle_start: np.ndarray | None
    oracle: np.ndarray | None
    files: dict[str, Path]
    called: int | None = None  # designs whose raised class the oracle gives p > 0.5 (a class probability raised)
    avoided: list[str] = field(default_factory=list)  # each motif avoided and where it was found


def starts(request: DesignRequest, length: int) -> tuple[list[str], np.ndarray]:
    """The starts' ids and codes ``(N, L)``.

    Raises:
        InputError: for a file whose sequences are not the model's length (without ``--pad``/``--crop``),
            ``--length`` other than the model's, or ``--n`` below 1.
    """
    if request.start is not None:
        records = read_sequences(request.start, legacy_labels=False)
        if request.fit == "error":
            for seq_id, seq in zip(records.ids, records.seqs):
                if len(seq) != length:
                    raise InputError(f"{request.start}: record {seq_id!r} has length {len(seq)}, but the model reads "
                                     f"{length}; use --pad or --crop to bring the starts to {length}")
        codes = encode_batch(records.seqs, length=length, fit=request.fit, ids=records.ids, source=records.source)
        return list(records.ids), codes
    if request.length is not None and request.length != length:
        raise InputError(f"--length {request.length}: the model reads {length} bases")
    if request.n < 1:
        raise InputError(f"--n must be at least 1, got {request.n}")
    rng = np.random.default_rng(request.seed)
    return [f"random_{i + 1}" for i in range(request.n)], rng.integers(0, 4, (request.n, length)).astype(np.uint8)


def constraints(request: DesignRequest, length: int) -> tuple[Constraints, list[str]]:
    """The rules from the request, and each motif to avoid with where it was found (for the caller to print)."""
    found = [find_motif(name.strip(), request.motif_files, request.release)
             for item in request.avoid for name in item.split(",") if name.strip()]
    avoid = [AvoidMotif.from_motif(m) for m in found]
    rules = Constraints(request.max_edits, parse_positions(request.positions, length), avoid, parse_gc(request.gc))
    return rules, [f"{m.name}: {m.found}" for m in found]


def objective_of(scorer: RunScorer, request: DesignRequest) -> Objective:
    """The objective of the request on this run."""
    return build_objective(scorer.names, scorer.task.kind, lower=request.lower, class_name=request.class_name,
                           task=request.task, maximize=request.maximize, minimize=request.minimize,
                           target=request.target)


def design_run(request: DesignRequest) -> DesignResult:
    """Design sequences with a run's model and write them out (see the module's docstring).

    Raises:
        InputError: for bad options or starts, unsatisfiable rules, an objective naming an output the run
            (or the oracle) lacks.
        RunError: for a folder that is not a run.
    """
    scorer = load_scorer(request.run, request.device, batch_size=request.options.batch_size)
    objective = objective_of(scorer, request)
    oracle = load_scorer(request.oracle, request.device) if request.oracle else None
    oracle_objective = objective_of(oracle, request) if oracle is not None else None
    ids, codes = starts(request, scorer.length)
    rules, avoided = constraints(request, scorer.length)
    check_satisfiable(rules, codes, ids)
    if oracle is not None and oracle.length != scorer.length:
        raise InputError(f"--oracle {request.oracle}: its model reads {oracle.length} bases, the run's {scorer.length}")
    designs = design(scorer, objective, rules, codes, request.options)
    out = Path(request.out) if request.out else Path(request.run) / "design"
    out.mkdir(parents=True, exist_ok=True)
    outputs_start, outputs = scorer.predict(_onehot(codes)), scorer.predict(_onehot(designs.designs))
    result = DesignResult(out, ids, objective, designs, designs.history[:, 0], _objective(objective, outputs),
                          None, None, {}, avoided=avoided)
    if oracle is not None:
        result.oracle_start = _objective(oracle_objective, oracle.predict(_onehot(codes)))
        result.oracle = _objective(oracle_objective, oracle.predict(_onehot(designs.designs)))
        if _raises_one_probability(objective, scorer):
            result.called = int((result.oracle > 0.5).sum())
    result.files["tsv"] = write_designs(out / "designed.tsv", result, scorer.names, outputs_start, outputs)
    result.files["fasta"] = write_fasta(out / "designed.fa", result)
    result.files.update(write_page(out, result, scorer, request))
    return result


def _raises_one_probability(objective: Objective, scorer: RunScorer) -> bool:
    return (scorer.units == "probability" and objective.target is None and len(objective.maximize) == 1
            and not objective.minimize)


def _onehot(codes: np.ndarray) -> np.ndarray:
    return onehot(codes)


def _objective(objective: Objective, outputs: np.ndarray) -> np.ndarray:
    return objective.value(torch.from_numpy(outputs)).numpy()


def edit_list(start: np.ndarray, design_codes: np.ndarray) -> str:
    """The edits of a design as ``pos:ref>alt`` (1-based), comma-separated; ``-`` for none."""
    letters = "ACGTN-"
    changed = np.nonzero(start != design_codes)[0]
    return ",".join(f"{p + 1}:{letters[start[p]]}>{letters[design_codes[p]]}" for p in changed) or "-"


def write_designs(path: Path, result: DesignResult, names: list[str], outputs_start: np.ndarray,
                  outputs: np.ndarray) -> Path:
    """``designed.tsv`` (see the module's docstring)."""
    d = result.designs
    columns = ["id", "sequence", "edits", "score_start", "score", "changes", "rules_kept"]
    columns += [c for name in names for c in (f"{name}_start", name)]
    if result.oracle is not None:
        columns += ["oracle_score_start", "oracle_score"]
    seqs = decode(d.designs)
    rows = []
    for k, seq_id in enumerate(result.ids):
        row = [seq_id, seqs[k], str(int(d.edits[k])), f"{result.score_start[k]:.6g}", f"{result.score[k]:.6g}",
               edit_list(d.starts[k], d.designs[k]), "yes" if d.penalty[k] == 0 else "no"]
        row += [f"{v:.6g}" for j in range(len(names)) for v in (outputs_start[k, j], outputs[k, j])]
        if result.oracle is not None:
            row += [f"{result.oracle_start[k]:.6g}", f"{result.oracle[k]:.6g}"]
        rows.append(row)
    return write_table(path, columns, rows)


def write_fasta(path: Path, result: DesignResult) -> Path:
    """``designed.fa``: each design with its id, edits and score in the header."""
    seqs = decode(result.designs.designs)
    lines = [f">{seq_id} edits={int(e)} score={s:.4g}\n{seq}" for seq_id, seq, e, s in
             zip(result.ids, seqs, result.designs.edits, result.score)]
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def write_page(out: Path, result: DesignResult, scorer: RunScorer, request: DesignRequest) -> dict[str, Path]:
    """``rounds.png``, ``logos/``, ``motifs.tsv`` and ``design.html``."""
    from seqcnn.report.design_page import write_design_page
    from seqcnn.report.experiment_plots import plot_rounds

    d = result.designs
    oracle = None if result.oracle is None else (float(np.median(result.oracle_start)), float(np.median(result.oracle)))
    files = {"rounds": plot_rounds(d.history, out / "rounds.png", title=f"{request.options.method}: "
                                   f"{result.objective.description}", ylabel="objective", oracle=oracle)}
    logos = _logos(out / "logos", result, scorer)
    columns, rows = motif_changes(d.starts, d.designs, request.release)
    files["motifs"] = write_table(out / "motifs.tsv", columns, rows)
    figures = [("Objective by round", files["rounds"])] + [(f"Before and after: {p.stem}", p) for p in logos]
    files["page"] = write_design_page(out / "design.html", summary_rows(result, request), figures, columns,
                                      rows[:MOTIF_ROWS], d.notes)
    return files


def summary_rows(result: DesignResult, request: DesignRequest) -> list[tuple[str, str]]:
    """The page's summary table."""
    d = result.designs
    rows = [("run", str(request.run)), ("method", request.options.method),
            ("objective", result.objective.description), ("designs", str(len(result.ids))),
            ("median edits", f"{np.median(d.edits):g} (at most {request.max_edits})"),
            ("median objective, starts -> designs", f"{np.median(result.score_start):.4g} -> "
             f"{np.median(result.score):.4g}"),
            ("rules", "; ".join([f"at most {request.max_edits} edits", f"positions {request.positions or 'all'}"]
                                + [f"avoid {a}" for a in result.avoided]
                                + ([f"GC {request.gc}"] if request.gc else []))),
            ("designs that keep every rule", f"{int((d.penalty == 0).sum())} of {len(result.ids)}"),
            ("seconds", f"{d.seconds:.1f}")]
    if result.oracle is not None:
        rows.append((f"oracle ({request.oracle}), median starts -> designs",
                     f"{np.median(result.oracle_start):.4g} -> {np.median(result.oracle):.4g}"))
    return rows


def _logos(folder: Path, result: DesignResult, scorer: RunScorer) -> list[Path]:
    from seqcnn.interpret.attribution import gradient_x_input
    from seqcnn.report.experiment_plots import plot_before_after

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    d = result.designs
    shown = np.argsort(-(result.score - result.score_start))[:LOGOS]
    if not len(shown):
        return []
    module = _ScoreModule(scorer, result.objective, _raises_one_probability(result.objective, scorer)
                          or (scorer.units == "probability" and len(result.objective.minimize) == 1
                              and not result.objective.maximize))
    start = gradient_x_input(module, _onehot(d.starts[shown]), target=1)
    after = gradient_x_input(module, _onehot(d.designs[shown]), target=1)
    return [plot_before_after(start[i], after[i], d.starts[k] != d.designs[k],
                              folder / f"{i + 1:02d}_{safe_name(result.ids[k])}.png",
                              title=f"{result.ids[k]}: objective {result.score_start[k]:.3g} -> {result.score[k]:.3g}, "
                              f"{int(d.edits[k])} edits")
            for i, k in enumerate(shown)]


class _ScoreModule(torch.nn.Module):
    """The objective as a one-output model ``(N, 4, L)`` -> ``(N, 1)`` for attributions; a single probability as
    its log-odds (``log_odds``), whose gradient does not vanish where the probability is near 0 or 1."""

    def __init__(self, scorer: RunScorer, objective: Objective, log_odds: bool = False):
        super().__init__()
        self.net, self.scorer, self.objective, self.log_odds = scorer.model, scorer, objective, log_odds

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value = self.objective.value(self.scorer.outputs(x))
        if self.log_odds:  # minus a probability when lowering it: the log-odds of 1 - p, signed the same way
            p = value.abs().clamp(1e-6, 1 - 1e-6)
            value = torch.sign(value) * torch.log(p / (1 - p))
        return value.unsqueeze(1)


def motif_changes(starts_codes: np.ndarray, designs: np.ndarray, release: str) -> tuple[list[str], list[list[str]]]:
    """JASPAR CORE vertebrates motifs whose FIMO hit count (memelite, p < 1e-4, both strands) differs between
    the starts and the designs, the largest change first."""
    # memelite compiles with numba: only when motifs are counted
    from memelite import fimo

    from seqcnn.io.jaspar import load_jaspar

    motifs = load_jaspar(release)
    pwms = {m.id: m.pwm for m in motifs}
    before = np.asarray(fimo(pwms, _onehot(starts_codes), return_counts=True)).reshape(len(motifs), -1).sum(axis=1)
    after = np.asarray(fimo(pwms, _onehot(designs), return_counts=True)).reshape(len(motifs), -1).sum(axis=1)
    order = np.argsort(-np.abs(after - before), kind="stable")
    rows = [[motifs[i].id, motifs[i].name, str(int(before[i])), str(int(after[i])), f"{int(after[i] - before[i]):+d}"]
            for i in order if after[i] != before[i]]
    return ["jaspar_id", "name", "hits_in_starts", "hits_in_designs", "change"], rows
