"""Masked-nucleotide pretraining: a convolution + transformer trunk learns to fill in hidden bases.

The idea of the genome language models, at seqcnn's scale. A random 15 % of the positions of
each unlabelled sequence are hidden (their one-hot column becomes ``N``, 0.25 per base), and the
model predicts the base that was there from the rest of the sequence; the loss is the
cross-entropy at the hidden positions only. The model is the zoo's ``mlm-trunk``: a same-padded
convolution, sine positions and transformer encoders (the trunk) and a width-1 convolution
with four outputs per position (the base head). ``mlm-classifier`` has the same trunk as its
first layers, then global average pooling and the output layer, so
``seqcnn train ... --model mlm-classifier --init-from PRETRAIN_RUN`` starts from the pretrained
trunk (tensors are copied by layer index and shape, :func:`seqcnn.run.transfer`).

Held-out accuracy is compared with the best k-mer baseline: the most frequent base in the
training sequences after the longest shown context of up to ``k`` bases on each side
(``k`` = 0 to 3; see :func:`kmer_baseline`).

Sequences are read into memory (FASTA, tables, one per line, DeepBind's ``.seq.gz``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from seqcnn.checkpoint import new_run_dir, save_model
from seqcnn.errors import InputError
from seqcnn.files import atomic_write_json, atomic_write_text
from seqcnn.io.sniff import read_sequences
from seqcnn.models import zoo
from seqcnn.sequence import N_CODE, encode_batch, onehot

MASK_RATE = 0.15


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
        return self


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


def mask(codes: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Which positions to hide ``(N, L)`` bool: ``rate`` of the A/C/G/T positions, at random."""
    return (rng.random(codes.shape) < rate) & (codes < 4)


def masked_onehot(codes, hidden):
    """One-hot input ``(N, 4, L)`` float32 torch tensor with the hidden positions set to N (0.25 each)."""
    import torch  # heavy: only when pretraining runs

    shown = np.where(hidden, N_CODE, codes).astype(np.uint8)
    return torch.from_numpy(onehot(shown))


def masked_loss_and_hits(model, codes: np.ndarray, hidden: np.ndarray):
    """Cross-entropy at the hidden positions and the number predicted right. Shapes: ``(B, L)``."""
    import torch
    import torch.nn.functional as F

    logits = model(masked_onehot(codes, hidden))  # (B, 4, L)
    where = torch.from_numpy(hidden)
    picked = logits.transpose(1, 2)[where]  # (hidden positions, 4)
    truth = torch.from_numpy(codes[hidden].astype(np.int64))
    return F.cross_entropy(picked, truth), int((picked.argmax(1) == truth).sum()), len(truth)


def evaluate(model, codes: np.ndarray, hidden: np.ndarray, batch_size: int) -> dict:
    """Masked-nucleotide loss and accuracy of ``model`` over fixed masks."""
    import torch

    model.eval()
    loss = hits = total = 0.0
    with torch.no_grad():
        for start in range(0, len(codes), batch_size):
            part = slice(start, start + batch_size)
            batch_loss, batch_hits, n = masked_loss_and_hits(model, codes[part], hidden[part])
            loss, hits, total = loss + float(batch_loss) * n, hits + batch_hits, total + n
    return {"loss": loss / max(total, 1), "accuracy": hits / max(total, 1), "hidden_positions": int(total)}


def train_epoch(model, optimiser, codes: np.ndarray, config: PretrainConfig, rng: np.random.Generator) -> float:
    """One pass over ``codes`` in shuffled batches, with fresh masks; returns the mean loss."""
    model.train()
    order = rng.permutation(len(codes))
    losses = []
    for start in range(0, len(codes), config.batch_size):
        batch = codes[order[start : start + config.batch_size]]
        loss, _, _ = masked_loss_and_hits(model, batch, mask(batch, config.mask_rate, rng))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses))


def kmer_baseline(train: np.ndarray, test: np.ndarray, hidden: np.ndarray, max_k: int = 3) -> dict[int, float]:
    """Accuracy of the k-mer baselines on the hidden positions of ``test``, for ``k`` = 0..max_k.

    Baseline ``k`` predicts the most frequent centre base in ``train`` after the longest context
    of up to ``k`` bases on the left and up to ``k`` on the right that is fully shown in the test
    sequence (no hidden base, no N, inside the sequence) and occurs in ``train``; ``k = 0`` is the
    most frequent base.
    """
    shapes = [(left, right) for left in range(max_k + 1) for right in range(max_k + 1)]
    tables = {shape: _context_table(train, *shape) for shape in shapes}
    rows, cols = np.nonzero(hidden)
    truth = test[rows, cols]
    shown = np.where(hidden, 4, test)
    return {k: float((_predict(shown, rows, cols, tables, k) == truth).mean()) for k in range(max_k + 1)}


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
    table = np.zeros((4 ** (left + right), 4), dtype=np.int64)
    np.add.at(table, (key[ok], codes[rows[ok], cols[ok]]), 1)
    return table


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
    baselines).

    Args:
        data: a sequence file (FASTA, table, one per line, gzip or not), all of one length.
        out: the run folder; a fresh one under ``runs/`` when None.
        config: the settings; :class:`PretrainConfig`'s defaults when None.
        force: overwrite an existing ``out``.
        progress: called with one line per epoch; None for silence.

    Returns:
        The run folder.

    Raises:
        InputError: for bad settings or data (too few sequences to hold some out).
    """
    import torch

    from seqcnn.models.network import build_model  # imports torch

    config = (config or PretrainConfig()).check()
    if config.threads:
        torch.set_num_threads(config.threads)
    codes = read_codes(data, config.max_sequences, config.seed)
    n_val = int(round(len(codes) * config.val_fraction))
    if n_val < 1 or n_val >= len(codes):
        raise InputError(
            f"{data}: {len(codes)} sequences are too few to hold out {config.val_fraction:.0%} for testing"
        )
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(codes))
    val, train = codes[order[:n_val]], codes[order[n_val:]]
    val_hidden = mask(val, config.mask_rate, np.random.default_rng(config.seed + 1))  # fixed: epochs compare alike
    torch.manual_seed(config.seed)
    shape = (4, codes.shape[1])
    model = build_model(zoo.get(config.model, input_shape=shape), shape)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    run_dir = new_run_dir(out, f"pretrain-{config.model}", force=force)
    history, started = [], time.time()
    for epoch in range(1, config.epochs + 1):
        loss = train_epoch(model, optimiser, train, config, rng)
        held = evaluate(model, val, val_hidden, config.batch_size)
        history.append(
            {
                "epoch": epoch,
                "loss": loss,
                "val_loss": held["loss"],
                "val_accuracy": held["accuracy"],
                "seconds": round(time.time() - started, 1),
            }
        )
        if progress:
            progress(f"epoch {epoch}: loss {loss:.4f}, held-out masked accuracy {held['accuracy']:.4f}")
    baselines = kmer_baseline(train, val, val_hidden)
    best_k = max(baselines, key=baselines.get)
    metrics = {
        **evaluate(model, val, val_hidden, config.batch_size),
        "kmer_baselines": baselines,
        "best_kmer_k": best_k,
        "best_kmer_accuracy": baselines[best_k],
        "train_sequences": len(train),
        "held_out_sequences": len(val),
    }
    save_model(run_dir, model.eval())
    atomic_write_json(
        run_dir / "config.json",
        {"task": "masked-nucleotide pretraining", "data": str(data), "input_shape": list(shape), **asdict(config)},
    )
    atomic_write_json(run_dir / "metrics.json", metrics)
    keys = list(history[0])
    atomic_write_text(
        run_dir / "history.csv",
        "\n".join([",".join(keys)] + [",".join(str(r[k]) for k in keys) for r in history]) + "\n",
    )
    return run_dir
