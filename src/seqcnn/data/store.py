"""The on-disk store: sequences as uint8 codes, 1 byte per base, memory-mapped, in shards.

A store is a folder that ``seqcnn prepare`` writes once and training and prediction read as
they read a file, without loading it (``docs/scale.md``)::

    STORE/
      manifest.json            format, length, count, class counts, sources, shards, hashes
      shard-00000.codes        uint8 codes, row-major (n, L): row i is bases i*L .. i*L+L-1
      shard-00000.labels       int32 little-endian labels (n,)
      shard-00000.ids          one id per line (read only to write predictions)
      ...

Codes are those of :mod:`seqcnn.sequence` (0..3 = A, C, G, T; 4 = N; 5 = padding). Shards
hold at most ``shard_rows`` rows, so a 10^7-window genome store is a few hundred files that
several processes can map at once. Writing streams: rows are appended to the open shard and
hashed as they go, and the folder is built under a temporary name and renamed into place when
the manifest is complete, so an interrupted ``prepare`` never leaves a store that looks whole.

Reading maps each shard with :class:`numpy.memmap` (read-only, shared by every process on
the machine); :class:`StorePart` is a set of row ranges of a store (the whole store, or the
training, validation or test part of a split) that stands where a
:class:`seqcnn.data.sets.LabelledSet` stands.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqcnn.data.sets import check_fractions
from seqcnn.errors import InputError
from seqcnn.files import atomic_write_json, file_sha256, move_into_place
from seqcnn.io.bed import Genome, overlaps_any, read_bed
from seqcnn.sequence import N_CODE

#: Rows per chunk while tiling a genome (and while preparing a store).
CHUNK_ROWS = 1 << 16

FORMAT = "seqcnn-store"
VERSION = 1
MANIFEST = "manifest.json"
LABEL_DTYPE = np.dtype("<i4")
#: Rows per shard file (10^6 rows of 1 kb = 1 GB).
SHARD_ROWS = 1 << 20
#: The largest block of neighbouring rows that a split and a shuffle move as one unit.
MAX_BLOCK = 1024


def is_store(path: str | Path | None) -> bool:
    """Whether ``path`` is a store folder (it holds a ``manifest.json``)."""
    return path is not None and (Path(path) / MANIFEST).is_file()


class StoreWriter:
    """Append encoded sequences to a new store, shard by shard; :meth:`close` publishes it.

    Use as a context manager: on an exception the half-written folder is removed.

    Args:
        path: the store folder to create.
        length: sequence length L of every row.
        shard_rows: rows per shard file.
        force: replace an existing store at ``path``.
        ids: write an ``.ids`` file per shard; without, rows are named ``row<i>``.

    Raises:
        InputError: when ``path`` exists (without ``force``) or ``length`` is not positive.
    """

    def __init__(
        self, path: str | Path, length: int, shard_rows: int = SHARD_ROWS, force: bool = False, ids: bool = True
    ):
        self.path = Path(path)
        if self.path.exists() and not force:
            raise InputError(f"{self.path}: already exists; choose another --out or pass --force to replace it")
        if length < 1 or shard_rows < 1:
            raise InputError(
                f"store length and shard size must be positive, got length={length}, shard_rows={shard_rows}"
            )
        self.length, self.shard_rows, self.write_ids = int(length), int(shard_rows), bool(ids)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        self.shards: list[dict] = []
        self.sources: list[dict] = []
        self.counts = np.zeros(0, dtype=np.int64)
        self._open = None

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def add(self, codes: np.ndarray, labels: np.ndarray, ids: list[str] | None = None) -> None:
        """Append rows.

        Args:
            codes: uint8 codes ``(n, L)``.
            labels: non-negative integer class labels ``(n,)``.
            ids: one id per row (default: ``row<i>`` numbered across the store).

        Raises:
            InputError: for a length other than the store's, or bad labels.
        """
        codes = np.asarray(codes, dtype=np.uint8)
        labels = np.asarray(labels)
        if codes.ndim != 2 or codes.shape[1] != self.length:
            raise InputError(
                f"{self.path}: rows of shape {codes.shape[1:]} cannot go into a store of length {self.length}; use "
                "--length with --pad/--crop"
            )
        if len(labels) != len(codes) or (ids is not None and len(ids) != len(codes)):
            raise InputError(f"{self.path}: {len(codes)} sequences but {len(labels)} labels")
        if len(labels) and (labels.min() < 0 or not np.array_equal(labels, np.round(labels))):
            raise InputError(
                f"{self.path}: labels must be class indices 0, 1, ...; found "
                f"{labels[(labels < 0) | (labels != np.round(labels))][0]:g}"
            )
        done = 0
        while done < len(codes):
            shard = self._shard()
            take = min(len(codes) - done, self.shard_rows - shard["count"])
            self._write(
                shard,
                codes[done : done + take],
                labels[done : done + take].astype(LABEL_DTYPE),
                None if ids is None else ids[done : done + take],
            )
            done += take

    def add_source(self, path: str | Path, rows: int) -> None:
        """Record an input file (its SHA-256 and the number of rows it gave) in the manifest."""
        self.sources.append(
            {"path": str(path), "sha256": file_sha256(path) if Path(path).is_file() else None, "rows": int(rows)}
        )

    @property
    def count(self) -> int:
        """Rows written so far."""
        return sum(s["count"] for s in self.shards) + (self._open["shard"]["count"] if self._open else 0)

    def close(self, class_names: list[str] | None = None) -> Path:
        """Finish the last shard, write the manifest and move the store into place.

        Raises:
            InputError: when no row was added.
        """
        self._finish()
        if not self.count:
            self.abort()
            raise InputError(f"{self.path}: no sequences to store")
        manifest = {
            "format": FORMAT, "version": VERSION, "length": self.length, "count": self.count,
            "codes": "uint8 (A,C,G,T,N,pad = 0..5)", "labels": LABEL_DTYPE.str,
            "class_counts": self.counts.tolist(), "class_names": class_names,
            "sources": self.sources, "shards": self.shards,
        }
        atomic_write_json(self.tmp / MANIFEST, manifest)
        return move_into_place(self.tmp, self.path)

    def abort(self) -> None:
        """Close files and remove the temporary folder."""
        if self._open is not None:
            for handle in self._open["files"]:
                handle.close()
            self._open = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _shard(self) -> dict:
        if self._open is not None and self._open["shard"]["count"] < self.shard_rows:
            return self._open["shard"]
        self._finish()
        name = f"shard-{len(self.shards):05d}"
        shard = {
            "codes": f"{name}.codes",
            "labels": f"{name}.labels",
            "ids": f"{name}.ids" if self.write_ids else None,
            "count": 0,
            "sha256": {},
        }
        files = [
            open(self.tmp / shard[k], "wb") if shard[k] else open(os.devnull, "wb") for k in ("codes", "labels", "ids")
        ]
        self._open = {"shard": shard, "files": files, "hashes": [hashlib.sha256() for _ in files]}
        return shard

    def _write(self, shard: dict, codes: np.ndarray, labels: np.ndarray, ids: list[str]) -> None:
        if ids is None and self.write_ids:
            ids = [f"row{self.count + i}" for i in range(len(codes))]
        blobs = (
            np.ascontiguousarray(codes).tobytes(),
            labels.tobytes(),
            "".join(f"{i}\n" for i in ids).encode("utf-8") if self.write_ids else b"",
        )
        for handle, digest, blob in zip(self._open["files"], self._open["hashes"], blobs):
            handle.write(blob)
            digest.update(blob)
        shard["count"] += len(codes)
        found = np.bincount(labels, minlength=len(self.counts)) if len(labels) else np.zeros(0, np.int64)
        self.counts = np.pad(self.counts, (0, max(0, len(found) - len(self.counts)))) + np.pad(
            found, (0, max(0, len(self.counts) - len(found)))
        )

    def _finish(self) -> None:
        if self._open is None:
            return
        shard = self._open["shard"]
        for key, handle, digest in zip(("codes", "labels", "ids"), self._open["files"], self._open["hashes"]):
            handle.flush()
            if shard[key]:
                os.fsync(handle.fileno())
                shard["sha256"][key] = digest.hexdigest()
            handle.close()
        self.shards.append(shard)
        self._open = None


class Store:
    """A store opened for reading: one read-only memory map per shard.

    Args:
        path: the store folder.

    Raises:
        InputError: for a missing or foreign manifest, or a shard file of the wrong size.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.manifest = read_manifest(self.path)
        self.length = int(self.manifest["length"])
        self.shards = self.manifest["shards"]
        counts = [int(s["count"]) for s in self.shards]
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)  # row where each shard starts
        self.codes = [self._map(s["codes"], np.uint8, (n, self.length)) for s, n in zip(self.shards, counts)]
        self.labels = [self._map(s["labels"], LABEL_DTYPE, (n,)) for s, n in zip(self.shards, counts)]

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def class_names(self) -> list[str] | None:
        return self.manifest.get("class_names")

    @property
    def n_classes(self) -> int:
        return len(self.class_names) if self.class_names else len(self.manifest["class_counts"])

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Codes ``(n, L)`` uint8 and labels ``(n,)`` int64 of the global row numbers ``rows``, in that order.

        Rows are read in increasing order within each shard (sequential on disk), then put back
        in the order asked.
        """
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        codes = np.empty((len(rows), self.length), dtype=np.uint8)
        labels = np.empty(len(rows), dtype=np.int64)
        which = np.searchsorted(self.offsets, sorted_rows, side="right") - 1
        bounds = np.flatnonzero(np.diff(which)) + 1
        for lo, hi in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [len(rows)]])):
            if hi > lo:
                s = int(which[lo])
                local = sorted_rows[lo:hi] - self.offsets[s]
                codes[order[lo:hi]] = self.codes[s][local]
                labels[order[lo:hi]] = self.labels[s][local]
        return codes, labels

    def read_range(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Codes and labels of the rows ``start .. stop - 1`` (a contiguous read)."""
        return self.read(np.arange(start, stop, dtype=np.int64))

    def ids(self, rows: np.ndarray) -> list[str]:
        """The ids of ``rows``, read shard by shard from the ``.ids`` files."""
        rows = np.asarray(rows, dtype=np.int64)
        out: list[str] = [""] * len(rows)
        which = np.searchsorted(self.offsets, rows, side="right") - 1
        for s in np.unique(which):
            if not self.shards[s]["ids"]:
                for i in np.flatnonzero(which == s):
                    out[i] = f"row{rows[i]}"
                continue
            with open(self.path / self.shards[s]["ids"], encoding="utf-8") as handle:
                names = handle.read().split("\n")
            for i in np.flatnonzero(which == s):
                out[i] = names[rows[i] - self.offsets[s]]
        return out

    def release(self) -> None:
        """Drop the pages read so far from this process's resident set (``MADV_DONTNEED``).

        The pages stay in the operating system's page cache, shared and reclaimable; a later
        read faults them back in. Called once per shuffle window, this bounds the resident
        memory of a pass over a store of any size.
        """
        for array in (*self.codes, *self.labels):
            mapped = getattr(array, "_mmap", None)  # numpy.memmap keeps its mmap.mmap here
            if mapped is not None and hasattr(mapped, "madvise"):
                mapped.madvise(mmap.MADV_DONTNEED)

    def all(self) -> StorePart:
        """The whole store as one part."""
        return StorePart(self, whole_blocks(self))

    def _map(self, name: str, dtype, shape: tuple[int, ...]) -> np.ndarray:
        path = self.path / name
        expected = int(np.prod(shape)) * np.dtype(dtype).itemsize
        size = path.stat().st_size if path.is_file() else -1
        if size != expected:
            raise InputError(
                f"{path}: {'missing' if size < 0 else f'{size} bytes'}, expected {expected} bytes from "
                f"{self.path / MANIFEST}; the store is damaged, run `seqcnn prepare` again"
            )
        if expected == 0:
            return np.zeros(shape, dtype=dtype)
        return np.memmap(path, dtype=dtype, mode="r", shape=shape)


def read_manifest(path: str | Path) -> dict:
    """The manifest of a store, checked for format and version.

    Raises:
        InputError: when ``path`` is not a seqcnn store.
    """
    file = Path(path) / MANIFEST
    if not file.is_file():
        raise InputError(
            f"{path}: not a seqcnn store (no {MANIFEST}); make one with `seqcnn prepare INPUT --out {path}`"
        )
    try:
        manifest = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{file}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise InputError(
            f"{file}: format {manifest.get('format')!r} version {manifest.get('version')!r}, expected {FORMAT!r} "
            f"version {VERSION}"
        )
    return manifest


def verify(path: str | Path) -> list[str]:
    """Re-hash every shard file against the manifest; returns the names of files that differ."""
    store = Path(path)
    bad = []
    for shard in read_manifest(store)["shards"]:
        for key, digest in shard["sha256"].items():
            if file_sha256(store / shard[key]) != digest:
                bad.append(shard[key])
    return bad


def block_size(n: int) -> int:
    """Rows per block for a store of ``n`` rows: about 4,096 blocks, at most :data:`MAX_BLOCK` rows each."""
    return int(min(MAX_BLOCK, max(1, n // 4096)))


def whole_blocks(store: Store) -> np.ndarray:
    """Row ranges ``(K, 2)`` (start, stop) covering the store in blocks that never cross a shard."""
    size = block_size(len(store))
    parts = [
        np.stack([starts, np.minimum(starts + size, hi)], axis=1)
        for lo, hi in zip(store.offsets[:-1], store.offsets[1:])
        for starts in [np.arange(lo, hi, size, dtype=np.int64)]
    ]
    return np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)


@dataclass
class StorePart:
    """Rows of a store, as blocks of neighbouring rows; stands where a ``LabelledSet`` stands.

    Only the block table ``(K, 2)`` lives in memory (16 bytes per block of up to 1,024 rows);
    codes, labels and ids are read from the store when asked for.

    Attributes:
        store: the open store.
        blocks: row ranges ``(K, 2)``, start and stop.
    """

    store: Store
    blocks: np.ndarray
    kind: str = field(default="sequence", init=False)

    def __len__(self) -> int:
        return int((self.blocks[:, 1] - self.blocks[:, 0]).sum()) if len(self.blocks) else 0

    @property
    def source(self) -> str:
        return str(self.store.path)

    @property
    def input_shape(self) -> tuple[int, int]:
        return (4, self.store.length)

    @property
    def n_classes(self) -> int:
        return self.store.n_classes

    @property
    def class_names(self) -> list[str] | None:
        return self.store.class_names

    def rows(self) -> np.ndarray:
        """Global row numbers ``(N,)`` of the part, block by block (O(N) memory: for evaluation)."""
        return (
            np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in self.blocks])
            if len(self.blocks)
            else np.zeros(0, np.int64)
        )

    @property
    def labels(self) -> np.ndarray:
        """int64 labels ``(N,)`` of the part, read block by block."""
        return (
            np.concatenate([lab for _, lab in self.iter_blocks(with_codes=False)])
            if len(self.blocks)
            else np.zeros(0, np.int64)
        )

    @property
    def ids(self) -> list[str]:
        return self.store.ids(self.rows())

    def iter_blocks(self, with_codes: bool = True) -> Iterator[tuple[np.ndarray | None, np.ndarray]]:
        """Yield ``(codes, labels)`` of each block in order (contiguous reads)."""
        for a, b in self.blocks:
            s = int(np.searchsorted(self.store.offsets, a, side="right") - 1)
            lo, hi = a - self.store.offsets[s], b - self.store.offsets[s]
            codes = self.store.codes[s][lo:hi] if with_codes else None
            yield codes, np.asarray(self.store.labels[s][lo:hi], dtype=np.int64)

    def split(self, test_size: float, val_size: float, seed: int = 0) -> tuple[StorePart, StorePart, StorePart]:
        """Train, validation and test parts by whole blocks, as in :func:`seqcnn.data.split.split`.

        Blocks (not rows) are drawn, so overlapping neighbouring windows of a genome stay on one
        side; the split is not stratified. ``test_size`` of the blocks go to the test part, then
        ``val_size`` of the rest to validation.

        Raises:
            InputError: for a fraction outside [0, 1).
        """
        check_fractions(test_size, val_size)
        order = np.random.default_rng(seed).permutation(len(self.blocks))
        n_test = int(round(test_size * len(order)))
        n_val = int(round(val_size * (len(order) - n_test)))
        pick = lambda idx: StorePart(self.store, self.blocks[np.sort(idx)])  # noqa: E731
        return pick(order[n_test + n_val :]), pick(order[n_test : n_test + n_val]), pick(order[:n_test])


def tile_genome(
    genome_path: str | Path, bed: str | Path, width: int, step: int
) -> Iterator[tuple[np.ndarray, np.ndarray, list[str]]]:
    """Every window of ``width`` at ``step`` along each chromosome, labelled 1 where it overlaps a BED peak.

    Windows made only of N (gaps, telomeres) are left out. Reads the genome a region of about
    :data:`CHUNK_ROWS` windows at a time.

    Yields:
        ``(codes (n, width) uint8, labels (n,) int64, ids)`` chunks; ids are ``chrom:start-end``.
    """
    genome = Genome(genome_path)
    peaks = [(p.chrom, p.start, p.end) for p in read_bed(bed)]
    for chrom, size in genome.lengths.items():
        for first in range(0, size - width + 1, step * CHUNK_ROWS):
            starts = np.arange(first, min(first + step * CHUNK_ROWS, size - width + 1), step, dtype=np.int64)
            region = genome.codes(chrom, int(starts[0]), int(starts[-1]) + width)
            codes = np.lib.stride_tricks.sliding_window_view(region, width)[starts - starts[0]]  # (n, width)
            keep = (codes != N_CODE).any(axis=1)
            codes, starts = codes[keep], starts[keep]
            where = [(chrom, int(s), int(s) + width) for s in starts]
            yield codes, overlaps_any(where, peaks).astype(np.int64), [f"{c}:{s}-{e}" for c, s, e in where]
