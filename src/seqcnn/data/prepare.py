"""Preparing an on-disk store (``seqcnn prepare``): sequence files or BED peaks, chunk by chunk.

Inputs are read and assembled as for training (:mod:`seqcnn.data.sequence_sets`: negatives for positives-only
files, windows around BED peaks) or tiled along a genome (:func:`seqcnn.data.store.tile_genome`), and
appended to a :class:`seqcnn.data.store.StoreWriter`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqcnn.data.sequence_sets import parse_negatives, peak_bundle, training_set
from seqcnn.data.store import CHUNK_ROWS, SHARD_ROWS, StoreWriter, tile_genome
from seqcnn.data.targets import choose_targets, infer_task
from seqcnn.errors import InputError
from seqcnn.io import read_sequences
from seqcnn.sequence import encode_batch


def prepare(inputs: list[str | Path], out: str | Path, *, labels: str | Path | None = None, fit: str = "error",
            length: int | None = None, negatives: str | int | None = None, genome: str | Path | None = None,
            width: int = 101, summit_column: int | None = None, tile: int | None = None, seed: int = 0,
            shard_rows: int = SHARD_ROWS, force: bool = False, progress: bool = True) -> Path:
    """Convert sequence files (or BED peaks on a genome) into a store; see ``seqcnn prepare``.

    Each input is read with the readers of :mod:`seqcnn.io` (FASTA, tables including DeepBind's
    ``.seq.gz``, one sequence per line), one file at a time, and appended in chunks; positives-only
    files get negatives as in training (:func:`seqcnn.data.sequence_sets.training_set`). With ``genome``,
    inputs are BED files: windows of ``width`` around each peak with negatives
    (:func:`seqcnn.data.sequence_sets.peak_bundle`), or, with ``tile``, every window of ``width`` at a
    step of ``tile`` along every chromosome, labelled 1 where it overlaps a peak; tiling streams
    the genome chromosome by chromosome, so the store may be far larger than memory.

    Args:
        inputs: sequence files, or BED files with ``genome``.
        out: the store folder.
        labels: a label file for a single sequence input.
        fit: length handling (see :func:`seqcnn.sequence.encode_batch`).
        length: the sequence length (default: the first sequence's).
        negatives: for positives-only input (see :func:`seqcnn.data.sequence_sets.parse_negatives`).
        genome: a genome FASTA for BED inputs.
        width: window width for BED inputs.
        summit_column: 1-based BED column with the summit offset.
        tile: step between tiled genome windows (BED labels them).
        seed: seed of shuffled negatives.
        shard_rows: rows per shard file.
        force: replace an existing store.
        progress: show a progress bar.

    Returns:
        The store folder.

    Raises:
        InputError: for unreadable inputs, ``labels`` with several inputs, or ``tile`` without a genome.
    """
    from tqdm.auto import tqdm  # imported when a store is written, not when seqcnn is

    if labels is not None and len(inputs) != 1:
        raise InputError(f"--labels gives the labels of one input, but {len(inputs)} inputs were given")
    if tile is not None and (genome is None or tile < 1):
        raise InputError(f"--tile {tile} needs --genome FASTA and a step of at least 1")
    target = width if genome is not None else length
    writer = StoreWriter(out, target or 1, shard_rows=shard_rows, force=force)
    with (
        writer,
        tqdm(total=None, unit="seq", unit_scale=True, desc="prepare", disable=not progress, leave=False) as bar,
    ):
        for path in inputs:
            before = writer.count
            for codes, labs, ids in _input_chunks(
                path, labels, fit, target, negatives, genome, width, summit_column, tile, seed
            ):
                if writer.count == 0 and target is None:
                    writer.length = target = codes.shape[1]
                writer.add(codes, labs, ids)
                bar.update(len(codes))
            writer.add_source(path, writer.count - before)
        if genome is not None:
            writer.add_source(genome, 0)
    return Path(out)


def refuse_other_tasks(path, labels) -> None:
    """Refuse a file whose targets are not one 0/1 label (or positives only): a store holds one class index
    per sequence, so named classes, several targets and measurements train from the file itself.

    Raises:
        InputError: naming the file and the task its targets make.
    """
    records = read_sequences(path, labels, legacy_labels=False)
    choice = choose_targets(records)
    if choice.positives_only:
        return
    try:
        task = infer_task(records, choice.names)
    except InputError:  # not a task at all: the reading below names what is wrong (a bad base comes first)
        return
    if task.kind != "binary" or task.classes != ("0", "1"):
        raise InputError(f"{path}: a store holds one 0/1 label per sequence, but this file's {task.describe()}; "
                         f"train from the file itself (seqcnn train {Path(path).name} ...)")


def _input_chunks(path, labels, fit, length, negatives, genome, width, summit_column, tile, seed):
    """Yield ``(codes, labels, ids)`` chunks of one input."""
    if genome is not None and tile is not None:
        yield from tile_genome(genome, path, width, tile)
        return
    if genome is not None:
        data = peak_bundle(path, genome, width=width, summit_column=summit_column, negatives=negatives, seed=seed).train
    else:
        refuse_other_tasks(path, labels)
        records = read_sequences(path, labels)
        if records.labels is None and parse_negatives(negatives)[0] == "none":  # unlabelled, as they are: pretraining
            codes = encode_batch(records.seqs, length=length, fit=fit, ids=records.ids, source=records.source)
            yield from _chunks(codes, np.ones(len(codes), dtype=np.int64), list(records.ids))
            return
        data = training_set(records, negatives=negatives, fit=fit, length=length, seed=seed)
    yield from _chunks(data.x, data.labels, data.ids)


def _chunks(codes: np.ndarray, labels: np.ndarray, ids: list[str]):
    """``(codes, labels, ids)`` in pieces of :data:`CHUNK_ROWS` rows."""
    for start in range(0, len(codes), CHUNK_ROWS):
        stop = start + CHUNK_ROWS
        yield codes[start:stop], labels[start:stop], ids[start:stop]
