"""The data containers: labelled sets and the bundle a training run needs.

A :class:`LabelledSet` holds examples as arrays (uint8 base codes or float images) with integer
class labels; a :class:`DataBundle` holds the training set, an optional fixed validation set and
test set, and the model and recipe that suit them. :func:`to_labelled` turns read records into a
labelled set, checking the labels; :func:`concat` joins sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from seqcnn.data.targets import Task
from seqcnn.errors import InputError
from seqcnn.io.records import Records
from seqcnn.sequence import encode_batch


def check_fractions(test_size: float, val_size: float) -> None:
    """Refuse split fractions outside [0, 1): the test part, then the validation part of the rest.

    Raises:
        InputError: naming the fraction and its value.
    """
    for name, frac in (("test_size", test_size), ("val_size", val_size)):
        if not 0.0 <= frac < 1.0:
            raise InputError(f"{name} must be in [0, 1), got {frac}")


@dataclass
class LabelledSet:
    """Examples with their targets, ready to become tensors.

    Attributes:
        x: uint8 base codes ``(N, L)`` for sequences (see :mod:`seqcnn.sequence`), or float32
            images ``(N, C, H, W)`` in [0, 1].
        labels: int64 class labels ``(N,)`` (binary, multiclass), or float32 targets
            ``(N, T)`` on the original scale with NaN where missing (multilabel, regression).
        ids: one id per example.
        source: where the data came from (a path or a built-in name).
        kind: ``"sequence"`` or ``"image"``.
        class_names: a name per class, when known.
        task: what is learnt (:class:`seqcnn.data.targets.Task`); None means classes indexed 0, 1, ...
    """

    x: np.ndarray
    labels: np.ndarray
    ids: list[str]
    source: str
    kind: str = "sequence"
    class_names: list[str] | None = None
    task: Task | None = None

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Model input shape, channels first: ``(4, L)`` or ``(C, H, W)``."""
        return (4, self.x.shape[1]) if self.kind == "sequence" else tuple(self.x.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.class_names) if self.class_names else int(self.labels.max()) + 1

    @property
    def is_classes(self) -> bool:
        """True when the labels are class indices (binary, multiclass), False for float targets."""
        return self.task is None or self.task.classes is not None

    @property
    def n_outputs(self) -> int:
        """Units of the output layer: one per class, or one per target."""
        return self.task.n_outputs if self.task is not None else self.n_classes

    def subset(self, index: np.ndarray) -> LabelledSet:
        """The examples at ``index``, in that order."""
        return replace(self, x=self.x[index], labels=self.labels[index], ids=[self.ids[i] for i in index])


@dataclass
class DataBundle:
    """What a training run needs: the training data, an optional separate test set, and the
    zoo model that suits them when the user names none. A data set with a fixed validation
    split (Fashion-MNIST: the last 5,000 training images, as in the book) carries it in ``val``.
    ``notes`` are the lines that say what was inferred (target columns, task, negatives made),
    printed once the run is known to start, so that a refused input prints its error alone."""

    train: LabelledSet
    test: LabelledSet | None = None
    default_model: str = "primer"
    default_recipe: str = "seqcnn"
    val: LabelledSet | None = None
    notes: list[str] = field(default_factory=list)


def to_labelled(
    records: Records, *, fit: str = "error", length: int | None = None, min_classes: int = 2
) -> LabelledSet:
    """Encode records and check their labels for classification.

    Args:
        records: sequences with labels.
        fit: length handling, see :func:`seqcnn.sequence.encode_batch`.
        length: target length for ``fit``.
        min_classes: the fewest distinct classes allowed (2 for training).

    Raises:
        InputError: for missing labels, labels that are not non-negative integers, or fewer
            than ``min_classes`` classes.
    """
    src = records.source
    if records.labels is None:
        raise InputError(f"{src}: no labels; give --labels FILE, a label column, or label= in FASTA headers")
    labels = records.labels
    bad = np.flatnonzero((labels != np.round(labels)) | (labels < 0))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f'{src} (record "{records.ids[i]}"): label {labels[i]:g} is not a class index; expected 0, 1, ...'
        )
    classes = np.unique(labels)
    if classes.size < min_classes:
        raise InputError(
            f"{src}: all {len(labels)} labels are {classes[0]:g}; classification needs at least {min_classes} classes"
        )
    codes = encode_batch(records.seqs, length=length, fit=fit, ids=records.ids, source=src)
    return LabelledSet(codes, labels.astype(np.int64), list(records.ids), str(src))


def concat(*sets):
    """Join labelled sets of the same kind and input shape (ids must stay unique)."""
    ids = [rec for s in sets for rec in s.ids]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(rec for rec in ids if rec in seen or seen.add(rec))
        raise InputError(f'record "{dup}" is in both {sets[0].source} and another input; ids must be unique')
    x = np.concatenate([s.x for s in sets])
    labels = np.concatenate([s.labels for s in sets])
    return replace(sets[0], x=x, labels=labels, ids=ids)


