"""Loading: a training run's data from its input, whatever its kind, as a :class:`DataBundle`.

:func:`load_data` makes one decision, the input's kind (:func:`input_kind`: a built-in data set,
an on-disk store, BED peaks on a genome, images, or a sequence file), then follows a straight
line for that kind: read -> records -> negatives if the data are positives only -> encode.
:func:`split_bundle` then splits it into training, validation and test parts (stratified, by
:func:`seqcnn.datasets.split`, or by blocks of a store).
The assembly of positives-only training sets (:func:`training_set`) and of BED peak bundles
(:func:`peak_bundle`) lives here; the algorithms they use live in :mod:`seqcnn.negatives`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from seqcnn.datasets import BUILTIN, load_builtin, split
from seqcnn.errors import InputError
from seqcnn.images import image_bundle, read_images
from seqcnn.io import read_sequences
from seqcnn.io.bed import Genome, check_no_overlap, chromosome_split, peak_windows, read_bed
from seqcnn.io.images import is_image_source
from seqcnn.labelled import DataBundle, LabelledSet, concat, to_labelled
from seqcnn.store import Store, StorePart, is_store

#: The zoo model that ``seqcnn train`` picks for positives-only (ChIP-seq style) data; chosen
#: by measurement, see BENCHMARKS.md (## ENCODE).
CHIPSEQ_MODEL = "chipseq"

#: Shuffled copies per positive when the user does not say (``--negatives`` unset). Two measured
#: better than DeepBind's one on ENCODE ARID3A, and four better than two with the default model
#: on the ten ENCODE experiments (median test AUROC 0.9756/0.9760 against 0.9754/0.9720 over two
#: seeds; BENCHMARKS.md, ENCODE).
DEFAULT_COPIES = 4

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

    Raises:
        InputError: for unreadable or inconsistent data.
    """
    kind = input_kind(data, genome)
    if kind == "peaks":
        return peak_bundle(data, genome, width=width, summit_column=summit_column, test_chroms=test_chroms or (),
                           negatives=negatives, seed=seed)
    if kind == "store":  # read batch by batch during training, never loaded
        return store_bundle(data, test)
    if kind == "builtin":
        bundle = load_builtin(str(data or "primer-sim"), seed, data_dir)
    elif kind == "images":  # a folder of class sub-folders, .npz, or IDX images
        bundle = image_bundle(data, labels)
    else:
        bundle = sequence_bundle(data, labels, fit=fit, length=length, seed=seed, negatives=negatives,
                                 negatives_file=negatives_file)
    if test is not None:
        bundle.test = _test_set(bundle.train, test, test_labels, fit)
    return bundle


def sequence_bundle(
    data: str | Path,
    labels: str | Path | None = None,
    *,
    fit: str = "error",
    length: int | None = None,
    seed: int = 0,
    negatives: str | int | None = None,
    negatives_file: str | Path | None = None,
) -> DataBundle:
    """A sequence file as a bundle: read -> records -> negatives if positives only -> encode.

    Positives-only data (ChIP-seq peaks) get the ChIP-seq model and recipe as defaults; labelled
    data the ChIP-seq model with the ``labelled`` recipe (chosen on a panel of data sets, BENCHMARKS.md).
    """
    records = read_sequences(data, labels)
    chip = positives_only(records.labels) and negatives != "none"
    train = training_set(records, negatives=negatives, negatives_file=negatives_file, fit=fit, length=length, seed=seed)
    if chip:  # ChIP-seq style: peaks plus made-up negatives
        return DataBundle(train, default_model=CHIPSEQ_MODEL, default_recipe="chipseq")
    return DataBundle(train, default_model=CHIPSEQ_MODEL, default_recipe="labelled")  # the defaults panel's choice


def _test_set(train: LabelledSet, test: str | Path, test_labels: str | Path | None, fit: str) -> LabelledSet:
    """The separate test file, read like the training data (sequences fitted to the training length)."""
    if train.kind == "image":
        return read_images(test, test_labels)
    target = train.x.shape[1] if train.kind == "sequence" else None
    return to_labelled(read_sequences(test, test_labels), fit=fit, length=target, min_classes=1)


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
        A :class:`seqcnn.labelled.LabelledSet`; negatives have ids ``<id>_shuf<c>``.

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
    from seqcnn.negatives import shuffled_negatives

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
        A :class:`seqcnn.labelled.DataBundle` whose default model and recipe are ChIP-seq's.

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
    from seqcnn.negatives import gc_matched_background, shuffled_negatives

    if method != "gc":
        neg = shuffled_negatives(pos, copies, seed)
        return neg, []  # shuffles sit where their peaks are: the peaks' own check covers them
    codes, where = gc_matched_background(genome, pos.x, n=copies * len(pos), exclude=peaks, chroms=chroms, seed=seed)
    ids = [f"bg:{c}:{s}-{e}#{i}" for i, (c, s, e) in enumerate(where)]
    return replace(pos, x=codes, labels=np.zeros(len(codes), dtype=np.int64), ids=ids), where
def store_bundle(path: str | Path, test: str | Path | None = None):
    """A :class:`seqcnn.labelled.DataBundle` whose training data is a whole store (nothing loaded).

    Raises:
        InputError: for a separate ``test`` file (a store is split into its own test part;
            prepare the test data as a second store and use ``seqcnn evaluate``).
    """
    if test is not None:
        raise InputError(
            f"{path}: --test cannot be combined with a store; the store's own blocks are split off for the test"
        )
    return DataBundle(Store(path).all(), default_model="deepbind")


def split_bundle(
    bundle: DataBundle, test_size: float, val_size: float, seed: int
) -> tuple[LabelledSet, LabelledSet, LabelledSet]:
    """Train, validation and test sets: the test (and validation) set is the bundle's own when it has one."""
    if bundle.val is not None and bundle.test is not None:  # a fixed split (Fashion-MNIST); val_size does not apply
        return bundle.train, bundle.val, bundle.test
    whole = bundle.train
    if isinstance(whole, StorePart):  # by blocks of neighbouring rows, without loading the labels
        return whole.split(test_size, val_size, seed)
    if bundle.test is not None:
        train_idx, val_idx, _ = split(whole.labels, 0.0, val_size, seed=seed)
        return whole.subset(train_idx), whole.subset(val_idx), bundle.test
    train_idx, val_idx, test_idx = split(whole.labels, test_size, val_size, seed=seed)
    return whole.subset(train_idx), whole.subset(val_idx), whole.subset(test_idx)


def warn_shared(bundle: DataBundle, test_file: str | Path | None) -> int:
    """Warn on stderr when test sequences also occur in the training data; returns the count."""
    if bundle.test is None or bundle.train.kind != "sequence":
        return 0
    # negatives imports numba (about a second): only when there is a separate test set
    from seqcnn.negatives import shared_sequences

    shared = shared_sequences(bundle.train.x, bundle.test.x)
    if shared:
        print(
            f"seqcnn: warning: {test_file}: {shared} of {len(bundle.test)} test sequences also occur in the training "
            "data; "
            "test metrics will be optimistic",
            file=sys.stderr,
        )
    return shared
