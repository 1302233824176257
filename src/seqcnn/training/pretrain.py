"""Masked-nucleotide pretraining: a convolution + transformer trunk learns to fill in hidden bases.

The idea of the genome language models, at seqcnn's scale. A random 15 % of the positions of
each unlabelled sequence are hidden (their one-hot column becomes ``N``, 0.25 per base), and the
model predicts the base that was there from the rest of the sequence; the loss is the
cross-entropy at the hidden positions only. The model is the zoo's ``mlm-trunk``: a same-padded
convolution, sine positions and transformer encoders (the trunk) and a width-1 convolution
with four outputs per position (the base head). ``mlm-classifier`` has the same trunk as its
first layers, then global average pooling and the output layer, so
``seqcnn train ... --model mlm-classifier --init-from PRETRAIN_RUN`` starts from the pretrained
trunk (tensors are copied by layer index and shape, :func:`seqcnn.jobs.train.transfer`).

Held-out accuracy is compared with the best k-mer baseline: the most frequent base in the
training sequences after the longest shown context of up to ``k`` bases on each side
(``k`` = 0 to 3; see :func:`kmer_baseline`).

A sequence file (FASTA, tables, one per line, DeepBind's ``.seq.gz``) is read into memory; a
store made by ``seqcnn prepare`` is read batch by batch from its shard files (:class:`StoreRows`),
so the data may be larger than memory. Both are blocks of neighbouring rows (one row each in
memory, up to 1,024 in a store): a random tenth of the blocks is held out, and a shuffled pass
draws the blocks in random order, mixing the rows of about :data:`WINDOW_ROWS` at a time. Under
``torchrun`` every process draws the same order and masks and reads only its slice of each
global batch, so N processes train the model that one process trains (up to float rounding);
rank 0 alone writes the run folder.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from seqcnn.data.store import Store, is_store, whole_blocks
from seqcnn.errors import InputError
from seqcnn.io.sniff import read_sequences
from seqcnn.models.lookup import resolve_spec
from seqcnn.runs.folder import RunFolder, new_run_dir
from seqcnn.sequence import N_CODE, encode_batch, onehot

MASK_RATE = 0.15
#: Rows of a store mixed together in a shuffled pass.
WINDOW_ROWS = 1 << 16
#: Positions counted at once for the k-mer tables (rows per chunk = this / L).
COUNT_POSITIONS = 1 << 20
MAX_K = 3


@dataclass
class PretrainConfig:
    """Settings of a pretraining run (all in ``config.json``)."""

    model: str = "mlm-trunk"
    epochs: int = 5
    batch_size: int = 128
    lr: float = 1e-3
    mask_rate: float = MASK_RATE
    val_fraction: float = 0.1
    max_sequences: int | None = None
    seed: int = 0
    threads: int | None = None

    def check(self) -> PretrainConfig:
        """Refuse settings that cannot work, naming the setting.

        Raises:
            InputError: for a mask rate outside (0, 1), a validation fraction outside (0, 0.5],
                or a non-positive count.
        """
        if not 0 < self.mask_rate < 1:
            raise InputError(f"--mask-rate must be in (0, 1), got {self.mask_rate}")
        if not 0 < self.val_fraction <= 0.5:
            raise InputError(f"--val-fraction must be in (0, 0.5], got {self.val_fraction}")
        for key in ("epochs", "batch_size"):
            if getattr(self, key) < 1:
                raise InputError(f"--{key.replace('_', '-')} must be at least 1, got {getattr(self, key)}")
        if self.max_sequences is not None and self.max_sequences < 1:
            raise InputError(f"--max-sequences must be at least 1, got {self.max_sequences}")
        return self


# --- where the sequences come from ------------------------------------------------------


class MemoryRows:
    """Base codes ``(N, L)`` held in memory, as blocks of one row each.

    Args:
        codes: uint8 codes (A, C, G, T = 0..3, N = 4).
        source: the file they came from (for messages).
    """

    kind = "file"

    def __init__(self, codes: np.ndarray, source: str):
        self.codes, self.source, self.length = codes, source, int(codes.shape[1])
        starts = np.arange(len(codes), dtype=np.int64)
        self.blocks = np.stack([starts, starts + 1], axis=1)  # (N, 2)

    def __len__(self) -> int:
        return len(self.codes)

    def read(self, rows: np.ndarray) -> np.ndarray:
        """Codes ``(n, L)`` of the row numbers ``rows``."""
        return self.codes[rows]


class StoreRows:
    """The rows of a store (:mod:`seqcnn.data.store`), read from its shard files when asked for.

    Rows are read from the files into the batch, not through the store's memory maps: a mapped
    page stays in the process's resident set until released, and on file systems with large
    folios a pass over random blocks maps nearly the whole file between two releases
    (BENCHMARKS.md, "Pretraining from a store"). Read pages stay in the operating system's
    page cache, shared and reclaimable. Only the block table (16 bytes per block of up to
    1,024 rows) lives in memory; labels are ignored.

    Args:
        store: the open store (its manifest, shard sizes and checks).
    """

    kind = "store"

    def __init__(self, store: Store):
        self.store, self.source, self.length = store, str(store.path), int(store.length)
        self.blocks = whole_blocks(store)
        self.files = [open(store.path / shard["codes"], "rb", buffering=0) for shard in store.shards]  # noqa: SIM115

    def __del__(self) -> None:
        for handle in getattr(self, "files", []):
            handle.close()

    def __len__(self) -> int:
        return len(self.store)

    def read(self, rows: np.ndarray) -> np.ndarray:
        """Codes ``(n, L)`` of the global row numbers ``rows``, in that order.

        Neighbouring rows are read together (one read per run of consecutive rows, sorted).
        """
        order = np.argsort(rows, kind="stable")
        ordered = np.asarray(rows, dtype=np.int64)[order]
        out = np.empty((len(ordered), self.length), dtype=np.uint8)
        starts = np.flatnonzero(np.diff(ordered, prepend=-2) != 1)  # where a run of consecutive rows begins
        for lo, hi in zip(starts, np.append(starts[1:], len(ordered))):
            self._read_run(int(ordered[lo]), out[lo:hi])
        codes = np.empty_like(out)
        codes[order] = out
        return codes

    def _read_run(self, row: int, into: np.ndarray) -> None:
        """Read ``len(into)`` rows from global row ``row`` on, crossing shards where they end."""
        done = 0
        while done < len(into):
            shard = int(np.searchsorted(self.store.offsets, row + done, side="right") - 1)
            local = row + done - int(self.store.offsets[shard])
            take = min(len(into) - done, int(self.store.offsets[shard + 1]) - (row + done))
            view = memoryview(into[done : done + take]).cast("B")
            handle = self.files[shard]
            handle.seek(local * self.length)
            if handle.readinto(view) != len(view):
                raise InputError(f"{self.store.path / self.store.shards[shard]['codes']}: short read at row {local}; "
                                 "the store is damaged, run `seqcnn prepare` again")
            done += take


def read_codes(path: str | Path, max_sequences: int | None = None, seed: int = 0) -> np.ndarray:
    """Base codes ``(N, L)`` of a sequence file's records, all of one length (A, C, G, T = 0..3, N = 4).

    Raises:
        InputError: for unreadable files or sequences of different lengths (naming the record).
    """

    records = read_sequences(path)
    seqs, ids = records.seqs, records.ids
    if max_sequences is not None and len(seqs) > max_sequences:
        keep = np.sort(np.random.default_rng(seed).choice(len(seqs), max_sequences, replace=False))
        seqs, ids = [seqs[i] for i in keep], [ids[i] for i in keep]
    return encode_batch(seqs, ids=ids, source=str(path))


def open_rows(data: str | Path, config: PretrainConfig) -> MemoryRows | StoreRows:
    """The sequences of ``data``: a store, read as needed, or a sequence file, read into memory.

    Raises:
        InputError: for an unreadable file or store, an empty store, or ``--max-sequences``
            with a store.
    """
    if not is_store(data):
        return MemoryRows(read_codes(data, config.max_sequences, config.seed), str(data))
    if config.max_sequences is not None:
        raise InputError(f"{data}: --max-sequences picks sequences of a file; a store is pretrained on whole "
                         "(prepare a smaller store instead)")
    store = Store(data)
    if len(store) == 0:
        raise InputError(f"{data}: the store holds no sequences")
    return StoreRows(store)


def split_blocks(source: MemoryRows | StoreRows, fraction: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out blocks ``(K, 2)``: a random ``fraction`` of the blocks is held out.

    Both keep the source's order (so a store is read forward); the choice depends on the seed
    of ``rng`` and the store's size only.

    Raises:
        InputError: when the data are too few to hold any out (or to keep any for training).
    """
    order = rng.permutation(len(source.blocks))
    n_val = int(round(len(order) * fraction))
    if n_val < 1 or n_val >= len(order):
        raise InputError(f"{source.source}: {len(source)} sequences are too few to hold out {fraction:.0%} for testing")
    return source.blocks[np.sort(order[n_val:])], source.blocks[np.sort(order[:n_val])]


def n_rows(blocks: np.ndarray) -> int:
    """Rows in ``blocks``."""
    return int((blocks[:, 1] - blocks[:, 0]).sum())


def _rows_of(blocks: np.ndarray) -> np.ndarray:
    """The row numbers of ``blocks``, block after block."""
    sizes = blocks[:, 1] - blocks[:, 0]
    return np.repeat(blocks[:, 0] - (np.cumsum(sizes) - sizes), sizes) + np.arange(int(sizes.sum()), dtype=np.int64)


def row_batches(blocks: np.ndarray, batch_size: int, rng: np.random.Generator | None = None) -> Iterator[np.ndarray]:
    """Row numbers of each batch of a pass over ``blocks``: shuffled with ``rng``, else in order.

    Shuffled, the blocks come in random order and, where they hold several rows, the rows of
    each window of about :data:`WINDOW_ROWS` rows are shuffled together: memory holds one
    window's row numbers, never an order of the whole store, and reads stay within a window's
    blocks. All batches are full but the last.
    """
    if rng is not None:
        blocks = blocks[rng.permutation(len(blocks))]
    largest = int((blocks[:, 1] - blocks[:, 0]).max()) if len(blocks) else 1
    per_window = max(1, WINDOW_ROWS // largest)
    carry = np.zeros(0, np.int64)
    for w in range(0, len(blocks), per_window):
        fresh = _rows_of(blocks[w : w + per_window])
        if rng is not None and largest > 1:  # blocks of one row are in random order already
            fresh = fresh[rng.permutation(len(fresh))]
        rows = np.concatenate([carry, fresh])
        full = len(rows) // batch_size * batch_size
        for start in range(0, full, batch_size):
            yield rows[start : start + batch_size]
        carry = rows[full:]
    if len(carry):
        yield carry


# --- the masked-nucleotide task -----------------------------------------------------------


def mask(codes: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Which positions to hide ``(N, L)`` bool: ``rate`` of the A/C/G/T positions, at random."""
    return (rng.random(codes.shape) < rate) & (codes < 4)


def held_out_mask(codes: np.ndarray, chunk: int, config: PretrainConfig) -> np.ndarray:
    """The hidden positions of held-out batch ``chunk``: fixed by the seed and the batch's number, so
    that every epoch, every process count and the k-mer baselines score the same positions."""
    return mask(codes, config.mask_rate, np.random.default_rng([config.seed, 1, chunk]))


def masked_onehot(codes, hidden):
    """One-hot input ``(N, 4, L)`` float32 torch tensor with the hidden positions set to N (0.25 each)."""
    import torch  # heavy: only when pretraining runs

    shown = np.where(hidden, N_CODE, codes).astype(np.uint8)
    return torch.from_numpy(onehot(shown))


def masked_loss_sum(model, codes: np.ndarray, hidden: np.ndarray):
    """Summed cross-entropy at the hidden positions (a tensor) and the number predicted right. Shapes ``(B, L)``."""
    import torch
    import torch.nn.functional as F

    logits = model(masked_onehot(codes, hidden))  # (B, 4, L)
    picked = logits.transpose(1, 2)[torch.from_numpy(hidden)]  # (hidden positions, 4)
    truth = torch.from_numpy(codes[hidden].astype(np.int64))
    return F.cross_entropy(picked, truth, reduction="sum"), int((picked.argmax(1) == truth).sum())


def train_epoch(net, optimiser, source: MemoryRows | StoreRows, blocks: np.ndarray, config: PretrainConfig,
                rng: np.random.Generator) -> float:
    """One shuffled pass over ``blocks`` with fresh masks; returns the mean loss per hidden position.

    Under ``torchrun`` every rank draws the order and the masks of each global batch from its own
    copy of ``rng`` (the same on all), reads only its slice of the rows and weighs its summed loss by
    ``world / hidden positions of the global batch``: DDP's average of the ranks' gradients is then
    the gradient of the global batch's mean, as in one process.
    """
    from seqcnn.training import distributed  # imports torch

    net.train()
    rank, world = distributed.shard()
    loss_sum = hidden_sum = 0.0
    for rows in row_batches(blocks, config.batch_size, rng):
        draw = rng.random((len(rows), source.length))  # the global batch's draws, on every rank
        if len(rows) < world:
            continue  # too few to give every rank a row: skipped by all
        mine = slice(len(rows) * rank // world, len(rows) * (rank + 1) // world)
        codes = source.read(rows[mine])
        hidden = (draw[mine] < config.mask_rate) & (codes < 4)
        (total,) = distributed.sum_all(int(hidden.sum()))
        if total == 0:
            continue
        loss, _ = masked_loss_sum(net, codes, hidden)
        optimiser.zero_grad(set_to_none=True)
        (loss * (world / total)).backward()
        optimiser.step()
        loss_sum, hidden_sum = loss_sum + float(loss.detach()), hidden_sum + int(hidden.sum())
    loss_sum, hidden_sum = distributed.sum_all(loss_sum, hidden_sum)
    return loss_sum / max(hidden_sum, 1)


def _my_chunks(blocks: np.ndarray, size: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(number, rows)`` of the in-order batches of ``blocks`` that are this rank's (every world-th)."""
    from seqcnn.training import distributed

    rank, world = distributed.shard()
    for chunk, rows in enumerate(row_batches(blocks, size)):
        if chunk % world == rank:
            yield chunk, rows


def evaluate(model, source: MemoryRows | StoreRows, blocks: np.ndarray, config: PretrainConfig) -> dict:
    """Masked-nucleotide loss and accuracy over the held-out ``blocks`` (fixed masks, summed over ranks)."""
    import torch

    from seqcnn.training import distributed

    model.eval()
    loss = hits = total = 0.0
    with torch.no_grad():
        for chunk, rows in _my_chunks(blocks, config.batch_size):
            codes = source.read(rows)
            hidden = held_out_mask(codes, chunk, config)
            batch_loss, batch_hits = masked_loss_sum(model, codes, hidden)
            loss, hits, total = loss + float(batch_loss), hits + batch_hits, total + int(hidden.sum())
    loss, hits, total = distributed.sum_all(loss, hits, total)
    return {"loss": loss / max(total, 1), "accuracy": hits / max(total, 1), "hidden_positions": int(total)}


def kmer_baselines(source: MemoryRows | StoreRows, train: np.ndarray, val: np.ndarray, config: PretrainConfig,
                   max_k: int = MAX_K) -> dict[int, float]:
    """:func:`kmer_baseline` streamed: tables counted over the training blocks, accuracy on the held-out
    blocks' fixed masks, each rank its share of both."""
    from seqcnn.training import distributed

    shapes = _shapes(max_k)
    tables = {shape: np.zeros((4 ** sum(shape), 4), np.int64) for shape in shapes}
    for _, rows in _my_chunks(train, max(1, COUNT_POSITIONS // source.length)):
        codes = source.read(rows)
        for shape in shapes:
            tables[shape] += _context_table(codes, *shape)
    summed = distributed.sum_array(np.concatenate([tables[s].ravel() for s in shapes]))
    bounds = np.cumsum([0] + [tables[s].size for s in shapes])
    tables = {s: summed[a:b].reshape(-1, 4) for s, a, b in zip(shapes, bounds[:-1], bounds[1:])}
    hits, total = np.zeros(max_k + 1, np.int64), 0
    for chunk, rows in _my_chunks(val, config.batch_size):
        codes = source.read(rows)
        found, n = _kmer_hits(tables, codes, held_out_mask(codes, chunk, config), max_k)
        hits, total = hits + found, total + n
    hits = distributed.sum_array(np.append(hits, total))
    return {k: float(hits[k] / max(hits[-1], 1)) for k in range(max_k + 1)}


def kmer_baseline(train: np.ndarray, test: np.ndarray, hidden: np.ndarray, max_k: int = 3) -> dict[int, float]:
    """Accuracy of the k-mer baselines on the hidden positions of ``test``, for ``k`` = 0..max_k.

    Baseline ``k`` predicts the most frequent centre base in ``train`` after the longest context
    of up to ``k`` bases on the left and up to ``k`` on the right that is fully shown in the test
    sequence (no hidden base, no N, inside the sequence) and occurs in ``train``; ``k = 0`` is the
    most frequent base.
    """
    tables = {shape: _context_table(train, *shape) for shape in _shapes(max_k)}
    hits, total = _kmer_hits(tables, test, hidden, max_k)
    return {k: float(hits[k] / max(total, 1)) for k in range(max_k + 1)}


def _shapes(max_k: int) -> list[tuple[int, int]]:
    """Context shapes ``(left, right)`` of up to ``max_k`` bases a side."""
    return [(left, right) for left in range(max_k + 1) for right in range(max_k + 1)]


def _kmer_hits(tables: dict, codes: np.ndarray, hidden: np.ndarray, max_k: int) -> tuple[np.ndarray, int]:
    """Hidden bases ``(max_k + 1,)`` each baseline predicts right in ``codes``, and the number hidden."""
    rows, cols = np.nonzero(hidden)
    truth = codes[rows, cols]
    shown = np.where(hidden, 4, codes)
    hits = [int((_predict(shown, rows, cols, tables, k) == truth).sum()) for k in range(max_k + 1)]
    return np.array(hits, dtype=np.int64), len(truth)


def _context_key(codes: np.ndarray, rows: np.ndarray, cols: np.ndarray, left: int, right: int):
    """Base-4 key of the ``left`` and ``right`` bases around (row, col), and whether all are A/C/G/T."""
    key = np.zeros(len(rows), dtype=np.int64)
    ok = np.ones(len(rows), dtype=bool)
    length = codes.shape[1]
    for offset in [o for o in range(-left, right + 1) if o != 0]:
        at = cols + offset
        inside = (at >= 0) & (at < length)
        base = np.where(inside, codes[rows, np.clip(at, 0, length - 1)], 4)
        ok &= base < 4
        key = key * 4 + np.minimum(base, 3)
    return key, ok


def _context_table(codes: np.ndarray, left: int, right: int) -> np.ndarray:
    """Counts ``(4^(left + right), 4)`` of each centre base after each context in ``codes``."""
    rows, cols = np.nonzero(codes < 4)
    key, ok = _context_key(codes, rows, cols, left, right)
    cells = key[ok] * 4 + codes[rows[ok], cols[ok]]
    return np.bincount(cells, minlength=4 ** (left + right) * 4).reshape(-1, 4).astype(np.int64)


def _predict(shown: np.ndarray, rows: np.ndarray, cols: np.ndarray, tables: dict, k: int) -> np.ndarray:
    """Predictions from the usable contexts of up to ``k`` bases a side, shorter ones first so longer ones win."""
    guess = np.full(len(rows), int(tables[(0, 0)][0].argmax()))
    shapes = sorted((s for s in tables if max(s) <= k and sum(s) > 0), key=lambda s: (sum(s), min(s)))
    for left, right in shapes:
        key, ok = _context_key(shown, rows, cols, left, right)
        counts = tables[(left, right)][key]
        guess = np.where(ok & (counts.sum(1) > 0), counts.argmax(1), guess)
    return guess


def pretrain(
    data: str | Path,
    out: str | Path | None = None,
    *,
    config: PretrainConfig | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = print,
) -> Path:
    """Pretrain a trunk on the masked-nucleotide task and write a run folder.

    The folder holds ``model.json`` and ``model.safetensors`` (what ``--init-from`` reads),
    ``config.json``, ``history.csv`` and ``metrics.json`` (held-out masked accuracy and the k-mer
    baselines). Under ``torchrun`` (gloo on the CPU) every process trains on its slice of each
    global batch and rank 0 alone writes the folder.

    Args:
        data: a sequence file (FASTA, table, one per line, gzip or not), all of one length, or
            a store made by ``seqcnn prepare`` (read batch by batch; its labels are ignored).
        out: the run folder; a fresh one under ``runs/`` when None.
        config: the settings; :class:`PretrainConfig`'s defaults when None.
        force: overwrite an existing ``out``.
        progress: called with one line per epoch; None for silence.

    Returns:
        The run folder.

    Raises:
        InputError: for bad settings or data (too few sequences to hold some out, an empty store,
            a model without 4 outputs per position).
    """
    import torch

    from seqcnn.training import distributed

    config = (config or PretrainConfig()).check()
    if config.threads:
        torch.set_num_threads(config.threads)
    source = open_rows(data, config)
    rng = np.random.default_rng(config.seed)
    train, val = split_blocks(source, config.val_fraction, rng)
    _note_labels(source)
    torch.manual_seed(config.seed)
    model = build_trunk(config.model, (4, source.length))
    distributed.setup("cpu")
    net = distributed.wrap(model)  # DistributedDataParallel under torchrun (rank 0's weights), else the model
    optimiser = torch.optim.Adam(net.parameters(), lr=config.lr)
    run_dir = Path(distributed.broadcast(str(new_run_dir(out, f"pretrain-{config.model}", force=force))
                                         if distributed.is_main() else None))
    history, started = [], time.time()
    for epoch in range(1, config.epochs + 1):
        loss = train_epoch(net, optimiser, source, train, config, rng)
        held = evaluate(model, source, val, config)
        history.append({"epoch": epoch, "loss": loss, "val_loss": held["loss"], "val_accuracy": held["accuracy"],
                        "seconds": round(time.time() - started, 1)})
        if progress and distributed.is_main():
            progress(f"epoch {epoch}: loss {loss:.4f}, held-out masked accuracy {held['accuracy']:.4f}")
    baselines = kmer_baselines(source, train, val, config)
    best_k = max(baselines, key=baselines.get)
    metrics = {**held, "kmer_baselines": baselines, "best_kmer_k": best_k, "best_kmer_accuracy": baselines[best_k],
               "train_sequences": n_rows(train), "held_out_sequences": n_rows(val)}
    record = distributed.record(net)  # every rank: checks that their weights agree
    if distributed.is_main():
        _write_run(run_dir, model, data, source, config, metrics, history, record)
    distributed.barrier()
    return run_dir


def build_trunk(name: str, shape: tuple[int, int]):
    """The model to pretrain: a zoo name or a spec file whose output is 4 logits per position ``(4, L)``.

    Raises:
        InputError: for a model with another output shape.
        SpecError: for an unknown name or a bad spec file.
    """
    from seqcnn.models.network import build_model  # imports torch

    spec = resolve_spec(name, input_shape=shape)
    out_shape = tuple(spec.analyse(shape)[-1].out_shape)
    if out_shape != shape:
        raise InputError(f"--model {name}: its output is {out_shape} for input {shape}, but pretraining needs 4 base "
                         f"logits per position {shape}: keep every position (no pooling, 'same' padding) and end in "
                         "Conv1D(4, 1), as mlm-trunk does")
    return build_model(spec, shape)


def _note_labels(source: MemoryRows | StoreRows) -> None:
    """Say so when a store holds rows of several classes: they are all pretrained on (shuffles included)."""
    if source.kind != "store":
        return
    counts = [int(c) for c in source.store.manifest.get("class_counts", [])]
    if sum(c > 0 for c in counts) > 1:
        from seqcnn.training import distributed

        if distributed.is_main():
            print(f"note: {source.source} holds {len(source):,} rows of {sum(c > 0 for c in counts)} classes "
                  f"({', '.join(f'{c:,}' for c in counts)}); pretraining reads every row, labels ignored (shuffled "
                  "negatives too: `seqcnn prepare FILE --negatives none` makes a store of the file's sequences only)",
                  file=sys.stderr)


def _write_run(run_dir: Path, model, data, source, config: PretrainConfig, metrics: dict, history: list[dict],
               record: dict | None) -> None:
    """The run folder's files (rank 0 only)."""
    folder = RunFolder(run_dir)
    folder.save_model(model.eval())
    folder.write_config({"task": "masked-nucleotide pretraining", "data": str(data), "data_kind": source.kind,
                         "input_shape": [4, source.length], **asdict(config), "distributed": record})
    folder.write_metrics(metrics)
    folder.write_history(history)
