"""Sequence design: edit start sequences so that a run's model scores them as asked.

Three methods, all under the same :class:`~seqcnn.interpret.constraints.Constraints` and
:class:`~seqcnn.interpret.objective.Objective`:

- ``greedy``: each round, every single-base substitution of every design still running is scored
  (all candidates of all sequences in batched forward passes, built by array indexing with no Python
  loop over candidates; for a Conv1D -> global max model, from the first layer's changed windows alone,
  :func:`~seqcnn.interpret.attribution.substitution_logits`) and the best one is kept; a design stops when no
  substitution improves it by ``min_gain``,
  when its objective reaches ``stop_at``, or after ``rounds`` rounds (default: the edit budget).
- ``evolve``: a population per start (``population``), each generation one random substitution per
  member (an edit undone instead when the budget is spent), parents and children ranked together and
  the best kept (elitist truncation selection), for ``rounds`` generations (default 30).
- ``ledidi``: gradient-based design with Ledidi (PyPI ``ledidi``, the ``design`` extra): the model's
  objective is its output loss, the edits its input loss weighted by ``ledidi_lambda``; of the
  sampled designs, the best with at most ``max_edits`` edits that keeps the rules; when none does, the
  best sample with the edits beyond the budget undone, the least useful first (:func:`trim_edits`).

Every method ranks candidates by violations first (avoided-motif hits, GC out of range), then by the
objective, so a start that breaks a rule is mended first. ``edits`` is always the Hamming distance of
a design to its start, recounted at the end.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from seqcnn.errors import InputError
from seqcnn.interpret.attribution import global_max_model, substitution_logits
from seqcnn.interpret.constraints import Constraints
from seqcnn.interpret.objective import Objective
from seqcnn.interpret.scoring import RunScorer

METHODS = ("greedy", "evolve", "ledidi")
_OTHERS = torch.tensor([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])  # the other bases of A, C, G, T


@dataclass
class DesignOptions:
    """Settings of :func:`design`.

    Attributes:
        method: ``greedy``, ``evolve`` or ``ledidi``.
        rounds: greedy rounds, evolve generations or Ledidi iterations (defaults: ``max_edits``, 30, 300).
        population: members per start (``evolve``).
        stop_at: a design whose objective reaches this (with no violation) stops.
        seed: seed of the random choices.
        batch_size: candidates per forward pass.
        ledidi_lambda: Ledidi's weight of the edits against the output loss.
        progress: print one line per round.
        min_gain: the least gain of the objective for which ``greedy`` makes an edit (tangermeme's ``tol``).
    """

    method: str = "greedy"
    rounds: int | None = None
    population: int = 50
    stop_at: float | None = None
    seed: int = 0
    batch_size: int = 4096
    ledidi_lambda: float = 0.01
    progress: bool = False
    min_gain: float = 1e-3

    def check(self) -> DesignOptions:
        """Validate; raise :class:`InputError` naming the option."""
        if self.method not in METHODS:
            raise InputError(f"--method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.rounds is not None and self.rounds < 1:
            raise InputError(f"--rounds must be at least 1, got {self.rounds}")
        if self.population < 2:
            raise InputError(f"--population must be at least 2, got {self.population}")
        if self.min_gain < 0:
            raise InputError(f"--min-gain must be >= 0, got {self.min_gain}")
        if self.batch_size < 1:
            raise InputError(f"--batch-size must be at least 1, got {self.batch_size}")
        return self


@dataclass
class Designs:
    """Designed sequences and how they got there.

    Attributes:
        starts: uint8 codes ``(N, L)``.
        designs: uint8 codes ``(N, L)``.
        history: the objective of each design by round ``(N, R + 1)`` (round 0: the start).
        penalty: violations left in each design ``(N,)`` (0: every rule kept).
        seconds: time spent designing.
    """

    starts: np.ndarray
    designs: np.ndarray
    history: np.ndarray
    penalty: np.ndarray
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def edits(self) -> np.ndarray:
        """The Hamming distance of each design to its start ``(N,)``."""
        return (self.designs != self.starts).sum(axis=1)


class _Evaluator:
    """Objective and violations of many code rows, in batched forward passes."""

    def __init__(self, scorer: RunScorer, objective: Objective, constraints: Constraints, batch_size: int):
        self.scorer, self.objective, self.constraints, self.batch_size = scorer, objective, constraints, batch_size
        self.device = next(scorer.model.parameters()).device
        table = torch.zeros((256, 4))
        table[:4] = torch.eye(4)
        table[4] = 0.25  # N
        self.table = table.to(self.device)
        on_cpu = self.device.type == "cpu"
        self.fast = global_max_model(scorer.model) if on_cpu and not constraints.avoid and constraints.gc is None \
            else None

    def onehot(self, codes: np.ndarray) -> torch.Tensor:
        """uint8 codes ``(M, L)`` -> one-hot ``(M, 4, L)`` on the model's device."""
        return self.table[torch.from_numpy(codes).to(self.device).long()].transpose(1, 2)

    @torch.inference_mode()
    def substitutions(self, current: np.ndarray, pos: np.ndarray, bases: np.ndarray) -> np.ndarray | None:
        """The objective of every substitution (``pos`` ``(C,)``, new ``bases`` ``(n, C)``) of ``current`` ``(n, L)``
        without a forward pass each, for Conv1D -> global max models (:func:`substitution_logits`); None for
        other models or sequences with N or padding."""
        if self.fast is None or (current > 3).any():
            return None
        x = self.onehot(current)
        table = self._all_bases(x)  # (n, L, 4, K) outputs, one strand
        if self.scorer.rc_average:  # the reverse complement of (p, b) is (L-1-p, 3-b) on the other strand
            table = (table + self._all_bases(x.flip(1, 2)).flip(1, 2)) / 2
        rows = torch.arange(len(current))[:, None]
        chosen = table[rows, torch.from_numpy(pos)[None, :], torch.from_numpy(bases).long()]  # (n, C, K)
        return self.objective.value(chosen.reshape(-1, chosen.shape[-1])).reshape(chosen.shape[:2]).double().numpy()

    def _all_bases(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of every substitution, indexed by position and new base ``(n, L, 4, K)`` (the current base's
        entry unused)."""
        logits = substitution_logits(self.scorer.model, x, self.fast)  # (n, L, 3, K)
        out = self.scorer.scale(logits.reshape(-1, logits.shape[-1])).reshape(logits.shape)
        table = torch.zeros((*out.shape[:2], 4, out.shape[3]), dtype=out.dtype)
        others = _OTHERS[x.argmax(dim=1)]  # (n, L, 3)
        table.scatter_(2, others[..., None].expand(-1, -1, -1, out.shape[3]), out)
        return table

    @torch.inference_mode()
    def __call__(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Objective ``(M,)`` and violations ``(M,)`` of code rows ``(M, L)``."""
        objective, penalty = [], []
        for start in range(0, len(codes), self.batch_size):
            x = self.onehot(codes[start : start + self.batch_size])
            objective.append(self.objective.value(self.scorer.outputs(x)).double().cpu())
            penalty.append(self.constraints.penalty(x).double().cpu())
        if not objective:
            return np.zeros(0), np.zeros(0)
        return torch.cat(objective).numpy(), torch.cat(penalty).numpy()


def design(scorer: RunScorer, objective: Objective, constraints: Constraints, starts: np.ndarray,
           options: DesignOptions | None = None) -> Designs:
    """Design one sequence from each start.

    Args:
        scorer: the run's model.
        objective: what to raise.
        constraints: the rules (checked with :func:`~seqcnn.interpret.constraints.check_satisfiable` first).
        starts: uint8 codes ``(N, L)`` of the model's length.
        options: the method and its settings.

    Returns:
        The designs, their history by round and their remaining violations.

    Raises:
        InputError: for bad options, or ``ledidi`` without the package.
    """
    options = (options or DesignOptions()).check()
    evaluate = _Evaluator(scorer, objective, constraints, options.batch_size)
    started = time.time()
    method = {"greedy": greedy, "evolve": evolve, "ledidi": ledidi_design}[options.method]
    designs, history, notes = method(evaluate, starts, constraints, options)
    _, penalty = evaluate(designs)
    return Designs(starts.copy(), designs, history, penalty, time.time() - started, notes)


def _stopped(objective: np.ndarray, penalty: np.ndarray, stop_at: float | None) -> np.ndarray:
    if stop_at is None:
        return np.zeros(len(objective), dtype=bool)
    return (objective >= stop_at) & (penalty == 0)


def _substitutions(current: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every single-base substitution of each row at ``positions``: positions ``(C,)`` and new bases ``(n, C)``,
    three per position (an N or padding becomes A, C or G)."""
    pos = np.repeat(positions, 3)  # (C,)
    shift = np.tile(np.arange(1, 4, dtype=np.uint8), len(positions))  # (C,)
    here = current[:, pos]  # (n, C)
    bases = np.where(here < 4, (here + shift) % 4, shift - 1).astype(np.uint8)
    return pos, bases


def greedy(evaluate: _Evaluator, starts: np.ndarray, constraints: Constraints,
           options: DesignOptions) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The best single substitution per round for every running design (see the module's docstring)."""
    rounds = options.rounds or constraints.max_edits
    current = starts.copy()
    objective, penalty = evaluate(current)
    history = [objective.copy()]
    running = ~_stopped(objective, penalty, options.stop_at)
    positions = np.nonzero(constraints.editable)[0]
    for r in range(rounds):
        rows = np.nonzero(running)[0]
        if not len(rows):
            break
        best = _best_substitutions(evaluate, current[rows], starts[rows], positions, constraints.max_edits)
        for k, (pos, base, obj, pen) in zip(rows, best):
            better = pen < penalty[k] or (pen == penalty[k] and obj > objective[k] + options.min_gain)
            if not better:
                running[k] = False
                continue
            current[k, pos], objective[k], penalty[k] = base, obj, pen
        running &= ~_stopped(objective, penalty, options.stop_at)
        history.append(objective.copy())
        if options.progress:
            print(f"round {r + 1}/{rounds}: median objective {np.median(objective):.4g}, "
                  f"{int(running.sum())} designs still improving", file=sys.stderr, flush=True)
    return current, np.stack(history, axis=1), []


def _best_substitutions(evaluate: _Evaluator, current: np.ndarray, starts: np.ndarray, positions: np.ndarray,
                        max_edits: int) -> list[tuple[int, int, float, float]]:
    """For each row, its best substitution within the budget: ``(position, base, objective, violations)``."""
    n, length = current.shape
    pos, bases = _substitutions(current, positions)
    c = len(pos)
    per_chunk = max(1, evaluate.batch_size // c)  # rows whose candidates fill about one batch
    out = []
    for first in range(0, n, per_chunk):
        rows = slice(first, min(n, first + per_chunk))
        cur, base = current[rows], bases[rows]
        m = len(cur)
        obj = evaluate.substitutions(cur, pos, base)
        if obj is not None:  # no rule to check: a violation is impossible
            pen = np.zeros_like(obj)
        else:
            cand = np.repeat(cur[:, None, :], c, axis=1)  # (m, C, L)
            cand[np.arange(m)[:, None], np.arange(c)[None, :], pos[None, :]] = base
            obj, pen = evaluate(cand.reshape(m * c, length))
            obj, pen = obj.reshape(m, c), pen.reshape(m, c)
        start = starts[rows][:, pos]
        hamming = (cur != starts[rows]).sum(axis=1)[:, None] + np.where(
            cur[:, pos] == start, 1, np.where(base == start, -1, 0))
        pen = np.where(hamming > max_edits, np.inf, pen)
        least = pen.min(axis=1, keepdims=True)
        pick = np.where(pen == least, obj, -np.inf).argmax(axis=1)
        out += [(int(pos[j]), int(base[i, j]), float(obj[i, j]), float(pen[i, j])) for i, j in enumerate(pick)]
    return out


def evolve(evaluate: _Evaluator, starts: np.ndarray, constraints: Constraints,
           options: DesignOptions) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A population per start, mutated and selected (see the module's docstring)."""
    rng = np.random.default_rng(options.seed)
    generations, size = options.rounds or 30, options.population
    n, length = starts.shape
    population = np.repeat(starts[:, None, :], size, axis=1)  # (n, P, L)
    obj0, pen0 = evaluate(starts)
    objective, penalty = np.repeat(obj0[:, None], size, axis=1), np.repeat(pen0[:, None], size, axis=1)
    history = [obj0.copy()]
    running = ~_stopped(obj0, pen0, options.stop_at)
    positions = np.nonzero(constraints.editable)[0]
    for g in range(generations):
        rows = np.nonzero(running)[0]
        if not len(rows):
            history.append(objective[:, 0].copy())
            continue
        children = _mutate(population[rows], starts[rows], positions, constraints.max_edits, rng)
        c_obj, c_pen = evaluate(children.reshape(-1, length))
        merged = np.concatenate([population[rows], children], axis=1)
        m_obj = np.concatenate([objective[rows], c_obj.reshape(len(rows), size)], axis=1)
        m_pen = np.concatenate([penalty[rows], c_pen.reshape(len(rows), size)], axis=1)
        keep = np.lexsort((-m_obj, m_pen), axis=-1)[:, :size]  # fewest violations, then the best objective
        population[rows] = np.take_along_axis(merged, keep[:, :, None], axis=1)
        objective[rows] = np.take_along_axis(m_obj, keep, axis=1)
        penalty[rows] = np.take_along_axis(m_pen, keep, axis=1)
        running &= ~_stopped(objective[:, 0], penalty[:, 0], options.stop_at)
        history.append(objective[:, 0].copy())
        if options.progress:
            print(f"generation {g + 1}/{generations}: median best objective {np.median(objective[:, 0]):.4g}",
                  file=sys.stderr, flush=True)
    return population[:, 0].copy(), np.stack(history, axis=1), []


def _mutate(population: np.ndarray, starts: np.ndarray, positions: np.ndarray, max_edits: int,
            rng: np.random.Generator) -> np.ndarray:
    """One random substitution per member ``(n, P, L)``; a member whose budget is spent has one edit undone."""
    n, size, length = population.shape
    children = population.copy()
    pos = positions[rng.integers(0, len(positions), (n, size))]
    i, j = np.meshgrid(np.arange(n), np.arange(size), indexing="ij")
    here = children[i, j, pos]
    shift = rng.integers(1, 4, (n, size)).astype(np.uint8)
    children[i, j, pos] = np.where(here < 4, (here + shift) % 4, shift - 1)
    edited = children != starts[:, None, :]
    over = edited.sum(axis=2) > max_edits
    if over.any():  # undo another edit of the same member: the budget holds
        a, b = np.nonzero(over)
        noise = rng.random((len(a), length)) * edited[a, b]
        noise[np.arange(len(a)), pos[a, b]] = 0
        undo = noise.argmax(axis=1)
        children[a, b, undo] = starts[a, undo]
    return children


def ledidi_design(evaluate: _Evaluator, starts: np.ndarray, constraints: Constraints,
                  options: DesignOptions) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Ledidi on each start (see the module's docstring); the history holds the start and the pick."""
    try:
        # ledidi is an optional dependency (the `design` extra)
        from ledidi import Ledidi
    except ImportError:
        raise InputError("--method ledidi needs the ledidi package: pip install 'seqcnn[design]'") from None
    wrapped = _ObjectiveModule(evaluate).eval()
    mask = torch.from_numpy(~constraints.editable).to(evaluate.device)  # True: may not change
    designs, notes = starts.copy(), []
    for k in range(len(starts)):
        x = evaluate.onehot(starts[k : k + 1]).float().clone()
        designer = Ledidi(wrapped, shape=tuple(x.shape[1:]), output_loss=_minus_mean, l=options.ledidi_lambda,
                          max_iter=options.rounds or 300, input_mask=mask, verbose=False,
                          random_state=options.seed + k).to(evaluate.device)
        designer.fit_transform(x, torch.zeros(1, 1, device=evaluate.device))
        with torch.no_grad():
            samples = torch.cat([designer(x) for _ in range(4)])  # 4 batches of samples from the fitted weights
        codes = samples.argmax(dim=1).cpu().numpy().astype(np.uint8)
        designs[k] = _pick_sample(evaluate, codes, starts[k], constraints.max_edits)
        if options.progress:
            print(f"ledidi: design {k + 1}/{len(starts)}, {int((designs[k] != starts[k]).sum())} edits",
                  file=sys.stderr, flush=True)
    objective0, _ = evaluate(starts)
    objective1, _ = evaluate(designs)
    return designs, np.stack([objective0, objective1], axis=1), notes


class _ObjectiveModule(torch.nn.Module):
    """The objective as a model for Ledidi: one-hot ``(N, 4, L)`` -> ``(N, 1)``."""

    def __init__(self, evaluate: _Evaluator):
        super().__init__()
        self.scorer, self.objective = evaluate.scorer, evaluate.objective
        self.anchor = torch.nn.Parameter(torch.zeros(1), requires_grad=False)  # a parameter for .to()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.objective.value(self.scorer.outputs(x)).unsqueeze(1)


def _minus_mean(y_hat: torch.Tensor, y_bar: torch.Tensor) -> torch.Tensor:
    return -y_hat.mean()


def _pick_sample(evaluate: _Evaluator, codes: np.ndarray, start: np.ndarray, max_edits: int) -> np.ndarray:
    """The best sample within the budget that keeps the rules; else the best sample with its edits beyond the
    budget undone, the least useful first (:func:`trim_edits`)."""
    obj, pen = evaluate(codes)
    edits = (codes != start[None, :]).sum(axis=1)
    fits = (edits <= max_edits) & (pen == 0)
    if fits.any():
        return codes[np.nonzero(fits)[0][np.argmax(obj[fits])]]
    return trim_edits(evaluate, codes[np.lexsort((-obj, pen))[0]], start, max_edits)


def trim_edits(evaluate: _Evaluator, design_codes: np.ndarray, start: np.ndarray, max_edits: int) -> np.ndarray:
    """Undo edits of a design one at a time until at most ``max_edits`` remain: each time the edit whose undoing
    leaves the fewest violations and the best objective (all undoings scored in one batch)."""
    current = design_codes.copy()
    while (changed := np.nonzero(current != start)[0]).size > max_edits:
        cand = np.repeat(current[None, :], len(changed), axis=0)
        cand[np.arange(len(changed)), changed] = start[changed]
        obj, pen = evaluate(cand)
        current = cand[np.lexsort((-obj, pen))[0]]
    return current
