"""Training: the epoch loop, early stopping, determinism and the recipes.

``fit`` trains a module on tensors and knows nothing of files; :func:`seqcnn.run.train` loads
data, splits it, builds the model from its spec, calls ``fit``, evaluates on the test part and
writes the run folder (see ``docs/design.md``).

Recipes built in:

* ``primer``: exactly the protocol of Zou et al. 2019 (Adam, learning rate 1e-3, batch 32,
  50 epochs, the weights of the last epoch).
* ``seqcnn`` (the default): see :data:`RECIPES` and BENCHMARKS.md for the measurements
  behind it.
* ``chipseq`` (the default for positives-only ChIP-seq data): Adam, batch 64, early stopping,
  reverse-complement augmentation (BENCHMARKS.md, ENCODE).
* ``fashion`` (the default for Fashion-MNIST), ``fashion-aug`` (random shifts and flips) and
  ``fashion-bn`` (batch-normalised CNNs): bf16 autocast and channels-last memory, chosen by
  measurement (BENCHMARKS.md).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from seqcnn import augment, distributed
from seqcnn.data import TensorSet, batches
from seqcnn.errors import DivergedError, InputError

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "onecycle", "cosine")
PRECISIONS = ("fp32", "bf16")


@dataclass
class TrainConfig:
    """Everything that decides how a model is trained (saved in ``config.json``)."""

    epochs: int = 50
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    schedule: str = "constant"
    patience: int | None = None
    restore_best: bool = False
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    augment: tuple[str, ...] = ()
    precision: str = "fp32"  # "bf16": autocast matmuls and convolutions (AMX/AVX-512 BF16 on CPU)
    channels_last: bool = False  # NHWC memory format for 2D convolutions (oneDNN's fast path)

    def check(self) -> "TrainConfig":
        """Validate values; raise :class:`InputError` naming the option."""
        if self.epochs < 1:
            raise InputError(f"--epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise InputError(f"--batch-size must be at least 1, got {self.batch_size}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise InputError(f"--lr must be a positive number, got {self.lr}")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"--optimizer must be one of {list(OPTIMIZERS)}, but got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise InputError(f"--schedule must be one of {list(SCHEDULES)}, but got {self.schedule!r}")
        if self.patience is not None and self.patience < 1:
            raise InputError(f"--patience must be at least 1, got {self.patience}")
        if self.precision not in PRECISIONS:
            raise InputError(f"--precision must be one of {list(PRECISIONS)}, but got {self.precision!r}")
        if self.threads is not None and self.threads < 1:
            raise InputError(f"--threads must be at least 1, got {self.threads}")
        self.augment = augment.check(tuple(self.augment))
        return self


RECIPES: dict[str, TrainConfig] = {
    "primer": TrainConfig(epochs=50, batch_size=32, lr=1e-3, optimizer="adam"),
    # Chosen on the primer data (BENCHMARKS.md): strong decoupled weight decay with a one-cycle
    # schedule, keeping the weights of the best validation epoch.
    "seqcnn": TrainConfig(epochs=50, batch_size=32, lr=3e-2, optimizer="adamw", weight_decay=0.1, schedule="onecycle", restore_best=True),
    # Fashion-MNIST (BENCHMARKS.md, ## Fashion-MNIST): bf16 autocast + NHWC run 3x faster than float32 on an AMX CPU.
    # The last epoch's weights, as in the book: with one-cycle annealing the last epoch has the best
    # validation accuracy, while the validation loss bottoms out two epochs earlier (measured).
    "fashion": TrainConfig(epochs=15, batch_size=32, lr=2e-3, optimizer="adam", schedule="onecycle",
                           precision="bf16", channels_last=True),
    "fashion-aug": TrainConfig(epochs=12, batch_size=64, lr=2e-3, optimizer="adam", schedule="onecycle",
                               augment=("shift", "flip"), precision="bf16", channels_last=True),
    # For batch-normalised CNNs (benchmarks/specs/fashion-cnn-bn.json): a higher peak rate, and 30 epochs
    # (0.933-0.935 test accuracy over 3 seeds on a GPU, against 0.920 after 12; with the head's dropout at 0.25,
    # benchmarks/specs/fashion-cnn-bn-d25.json, 0.9397; BENCHMARKS.md).
    "fashion-bn": TrainConfig(epochs=30, batch_size=64, lr=3e-3, optimizer="adam", schedule="onecycle",
                              augment=("shift", "flip"), precision="bf16", channels_last=True),
    # Positives-only ChIP-seq data with shuffled negatives (the default there): chosen by measurement on
    # ENCODE experiments (BENCHMARKS.md, ENCODE).
    "chipseq": TrainConfig(epochs=20, batch_size=64, lr=5e-3, optimizer="adam", patience=3, restore_best=True, augment=("rc",)),
}


@dataclass
class History:
    """One row per epoch (train and validation loss and accuracy, learning rate, seconds)."""

    rows: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    best_loss: float = math.inf  # early stopping: the best validation loss so far,
    waited: int = 0  # epochs since it improved,
    best_state: dict | None = None  # and the weights it came with (``restore_best``)


@dataclass
class Loop:
    """The live objects of a training loop: what ``fit`` hands to ``on_epoch_end`` (to save a
    resumable checkpoint, see :func:`seqcnn.checkpoint.save_training_state`) and what
    ``resume`` fills in (see :func:`seqcnn.checkpoint.restore_training_state`)."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    schedule: object | None
    generator: torch.Generator
    history: History
    epoch: int = 0  # the last completed epoch


def resolve_device(name: str) -> torch.device:
    """``"auto"`` gives CUDA when available, else the CPU; under ``torchrun``, ``cuda`` is this rank's GPU."""
    if name == "auto":
        return distributed.local_device(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    try:
        return distributed.local_device(torch.device(name))
    except RuntimeError:
        raise InputError(f"--device must be 'auto', 'cpu' or 'cuda[:N]', but got {name!r}") from None


def loss_fn(logits: torch.Tensor, y: torch.Tensor, output_activation: str | None) -> torch.Tensor:
    """Cross-entropy on logits for softmax outputs, binary cross-entropy for sigmoid ones."""
    if output_activation == "sigmoid":
        target = y.float().view(-1, 1) if logits.shape[1] == 1 else F.one_hot(y, logits.shape[1]).float()
        return F.binary_cross_entropy_with_logits(logits, target)
    return F.cross_entropy(logits, y)


def probabilities(logits: torch.Tensor, output_activation: str | None) -> torch.Tensor:
    """Class probabilities ``(N, K)`` from logits (a single sigmoid unit gives two columns)."""
    if output_activation == "sigmoid":
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=1) if p.shape[1] == 1 else p
    return torch.softmax(logits, dim=1)


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimiser named in ``config``.

    Adam(W) runs as one fused kernel per step instead of about ten small ops per tensor: 5 % of
    a fashion-cnn step and 10 % of a primer step on the CPU (BENCHMARKS.md).
    """
    params = list(model.parameters())
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    fused = all(p.dtype.is_floating_point and p.device.type in ("cpu", "cuda") for p in params)
    return cls(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused or None)


def autocast(config: TrainConfig, device: torch.device):
    """bfloat16 autocast on ``device`` when ``config.precision`` is ``"bf16"``, else a no-op context."""
    if config.precision != "bf16":
        return contextlib.nullcontext()  # a disabled torch.autocast still costs 10 us a step
    return torch.autocast(device.type, dtype=torch.bfloat16)


def as_input(xb: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    """A batch in the memory format the model runs in: NHWC for images when ``channels_last``."""
    return xb.contiguous(memory_format=torch.channels_last) if config.channels_last and xb.dim() == 4 else xb


def make_schedule(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
    """A per-step learning-rate schedule, or None for a constant rate."""
    total = config.epochs * steps_per_epoch
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total)
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    return None


def train_epoch(model, data: TensorSet, optimizer, schedule, config: TrainConfig, generator: torch.Generator, epoch: int,
                on_batch: Callable[[], object] | None = None) -> tuple[float, float]:
    """One pass over ``data`` in shuffled batches; returns mean loss and accuracy.

    ``on_batch`` (optional) is called after every optimiser step (the batch progress bar).

    Raises:
        DivergedError: when the loss becomes NaN or infinite, naming the epoch and batch.
    """
    model.train()
    # Per-batch results go into tensors allocated once: a small tensor kept per step fragments the heap
    # (a GABPA epoch of 420 steps peaked at 1.4 GB with lists, 0.46 GB this way, same CPU time).
    steps = _steps(data, config)
    losses = torch.zeros(steps, device=data.device)  # kept on the device: no sync per step
    sizes = torch.zeros(steps, device=data.device)
    hits = torch.zeros(steps, dtype=torch.int64, device=data.device)
    done = 0
    aug_generator = distributed.augment_generator(generator, config.seed, epoch)  # the batch order stays in step across ranks
    for step, (xb, yb) in enumerate(batches(data, config.batch_size, shuffle=True, generator=generator, shard=distributed.shard())):
        if config.augment:
            xb = augment.apply(xb, config.augment, aug_generator)
        weight = distributed.loss_weight(len(yb), step, len(data), config.batch_size)
        logits, loss = train_step(model, as_input(xb, config), yb, optimizer, config, weight)
        if schedule is not None:
            schedule.step()
        if on_batch is not None:
            on_batch()
        losses[step] = loss.detach()
        sizes[step] = len(yb)
        hits[step] = (logits.detach().argmax(1) == yb).sum()
        done = step + 1
        if step % 50 == 49 and not torch.isfinite(losses[step - 49 : done]).all():  # a sync every 50 steps stops a diverged epoch early
            break
    losses, sizes, hits = losses[:done], sizes[:done], hits[:done]  # a rank can get no batch
    bad = (~torch.isfinite(losses)).nonzero()
    if len(bad):
        first = int(bad[0])
        raise DivergedError(f"training diverged: loss is {losses[first].item()} at epoch {epoch}, batch {first + 1}; try a lower --lr")
    total_loss = losses @ sizes
    correct = hits.sum()
    total, right, seen = distributed.sum_all(total_loss, correct, _seen(data, config))  # over all ranks
    return total / seen, right / seen


def train_step(model, xb: torch.Tensor, yb: torch.Tensor, optimizer, config: TrainConfig, weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on a batch ``(B, C, ...)``; returns the logits ``(B, K)`` and the loss.

    ``weight`` scales the loss before ``backward`` (a rank's share of a distributed global
    batch, :func:`seqcnn.distributed.loss_weight`); the loss returned is unscaled.
    """
    with autocast(config, xb.device):
        logits = model(xb)
    logits = logits.float()  # the loss in float32 whatever the precision of the layers
    loss = loss_fn(logits, yb, getattr(model, "output_activation", None))
    optimizer.zero_grad(set_to_none=True)
    (loss if weight == 1.0 else loss * weight).backward()
    optimizer.step()
    return logits, loss


@torch.no_grad()
def evaluate(model, data: TensorSet, batch_size: int = 256, config: TrainConfig | None = None) -> tuple[float, float, torch.Tensor]:
    """Mean loss, accuracy and probabilities ``(N, K)`` of ``model`` on labelled ``data``.

    ``config`` (optional) gives the precision and memory format to run in.
    """
    model.eval()
    config = config or TrainConfig()
    act = getattr(model, "output_activation", None)
    shard = distributed.shard() if len(data) >= distributed.world_size() else (0, 1)  # each rank a part, then gathered
    with autocast(config, data.device):
        logits = torch.cat([model(as_input(xb, config)).float() for xb, _ in batches(data, batch_size, shard=shard)])
    logits = distributed.gather_rows(logits, len(data)) if shard[1] > 1 else logits
    loss = loss_fn(logits, data.y, act).item()
    acc = (logits.argmax(1) == data.y).float().mean().item()
    return loss, acc, probabilities(logits, act)


def fit(model, train: TensorSet, val: TensorSet | None, config: TrainConfig, progress: bool = True,
        resume: Callable[[Loop], None] | None = None, on_epoch_end: Callable[[Loop], None] | None = None) -> History:
    """Train ``model`` in place.

    Args:
        model: a module returning logits (``output_activation`` attribute optional).
        train: training tensors on the model's device.
        val: validation tensors, for early stopping and ``restore_best``; may be None.
        config: the recipe.
        progress: show a progress bar (epochs, loss, accuracy, ETA) on stderr.
        resume: fills a fresh :class:`Loop` with a saved state (weights, optimiser, RNGs,
            epoch, history) to continue from; None starts from epoch 1.
        on_epoch_end: called with the :class:`Loop` after every completed epoch (to save it).

    Returns:
        The per-epoch history.

    Raises:
        DivergedError: when the loss becomes NaN or infinite, naming the epoch and batch.
    """
    config.check()
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    net = distributed.wrap(model)  # DistributedDataParallel under torchrun, else the model itself
    optimizer = make_optimizer(model, config)
    schedule = make_schedule(optimizer, config, math.ceil(len(train) / config.batch_size))
    loop = Loop(model, optimizer, schedule, generator, History())
    if resume is not None:
        resume(loop)
    history = loop.history
    bar = _progress(config.epochs, progress and distributed.is_main())
    bar.update(loop.epoch)
    steps = math.ceil(len(train) / config.batch_size)
    batch_bar = _progress(steps, progress and distributed.is_main(), "batches", "batch", position=1)
    last = loop.epoch if history.stopped_early else config.epochs  # a resumed run that had stopped early stays stopped
    for epoch in range(loop.epoch + 1, last + 1):
        start = time.perf_counter()
        batch_bar.reset(total=steps)
        loss, acc = train_epoch(net, train, optimizer, schedule, config, generator, epoch, on_batch=None if batch_bar.disable else batch_bar.update)
        row = {"epoch": epoch, "loss": loss, "accuracy": acc, "lr": optimizer.param_groups[0]["lr"]}
        if val is not None and len(val):
            row["val_loss"], row["val_accuracy"], _ = evaluate(model, val, config=config)
        row["seconds"] = time.perf_counter() - start
        history.rows.append(row)
        bar.update(1)
        bar.set_postfix({k: f"{v:.4f}" for k, v in row.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")})
        if "val_loss" in row and row["val_loss"] < history.best_loss:
            history.best_loss, history.best_epoch, history.waited = row["val_loss"], epoch, 0
            if config.restore_best:
                history.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif "val_loss" in row:
            history.waited += 1
            history.stopped_early = config.patience is not None and history.waited >= config.patience
        loop.epoch = epoch
        if on_epoch_end is not None:
            on_epoch_end(loop)
        if history.stopped_early:
            break
    batch_bar.close()
    bar.close()
    if history.best_state is not None:
        model.load_state_dict(history.best_state)
    if config.channels_last:
        model.to(memory_format=torch.contiguous_format)
    return history


def _steps(data, config: TrainConfig) -> int:
    """Batches this rank gets in a shuffled epoch (at most: a store may yield fewer)."""
    return math.ceil(len(data) / config.batch_size)


def _seen(data, config: TrainConfig) -> int:
    """Examples this rank trained on in an epoch (its slices of every global batch but a last one smaller than the world)."""
    rank, world = distributed.shard()
    sizes = [min(config.batch_size, len(data) - s) for s in range(0, len(data), config.batch_size)]
    return sum(n * (rank + 1) // world - n * rank // world for n in sizes if n >= world)


def _progress(total: int, enabled: bool, desc: str = "epochs", unit: str = "epoch", position: int = 0):
    """A tqdm bar on stderr: epochs (with loss, accuracy and ETA) or, below it, the batches of the current epoch."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, file=sys.stderr, dynamic_ncols=True, leave=False, position=position,
                mininterval=0.5)
