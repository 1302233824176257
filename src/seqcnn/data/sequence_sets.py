"""Sequence files, BED peaks on a genome and stores as labelled sets and bundles.

A sequence file follows a straight line (:func:`sequence_bundle`): read -> choose targets -> task ->
negatives if the data are positives only -> encode. The assembly of positives-only training sets
(:func:`training_set`) and of BED peak bundles (:func:`peak_bundle`) lives here; the algorithms they
use live in :mod:`seqcnn.data.negatives`. :func:`default_model` is the one place the default zoo
model of sequences is chosen. :func:`seqcnn.data.load.load_data` picks the kind of input and calls
these.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from seqcnn.data import leakage
from seqcnn.data.sets import DataBundle, LabelledSet, concat, to_labelled
from seqcnn.data.store import Store
from seqcnn.data.targets import (
    MISSING,
    Task,
    choose_targets,
    encode_targets,
    infer_task,
    label_like,
    positives_task,
)
from seqcnn.errors import InputError
from seqcnn.io import Records, read_sequences
from seqcnn.io.bed import Genome, check_no_overlap, chromosome_split, peak_windows, read_bed
from seqcnn.sequence import encode_batch

#: The zoo model that ``seqcnn train`` picks for positives-only (ChIP-seq style) data; chosen
#: by measurement, see BENCHMARKS.md (## ENCODE).
CHIPSEQ_MODEL = "chipseq"

#: Shuffled copies per positive when the user does not say (``--negatives`` unset). Two measured
#: better than DeepBind's one on ENCODE ARID3A, and four better than two with the default model
#: on the ten ENCODE experiments (median test AUROC 0.9756/0.9760 against 0.9754/0.9720 over two
#: seeds; BENCHMARKS.md, ENCODE).
DEFAULT_COPIES = 4

#: The zoo model for labelled sequences when the user names none: chosen on the defaults panel (BENCHMARKS.md,
#: Defaults panel: better than the primer's model on every set but the primer's own, where both are >= 0.996).
#: The built-in primer-sim data keep the primer's model, as the lecture teaches.
LABELLED_MODEL = CHIPSEQ_MODEL

#: The zoo model for multi-class, multi-label and regression tasks: global max pooling of 256 motif
#: detectors fits any length and task; the primer's small dense layer collapsed to constant outputs on
#: multilabel-sim under the seqcnn recipe (BENCHMARKS.md, ## Targets through the product).
TASK_MODEL = CHIPSEQ_MODEL

#: The recipe for :data:`TASK_MODEL` on those tasks: the defaults panel's recipe for a convolution with
#: global max pooling (BENCHMARKS.md, Defaults panel); no reverse-complement augmentation, which would be
#: wrong for strand-specific labels such as splice donors and acceptors.
TASK_RECIPE = "labelled"


def default_model(positives: bool, task: Task | None = None) -> str:
    """The zoo model ``seqcnn train`` picks for sequences (the one place this is decided): ChIP-seq's for
    positives-only data, :data:`LABELLED_MODEL` for two labelled classes, :data:`TASK_MODEL` for other tasks."""
    if positives:
        return CHIPSEQ_MODEL
    return LABELLED_MODEL if task is None or task.kind == "binary" else TASK_MODEL


def default_recipe(task: Task | None = None) -> str:
    """The recipe that goes with :func:`default_model` for labelled sequences of ``task``."""
    return TASK_RECIPE  # the defaults panel's recipe for the model with global max pooling, every task kind


def sequence_bundle(
    data: str | Path,
    labels: str | Path | None = None,
    *,
    fit: str = "error",
    length: int | None = None,
    seed: int = 0,
    negatives: str | int | None = None,
    negatives_file: str | Path | None = None,
    target: str | Sequence[str] | None = None,
    task: str | None = None,
    dedupe: bool = False,
) -> DataBundle:
    """A sequence file as a bundle: read -> choose targets -> task -> negatives if positives only -> encode.

    The target columns and the task are chosen by :mod:`seqcnn.data.targets`; the lines that say so
    are the bundle's ``notes``.
    Positives-only data (ChIP-seq peaks) get the ChIP-seq model and recipe as defaults.

    Raises:
        InputError: for unreadable records, an ambiguous or unknown target, or values that do not
            fit the task.
    """
    records = read_sequences(data, labels, legacy_labels=False)
    notes: list[str] = []
    choice = choose_targets(records, target)
    if dedupe:
        records, summary = leakage.dedupe(records, choice.names)
        notes += [f"seqcnn: {line}" for line in summary.message.splitlines()]
        choice = choose_targets(records, target)
    notes.append(f"seqcnn: {choice.message}")
    if choice.positives_only:
        _refuse_unlabelled_positives(records)
        if task not in (None, "binary"):
            raise InputError(f"{records.source}: --task {task} needs target values, but the file has none "
                             "(positives only); pass --target COLUMN")
        records.labels = None
        train = training_set(records, negatives=negatives, negatives_file=negatives_file, fit=fit, length=length,
                             seed=seed, note=notes.append)
        train.task = positives_task()
        chip = negatives != "none"
        recipe = "chipseq" if chip else default_recipe()
        return DataBundle(train, default_model=default_model(chip), default_recipe=recipe, notes=notes)
    # the sequences first: a bad base or length is reported before any target problem, as before
    codes = encode_batch(records.seqs, length=length, fit=fit, ids=records.ids, source=records.source)
    learnt = infer_task(records, choice.names, task)
    notes.append(f"seqcnn: {learnt.describe()}")
    train = labelled_set(records, learnt, codes, negatives=negatives, negatives_file=negatives_file, fit=fit,
                         length=length, seed=seed, note=notes.append)
    return DataBundle(train, default_model=default_model(False, learnt), default_recipe=default_recipe(learnt),
                      notes=notes)


def _refuse_unlabelled_positives(records: Records) -> None:
    """Refuse a label column that is 1 where given but empty elsewhere: positives only needs every record labelled
    (or none), or a missing label would silently become a positive.

    Raises:
        InputError: naming the first record without a value.
    """
    for name, values in records.columns.items():
        if not label_like(name):
            continue
        present = [v.strip().lower() not in MISSING for v in values]
        if any(present) and not all(present):
            i = present.index(False)
            raise InputError(f"{records.where(i)}: no value for target {name!r}; every record needs one when the "
                             "others are 1 (positives only), or pass --target with a column of 0/1")


def labelled_set(records: Records, task: Task, codes: np.ndarray | None = None, *, negatives: str | int | None = None,
                 negatives_file=None, fit: str = "error", length: int | None = None, seed: int = 0,
                 note=print) -> LabelledSet:
    """Records with target columns as a labelled set for ``task``.

    Args:
        records: the records, with the task's target columns.
        task: the task (:func:`seqcnn.data.targets.infer_task`).
        codes: the records' sequences already encoded, or None to encode them here.
        negatives: ``--negatives``: for a binary task, shuffled negatives are added (see
            :func:`training_set`); refused for other tasks.
        negatives_file: likewise, a file of negatives.
        fit: length handling (see :func:`seqcnn.sequence.encode_batch`).
        length: target length for ``fit``.
        seed: seed of the shuffles.
        note: where a line about added negatives goes.

    Raises:
        InputError: for values that do not fit the task, or negatives asked for a task other than binary.
    """
    encoded = encode_targets(records, task)
    names = None if task.classes in (None, ("0", "1")) else list(task.classes)
    wanted = negatives is not None or negatives_file is not None
    if wanted and task.kind != "binary":
        raise InputError(f"{records.source}: --negatives and --negatives-file add class-0 sequences to binary data; "
                         f"this is a {task.kind} task")
    if wanted:
        records.labels = encoded.y.astype(np.float64)
        out = training_set(records, negatives=negatives, negatives_file=negatives_file, fit=fit, length=length,
                           seed=seed, note=note)
        out.class_names, out.task = names, task
        return out
    if codes is None:
        codes = encode_batch(records.seqs, length=length, fit=fit, ids=records.ids, source=records.source)
    return LabelledSet(codes, encoded.y, list(records.ids), str(records.source), class_names=names, task=task)


def test_records_set(records: Records, task: Task, *, fit: str = "error", length: int | None = None) -> LabelledSet:
    """Labelled test records encoded for a trained ``task`` (its target columns must be there)."""
    encoded = encode_targets(records, task)
    codes = encode_batch(records.seqs, length=length, fit=fit, ids=records.ids, source=records.source)
    names = None if task.classes in (None, ("0", "1")) else list(task.classes)
    return LabelledSet(codes, encoded.y, list(records.ids), str(records.source), class_names=names, task=task)


def parse_negatives(value: str | int | None) -> tuple[str, int]:
    """Read a ``--negatives`` value: ``auto`` (None), ``shuffle``, ``gc``, ``none`` or a count.

    ``shuffle`` is one shuffled copy per positive (as DeepBind); ``auto`` is
    :data:`DEFAULT_COPIES` copies.

    Returns:
        ``(method, copies)`` with method ``"auto"``, ``"shuffle"``, ``"gc"`` or ``"none"``.

    Raises:
        InputError: for another value.
    """
    text = "auto" if value is None else str(value).strip().lower()
    if text == "auto":
        return text, DEFAULT_COPIES
    if text in ("shuffle", "gc", "none"):
        return text, 1
    if text.isdigit() and int(text) >= 1:
        return "shuffle", int(text)
    raise InputError(
        "--negatives must be 'shuffle', 'gc', 'none' or a number of shuffled copies per positive (1, 2, ...), but "
        f"got {value!r}"
    )


def positives_only(labels: np.ndarray | None) -> bool:
    """True when there are no labels, or every label is 1."""
    return labels is None or (len(labels) > 0 and bool(np.all(labels == 1)))


def training_set(
    records,
    *,
    negatives: str | int | None = None,
    negatives_file=None,
    fit: str = "error",
    length: int | None = None,
    seed: int = 0,
    note=print,
):
    """The labelled training set of ``records``, with negatives added where needed.

    Records without labels, or with label 1 only, are positives. Unless ``negatives`` is
    ``"none"``, positives-only data gets the sequences of ``negatives_file`` (label 0) when
    given, else dinucleotide-shuffled copies of the positives; ``note`` says so in one line.

    Args:
        records: :class:`seqcnn.io.Records` of the training file.
        negatives: see :func:`parse_negatives`; ``"gc"`` needs a genome (BED input) and is
            refused here.
        negatives_file: a sequence file of negatives (any format :func:`read_sequences` reads).
        fit: length handling (see :func:`seqcnn.sequence.encode_batch`).
        length: target length for ``fit``.
        seed: seed of the shuffles.
        note: where the one-line note goes (stderr by default).

    Returns:
        A :class:`seqcnn.data.sets.LabelledSet`; negatives have ids ``<id>_shuf<c>``.

    Raises:
        InputError: for bad records or options.
    """
    method, copies = parse_negatives(negatives)
    wanted = method in ("shuffle", "gc") or negatives_file is not None
    if method == "none" or not (wanted or positives_only(records.labels)):
        return to_labelled(records, fit=fit, length=length)
    if method == "gc":
        raise InputError("--negatives gc draws GC-matched windows from a genome; it needs BED input with --genome")
    if records.labels is None:
        records.labels = np.ones(len(records))
    # negatives compiles its shuffle with numba (about a second): only for positives-only data
    from seqcnn.data.negatives import shuffled_negatives

    pos = to_labelled(records, fit=fit, length=length, min_classes=1)
    if negatives_file is not None:
        neg = _negatives_from_file(negatives_file, pos.x.shape[1], fit)
        what = f"{len(neg)} negatives from {negatives_file}"
    else:
        neg = shuffled_negatives(pos, copies, seed)
        what = f"{len(neg)} dinucleotide-shuffled negatives ({copies} per positive, --negatives)"
    if positives_only(records.labels):
        emit_note(note, f"seqcnn: {records.source}: all {len(pos)} training sequences are positives; adding {what}")
    return concat(pos, neg)


def emit_note(note, text: str) -> None:
    """Give one line to ``note``: ``print`` writes it to stderr, None drops it, else ``note(text)``."""
    if note is print:
        print(text, file=sys.stderr)
    elif note is not None:
        note(text)


def _negatives_from_file(path, length: int, fit: str):
    records = read_sequences(path)
    records.labels = np.zeros(len(records))
    return to_labelled(records, fit=fit, length=length, min_classes=1)


def peak_bundle(
    bed,
    genome_path,
    *,
    width: int = 101,
    summit_column: int | None = None,
    test_chroms: Sequence[str] = (),
    negatives: str | int | None = None,
    seed: int = 0,
    note=print,
):
    """Training (and held-out test) sets from BED peaks and a genome FASTA.

    Positives are fixed-width windows around the peaks (:func:`seqcnn.io.bed.peak_windows`).
    Negatives are dinucleotide shuffles of them (default, or ``N`` copies) or, with
    ``negatives="gc"``, GC-matched genome windows that overlap no peak, drawn from the same
    side of the chromosome split. With ``test_chroms``, peaks on those chromosomes form the
    test set, and no training window may overlap a test window.

    Returns:
        A :class:`seqcnn.data.sets.DataBundle` whose default model and recipe are ChIP-seq's.

    Raises:
        InputError: for bad BED records, chromosomes absent from the genome, intervals outside
            their chromosome, an empty hold-out, or overlapping training and test windows.
    """
    method, copies = parse_negatives(negatives)
    if method == "none":
        raise InputError("BED peaks are positives only; --negatives none leaves nothing to contrast them with")
    genome = Genome(genome_path)
    peaks = read_bed(bed, summit_column)
    windows = peak_windows(peaks, genome, width, bed)
    codes = np.stack([genome.codes(*w) for w in windows])
    ids = [f"{c}:{s}-{e}" for c, s, e in windows]
    whole = LabelledSet(codes, np.ones(len(codes), dtype=np.int64), ids, str(bed))
    parts = chromosome_split(windows, test_chroms, bed) if test_chroms else (np.arange(len(windows)), None)
    sets, places = [], []
    for index, chroms in zip(parts, (_other_chroms(genome, test_chroms), list(test_chroms))):
        if index is None:
            continue
        pos, where = whole.subset(index), [windows[i] for i in index]
        neg, neg_where = _peak_negatives(pos, method, copies, genome, windows, chroms, seed)
        sets.append(concat(pos, neg))
        places.append(where + neg_where)
    if len(sets) == 2:
        check_no_overlap(places[0], places[1], bed)
    emit_note(
        note,
        f"seqcnn: {bed}: {len(windows)} peaks as {width} bp windows; adding "
        f"{'GC-matched genome' if method == 'gc' else 'dinucleotide-shuffled'} negatives",
    )
    return DataBundle(sets[0], sets[1] if len(sets) == 2 else None, CHIPSEQ_MODEL, "chipseq")


def _other_chroms(genome, test_chroms: Sequence[str]) -> list[str]:
    return [c for c in genome.lengths if c not in set(test_chroms)]


def _peak_negatives(pos, method: str, copies: int, genome, peaks, chroms, seed: int):
    # negatives compiles its shuffle with numba (about a second): only for positives-only data
    from seqcnn.data.negatives import gc_matched_background, shuffled_negatives

    if method != "gc":
        neg = shuffled_negatives(pos, copies, seed)
        return neg, []  # shuffles sit where their peaks are: the peaks' own check covers them
    codes, where = gc_matched_background(genome, pos.x, n=copies * len(pos), exclude=peaks, chroms=chroms, seed=seed)
    ids = [f"bg:{c}:{s}-{e}#{i}" for i, (c, s, e) in enumerate(where)]
    return replace(pos, x=codes, labels=np.zeros(len(codes), dtype=np.int64), ids=ids), where
def store_bundle(path: str | Path, test: str | Path | None = None):
    """A :class:`seqcnn.data.sets.DataBundle` whose training data is a whole store (nothing loaded).

    Raises:
        InputError: for a separate ``test`` file (a store is split into its own test part;
            prepare the test data as a second store and use ``seqcnn evaluate``).
    """
    if test is not None:
        raise InputError(
            f"{path}: --test cannot be combined with a store; the store's own blocks are split off for the test"
        )
    return DataBundle(Store(path).all(), default_model="deepbind", default_recipe=default_recipe())
