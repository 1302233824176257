"""The train/validation/test split: stratified by class (as in the primer), at random for float targets,
or by blocks of a store's rows."""

from __future__ import annotations

import numpy as np

from seqcnn.data.sets import DataBundle, LabelledSet, check_fractions
from seqcnn.data.store import StorePart


def split(
    labels: np.ndarray, test_size: float = 0.25, val_size: float = 0.25, seed: int = 0, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split indices into train, validation and test parts.

    As in the primer: ``test_size`` of all examples go to test (rounded up), then ``val_size`` of
    the rest to validation. Splits are stratified by class when every class has at least two
    members: each class gives its share, rounded so that the part has its exact size.

    Returns:
        ``(train_index, val_index, test_index)``, each sorted.
    """
    check_fractions(test_size, val_size)
    labels = np.asarray(labels)
    counts = np.bincount(labels) if len(labels) else np.zeros(0, np.int64)
    strat = bool(stratify and len(labels) and counts[counts > 0].min() >= 2)
    rng = np.random.default_rng(seed)
    rest, test = _hold_out(np.arange(len(labels)), labels if strat else None, test_size, rng)
    train, val = _hold_out(rest, labels[rest] if strat else None, val_size, rng)
    return np.sort(train), np.sort(val), np.sort(test)


def _hold_out(
    index: np.ndarray, labels: np.ndarray | None, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``(kept, held)``: ``ceil(fraction * n)`` of ``index`` held out at random, in proportion to ``labels``."""
    n_held = int(np.ceil(fraction * len(index)))
    order = rng.permutation(len(index))
    if labels is None or n_held == 0:
        return index[order[n_held:]], index[order[:n_held]]
    order = order[np.argsort(labels[order], kind="stable")]  # grouped by class, in random order within each
    classes, counts = np.unique(labels, return_counts=True)
    share = counts * n_held / len(index)
    take = np.floor(share).astype(np.int64)
    by_remainder = np.argsort(-(share - take), kind="stable")  # the largest remainders get one more
    take[by_remainder[: n_held - take.sum()]] += 1
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    held = np.zeros(len(index), dtype=bool)
    for start, k in zip(starts, take):
        held[order[start : start + k]] = True
    return index[~held], index[held]


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
