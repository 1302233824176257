"""Training: the epoch loop, early stopping, determinism and the recipes.

``fit`` trains a module on tensors and knows nothing of files; :func:`seqcnn.jobs.train.train` loads
data, splits it, builds the model from its spec, calls ``fit``, evaluates on the test part and
writes the run folder (see ``docs/design.md``).

Recipes built in:

* ``primer``: exactly the protocol of Zou et al. 2019 (Adam, learning rate 1e-3, batch 32,
  50 epochs, the weights of the last epoch).
* ``seqcnn`` (the default): see :data:`RECIPES` and BENCHMARKS.md for the measurements
  behind it.
* ``chipseq`` (the default for positives-only ChIP-seq data): Adam, batch 64, early stopping,
  reverse-complement augmentation (BENCHMARKS.md, ENCODE).
* ``chipseq-hybrid``: ChIP-seq data with a model that has recurrent or attention layers (chosen
  instead of ``chipseq`` for such a model): AdamW with a one-cycle schedule, no early stopping.
* ``labelled``: the recipe of the defaults panel, for its model of labelled sequences.
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

from seqcnn.data import augment
from seqcnn.data.batches import TensorSet, batches
from seqcnn.data.targets import Task, predictions, task_loss
from seqcnn.errors import DivergedError, InputError
from seqcnn.training import distributed

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
    precision: str = "fp32"  # "bf16": autocast matmuls and convolutions (where native: seqcnn.training.devices)
    channels_last: bool = False  # NHWC memory format for 2D convolutions (oneDNN's fast path)
    clip_norm: float | None = None  # clip the gradients' global L2 norm to this before each step
    eps: float = 1e-8  # Adam's epsilon: the floor of the gradient scale it divides by
    label_smoothing: float = 0.0  # training targets (1 - s) on the class and s / K spread over all K
    amsgrad: bool = False  # Adam(W) divides by the largest second moment seen, so steps shrink with the gradients
    beta2: float = 0.999  # Adam's decay of the second moment: lower forgets faster (steps follow the gradients' scale)
    average: float = 0.0  # > 0: validate, keep and return an exponential moving average of the weights (decay per step)

    def check(self) -> TrainConfig:
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
        if self.clip_norm is not None and not (self.clip_norm > 0 and math.isfinite(self.clip_norm)):
            raise InputError(f"clip_norm must be a positive number, got {self.clip_norm}")
        if not (self.eps > 0 and math.isfinite(self.eps)):
            raise InputError(f"eps must be a positive number, got {self.eps}")
        if not 0 <= self.average < 1:
            raise InputError(f"average must be in [0, 1) (the decay per step; 0: off), got {self.average}")
        if not 0 < self.beta2 < 1:
            raise InputError(f"beta2 must be in (0, 1), got {self.beta2}")
        if not 0 <= self.label_smoothing < 1:
            raise InputError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.threads is not None and self.threads < 1:
            raise InputError(f"--threads must be at least 1, got {self.threads}")
        self.augment = augment.check(tuple(self.augment))
        return self


RECIPES: dict[str, TrainConfig] = {
    "primer": TrainConfig(epochs=50, batch_size=32, lr=1e-3, optimizer="adam"),
    # The primer model on the built-in data (BENCHMARKS.md, Defaults panel). A one-cycle peak of 3e-2 with strong
    # decoupled weight decay learns the motif best, but without help the dense layer died (loss to ln 2, accuracy to
    # chance) in 11 of 11 runs, and at 1e-2 (no collapse) the median test accuracy was 0.990. Label smoothing keeps
    # the loss, and so Adam's gradient scale, away from zero; clipping the gradient norm at 1 stops the steps that
    # killed the layer; validating and keeping a moving average of the weights (decay 0.995 per step) smooths the
    # high rate's step-to-step noise, whose validation dips (below 0.90 after 0.95) the clipping alone left.
    "seqcnn": TrainConfig(
        epochs=50,
        batch_size=32,
        lr=3e-2,
        optimizer="adamw",
        weight_decay=0.1,
        schedule="onecycle",
        restore_best=True,
        label_smoothing=0.1,
        clip_norm=1.0,
        average=0.995,
    ),
    # For the panel's default model of labelled sequences (a conv layer, global max pooling, the output layer):
    # the recipe every model of the defaults panel was compared with (BENCHMARKS.md, Defaults panel).
    "labelled": TrainConfig(
        epochs=20, batch_size=32, lr=3e-3, optimizer="adamw", weight_decay=0.1, schedule="onecycle", restore_best=True
    ),
    # Fashion-MNIST (BENCHMARKS.md, ## Fashion-MNIST): bf16 autocast + NHWC run 3x faster than float32 on an AMX CPU;
    # where bf16 is emulated (no AVX-512 BF16 or AMX) it is 3-15x slower, and
    # seqcnn.training.devices.fit_precision trains in float32 instead (BENCHMARKS.md, Any machine).
    # The last epoch's weights, as in the book: with one-cycle annealing the last epoch has the best
    # validation accuracy, while the validation loss bottoms out two epochs earlier (measured).
    "fashion": TrainConfig(
        epochs=15, batch_size=32, lr=2e-3, optimizer="adam", schedule="onecycle", precision="bf16", channels_last=True
    ),
    "fashion-aug": TrainConfig(
        epochs=12,
        batch_size=64,
        lr=2e-3,
        optimizer="adam",
        schedule="onecycle",
        augment=("shift", "flip"),
        precision="bf16",
        channels_last=True,
    ),
    # For batch-normalised CNNs (benchmarks/specs/fashion-cnn-bn.json): a higher peak rate, and 30 epochs
    # (0.933-0.935 test accuracy over 3 seeds on a GPU, against 0.920 after 12; with the head's dropout at 0.25,
    # benchmarks/specs/fashion-cnn-bn-d25.json, 0.9397; BENCHMARKS.md).
    "fashion-bn": TrainConfig(
        epochs=30,
        batch_size=64,
        lr=3e-3,
        optimizer="adam",
        schedule="onecycle",
        augment=("shift", "flip"),
        precision="bf16",
        channels_last=True,
    ),
    # Positives-only ChIP-seq data with shuffled negatives (the default there): chosen by measurement on
    # ENCODE experiments (BENCHMARKS.md, ENCODE).
    "chipseq": TrainConfig(
        epochs=20, batch_size=64, lr=5e-3, optimizer="adam", patience=3, restore_best=True, augment=("rc",)
    ),
    # The same data with attention or recurrent layers (seqcnn.jobs.train picks it for such models): a CNN +
    # self-attention spec sat at the class prior for 8 to 15 epochs on MYC with 1,000 positives before it learned,
    # so ``chipseq``'s patience of 3 stopped it at chance (AUROC 0.54); trained for 20 epochs it reached 0.84 to
    # 0.89. The one-cycle warm-up and gradient clipping keep the attention's early steps small (BENCHMARKS.md,
    # Recurrent and attention layers).
    "chipseq-hybrid": TrainConfig(
        epochs=20,
        batch_size=64,
        lr=3e-3,
        optimizer="adamw",
        weight_decay=0.01,
        schedule="onecycle",
        restore_best=True,
        augment=("rc",),
        clip_norm=1.0,
    ),
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
    collapses: list[dict] = field(default_factory=list)  # see :func:`find_collapses`


@dataclass
class Loop:
    """The live objects of a training loop: what ``fit`` hands to ``on_epoch_end`` (to save a
    resumable checkpoint, see :func:`seqcnn.runs.folder.save_training_state`) and what
    ``resume`` fills in (see :func:`seqcnn.runs.folder.restore_training_state`)."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    schedule: object | None
    generator: torch.Generator
    history: History
    epoch: int = 0  # the last completed epoch
    average: ExponentialAverage | None = None  # ``TrainConfig.average``'s weights


def resolve_device(name: str) -> torch.device:
    """``"auto"`` gives CUDA when available, else the CPU; under ``torchrun``, ``cuda`` is this rank's GPU."""
    if name == "auto":
        return distributed.local_device(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    try:
        return distributed.local_device(torch.device(name))
    except RuntimeError:
        raise InputError(f"--device must be 'auto', 'cpu' or 'cuda[:N]', but got {name!r}") from None


def loss_fn(
    logits: torch.Tensor,
    y: torch.Tensor,
    output_activation: str | None,
    smoothing: float = 0.0,
    task: Task | None = None,
) -> torch.Tensor:
    """Cross-entropy on logits for softmax outputs, binary cross-entropy for sigmoid ones; for float
    targets ``(B, T)`` (multilabel, regression) the task's masked loss (:func:`seqcnn.data.targets.task_loss`),
    NaN cells being missing labels.

    ``smoothing`` moves the class targets from 1 and 0 to ``1 - s + s/K`` and ``s/K`` (K classes; 2 for a
    single sigmoid unit); it does not apply to float targets.
    """
    if y.is_floating_point():
        if task is None:
            raise ValueError("float targets need their task for the loss")
        return task_loss(task, logits, y)
    if output_activation == "sigmoid":
        target = y.float().view(-1, 1) if logits.shape[1] == 1 else F.one_hot(y, logits.shape[1]).float()
        if smoothing:
            target = target * (1 - smoothing) + smoothing / max(logits.shape[1], 2)
        return F.binary_cross_entropy_with_logits(logits, target)
    return F.cross_entropy(logits, y, label_smoothing=smoothing)


def hits(logits: torch.Tensor, y: torch.Tensor, task: Task | None = None) -> torch.Tensor:
    """Correct predictions in a batch: classes right, or (multilabel) labelled cells on the right side
    of 0.5, counted per example as the fraction of its labelled cells; NaN for regression (no accuracy)."""
    if not y.is_floating_point():
        return (logits.argmax(1) == y).sum()
    if task is not None and task.kind == "regression":
        return torch.tensor(float("nan"), device=y.device)
    labelled = ~torch.isnan(y)
    right = ((logits > 0) == (y > 0.5)) & labelled
    return (right.sum(1) / labelled.sum(1).clamp(min=1)).sum()


def probabilities(logits: torch.Tensor, output_activation: str | None) -> torch.Tensor:
    """Class probabilities ``(N, K)`` from logits (a single sigmoid unit gives two columns)."""
    if output_activation == "sigmoid":
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=1) if p.shape[1] == 1 else p
    return torch.softmax(logits, dim=1)


def _undecorated(method):
    """A torch.optim method without its ``torch._disable_dynamo`` wrapper (it imports torch._dynamo on first call)."""
    return getattr(method, "__wrapped__", method)


class FusedAdam(torch.optim.Optimizer):
    """Adam or AdamW as torch's fused kernel (``torch._fused_adam_``/``_fused_adamw_``), without torch._dynamo.

    torch.optim's Adam marks ``add_param_group``, ``zero_grad``, ``state_dict`` and its step
    function as not to be compiled; the marker imports torch._dynamo on first call, 0.7-1.6 s
    of a small run's start-up (BENCHMARKS.md, Defaults panel). seqcnn never compiles, so this
    class calls the same methods unwrapped and the same fused kernel: the updates, the state
    (``step``, ``exp_avg``, ``exp_avg_sq`` per parameter) and ``state_dict`` are torch's.
    Learning-rate schedules (including one-cycle's momentum cycling of ``betas``) work as usual.
    """

    add_param_group = _undecorated(torch.optim.Optimizer.add_param_group)
    zero_grad = _undecorated(torch.optim.Optimizer.zero_grad)
    state_dict = _undecorated(torch.optim.Optimizer.state_dict)
    load_state_dict = _undecorated(torch.optim.Optimizer.load_state_dict)

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
        amsgrad: bool = False,
    ):
        # "fused": load_state_dict then puts each loaded ``step`` on its parameter's device, as the kernel needs
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "decoupled": decoupled,
                    "amsgrad": amsgrad, "fused": True}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient (``closure`` is not supported)."""
        if closure is not None:
            raise ValueError("FusedAdam.step takes no closure")
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            amsgrad = group.get("amsgrad", False)  # groups saved before these keys existed resume as before
            for p in params:
                if not self.state[p]:
                    self.state[p] = {
                        "step": torch.zeros((), dtype=torch.float32, device=p.device),
                        "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                        "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                    }
                    if amsgrad:
                        self.state[p]["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            states = [self.state[p] for p in params]
            steps = [s["step"] for s in states]
            torch._foreach_add_(steps, 1)
            kernel = torch._fused_adamw_ if group.get("decoupled", self.defaults["decoupled"]) else torch._fused_adam_
            beta1, beta2 = group["betas"]
            grads = [p.grad for p in params]
            moments = [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states]
            kernel(
                params,
                grads,
                *moments,
                [s["max_exp_avg_sq"] for s in states] if amsgrad else [],
                steps,
                amsgrad=amsgrad,
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=False,
                grad_scale=None,
                found_inf=None,
            )


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimiser named in ``config``.

    Adam(W) runs as one fused kernel per step instead of about ten small ops per tensor: 5 % of
    a fashion-cnn step and 10 % of a primer step on the CPU (BENCHMARKS.md); :class:`FusedAdam`
    does so without importing torch._dynamo.
    """
    params = list(model.parameters())
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)
    devices, dtypes = {p.device.type for p in params}, {p.dtype for p in params}
    if len(devices) == 1 and devices <= {"cpu", "cuda"} and len(dtypes) == 1 and next(iter(dtypes)).is_floating_point:
        decoupled = config.optimizer == "adamw"
        return FusedAdam(params, lr=config.lr, betas=(0.9, config.beta2), eps=config.eps,
                         weight_decay=config.weight_decay, decoupled=decoupled, amsgrad=config.amsgrad)
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=config.lr, betas=(0.9, config.beta2), eps=config.eps, weight_decay=config.weight_decay,
               amsgrad=config.amsgrad)


class ExponentialAverage(torch.optim.swa_utils.AveragedModel):
    """torch's averaged copy of a model (``module``, ``n_averaged``; its state dict), moved toward
    the current weights and buffers at every step.

    After ``n`` steps the average weighs the weights after step ``k`` by ``decay ** (n - k)``, divided
    by the sum of those weights (the bias correction of Adam's moments): step ``n`` moves it
    ``(1 - decay) / (1 - decay ** n)`` of the way to the new weights. Without the correction the
    random starting weights would still count ``decay ** n`` (0.82 after a 40-step epoch at 0.995) and a
    short run would end near its start; with it a run shorter than ``1 / (1 - decay)`` steps ends with
    about the mean of its weights so far. The tensor pairs are found once: walking the modules for their
    parameters at every step, as ``AveragedModel`` does, cost a quarter of a primer model's step.
    """

    def __init__(self, model: torch.nn.Module, decay: float):
        super().__init__(model, use_buffers=True)
        self.decay = decay
        self.pairs: list | None = None

    @torch.no_grad()
    def update_parameters(self, current: torch.nn.Module) -> None:
        if self.pairs is None:
            mine = [*self.module.parameters(), *self.module.buffers()]
            self.pairs = list(zip(mine, [*current.parameters(), *current.buffers()], strict=True))
        n = int(self.n_averaged) + 1  # steps averaged, this one included
        share = (1 - self.decay) / (1 - self.decay**n)  # 1 at the first step
        for average, now in self.pairs:
            if n == 1 or not average.is_floating_point():  # integer buffers (batches seen) are copied
                average.copy_(now)
            else:
                average.lerp_(now, share)
        self.n_averaged += 1

    def restart(self, model: torch.nn.Module) -> None:
        """Start again from ``model``'s weights (a resumed state saved without an average)."""
        self.module.load_state_dict(model.state_dict())
        self.n_averaged.zero_()


def weight_average(model: torch.nn.Module, config: TrainConfig) -> ExponentialAverage | None:
    """The moving average of ``model``'s weights that ``config.average`` asks for (its decay per step).

    It follows the model over the last ``1 / (1 - decay)`` steps or so and smooths the
    step-to-step noise of a high learning rate (BENCHMARKS.md, Defaults panel).
    """
    return ExponentialAverage(model, config.average) if config.average else None


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
    loss = loss_fn(logits, yb, getattr(model, "output_activation", None), config.label_smoothing, task)
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
    loss = loss_fn(logits, data.y, act, 0.0, task).item()  # no smoothing: the validation loss is the plain one
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
        on_epoch_end: called with the :class:`Loop` after every completed epoch (to save it).

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
            row["val_loss"], row["val_accuracy"], _ = evaluate(judged, val, config=config)
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
