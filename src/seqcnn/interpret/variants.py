"""Variant effects: the model's score of the reference and the alternative sequence around each variant.

For each variant the run's input window of ``L`` bases is read from the genome (pyfaidx):

- the **reference window** is centred on the REF allele: it starts ``L // 2`` bases before the
  allele's middle base (the left one of the two middle bases for an allele of even length), so
  an SNV sits at window position ``L // 2`` (0-based);
- the **alternative window** has the same start: the bases before the variant, then ALT, then
  the genome after REF, cut (insertions) or extended from the genome (deletions) to ``L``
  bases. SNVs and multi-nucleotide variants (REF and ALT of one length) change only their own
  bases; an indel also shifts the bases to its right.

A REF that differs from the genome is never scored (counted and the first one named, or an
error with ``strict_ref``); a window that would run off the chromosome is skipped (or an error
with ``strict``). Contig names that differ from the genome's only by a ``chr`` prefix are mapped
(and the mapping reported); any other contig missing from the genome is an error.

The score is, for classifiers, the log-odds of the target class, ``log p / (1 - p)``; when the
run averages strands (``predict.rc_average`` in its ``config.json``), ``p`` is the mean of both
strands' probabilities, as ``seqcnn predict`` reports. For regression outputs it is the output
itself (strand-averaged likewise). ``delta = alt_score - ref_score``.

For a first layer Conv1D (stride 1, relu or linear) followed by global max pooling, the
pooled features of both windows are computed by one numba loop that sums weight columns looked
up by base (a one-hot input selects one of four columns per tap) and recomputes, for the
alternative, only the outputs that read a changed base; the layers after the pooling run in
torch. Other models run whole, batch by batch (``benchmarks/accuracy/variants.py`` measures both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from seqcnn.errors import InputError
from seqcnn.io.bed import Genome
from seqcnn.io.vcf import Skips, Variant, read_variants
from seqcnn.sequence import CODE_OF_BYTE, INVALID, N_CODE, onehot, onehot_table

REF_MISMATCH = "REF does not match the genome"
OFF_CHROMOSOME = "window runs off the chromosome"
TOO_LONG = "allele longer than half the window"
MISSING_CONTIG = "contig not in the genome"


@dataclass
class Windows:
    """Reference and alternative windows of scorable variants: codes ``(N, L)`` and window starts (0-based)."""

    variants: list[Variant]
    ref: np.ndarray
    alt: np.ndarray
    start: np.ndarray


@dataclass
class VariantScores:
    """The result of :func:`score_variants`.

    Attributes:
        variants: the scored variants, in input order.
        ref_score, alt_score: scores ``(N, T)``, one column per task.
        tasks: the column names of the tasks (``[""]`` for a single score).
        skips: what was left out, by reason.
        contig_map: contig renames applied (variant file name -> genome name).
        score_name: what the score is, in words.
        windows: the windows scored (for attributions of the top variants).
    """

    variants: list[Variant]
    ref_score: np.ndarray
    alt_score: np.ndarray
    tasks: list[str]
    skips: Skips
    contig_map: dict[str, str] = field(default_factory=dict)
    score_name: str = ""
    windows: Windows | None = None

    @property
    def delta(self) -> np.ndarray:
        """``alt_score - ref_score`` ``(N, T)``."""
        return self.alt_score - self.ref_score


# --- contigs and windows ----------------------------------------------------------------------


def map_contigs(chroms: list[str], genome: Genome, source: str | Path, skip_missing: bool = False) -> dict[str, str]:
    """Renames that make the variant file's contigs the genome's, when they differ only by ``chr``.

    Every contig absent from the genome must match a genome contig after adding or removing a
    ``chr`` prefix (``chrM`` and ``MT`` included); then all of them are mapped. Otherwise the
    first missing contig is an error, unless ``skip_missing`` (its variants are then skipped).

    Raises:
        InputError: naming the missing contig and some of the genome's.
    """
    missing = [c for c in dict.fromkeys(chroms) if c not in genome.lengths]
    mapping = {c: _other_name(c, genome) for c in missing}
    if missing and all(mapping.values()):
        return mapping
    unmatched = [c for c in missing if not mapping[c]]
    if unmatched and not skip_missing:
        known = ", ".join(list(genome.lengths)[:5]) + (", ..." if len(genome.lengths) > 5 else "")
        raise InputError(
            f"{source}: contig {unmatched[0]!r} is not in the genome {genome.path} "
            f"({len(unmatched)} contig(s) missing; the genome has {known}); "
            "use the genome the variants were called on, or --skip-missing-contigs"
        )
    return {c: m for c, m in mapping.items() if m}


def _other_name(chrom: str, genome: Genome) -> str | None:
    """The genome's name for ``chrom`` with a ``chr`` prefix added or removed, or None."""
    special = {"chrM": "MT", "MT": "chrM", "M": "chrM"}
    for name in (chrom[3:] if chrom.startswith("chr") else "chr" + chrom, special.get(chrom)):
        if name and name in genome.lengths:
            return name
    return None


def make_windows(
    variants: list[Variant],
    genome: Genome,
    length: int,
    skips: Skips,
    *,
    contig_map: dict[str, str] | None = None,
    strict_ref: bool = False,
    strict: bool = False,
    source: str | Path = "",
) -> Windows:
    """Reference and alternative windows of ``length`` bases around each variant (see the module).

    Variants whose REF differs from the genome, whose window leaves the chromosome, whose
    allele is longer than half the window, or whose contig is absent are counted in ``skips``.

    Raises:
        InputError: for a REF mismatch with ``strict_ref``, or a window off the chromosome with
            ``strict``, naming the file, line and variant.
    """
    contig_map = contig_map or {}
    kept, ref_rows, alt_rows, starts = [], [], [], []
    for v in variants:
        chrom = contig_map.get(v.chrom, v.chrom)
        pair = _window_pair(v, chrom, genome, length, skips, strict_ref, strict, source)
        if pair is not None:
            kept.append(v)
            ref_rows.append(pair[0])
            alt_rows.append(pair[1])
            starts.append(pair[2])
    return Windows(kept, _codes(ref_rows, length), _codes(alt_rows, length), np.array(starts, dtype=np.int64))


def _window_pair(
    v: Variant, chrom: str, genome: Genome, length: int, skips: Skips, strict_ref: bool, strict: bool, source
) -> tuple[bytes, bytes, int] | None:
    """(ref window, alt window, 0-based start) of one variant, or None when it is skipped."""
    where = f"{source}, line {v.line}: {v.label()}"
    size = genome.lengths.get(chrom)
    if size is None:
        skips.add(MISSING_CONTIG, where)
        return None
    if max(len(v.ref), len(v.alt)) > length // 2:
        skips.add(TOO_LONG, f"{where} (window {length} bp)")
        return None
    first = v.pos - 1  # 0-based first REF base
    start = first + (len(v.ref) - 1) // 2 - length // 2
    end = start + length + max(0, len(v.ref) - len(v.alt))  # a deletion reads further right
    if start < 0 or end > size or first + len(v.ref) > size:
        if strict:
            raise InputError(
                f"{where}: the {length} bp window {chrom}:{start + 1}-{end} runs off the chromosome (length {size})"
            )
        skips.add(OFF_CHROMOSOME, f"{where} ({chrom} has {size} bp)")
        return None
    region = genome.fasta[chrom][start:end].upper()
    offset = first - start
    found = region[offset : offset + len(v.ref)]
    if found != v.ref and not _n_match(found, v.ref):
        if strict_ref:
            raise InputError(f"{where}: REF {v.ref} does not match the genome {genome.path}, which has {found}")
        skips.add(REF_MISMATCH, f"{where}, genome has {found}")
        return None
    alt = (region[:offset] + v.alt + region[offset + len(v.ref) :])[:length]
    return region[:length].encode("latin-1"), alt.encode("latin-1"), start


def _n_match(found: str, ref: str) -> bool:
    """REF with N where the genome has a base (or the other way round) still matches."""
    return len(found) == len(ref) and all(a == b or "N" in (a, b) for a, b in zip(found, ref))


def _codes(rows: list[bytes], length: int) -> np.ndarray:
    """uint8 codes ``(N, length)`` of windows; letters other than A/C/G/T become N."""
    if not rows:
        return np.zeros((0, length), dtype=np.uint8)
    codes = CODE_OF_BYTE[np.frombuffer(b"".join(rows), dtype=np.uint8)].reshape(len(rows), length)
    codes[codes == INVALID] = N_CODE
    return codes


# --- scoring ----------------------------------------------------------------------------------


class Scorer:
    """Scores of windows under a model: log-odds of the target class (or outputs), strands averaged.

    Args:
        model: a spec model (or any module taking ``(N, 4, L)`` and returning logits ``(N, K)``).
        rc_average: average the reverse-complement strand in (probabilities for classifiers).
        target: the class (softmax) or output (sigmoid, regression) scored; None: the last
            class for softmax, every output for sigmoid and regression outputs.
        batch_size: variants per forward pass.
        fast: allow the numba path for Conv1D -> global max models on the CPU.

    Raises:
        InputError: for a target outside the model's outputs.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        rc_average: bool = False,
        target: int | None = None,
        batch_size: int = 4096,
        fast: bool = True,
    ):
        self.model = model.eval()
        self.rc_average, self.batch_size = rc_average, batch_size
        self.activation = getattr(model, "output_activation", None)
        self.device = next(model.parameters()).device
        first = _fast_first_layer(model) if fast and self.device.type == "cpu" else None
        self.first = None if first is None else _strand_tables(*first, rc_average)
        outputs = self._outputs()
        self.tasks = self._tasks(outputs, target)

    def _outputs(self) -> int:
        shape = getattr(self.model, "input_shape", None)
        with torch.inference_mode():
            return int(self.model(torch.zeros((1, *shape), device=self.device)).shape[1]) if shape else 2

    def _tasks(self, outputs: int, target: int | None) -> list[int]:
        if target is not None and not 0 <= target < max(outputs, 2 if self.activation == "sigmoid" else 1):
            raise InputError(
                f"--target-class must be in 0..{max(outputs, 2) - 1} for this model ({outputs} outputs), got {target}"
            )
        if self.activation == "softmax":
            return [outputs - 1 if target is None else target]
        if outputs == 1 and self.activation == "sigmoid":
            return [0]
        return list(range(outputs)) if target is None else [target]

    def describe(self) -> str:
        """What the scores are, in words."""
        strands = "mean probability of both strands" if self.rc_average else "forward strand"
        if self.activation == "softmax":
            return f"log-odds of class {self.tasks[0]} ({strands})"
        if self.activation == "sigmoid":
            return f"log-odds of output(s) {', '.join(map(str, self.tasks))} ({strands})"
        strands = "mean of both strands" if self.rc_average else "forward strand"
        return f"model output(s) {', '.join(map(str, self.tasks))} ({strands})"

    @torch.inference_mode()
    def score(self, ref: np.ndarray, alt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores ``(N, T)`` of reference and alternative windows given as codes ``(N, L)``."""
        outs_ref, outs_alt = [], []
        for lo in range(0, len(ref), self.batch_size):
            r, a = ref[lo : lo + self.batch_size], alt[lo : lo + self.batch_size]
            logits = self._fast_logits(r, a) if self.first is not None else self._full_logits(r, a)
            outs_ref.append(self._combine(logits[0], logits[1]))
            outs_alt.append(self._combine(logits[2], logits[3]))
        empty = np.zeros((0, len(self.tasks)))
        return (np.concatenate(outs_ref) if outs_ref else empty), (np.concatenate(outs_alt) if outs_alt else empty)

    def _full_logits(self, ref: np.ndarray, alt: np.ndarray) -> list[torch.Tensor | None]:
        """Logits of (ref, ref reverse complement, alt, alt reverse complement) by whole forward passes."""
        out: list[torch.Tensor | None] = []
        for codes in (ref, alt):
            x = torch.from_numpy(onehot(codes)).to(self.device)  # (B, 4, L)
            out += [self.model(x), self.model(x.flip(1, 2)) if self.rc_average else None]
        return out

    def _fast_logits(self, ref: np.ndarray, alt: np.ndarray) -> list[torch.Tensor | None]:
        """The same logits through the numba first layer + global max, then the remaining layers."""
        table, bias, relu = self.first
        changed = ref != alt
        lo = np.where(changed.any(1), changed.argmax(1), 0).astype(np.int64)
        hi = np.where(changed.any(1), ref.shape[1] - changed[:, ::-1].argmax(1), 0).astype(np.int64)
        _set_numba_threads()
        pooled_ref, pooled_alt = _pooled_pair(
            np.ascontiguousarray(ref), np.ascontiguousarray(alt), lo, hi, table, bias, relu
        )
        rest, n = self.model.layers[2:], self.first[0].shape[2] // (2 if self.rc_average else 1)
        out: list[torch.Tensor | None] = []
        for pooled in (torch.from_numpy(pooled_ref), torch.from_numpy(pooled_alt)):
            out += [rest(pooled[:, :n]), rest(pooled[:, n:]) if self.rc_average else None]
        return out

    def _combine(self, forward: torch.Tensor, reverse: torch.Tensor | None) -> np.ndarray:
        """Scores ``(B, T)`` from the logits of one or both strands."""
        forward = forward.double()
        if self.activation not in ("softmax", "sigmoid"):
            out = forward if reverse is None else (forward + reverse.double()) / 2
            return out[:, self.tasks].cpu().numpy()
        s = self._log_odds(forward)
        if reverse is not None:  # log-odds of the mean probability, computed in log space
            r = self._log_odds(reverse.double())
            log_p = torch.logaddexp(-torch.nn.functional.softplus(-s), -torch.nn.functional.softplus(-r))
            log_q = torch.logaddexp(-torch.nn.functional.softplus(s), -torch.nn.functional.softplus(r))
            s = log_p - log_q
        return s.cpu().numpy()

    def _log_odds(self, logits: torch.Tensor) -> torch.Tensor:
        """``log p / (1 - p)`` of each task ``(B, T)`` from logits ``(B, K)``."""
        if self.activation == "sigmoid":
            return logits[:, self.tasks]
        cols = []
        for t in self.tasks:
            others = torch.cat([logits[:, :t], logits[:, t + 1 :]], dim=1)
            cols.append(logits[:, t] - torch.logsumexp(others, dim=1))
        return torch.stack(cols, dim=1)


def _fast_first_layer(model: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor, bool] | None:
    """The first layer's weight ``(F, 4, K)``, bias ``(F,)`` and whether it is relu, when the fast path fits; else None.

    Only a spec model whose first layer is a plain Conv1D (stride 1, no dilation or padding,
    relu or linear) followed by global max pooling qualifies.
    """
    from seqcnn.models.network import Conv1D, GlobalPool, SpecModel

    if not isinstance(model, SpecModel) or len(model.layers) < 2:
        return None
    conv, pool = model.layers[0], model.layers[1]
    if not (isinstance(conv, Conv1D) and isinstance(pool, GlobalPool) and pool.mode == "max"):
        return None
    if conv.stride != (1,) or conv.dilation != (1,) or conv.groups != 1 or any(conv.pad) or conv.padding != (0,):
        return None
    if conv.activation not in (None, "linear", "relu"):
        return None
    weight = conv.weight.detach().float().cpu()  # (F, 4, K)
    bias = conv.bias.detach().float().cpu() if conv.bias is not None else torch.zeros(weight.shape[0])
    return weight, bias, conv.activation == "relu"


def _strand_tables(
    weight: torch.Tensor, bias: torch.Tensor, relu: bool, rc_average: bool
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Tap table ``(K, 6, F')``, bias ``(F',)`` and relu for the numba loop.

    With strand averaging the filters are doubled: the reverse complement of a window through a
    filter gives the outputs of the window, in reverse order, through the filter with its taps
    reversed and its bases complemented (A<->T, C<->G: channels reversed in A, C, G, T order),
    and a global max does not see the order.
    """
    if rc_average:
        weight, bias = torch.cat([weight, weight.flip(1, 2)]), torch.cat([bias, bias])
    return _tap_table(weight), bias.contiguous().numpy(), relu


def _tap_table(weight: torch.Tensor) -> np.ndarray:
    """``(K, 6, F)``: for each tap and base code (A, C, G, T, N, padding), the filters' weights it adds."""
    table = torch.from_numpy(onehot_table())  # (6, 4) one-hot rows of each code
    return torch.einsum("uc,fck->kuf", table, weight).contiguous().numpy()


def _pooled_pair(ref, alt, lo, hi, table, bias, relu):
    return _compile_pooled_pair()(ref, alt, lo, hi, table, bias, relu)


def _set_numba_threads() -> None:
    import numba

    numba.set_num_threads(max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)))


@lru_cache(maxsize=1)
def _compile_pooled_pair():
    import numba

    @numba.njit(parallel=True, cache=True)
    def kernel(ref, alt, lo, hi, table, bias, relu):
        """Global max of the first layer over ref and alt windows ``(B, L)`` -> two ``(B, F)`` arrays.

        ``alt`` differs from ``ref`` only in ``[lo, hi)``; outputs that do not read those bases
        are shared.
        """
        n, length = ref.shape
        taps, n_filters = table.shape[0], table.shape[2]
        n_out = length - taps + 1
        out_ref = np.empty((n, n_filters), dtype=np.float32)
        out_alt = np.empty((n, n_filters), dtype=np.float32)
        for b in numba.prange(n):
            acc = np.empty(n_filters, dtype=np.float32)
            best_ref = np.full(n_filters, -np.inf, dtype=np.float32)
            best_alt = np.full(n_filters, -np.inf, dtype=np.float32)
            first, last = max(lo[b] - taps + 1, 0), min(hi[b], n_out)  # outputs reading a changed base
            for j in range(n_out):
                acc[:] = bias
                for k in range(taps):
                    row = table[k, ref[b, j + k]]
                    for f in range(n_filters):
                        acc[f] += row[f]
                shared = j < first or j >= last
                for f in range(n_filters):
                    v = max(acc[f], 0.0) if relu else acc[f]
                    best_ref[f] = max(best_ref[f], v)
                    if shared:
                        best_alt[f] = max(best_alt[f], v)
            for j in range(first, last):
                acc[:] = bias
                for k in range(taps):
                    row = table[k, alt[b, j + k]]
                    for f in range(n_filters):
                        acc[f] += row[f]
                for f in range(n_filters):
                    v = max(acc[f], 0.0) if relu else acc[f]
                    best_alt[f] = max(best_alt[f], v)
            out_ref[b] = best_ref
            out_alt[b] = best_alt
        return out_ref, out_alt

    return kernel


# --- the whole job ----------------------------------------------------------------------------


def score_variants(
    run: str | Path,
    genome: str | Path,
    *,
    vcf: str | Path | None = None,
    table: str | Path | None = None,
    target: int | None = None,
    batch_size: int = 4096,
    strict_ref: bool = False,
    strict: bool = False,
    skip_missing_contigs: bool = False,
    device: str | None = None,
) -> VariantScores:
    """Score every variant of a VCF or a table with a trained run (see the module for how).

    Args:
        run: the run folder.
        genome: the genome FASTA the variants are called on (indexed by pyfaidx on first use).
        vcf: a VCF or BCF file (plain or bgzipped); or
        table: a table ``chrom pos ref alt [id]`` (1-based positions).
        target: the class or output scored (see :class:`Scorer`).
        batch_size: variants per batch.
        strict_ref: a REF that does not match the genome is an error instead of a skip.
        strict: a window running off the chromosome is an error instead of a skip.
        skip_missing_contigs: skip (and count) variants on contigs absent from the genome
            instead of stopping.
        device: ``"cpu"``, ``"cuda"``...; the model's device (the CPU) when None.

    Returns:
        The scores, the variants scored and what was skipped.

    Raises:
        InputError: for a bad variant file, a missing contig, or (``strict_ref``/``strict``) a
            REF mismatch or a window off the chromosome; RunError for a bad run folder.
    """
    from seqcnn.jobs.inference import run_rc_average
    from seqcnn.runs.folder import RunFolder, load_model

    RunFolder(run).task()  # a profile run is refused here, with the command that reads it
    if (vcf is None) == (table is None):
        raise InputError("give exactly one of --vcf FILE and --variants TABLE")
    source = vcf if vcf is not None else table
    model = load_model(run)
    if device:
        model = model.to(_device(device))
    length = _window_length(model, run)
    variants, skips = read_variants(source, "vcf" if vcf is not None else "table")
    ref_genome = Genome(genome)
    contig_map = map_contigs([v.chrom for v in variants], ref_genome, source, skip_missing_contigs)
    windows = make_windows(
        variants, ref_genome, length, skips, contig_map=contig_map, strict_ref=strict_ref, strict=strict, source=source
    )
    if not windows.variants:
        raise InputError(f"{source}: no variant could be scored; skipped {skips.summary()}")
    scorer = Scorer(model, rc_average=run_rc_average(run), target=target, batch_size=batch_size)
    ref_score, alt_score = scorer.score(windows.ref, windows.alt)
    tasks = [""] if len(scorer.tasks) == 1 else [str(t) for t in scorer.tasks]
    return VariantScores(windows.variants, ref_score, alt_score, tasks, skips, contig_map, scorer.describe(), windows)


def _device(name: str) -> torch.device:
    """The torch device named by ``--device``.

    Raises:
        InputError: for an unknown name or a GPU that this machine does not have.
    """
    from seqcnn.training.devices import resolve_device

    dev = resolve_device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"--device {name}: no CUDA GPU is available here; use --device cpu")
    return dev


def _window_length(model: torch.nn.Module, run: str | Path) -> int:
    """The run's input length ``L`` (from ``model.json``'s input shape ``(4, L)``).

    Raises:
        InputError: for a run whose input is not one-hot DNA.
    """
    shape = tuple(getattr(model, "input_shape", ()))
    if len(shape) != 2 or shape[0] != 4:
        raise InputError(f"{run}: the model takes input of shape {shape}; variants need a DNA model with input (4, L)")
    return int(shape[1])


def write_scores(path: str | Path, result: VariantScores) -> Path:
    """Write ``chrom pos id ref alt ref_score alt_score delta`` (one trio per task) as TSV, atomically."""
    from seqcnn.files import atomic_write_text

    names = ["ref_score", "alt_score", "delta"]
    header = ["chrom", "pos", "id", "ref", "alt"] + [f"{n}{'_' + t if t else ''}" for t in result.tasks for n in names]
    lines = ["\t".join(header)]
    delta = result.delta
    for i, v in enumerate(result.variants):
        cells = [v.chrom, str(v.pos), v.id, v.ref, v.alt]
        for t in range(len(result.tasks)):
            cells += [f"{result.ref_score[i, t]:.6g}", f"{result.alt_score[i, t]:.6g}", f"{delta[i, t]:.6g}"]
        lines.append("\t".join(cells))
    atomic_write_text(path, "\n".join(lines) + "\n")
    return Path(path)


def summary_line(result: VariantScores, output: str | Path) -> str:
    """One line: how many scored, how many skipped and why, where the scores went."""
    n_scored = len(result.variants)
    skipped = f"skipped {result.skips.total()}: {result.skips.summary()}"
    return f"scored {n_scored} variant allele(s); {skipped}; scores ({result.score_name}): {output}"


# --- the run's record of the top variants (for the report) -------------------------------------

#: Bases shown on each side of the variant in a top variant's figure.
PLOT_FLANK = 20


def write_top_variants(
    run: str | Path, result: VariantScores, output: str | Path, source: str | Path, genome: str | Path, top: int = 10
) -> Path:
    """Write ``RUN/variants.json`` and ``RUN/plots/variants/*.png`` for the ``top`` variants by ``|delta|``.

    Each top variant gets its reference and alternative windows and their gradient x input
    attributions (of the first task's score, forward strand), one value per window position
    at the observed base, and a figure of both as logos around the variant.

    Returns:
        The path of ``variants.json``.
    """
    from seqcnn.interpret.attribution import gradient_x_input
    from seqcnn.runs.folder import RunFolder

    run = Path(run)
    order = np.argsort(-np.abs(result.delta[:, 0]), kind="stable")[:top] if len(result.variants) else np.zeros(0, int)
    folder = RunFolder(run)
    model = folder.model()
    folder.plot_folder("variants")  # emptied: figures of an earlier call would look current
    w = result.windows
    target = _attribution_target(model, int(result.tasks[0] or 0) if result.tasks[0] else None)
    maps = {}
    for name, codes in (("ref", w.ref[order]), ("alt", w.alt[order])):
        maps[name] = gradient_x_input(model, onehot(codes), target=target).sum(1) if len(order) else np.zeros((0, 0))
    rows = [_top_row(run, result, int(i), rank, maps["ref"][rank], maps["alt"][rank]) for rank, i in enumerate(order)]
    info = {
        "source": str(source),
        "genome": str(genome),
        "scores": str(output),
        "score": result.score_name,
        "tasks": result.tasks,
        "n_scored": len(result.variants),
        "skipped": dict(result.skips.counts),
        "first_skipped": result.skips.first,
        "contig_map": result.contig_map,
        "attribution": "gradient x input of the first task's score, forward strand, at the observed base",
        "top": rows,
    }
    folder.write_variants_summary(info)
    return run / "variants.json"


def _attribution_target(model: torch.nn.Module, task: int | None) -> int:
    """The ``target`` of :func:`seqcnn.interpret.attribution.class_score` that explains the scored task."""
    if getattr(model, "output_activation", None) == "sigmoid" and model.layers[-1].out_features == 1:
        return 1  # one sigmoid unit: its logit is the log-odds of class 1
    if task is not None:
        return task
    return model.layers[-1].out_features - 1


def _top_row(run: Path, result: VariantScores, i: int, rank: int, ref_map: np.ndarray, alt_map: np.ndarray) -> dict:
    """One top variant's record for ``variants.json``, with its figure drawn."""
    from seqcnn.sequence import decode

    v, w = result.variants[i], result.windows
    offset = v.pos - 1 - int(w.start[i])
    name = f"{rank + 1:02d}_{_safe(v.chrom)}_{v.pos}_{_safe(v.ref)[:10]}_{_safe(v.alt)[:10]}.png"
    plot = plot_variant(
        run / "plots" / "variants" / name,
        w.ref[i],
        w.alt[i],
        ref_map,
        alt_map,
        offset,
        v,
        float(result.ref_score[i, 0]),
        float(result.alt_score[i, 0]),
    )
    return {
        "rank": rank + 1,
        "chrom": v.chrom,
        "pos": v.pos,
        "id": v.id,
        "ref": v.ref,
        "alt": v.alt,
        "ref_score": float(result.ref_score[i, 0]),
        "alt_score": float(result.alt_score[i, 0]),
        "delta": float(result.delta[i, 0]),
        "window_start": int(w.start[i]) + 1,
        "variant_offset": offset,
        "ref_sequence": decode(w.ref[i : i + 1])[0],
        "alt_sequence": decode(w.alt[i : i + 1])[0],
        "ref_attribution": [round(float(x), 5) for x in ref_map],
        "alt_attribution": [round(float(x), 5) for x in alt_map],
        "plot": str(plot.relative_to(run)),
    }


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "_" for c in text)


def plot_variant(
    path: Path,
    ref: np.ndarray,
    alt: np.ndarray,
    ref_map: np.ndarray,
    alt_map: np.ndarray,
    offset: int,
    variant: Variant,
    ref_score: float,
    alt_score: float,
) -> Path:
    """Reference and alternative attribution logos ``PLOT_FLANK`` bases around the variant, one above the other."""
    from seqcnn.report.logos import draw_logo
    from seqcnn.report.plots import pyplot, save_figure

    plt = pyplot()
    lo = max(0, offset - PLOT_FLANK)
    hi = min(len(ref), offset + max(len(variant.ref), len(variant.alt)) + PLOT_FLANK)
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, 0.16 * (hi - lo)), 3.2), sharex=True)
    for ax, codes, values, label, score, width in (
        (axes[0], ref, ref_map, "reference", ref_score, len(variant.ref)),
        (axes[1], alt, alt_map, "alternative", alt_score, len(variant.alt)),
    ):
        hot = onehot(codes[lo:hi])  # (4, W)
        draw_logo(
            ax,
            hot * values[lo:hi][None, :],
            title=f"{label} {variant.ref if label == 'reference' else variant.alt}: score {score:.3g}",
            ylabel="grad x input",
        )
        ax.axvspan(offset - lo - 0.5, offset - lo + width - 0.5, color="#cccccc", alpha=0.4, zorder=0)
    low = min(a.get_ylim()[0] for a in axes)
    high = max(a.get_ylim()[1] for a in axes)
    for ax in axes:  # one scale, so that the two alleles compare by eye
        ax.set_ylim(low, high)
    ticks = list(range(0, hi - lo, 10))
    axes[1].set_xticks(ticks, [str(variant.pos - offset + lo + t) for t in ticks])
    axes[1].set_xlabel(f"{variant.chrom} position", fontsize=8)
    fig.suptitle(f"{variant.label()} (id {variant.id}): delta {alt_score - ref_score:+.3g}", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
