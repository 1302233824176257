"""``explain()``: what a trained network learned, written into its run folder.

For chosen sequences (by default the highest-scoring correctly classified test positives of
the run), three attribution maps -- gradient x input, in-silico saturation mutagenesis and
DeepLIFT/SHAP -- saved as ``attributions.npz`` and drawn as logos and heatmaps under
``plots/saliency/``; the first-layer filters as PWMs (``motifs.meme``, logos under
``plots/filters/``) with their best Tomtom matches in JASPAR (``motifs.tsv``); for a model with
attention, the last attention layer's weights for the same sequences (``attention.npz``, heatmaps
under ``plots/attention/``, :mod:`seqcnn.interpret.attention`); and what was run in ``explain.json``.
Nothing needs the network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from seqcnn.data.batches import sequence_set
from seqcnn.data.targets import Task
from seqcnn.errors import InputError, RunError
from seqcnn.files import safe_name
from seqcnn.interpret import motif_matching
from seqcnn.interpret.attention import save_attention
from seqcnn.interpret.attribution import (
    deep_lift_shap,
    gradient_x_input,
    position_profile,
    saturation_mutagenesis,
)
from seqcnn.interpret.filters import consensus, filter_motifs, first_conv, information_content, trim
from seqcnn.interpret.patterns import PatternOptions, explain_patterns, start_compiling
from seqcnn.io import jaspar, read_sequences
from seqcnn.io.meme import MemeMotif, read_meme
from seqcnn.jobs.inference import predict_tensor
from seqcnn.report.html import write_report
from seqcnn.report.logos import plot_attributions, plot_pwm_logo
from seqcnn.report.plots import plot_position_profile
from seqcnn.runs.folder import RunFolder, recorded_data
from seqcnn.runs.predictions import prediction_header
from seqcnn.sequence import encode_batch, onehot

TSV_COLUMNS = [
    "filter",
    "information_content",
    "n_sites",
    "jaspar_id",
    "jaspar_name",
    "p_value",
    "q_value",
    "orientation",
]
TRIM_BITS = 0.25


@dataclass
class ExplainOptions:
    """Settings of :func:`explain` (written to ``explain.json``).

    Attributes:
        n_sequences: sequences to attribute.
        target: the output explained: a class index, or (multilabel, regression) a task's index;
            :func:`explain` sets it from ``target_class`` or ``task_name`` when either is given.
        target_class: the class explained, by name or index (``--target-class``).
        task_name: the task (target column) explained, for multilabel and regression runs (``--task-name``).
        threshold: fraction of a filter's maximum activation a window needs to count.
        release, collection, tax_group: the JASPAR motifs to match against.
        extra_motifs: MEME files whose motifs are added to the JASPAR targets.
        top: matches per filter in ``motifs.tsv``.
        min_bits: filters whose (trimmed) PWM holds fewer bits are not matched: Tomtom gives
            long, nearly uniform queries small p-values against long targets.
        n_shuffles: dinucleotide-shuffled references per sequence for DeepLIFT/SHAP.
        seed: seed of the shuffles.
        filters: compute filter PWMs and matches (needs a Conv1D first layer).
        patterns: also find TF-MoDISco patterns over the test positives (or all of ``file``)
            and match them to JASPAR (:mod:`seqcnn.interpret.patterns`).
        progress: show progress bars.
    """

    n_sequences: int = 10
    target: int = 1
    target_class: str | None = None
    task_name: str | None = None
    threshold: float = 0.5
    release: str = jaspar.DEFAULT_RELEASE
    collection: str = jaspar.DEFAULT_COLLECTION
    tax_group: str = jaspar.DEFAULT_TAX_GROUP
    extra_motifs: list[str] = field(default_factory=list)
    top: int = 5
    min_bits: float = 5.0
    n_shuffles: int = 20
    seed: int = 0
    filters: bool = True
    patterns: bool = False
    progress: bool = True

    def check(self) -> ExplainOptions:
        """Validate values; raise :class:`InputError` naming the option."""
        if self.n_sequences < 1:
            raise InputError(f"--sequences must be at least 1, got {self.n_sequences}")
        if self.top < 1:
            raise InputError(f"--top must be at least 1, got {self.top}")
        if self.n_shuffles < 1:
            raise InputError(f"--shuffles must be at least 1, got {self.n_shuffles}")
        if not 0.0 < self.threshold <= 1.0:
            raise InputError(f"--threshold must be in (0, 1], got {self.threshold}")
        return self


@dataclass
class Chosen:
    """Sequences to explain: ids, one-hot ``(N, 4, L)``, model scores, and where they came from."""

    ids: list[str]
    x: np.ndarray
    scores: np.ndarray
    source: str


def explain(
    run: str | Path, file: str | Path | None = None, *, fit: str = "error", options: ExplainOptions | None = None
) -> Path:
    """Explain a run folder: attributions, filter PWMs and JASPAR matches, written into it.

    Args:
        run: the run folder.
        file: sequences to explain instead of the run's test positives (the first
            ``n_sequences`` are attributed; all of them make the filter PWMs).
        fit: length handling for ``file`` (see :func:`seqcnn.sequence.encode_batch`).
        options: the settings; defaults when None.

    Returns:
        The run folder (its ``report.html`` rewritten to include the results).

    Raises:
        RunError: for a folder without a model or weights, or without predictions when no
            ``file`` is given.
        InputError: for sequences that do not fit the model, or bad options.
        SpecError: for a model without a Conv1D first layer (unless ``filters`` is off).
    """

    options = (options or ExplainOptions()).check()
    if options.patterns:
        start_compiling()  # before anything starts a thread (see there)
    run = Path(run)
    folder = RunFolder(run)
    model, task = folder.model(), folder.task()
    options.target = output_index(task, options)
    length = model.input_shape[-1]
    if file is not None:
        chosen, pool = _file_sequences(model, file, fit, length, options, task)
    else:
        chosen, pool = _run_sequences(run, folder.config(), length, options, task)
    explain_model(model, chosen, pool, run, options, single_output=task is not None and task.classes is None)
    if options.patterns:
        _patterns(model, run, pool if file is not None else None, options)

    write_report(run)  # the run's page now shows the saliency maps and motifs
    return run


def output_index(task: Task | None, options: ExplainOptions) -> int:
    """The model output to explain, from ``--target-class`` or ``--task-name`` (else ``options.target``).

    Raises:
        InputError: for a class or task the run does not have (listing those it has), an option
            that does not fit the task, or a multi-task run without ``--task-name``.
    """
    if task is None or task.classes is not None:
        if options.task_name is not None:
            raise InputError(f"--task-name is for multi-label and regression runs; this run predicts classes; use "
                             f"--target-class{'' if task is None else ' (one of ' + ', '.join(task.classes) + ')'}")
        return options.target if options.target_class is None else _class_index(task, options.target_class)
    if options.target_class is not None:
        raise InputError(f"--target-class is for classification runs; this run is {task.kind} on "
                         f"{', '.join(task.targets)}: use --task-name")
    if options.task_name is None:
        if len(task.targets) == 1:
            return 0
        raise InputError(f"the run has {len(task.targets)} tasks; choose one with --task-name: "
                         f"{', '.join(task.targets)}")
    if options.task_name not in task.targets:
        raise InputError(f"--task-name {options.task_name!r} is not a task of the run; its tasks are: "
                         f"{', '.join(task.targets)}")
    return task.targets.index(options.task_name)


def _class_name(task: Task | None, index: int) -> str:
    return task.classes[index] if task is not None and task.classes is not None else str(index)


def _class_index(task: Task | None, name: str) -> int:
    classes = list(task.classes) if task is not None else None
    if classes is not None and name in classes:
        return classes.index(name)
    if name.isdigit() and (classes is None or int(name) < len(classes)):
        return int(name)
    listed = ", ".join(classes) if classes else "0, 1, ..."
    raise InputError(f"--target-class {name!r} is not a class of the run; its classes are: {listed} (or their index)")


class SingleOutput(torch.nn.Module):
    """One output of a model with independent outputs (multilabel, regression), as a ``(N, 1)`` model:
    its attributions explain that output's logit, not its difference from the others'."""

    def __init__(self, model: torch.nn.Module, index: int):
        super().__init__()
        self.model, self.index = model, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[:, self.index : self.index + 1]


def explain_model(
    model, chosen: Chosen, pool: np.ndarray | None, out: str | Path, options: ExplainOptions | None = None,
    single_output: bool = False,
) -> dict:
    """Explain any model (a spec model or a plain torch module taking ``(N, 4, L)``) into ``out``.

    Args:
        model: the network; it must return logits ``(N, K)``.
        chosen: the sequences to attribute.
        pool: one-hot sequences ``(M, 4, L)`` whose windows make the filter PWMs; ``chosen.x``
            when None.
        out: the folder to write into.
        options: the settings.
        single_output: the outputs are independent (multilabel, regression): output
            ``options.target`` is explained on its own.

    Returns:
        The summary written to ``explain.json``.
    """

    options = (options or ExplainOptions()).check()
    out = Path(out)
    started = time.time()
    if options.filters:
        first_conv(model)  # fail before the slow part
    targets = _targets(options) if options.filters else ()
    summary: dict = {
        "sequences": {"source": chosen.source, "ids": chosen.ids, "scores": [float(s) for s in chosen.scores]},
        "target": options.target,
    }
    if single_output:
        scored, target = SingleOutput(model, options.target).eval(), 1
        summary["attributions"] = _attributions(scored, chosen, out, replace(options, target=1))
    else:
        scored, target = model, options.target
        summary["attributions"] = _attributions(model, chosen, out, options)
    summary["where"] = _where(scored, chosen.x if pool is None else pool, target, out)
    attention = save_attention(model, chosen.ids, chosen.x, out,
                               lambda items: _progress(items, "attention plots", options.progress))
    if attention is not None:  # models with a MultiHeadAttention or TransformerEncoder layer
        summary["attention"] = attention
    if options.filters:
        summary["filters"] = _filters(model, chosen.x if pool is None else pool, targets, out, options)
    summary["seconds"] = round(time.time() - started, 2)
    RunFolder(out).write_explain_summary(summary)
    return summary


# --- choosing sequences ------------------------------------------------------------------


def _file_sequences(model, file, fit: str, length: int, options: ExplainOptions,
                    task: Task | None = None) -> tuple[Chosen, np.ndarray]:

    records = read_sequences(file, legacy_labels=False)
    codes = encode_batch(records.seqs, length=length, fit=fit, ids=records.ids, source=records.source)
    n = min(options.n_sequences, len(codes))
    probs = predict_tensor(model, sequence_set(codes[:n], None, next(model.parameters()).device), task=task)
    scores = probs[:, options.target] if probs.shape[1] > options.target else probs[:, -1]
    return Chosen(list(records.ids[:n]), onehot(codes[:n]), scores, str(file)), onehot(codes)


def _run_sequences(run: Path, config: dict, length: int, options: ExplainOptions,
                   task: Task | None = None) -> tuple[Chosen, np.ndarray]:
    """The top-scoring correctly classified test positives of a run (multilabel: labelled 1 and
    predicted so; regression: the highest predictions), and all its test sequences."""

    rows = _read_predictions(RunFolder(run), options.target, task)
    lookup = _data_lookup(config, length)
    found = [r for r in rows if r["id"] in lookup]
    if not found:
        raise RunError(
            f"{run / 'predictions.tsv'}: none of its ids is in the run's data "
            f"({config.get('data', {}).get('source')}); pass FILE"
        )
    positives = sorted((r for r in found if r["positive"]), key=lambda r: -r["score"])
    if not positives:
        if task is not None and task.classes is None:
            what = f"correctly predicted test positive of task {task.targets[options.target]}"
        else:
            what = f"correctly classified test sequence of class {_class_name(task, options.target)}"
        raise RunError(f"{run / 'predictions.tsv'}: no {what}; pass FILE")
    best = positives[: options.n_sequences]
    chosen = Chosen([r["id"] for r in best], onehot(np.stack([lookup[r["id"]] for r in best])),
                    np.array([r["score"] for r in best]), "test positives of predictions.tsv, highest score first")
    return chosen, onehot(np.stack([lookup[r["id"]] for r in found]))


def _read_predictions(run: RunFolder, target: int, task: Task | None = None) -> list[dict]:
    """Rows of ``predictions.tsv`` as ``id``, ``score`` (of the explained output) and ``positive``
    (a correctly predicted member of the explained class or task; regression: every labelled row)."""
    try:
        rows = run.predictions()
    except RunError as exc:
        raise RunError(f"{exc}, so pass the sequences to explain as FILE") from None
    fields = list(rows[0]) if rows else []
    if task is not None and task.classes is None:
        name = task.targets[target]
        column, label = ("p_" if task.kind == "multilabel" else "pred_") + name, name
    else:
        names = list(task.classes) if task is not None else None
        column = "probability" if "probability" in fields else prediction_header(task, False)[1 + target] \
            if task is not None else f"p{target}"
        label = "label"
    needed = {"id", label, column} | ({"predicted"} if task is None or task.classes is not None else set())
    if not needed <= set(fields):
        raise RunError(f"{run.path / 'predictions.tsv'}: expected columns {sorted(needed)}, found {fields}")
    if task is not None and task.classes is None:
        wanted = (lambda r: r[label] == "1" and float(r[column]) > 0.5) if task.kind == "multilabel" else \
            (lambda r: r[label] != "")
    else:
        cls = names[target] if names is not None else str(target)
        wanted = lambda r: r["label"] == cls and r["predicted"] == cls  # noqa: E731
    return [{"id": r["id"], "score": float(r[column]), "positive": wanted(r)} for r in rows]


def _data_lookup(config: dict, length: int) -> dict[str, np.ndarray]:
    """Sequence codes by id, from the run's data read again (test files win: they come later)."""
    lookup: dict[str, np.ndarray] = {}
    try:
        parts = recorded_data(config)
    except RunError as exc:
        raise RunError(f"{exc}; pass the sequences to explain as FILE") from None
    for _, records in parts:
        codes = encode_batch(records.seqs, length=length, fit="pad-crop", ids=records.ids, source=records.source)
        lookup.update(zip(records.ids, codes))
    return lookup


# --- attributions ------------------------------------------------------------------------


def _attributions(model, chosen: Chosen, out: Path, options: ExplainOptions) -> dict:

    x, target = chosen.x, options.target
    started = time.time()
    maps = {"gradient x input": gradient_x_input(model, x, target)}
    ism = saturation_mutagenesis(model, x, target, progress=options.progress)
    ism_seconds = time.time() - started
    maps["DeepLIFT/SHAP (dinucleotide shuffles)"] = deep_lift_shap(model, x, target, options.n_shuffles, options.seed)
    folder = RunFolder(out)
    folder.write_arrays(
        "attributions.npz",
        ids=np.array(chosen.ids, dtype=str),
        sequences=x.astype(np.float32),
        scores=chosen.scores.astype(np.float64),
        gradient_x_input=maps["gradient x input"],
        ism=ism,
        deep_lift_shap=maps["DeepLIFT/SHAP (dinucleotide shuffles)"],
    )
    saliency = folder.plot_folder("saliency")
    plots = []
    for k, seq_id in enumerate(_progress(chosen.ids, "saliency plots", options.progress)):
        path = saliency / f"{k:02d}_{safe_name(seq_id)}.png"
        plot_attributions(
            x[k],
            {name: m[k] for name, m in maps.items()},
            ism[k],
            path,
            title=f"{seq_id}  (score {chosen.scores[k]:.4g})",
        )
        plots.append(str(path.relative_to(out)))
    return {
        "methods": ["gradient_x_input", "ism", "deep_lift_shap"],
        "score": "log-odds of the target class from the logits",
        "ism_variants": int(3 * x.shape[0] * x.shape[2]),
        "ism_seconds": round(ism_seconds, 3),
        "deep_lift_shap": {
            "references": "dinucleotide shuffles",
            "n_shuffles": options.n_shuffles,
            "seed": options.seed,
        },
        "file": "attributions.npz",
        "plots": plots,
    }


#: Sequences whose attributions make the profile by position (the first ones of the pool): the mean over 5,000
#: sequences has a standard error of about 1.4 % of the spread between sequences at each position.
MAX_WHERE = 5000


def _where(model, pool: np.ndarray, target: int, out: Path) -> dict:
    """Where the model looks: the mean absolute gradient x input by position over ``pool`` (the run's test
    sequences, or the file's), as ``position.tsv`` and ``plots/where_it_looks.png``; with how concentrated it is.

    ``top_decile_share`` is the share of the attribution on the tenth of positions that carry most of it: near
    0.1 for a model that looks everywhere alike, near 1 for one that reads a few fixed positions.
    """
    x = pool[:MAX_WHERE]
    profile = position_profile(model, x, target)
    folder = RunFolder(out)
    folder.write_table("position.tsv", ["position", "mean_abs_attribution"],
                       [[str(i + 1), f"{v:.6g}"] for i, v in enumerate(profile)])
    top = max(1, len(profile) // 10)
    share = float(np.sort(profile)[::-1][:top].sum() / profile.sum()) if profile.sum() > 0 else float("nan")
    peak = int(profile.argmax()) + 1
    path = out / "plots" / "where_it_looks.png"
    plot_position_profile(profile, path, title=f"where the model looks: mean |gradient x input| over {len(x):,} "
                          f"sequences (peak at position {peak}; top tenth of positions: {share:.0%} of it)")
    return {"sequences": len(x), "peak_position": peak, "top_decile_share": round(share, 4),
            "file": "position.tsv", "plot": str(path.relative_to(out))}


def _progress(items, desc: str, enabled: bool):
    # tqdm: only when a progress bar is shown
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="plot", disable=not enabled, leave=False)


# --- patterns ----------------------------------------------------------------------------


def _patterns(model, run: Path, pool: np.ndarray | None, options: ExplainOptions) -> None:
    """TF-MoDISco patterns over ``pool``, or the run's correctly classified test positives, into ``explain.json``."""
    settings = PatternOptions(target=options.target, n_shuffles=options.n_shuffles, seed=options.seed, top=options.top)
    if pool is None:
        wanted = replace(options, n_sequences=settings.max_sequences)
        pool = _run_sequences(run, RunFolder(run).config(), model.input_shape[-1], wanted)[0].x
    folder = RunFolder(run)
    summary = folder.explain_summary() or {}
    summary["patterns"] = explain_patterns(model, pool, _targets(options), run, settings)
    folder.write_explain_summary(summary)


# --- filters -----------------------------------------------------------------------------


def _targets(options: ExplainOptions) -> tuple:

    targets = list(jaspar.load_jaspar(options.release, options.collection, options.tax_group))
    for path in options.extra_motifs:
        targets += [jaspar.Motif(m.name, m.alt_name or m.name, m.pwm) for m in read_meme(path)]
    return tuple(targets)


def _filters(model, pool: np.ndarray, targets: tuple, out: Path, options: ExplainOptions) -> dict:

    motifs = filter_motifs(model, pool, options.threshold)
    names = [f"filter_{i:0{max(2, len(str(len(motifs) - 1)))}d}" for i in range(len(motifs))]
    pwms = motifs.pwms()
    trimmed = [_trimmed(pwms[i]) for i in range(len(motifs))]
    live = [i for i in range(len(motifs)) if motifs.n_sites[i] > 0]
    informative = [i for i in live if information_content(trimmed[i]).sum() >= options.min_bits]
    matches = dict(zip(informative, motif_matching.match([trimmed[i] for i in informative], targets, options.top)))
    folder = RunFolder(out)
    folder.write_motifs("motifs.meme", [MemeMotif(names[i], trimmed[i], consensus(trimmed[i]), int(motifs.n_sites[i]))
                                        for i in live])
    folder.write_table("motifs.tsv", TSV_COLUMNS, _motif_rows(names, trimmed, motifs.n_sites, matches, targets))
    _filter_logos(folder.plot_folder("filters"), names, trimmed, matches, targets, live, options.progress)
    significant = sum(1 for i in informative if matches[i] and matches[i][0].q_value < 0.05)
    return {
        "threshold": options.threshold,
        "pool_sequences": int(len(pool)),
        "n_filters": len(motifs),
        "with_sites": len(live),
        "trim_bits": TRIM_BITS,
        "min_bits": options.min_bits,
        "matched": len(informative),
        "matched_q_below_0.05": significant,
        "jaspar": {
            "release": options.release,
            "collection": options.collection,
            "tax_group": options.tax_group,
            "n_motifs": len(targets),
            "extra_motifs": options.extra_motifs,
        },
        "files": ["motifs.meme", "motifs.tsv", "plots/filters"],
    }


def _trimmed(pwm: np.ndarray) -> np.ndarray:

    start, end = trim(pwm, TRIM_BITS)
    return pwm[:, start:end]


def _motif_rows(names, pwms, n_sites, matches: dict, targets) -> list[list[str]]:
    """The rows of ``motifs.tsv``: each filter's information content and sites, then each of its matches."""
    rows = []
    for i, name in enumerate(names):
        head = [name, f"{information_content(pwms[i]).sum() if n_sites[i] else 0.0:.3f}", str(int(n_sites[i]))]
        for m in matches.get(i) or [None]:
            rows.append(head + motif_matching.match_columns(m, targets))
    return rows


def _filter_logos(folder: Path, names, pwms, matches: dict, targets, live, progress: bool) -> None:

    for i in _progress(live, "filter logos", progress):
        bits = information_content(pwms[i])
        best = matches[i][0] if matches.get(i) else None
        label = (
            f", best match {targets[best.target].name} (q={best.q_value:.2g})"
            if best and best.q_value < 0.05
            else ", no match with q < 0.05"
        )
        plot_pwm_logo(pwms[i], bits, folder / f"{names[i]}.png", title=f"{names[i]}: {bits.sum():.1f} bits{label}")
