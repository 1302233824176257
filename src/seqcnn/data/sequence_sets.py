"""Loading: a training run's data from its input, whatever its kind, as a :class:`DataBundle`.

:func:`load_data` makes one decision, the input's kind (:func:`input_kind`: a built-in data set,
an on-disk store, BED peaks on a genome, images, or a sequence file), then follows a straight
line for that kind: read -> records -> negatives if the data are positives only -> encode.
:func:`split_bundle` then splits it into training, validation and test parts (stratified, by
:func:`seqcnn.data.builtin.split`, or by blocks of a store).
The assembly of positives-only training sets (:func:`training_set`) and of BED peak bundles
(:func:`peak_bundle`) lives here; the algorithms they use live in :mod:`seqcnn.data.negatives`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from seqcnn.data import leakage
from seqcnn.data.builtin import BUILTIN, load_builtin, split
from seqcnn.data.image_sets import image_bundle, read_images
from seqcnn.data.sets import DataBundle, LabelledSet, concat, to_labelled
from seqcnn.data.store import Store, StorePart, is_store
from seqcnn.data.targets import (
    MISSING,
    TASK_CHOICES,
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
from seqcnn.io.images import is_image_source
from seqcnn.sequence import decode, encode_batch

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


#: The kinds of training input :func:`load_data` tells apart.
KINDS = ("builtin", "store", "peaks", "images", "sequences")


def input_kind(data: str | Path | None, genome: str | Path | None = None) -> str:
    """The kind of a training input, one of :data:`KINDS`.

    Raises:
        InputError: for a path that does not exist and is not a built-in name.
    """
    if genome is not None:
        return "peaks"
    if data is None or (str(data) in BUILTIN and not Path(data).exists()):
        return "builtin"
    if not Path(data).exists():
        raise InputError(f"{data}: file not found, and not a built-in data set (valid names: {', '.join(BUILTIN)})")
    if is_store(data):
        return "store"
    return "images" if is_image_source(data) else "sequences"


def load_data(
    data: str | Path | None = None,
    labels: str | Path | None = None,
    *,
    test: str | Path | None = None,
    test_labels: str | Path | None = None,
    fit: str = "error",
    length: int | None = None,
    seed: int = 0,
    data_dir: str | None = None,
    negatives: str | int | None = None,
    negatives_file: str | Path | None = None,
    genome: str | Path | None = None,
    width: int = 101,
    summit_column: int | None = None,
    test_chroms: Sequence[str] = (),
    target: str | Sequence[str] | None = None,
    task: str | None = None,
    input_shape: tuple[int, int, int] | None = None,
    dedupe: bool = False,
) -> DataBundle:
    """Load training data (and an optional separate test set) from files or a built-in name.

    Args:
        data: a sequence file, an image source, a store folder, a BED file (with ``genome``) or
            a built-in name; None gives ``primer-sim``.
        labels: optional label file for ``data``.
        test: optional separate test file (labelled); not for stores or BED peaks.
        test_labels: optional label file for ``test``.
        fit: length handling (see :func:`seqcnn.sequence.encode_batch`).
        length: target length for ``fit``.
        seed: seed for simulated data and shuffled negatives.
        data_dir: where a named data set's files are (for those read from disk).
        negatives: for positives-only data: ``"shuffle"``, a number of shuffled copies, ``"gc"``
            (BED peaks only) or ``"none"``; see :func:`parse_negatives`.
        negatives_file: a file of negative sequences for a positives-only ``data``.
        genome: a genome FASTA; ``data`` is then a BED file of peaks (see :func:`peak_bundle`).
        width: window width around each peak (BED input).
        summit_column: 1-based BED column with the summit offset (BED input).
        test_chroms: chromosomes held out as the test set (BED input).
        target: the target column(s) of a sequence file (``--target``); None chooses (see
            :func:`seqcnn.data.targets.choose_targets`).
        task: the task kind (``--task``, one of :data:`seqcnn.data.targets.TASK_CHOICES`); None infers it.
        input_shape: ``(H, W, C)`` for a ``.npz`` of flat image rows (``--input-shape``).
        dedupe: drop repeated sequences (or reverse complements) before the split (``--dedupe``).

    Raises:
        InputError: for unreadable or inconsistent data.
    """
    if task is not None and task not in TASK_CHOICES:
        raise InputError(f"--task must be one of {list(TASK_CHOICES)}, but got {task!r}")
    kind = input_kind(data, genome)
    _refuse_options(kind, target, task, input_shape, dedupe)
    if kind == "peaks":
        return peak_bundle(data, genome, width=width, summit_column=summit_column, test_chroms=test_chroms or (),
                           negatives=negatives, seed=seed)
    if kind == "store":  # read batch by batch during training, never loaded
        return store_bundle(data, test)
    if kind == "builtin":
        bundle = load_builtin(str(data or "primer-sim"), seed, data_dir)
    elif kind == "images":  # a folder of class sub-folders, .npz, or IDX images
        bundle = image_bundle(data, labels, input_shape=input_shape)
    else:
        bundle = sequence_bundle(data, labels, fit=fit, length=length, seed=seed, negatives=negatives,
                                 negatives_file=negatives_file, target=target, task=task, dedupe=dedupe)
    if test is not None:
        bundle.test = _test_set(bundle.train, test, test_labels, fit, input_shape)
    return bundle


def _refuse_options(kind: str, target, task: str | None, input_shape, dedupe: bool) -> None:
    """Refuse the target options on inputs that have no columns to choose from."""
    if kind in ("sequences",):
        if input_shape is not None:
            raise InputError("--input-shape reshapes flat image rows of a .npz file; the input is a sequence file")
        return
    if target is not None or dedupe:
        flag = "--target" if target is not None else "--dedupe"
        raise InputError(f"{flag} applies to sequence files (tables, FASTA, label files); the input is {kind} data")
    if task is not None and task != "multiclass" and not (task == "binary" and kind != "images"):
        raise InputError(f"--task {task} needs a sequence file with target columns; {kind} data are classes")
    if input_shape is not None and kind != "images":
        raise InputError(f"--input-shape reshapes flat image rows of a .npz file; the input is {kind} data")


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


def simulated_bundle(records: Records) -> DataBundle:
    """A simulated set (:mod:`seqcnn.data.simulate`) as a bundle, its targets and task chosen and printed
    as a file's would be."""
    choice = choose_targets(records)
    learnt = infer_task(records, choice.names)
    return DataBundle(labelled_set(records, learnt), default_model=default_model(False, learnt),
                      default_recipe=default_recipe(learnt),
                      notes=[f"seqcnn: {learnt.describe()}"])


def multiclass_sim(seed: int = 0, data_dir: str | None = None) -> DataBundle:
    """The built-in ``multiclass-sim`` set (:func:`seqcnn.data.simulate.simulate_multiclass`)."""
    from seqcnn.data.simulate import simulate_multiclass  # reads JASPAR's matrices: only when asked for

    return simulated_bundle(simulate_multiclass(seed=seed))


def multilabel_sim(seed: int = 0, data_dir: str | None = None) -> DataBundle:
    """The built-in ``multilabel-sim`` set (:func:`seqcnn.data.simulate.simulate_multilabel`)."""
    from seqcnn.data.simulate import simulate_multilabel

    return simulated_bundle(simulate_multilabel(seed=seed))


def regression_sim(seed: int = 0, data_dir: str | None = None) -> DataBundle:
    """The built-in ``regression-sim`` set (:func:`seqcnn.data.simulate.simulate_regression`)."""
    from seqcnn.data.simulate import simulate_regression

    return simulated_bundle(simulate_regression(seed=seed))


def _test_set(train: LabelledSet, test: str | Path, test_labels: str | Path | None, fit: str,
              input_shape: tuple[int, int, int] | None = None) -> LabelledSet:
    """The separate test file, read like the training data (sequences fitted to the training length,
    targets encoded for the training set's task)."""
    if train.kind == "image":
        return read_images(test, test_labels, input_shape=input_shape, classes=train.class_names)
    target = train.x.shape[1] if train.kind == "sequence" else None
    if train.task is None or train.task == positives_task():  # made negatives: the test file labels 0/1
        return to_labelled(read_sequences(test, test_labels), fit=fit, length=target, min_classes=1)
    return test_records_set(read_sequences(test, test_labels, legacy_labels=False), train.task, fit=fit, length=target)


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
        _emit(note, f"seqcnn: {records.source}: all {len(pos)} training sequences are positives; adding {what}")
    return concat(pos, neg)


def _emit(note, text: str) -> None:
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
    _emit(
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


def split_bundle(
    bundle: DataBundle, test_size: float, val_size: float, seed: int
) -> tuple[LabelledSet, LabelledSet, LabelledSet]:
    """Train, validation and test sets: the test (and validation) set is the bundle's own when it has one.

    Class labels are split stratified; float targets (multilabel, regression) at random.
    """
    if bundle.val is not None and bundle.test is not None:  # a fixed split (Fashion-MNIST); val_size does not apply
        return bundle.train, bundle.val, bundle.test
    whole = bundle.train
    if isinstance(whole, StorePart):  # by blocks of neighbouring rows, without loading the labels
        return whole.split(test_size, val_size, seed)
    strata = whole.labels if whole.is_classes else np.zeros(len(whole), dtype=np.int64)
    if bundle.test is not None:
        train_idx, val_idx, _ = split(strata, 0.0, val_size, seed=seed, stratify=whole.is_classes)
        return whole.subset(train_idx), whole.subset(val_idx), bundle.test
    train_idx, val_idx, test_idx = split(strata, test_size, val_size, seed=seed, stratify=whole.is_classes)
    return whole.subset(train_idx), whole.subset(val_idx), whole.subset(test_idx)


def warn_shared(parts: tuple[LabelledSet, LabelledSet, LabelledSet], note=print) -> int:
    """Warn when test sequences also occur (identical or reverse complement) in training; returns the count.

    Training here is the training and validation parts together: both shape the model.
    """
    train, val, test = parts
    if isinstance(train, StorePart) or train.kind != "sequence" or not len(test):
        return 0
    found = leakage.shared(decode(train.x) + decode(val.x), decode(test.x))
    if found.n_shared:
        _emit(note, f"seqcnn: {test.source}: {found.message}")
    return found.n_shared
