"""The training loop: ``fit``, ``train_epoch``, ``evaluate``; early stopping, determinism, collapse checks.

``fit`` trains a module on tensors and knows nothing of files; :func:`seqcnn.jobs.train.train` loads
data, splits it, builds the model from its spec, calls ``fit``, evaluates on the test part and
writes the run folder (see ``docs/design.md``). The recipes are :mod:`seqcnn.training.recipes`, the
losses :mod:`seqcnn.training.losses`, the optimisers :mod:`seqcnn.training.optimizers`.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from seqcnn.data import augment
from seqcnn.data.batches import TensorSet, batches
from seqcnn.data.targets import Task, predictions
from seqcnn.errors import DivergedError
from seqcnn.training import distributed
from seqcnn.training.losses import batch_loss, hits, probabilities
from seqcnn.training.optimizers import ExponentialAverage, make_optimizer, make_schedule, weight_average
from seqcnn.training.recipes import TrainConfig


@dataclass
class History:
    """One row per epoch (train and validation loss and accuracy, learning rate, seconds)."""

    rows: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    best_loss: float = math.inf  # early stopping: the best validation loss so far,
    waited: int = 0  # epochs since it improved,
    best_state: dict | None = None  # and the weights it came with (``restore_best``)
    collapses: list[dict] = field(default_factory=list)  # see :func:`find_collapses`


@dataclass
class Loop:
    """The live objects of a training loop: what ``fit`` hands to ``on_epoch_end`` (to save a
    resumable checkpoint, see :func:`seqcnn.runs.training_state.save_training_state`) and what
    ``resume`` fills in (see :func:`seqcnn.runs.training_state.restore_training_state`)."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    schedule: object | None
    generator: torch.Generator
    history: History
    epoch: int = 0  # the last completed epoch
    average: ExponentialAverage | None = None  # ``TrainConfig.average``'s weights
    # the last epoch's validation outputs (N, K): what ``on_epoch_end`` reads for a metric of the task (tuning)
    val_outputs: torch.Tensor | None = None


def autocast(config: TrainConfig, device: torch.device):
    """bfloat16 autocast on ``device`` when ``config.precision`` is ``"bf16"``, else a no-op context."""
    if config.precision != "bf16":
        return contextlib.nullcontext()  # a disabled torch.autocast still costs 10 us a step
    return torch.autocast(device.type, dtype=torch.bfloat16)


def as_input(xb: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    """A batch in the memory format the model runs in: NHWC for images when ``channels_last``."""
    return xb.contiguous(memory_format=torch.channels_last) if config.channels_last and xb.dim() == 4 else xb


def train_epoch(
    model,
    data: TensorSet,
    optimizer,
    schedule,
    config: TrainConfig,
    generator: torch.Generator,
    epoch: int,
    on_batch: Callable[[], object] | None = None,
    average: ExponentialAverage | None = None,
) -> tuple[float, float]:
    """One pass over ``data`` in shuffled batches; returns mean loss and accuracy.

    ``on_batch`` (optional) is called after every optimiser step (the batch progress bar);
    ``average`` (optional) is updated with the model's weights after every step.

    Raises:
        DivergedError: when the loss becomes NaN or infinite, naming the epoch and batch.
    """
    model.train()
    # Per-batch results go into tensors allocated once: a small tensor kept per step fragments the heap
    # (a GABPA epoch of 420 steps peaked at 1.4 GB with lists, 0.46 GB this way, same CPU time).
    steps = _steps(data, config)
    losses = torch.zeros(steps, device=data.device)  # kept on the device: no sync per step
    sizes = torch.zeros(steps, device=data.device)
    right = torch.zeros(steps, device=data.device)  # float: multilabel counts fractions of cells
    done = 0
    aug_generator = distributed.augment_generator(
        generator, config.seed, epoch
    )  # the batch order stays in step across ranks
    for step, (xb, yb) in enumerate(
        batches(data, config.batch_size, shuffle=True, generator=generator, shard=distributed.shard())
    ):
        if config.augment:
            xb = augment.apply(xb, config.augment, aug_generator)
        weight = distributed.loss_weight(len(yb), step, len(data), config.batch_size)
        logits, loss = train_step(
            model, as_input(xb, config), yb, optimizer, config, weight, task=getattr(data, "task", None)
        )
        if schedule is not None:
            schedule.step()
        if average is not None:
            average.update_parameters(getattr(model, "module", model))  # the model inside DistributedDataParallel
        if on_batch is not None:
            on_batch()
        losses[step] = loss.detach()
        sizes[step] = len(yb)
        right[step] = hits(logits.detach(), yb, getattr(data, "task", None))
        done = step + 1
        if (
            step % 50 == 49 and not torch.isfinite(losses[step - 49 : done]).all()
        ):  # a sync every 50 steps stops a diverged epoch early
            break
    losses, sizes, right = losses[:done], sizes[:done], right[:done]  # a rank can get no batch
    bad = (~torch.isfinite(losses)).nonzero()
    if len(bad):
        first = int(bad[0])
        raise DivergedError(
            f"training diverged: loss is {losses[first].item()} at epoch {epoch}, batch {first + 1}; try a lower --lr"
        )
    total_loss = losses @ sizes
    total, correct, seen = distributed.sum_all(total_loss, right.sum(), _seen(data, config))  # over all ranks
    return total / seen, correct / seen


def train_step(
    model,
    xb: torch.Tensor,
    yb: torch.Tensor,
    optimizer,
    config: TrainConfig,
    weight: float = 1.0,
    task: Task | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on a batch ``(B, C, ...)``; returns the logits ``(B, K)`` and the loss.

    ``weight`` scales the loss before ``backward`` (a rank's share of a distributed global
    batch, :func:`seqcnn.training.distributed.loss_weight`); the loss returned is unscaled. ``task`` gives
    the loss of float targets (multilabel, regression).
    """
    with autocast(config, xb.device):
        logits = model(xb)
    logits = logits.float()  # the loss in float32 whatever the precision of the layers
    loss = batch_loss(logits, yb, getattr(model, "output_activation", None), config.label_smoothing, task)
    optimizer.zero_grad(set_to_none=True)
    (loss if weight == 1.0 else loss * weight).backward()
    if config.clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm, foreach=True)
    optimizer.step()
    return logits, loss


@torch.no_grad()
def evaluate(
    model, data: TensorSet, batch_size: int = 256, config: TrainConfig | None = None
) -> tuple[float, float, torch.Tensor]:
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
    task = getattr(data, "task", None)
    loss = batch_loss(logits, data.y, act, 0.0, task).item()  # no smoothing: the validation loss is the plain one
    if data.y.is_floating_point():  # multilabel or regression: the task's outputs on the original scale
        return loss, hits(logits, data.y, task).item() / len(data), torch.from_numpy(predictions(task, logits))
    acc = (logits.argmax(1) == data.y).float().mean().item()
    return loss, acc, probabilities(logits, act)


def fit(
    model,
    train: TensorSet,
    val: TensorSet | None,
    config: TrainConfig,
    progress: bool = True,
    resume: Callable[[Loop], None] | None = None,
    on_epoch_end: Callable[[Loop], None] | None = None,
) -> History:
    """Train ``model`` in place.

    Args:
        model: a module returning logits (``output_activation`` attribute optional).
        train: training tensors on the model's device.
        val: validation tensors, for early stopping and ``restore_best``; may be None.
        config: the recipe.
        progress: show a progress bar (epochs, loss, accuracy, ETA) on stderr.
        resume: fills a fresh :class:`Loop` with a saved state (weights, optimiser, RNGs,
            epoch, history) to continue from; None starts from epoch 1.
        on_epoch_end: called with the :class:`Loop` after every completed epoch (to save it, or to score
            the epoch's validation outputs, ``loop.val_outputs``); an exception it raises ends training there
            (a tuning trial pruned).

    Returns:
        The per-epoch history, with its ``collapses`` (:func:`find_collapses`), each naming the
        epoch whose weights the model ends with (``kept_epoch``). A collapse is also logged on
        stderr, one line, when it happens.

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
    loop = Loop(model, optimizer, schedule, generator, History(), average=weight_average(model, config))
    if resume is not None:
        resume(loop)
    history = loop.history
    history.collapses = find_collapses(history.rows)  # a resumed run logs only new collapses
    bar = _progress(config.epochs, progress and distributed.is_main())
    bar.update(loop.epoch)
    steps = math.ceil(len(train) / config.batch_size)
    batch_bar = _progress(steps, progress and distributed.is_main(), "batches", "batch", position=1)
    last = loop.epoch if history.stopped_early else config.epochs  # a resumed run that had stopped early stays stopped
    judged_any = False
    for epoch in range(loop.epoch + 1, last + 1):
        start = time.perf_counter()
        batch_bar.reset(total=steps)
        loss, acc = train_epoch(
            net,
            train,
            optimizer,
            schedule,
            config,
            generator,
            epoch,
            on_batch=None if batch_bar.disable else batch_bar.update,
            average=loop.average,
        )
        judged = model if loop.average is None else loop.average.module  # the weights validated, kept and returned
        row = {"epoch": epoch, "loss": loss, "accuracy": acc, "lr": optimizer.param_groups[0]["lr"]}
        if val is not None and len(val):
            row["val_loss"], row["val_accuracy"], loop.val_outputs = evaluate(judged, val, config=config)
            judged_any = True
        row["seconds"] = time.perf_counter() - start
        history.rows.append(row)
        bar.update(1)
        bar.set_postfix(
            {k: f"{v:.4f}" for k, v in row.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        )
        if progress and bar.disable and distributed.is_main():  # stderr is no terminal: one line per epoch, no bars
            print(_epoch_line(row, config.epochs), file=sys.stderr, flush=True)
        if "val_loss" in row and row["val_loss"] < history.best_loss:
            history.best_loss, history.best_epoch, history.waited = row["val_loss"], epoch, 0
            if config.restore_best:
                history.best_state = {k: v.detach().clone() for k, v in judged.state_dict().items()}
        elif "val_loss" in row:
            history.waited += 1
            history.stopped_early = config.patience is not None and history.waited >= config.patience
        events = find_collapses(history.rows)
        if len(events) > len(history.collapses) and distributed.is_main():
            bar.write(_collapse_message(events[-1], history, config), file=sys.stderr)
        history.collapses = events
        loop.epoch = epoch
        if on_epoch_end is not None:
            on_epoch_end(loop)
        if history.stopped_early:
            break
    batch_bar.close()
    bar.close()
    if history.best_state is not None:
        model.load_state_dict(history.best_state)
    elif loop.average is not None:
        model.load_state_dict(loop.average.module.state_dict())
    if loop.average is not None and judged_any:
        model.eval()  # as a model that was validated itself ends
    kept = history.best_epoch if history.best_state is not None else loop.epoch
    history.collapses = [{**event, "kept_epoch": kept} for event in find_collapses(history.rows)]
    if config.channels_last:
        model.to(memory_format=torch.contiguous_format)
    return history


#: A collapse (:func:`find_collapses`): validation accuracy below ``COLLAPSE_FALL`` after it first reached
#: ``COLLAPSE_REACHED``, or a training loss that gives back more than ``COLLAPSE_LOSS_SHARE`` of what it had learned.
COLLAPSE_REACHED, COLLAPSE_FALL, COLLAPSE_LOSS_SHARE = 0.95, 0.90, 0.5


def collapsed(rows: list[dict], i: int) -> bool:
    """Whether epoch ``rows[i]`` is collapsed, judged against the epochs before it.

    Two signs, either enough: the validation accuracy fell below 0.90 after an earlier epoch
    reached 0.95; or the model had learned (its best training loss so far is at most half the
    first epoch's) and this epoch's training loss gave back more than half of that gain.
    """
    if i == 0:
        return False
    row, before = rows[i], rows[:i]
    accs = [r["val_accuracy"] for r in before if "val_accuracy" in r]
    if accs and "val_accuracy" in row and max(accs) >= COLLAPSE_REACHED and row["val_accuracy"] < COLLAPSE_FALL:
        return True
    first, best = before[0]["loss"], min(r["loss"] for r in before)
    return best <= 0.5 * first and row["loss"] > best + COLLAPSE_LOSS_SHARE * (first - best)


def find_collapses(rows: list[dict]) -> list[dict]:
    """The collapses in a history, one per run of collapsed epochs (see :func:`collapsed`).

    Each is ``{"epoch", "loss", "best_loss", "val_accuracy", "best_val_accuracy", "recovered"}``:
    the first collapsed epoch, its training loss and validation accuracy, the best of both before
    it, and the first epoch no longer collapsed (None when it never recovered).
    """
    events: list[dict] = []
    for i, row in enumerate(rows):
        if not collapsed(rows, i):
            if events and events[-1]["recovered"] is None and collapsed(rows, i - 1):
                events[-1]["recovered"] = row["epoch"]
            continue
        if i > 0 and collapsed(rows, i - 1):
            continue
        accs = [r["val_accuracy"] for r in rows[:i] if "val_accuracy" in r]
        events.append(
            {
                "epoch": row["epoch"],
                "loss": row["loss"],
                "best_loss": min(r["loss"] for r in rows[:i]),
                "val_accuracy": row.get("val_accuracy"),
                "best_val_accuracy": max(accs) if accs else None,
                "recovered": None,
            }
        )
    return events


def _collapse_message(event: dict, history: History, config: TrainConfig) -> str:
    """One log line for a new collapse: what jumped, and which weights the run will keep."""
    what = f"training loss {event['best_loss']:.4f} -> {event['loss']:.4f}"
    if event["val_accuracy"] is not None:
        what += f", validation accuracy {event['best_val_accuracy']:.3f} -> {event['val_accuracy']:.3f}"
    averaged = "moving average of the " if config.average else ""
    if config.restore_best and history.best_epoch is not None:
        kept = f"the {averaged}weights of the best validation epoch are kept (epoch {history.best_epoch} so far)"
    else:
        kept = f"the last epoch's {averaged}weights are kept"
    return f"seqcnn: warning: training collapsed at epoch {event['epoch']} ({what}); {kept}; a lower --lr may avoid it"


def _steps(data, config: TrainConfig) -> int:
    """Batches this rank gets in a shuffled epoch (at most: a store may yield fewer)."""
    return math.ceil(len(data) / config.batch_size)


def _seen(data, config: TrainConfig) -> int:
    """Examples this rank trained on in an epoch: its slices of every global batch but a last one smaller
    than the world."""
    rank, world = distributed.shard()
    sizes = [min(config.batch_size, len(data) - s) for s in range(0, len(data), config.batch_size)]
    return sum(n * (rank + 1) // world - n * rank // world for n in sizes if n >= world)


def _epoch_line(row: dict, epochs: int) -> str:
    """One line for an epoch, where a progress bar cannot redraw itself (a pipe, a log file)."""
    values = ", ".join(f"{k} {row[k]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in row)
    return f"epoch {row['epoch']}/{epochs}: {values} ({row['seconds']:.1f} s)"


def _progress(total: int, enabled: bool, desc: str = "epochs", unit: str = "epoch", position: int = 0):
    """A tqdm bar on stderr: epochs (with loss, accuracy and ETA) or, below it, the batches of the current epoch.

    Off when stderr is no terminal: a bar redrawn into a pipe or a file is kilobytes per epoch.
    """
    enabled = enabled and sys.stderr.isatty()
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
        position=position,
        mininterval=0.5,
    )
