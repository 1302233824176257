"""A training run's data from its input, whatever its kind, as a :class:`~seqcnn.data.sets.DataBundle`.

:func:`load_data` makes one decision, the input's kind (:func:`input_kind`: a built-in data set,
an on-disk store, BED peaks on a genome, images, or a sequence file), then hands it to the reader of
that kind (:mod:`seqcnn.data.builtin`, :mod:`seqcnn.data.image_sets`, :mod:`seqcnn.data.sequence_sets`).
:func:`seqcnn.data.split.split_bundle` then splits it into training, validation and test parts, and
:func:`warn_shared` counts the test sequences that also occur in training.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from seqcnn.data import leakage
from seqcnn.data.builtin import BUILTIN, load_builtin
from seqcnn.data.image_sets import image_bundle, read_images
from seqcnn.data.sequence_sets import emit_note, peak_bundle, sequence_bundle, store_bundle, test_records_set
from seqcnn.data.sets import DataBundle, LabelledSet, to_labelled
from seqcnn.data.store import StorePart, is_store
from seqcnn.data.targets import TASK_CHOICES, positives_task
from seqcnn.errors import InputError
from seqcnn.io import read_sequences
from seqcnn.io.images import is_image_source
from seqcnn.sequence import decode

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


def warn_shared(parts: tuple[LabelledSet, LabelledSet, LabelledSet], note=print) -> int:
    """Warn when test sequences also occur (identical or reverse complement) in training; returns the count.

    Training here is the training and validation parts together: both shape the model.
    """
    train, val, test = parts
    if isinstance(train, StorePart) or train.kind != "sequence" or not len(test):
        return 0
    found = leakage.shared(decode(train.x) + decode(val.x), decode(test.x))
    if found.n_shared:
        emit_note(note, f"seqcnn: {test.source}: {found.message}")
    return found.n_shared
