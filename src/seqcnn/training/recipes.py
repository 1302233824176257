"""Training recipes: :class:`TrainConfig` (everything that decides how a model is trained, saved in
``config.json``) and the named recipes.

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

import math
from dataclasses import dataclass

from seqcnn.data import augment
from seqcnn.errors import InputError

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
