"""Does position matter? A short race on the user's own data between a position-free and a position-aware model.

The default model for labelled sequence tables (``chipseq``: motif detectors, then the maximum of each over the
whole sequence) asks *which* motifs a sequence holds and forgets *where*. That is right for transcription factor
binding, where a site counts wherever it sits, and wrong for splice sites, promoters anchored on their start,
guides and reporter designs with a fixed layout, where the offset of a motif is the signal. No statistic of the
table says which kind a user has as reliably as training both kinds of model and comparing them, so before the
run trains its model, :func:`race` trains the position-free default and the position-aware zoo model
(:data:`AWARE`: local pooling keeps each motif's rough position, a dense layer reads it) on the training part
(a random subsample of :data:`RACE_ROWS` rows when larger) with the run's recipe for :data:`RACE_EPOCHS` epochs
(more on smaller tables, up to the recipe's: :func:`race_epochs`),
and scores both on the validation part (at most :data:`RACE_VAL_ROWS` rows). When neither learned anything (both
at the loss of guessing the class frequencies), a second rung trains both for twice the epochs: a model that reads
position must find the motif before it can learn where it sits, and on long sequences that takes longer; a
position-aware winner of that rung then trains for as many epochs. The test part is never used.

The position-aware candidate reads one strand, whatever the strand test decided for the default: a position is
counted from the start of the sequence as given, and the reverse complement moves a site at position p to
L - p, so reverse-complement augmentation would teach it that both layouts mean the same (a site in the first
third and one in the last third, in a task where that is the difference). Splice sites, promoters anchored on
their start, guides and reporter designs come in their own orientation. When it wins, the run trains and
predicts on one strand (:func:`one_strand`), and the line says so.

The comparison is paired: each validation sequence's loss under one model minus its loss under the other. The
position-aware model is chosen only when its mean loss is lower by :data:`Z` standard errors of that difference
or more; otherwise the position-free default is kept, so that data where position does not matter train exactly
as they did before the race existed. The race, its numbers and the choice are printed and kept in
``config.json`` (``position``); ``--model`` skips it.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from seqcnn.data.batches import tensor_set
from seqcnn.data.sets import LabelledSet
from seqcnn.data.targets import Task
from seqcnn.jobs.inference import predict_tensor
from seqcnn.models.network import build_model
from seqcnn.models.spec import ModelSpec
from seqcnn.training.devices import use_machine
from seqcnn.training.loop import fit
from seqcnn.training.recipes import TrainConfig

#: The position-free candidate: the default model for labelled sequences (:mod:`seqcnn.data.sequence_sets`).
FREE = "chipseq"
#: The position-aware candidate, a zoo model chosen on the defaults panel (docs/benchmarks/panel.md).
AWARE = "local"
#: Training rows of the race: enough for either model to show what it can learn, few enough that the race
#: costs a fraction of the run on large tables (the winner is then trained on every row).
RACE_ROWS = 4000
#: Validation rows scored: the standard error of a paired mean over 2,000 sequences is small next to the
#: differences that matter (a position-only task gives losses apart by ~0.5 nats per sequence).
RACE_VAL_ROWS = 2000
#: Epochs of each candidate in the race on :data:`RACE_ROWS` rows (the recipe's schedule compressed to them).
RACE_EPOCHS = 10
#: Rows x epochs each candidate trains in the race: smaller tables get more epochs (up to the recipe's), since a
#: model that reads position has to find the motif before the dense layer can learn where it sits, which takes
#: more steps than a few epochs of a thousand rows give.
RACE_BUDGET = RACE_ROWS * RACE_EPOCHS
#: Standard errors by which the position-aware model's mean validation loss must beat the position-free one's.
#: 3 makes a choice by chance rare (one-sided p ~ 0.001 under a normal approximation), and it leans to the
#: default: where the two are close, the model the panel and ENCODE measured is kept.
Z = 3.0
#: A mean validation loss at or above this fraction of the chance loss (the entropy of the class frequencies)
#: means a candidate learned nothing usable (as the run's warning says); when both are there, a second rung
#: trains both for twice the epochs.
LEARNT = 0.99
#: Probabilities are clipped here before the logarithm of a log-loss, so one confident error cannot dominate.
EPS = 1e-7


@dataclass(frozen=True)
class PositionRace:
    """The outcome of :func:`race`.

    Attributes:
        free, aware: the two candidates' zoo names.
        rows, val_rows, epochs: training rows, validation rows and epochs of the race.
        free_loss, aware_loss: mean validation loss per sequence (the task's loss: cross-entropy of the
            classes, binary cross-entropy of labelled cells, squared error of standardised targets).
        metric, free_metric, aware_metric: a readable score of both on the same sequences (accuracy for
            classes, else the mean Pearson correlation over targets).
        gain: ``free_loss - aware_loss`` (positive when the position-aware model does better).
        se: the standard error of ``gain`` (paired over sequences).
        chosen: the model the run trains.
        seconds: time the race took.
        one_strand: the position-aware candidate read one strand (unless the user chose the strands).
        rungs: 2 when neither candidate learned anything in the first and both were trained again for twice
            the epochs (``epochs`` is the second rung's).
    """

    free: str
    aware: str
    rows: int
    val_rows: int
    epochs: int
    free_loss: float
    aware_loss: float
    metric: str
    free_metric: float
    aware_metric: float
    gain: float
    se: float
    chosen: str
    seconds: float
    one_strand: bool = True
    rungs: int = 1

    @property
    def z(self) -> float:
        """The gain in standard errors (infinite when every sequence gained alike)."""
        return self.gain / self.se if self.se > 0 else (np.inf if self.gain > 0 else -np.inf if self.gain < 0 else 0.0)

    @property
    def position_aware(self) -> bool:
        """True when the position-aware model won."""
        return self.chosen == self.aware

    def record(self) -> dict:
        """What ``config.json`` keeps (``position``)."""
        return {"z_needed": Z, **asdict(self), "z": round(float(self.z), 2)}

    def line(self) -> str:
        """The line printed when the choice is made."""
        again = ", a second time with twice the epochs as neither learned in the first" if self.rungs > 1 else ""
        both = (f"on {self.rows:,} training and {self.val_rows:,} validation rows, {self.epochs} epoch(s) each{again}, "
                f"validation loss {self.free_loss:.3f} ({self.metric} {self.free_metric:.3f}) for {self.free} "
                f"(global max pooling: position-free) against {self.aware_loss:.3f} ({self.metric} "
                f"{self.aware_metric:.3f}) for {self.aware} (local pooling: position-aware"
                f"{', one strand' if self.one_strand else ''}), difference "
                f"{self.gain:+.3f} +- {self.se:.3f} per sequence")
        if self.position_aware:
            strand = (", trained and predicted on one strand, as the sequences are given (positions have an "
                      "orientation)") if self.one_strand else ""
            return (f"seqcnn: position: where a motif sits matters in these data ({both}): model {self.aware}"
                    f"{strand}; --model {self.free} keeps the position-free default")
        return (f"seqcnn: position: no evidence that position matters in these data ({both}, {Z:g} standard errors "
                f"needed): model {self.free}; --model {self.aware} sees position")


def race(train: LabelledSet, val: LabelledSet, task: Task, specs: dict[str, ModelSpec], config: TrainConfig,
         rc_average: bool, progress: bool = False, strands_given: bool = False) -> PositionRace:
    """Train the position-free and the position-aware candidate briefly and compare them on validation data.

    Args:
        train, val: the run's training and validation parts (sequences in memory).
        task: the run's task.
        specs: the two candidates' specs, by the names :data:`FREE` and :data:`AWARE`, sized for the task.
        config: the run's recipe; the race trains :data:`RACE_EPOCHS` epochs of it (or fewer, when the recipe
            has fewer), with the recipe's seed.
        rc_average: score the position-free candidate on the mean of both strands, as the run would predict
            with it (the position-aware one is trained and scored on one strand).
        progress: show each candidate's progress: its bars on a terminal; one line per candidate into a pipe or
            a log (the run's own epoch lines stay the only lines that start with ``epoch``).
        strands_given: the user chose the strands (``--augment``, ``--rc-average``): both candidates keep them.
    """
    started = time.time()
    rng = np.random.default_rng(config.seed)
    train_part = _subsample(train, RACE_ROWS, rng)
    val_part = _subsample(val, RACE_VAL_ROWS, rng)
    settings = replace(config, epochs=race_epochs(config.epochs, len(train_part)), patience=None).check()
    losses, scores = _rung(train_part, val_part, task, specs, settings, rc_average, progress, strands_given)
    rungs = 1
    chance = chance_loss(task, np.asarray(train_part.labels))
    if chance is not None and min(losses[FREE].mean(), losses[AWARE].mean()) >= LEARNT * chance:
        # neither learned anything: a model that reads position may need more steps to find the motif first
        settings, rungs = replace(settings, epochs=2 * settings.epochs).check(), 2
        losses, scores = _rung(train_part, val_part, task, specs, settings, rc_average, progress, strands_given)
    diff = losses[FREE] - losses[AWARE]
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    gain = float(diff.mean())
    wins = gain > 0 and (se == 0 or gain / se >= Z)
    return PositionRace(FREE, AWARE, len(train_part), len(val_part), settings.epochs,
                        round(float(losses[FREE].mean()), 4), round(float(losses[AWARE].mean()), 4),
                        "accuracy" if task.classes is not None else "Pearson r",
                        round(scores[FREE], 4), round(scores[AWARE], 4), round(gain, 4), round(se, 4),
                        AWARE if wins else FREE, round(time.time() - started, 1), not strands_given, rungs)


def _rung(train_part: LabelledSet, val_part: LabelledSet, task: Task, specs: dict[str, ModelSpec],
          settings: TrainConfig, rc_average: bool, progress: bool, strands_given: bool) -> tuple[dict, dict]:
    """Both candidates trained with ``settings`` and scored on ``val_part``: their losses per sequence and their
    readable scores, by name."""
    losses, scores = {}, {}
    for name in (FREE, AWARE):
        one = name == AWARE and not strands_given
        recipe, both = (one_strand(settings), False) if one else (settings, rc_average)
        device = use_machine(recipe.device, recipe.threads, specs[name], train_part.input_shape)
        torch.manual_seed(recipe.seed)
        net = build_model(specs[name], train_part.input_shape).to(device)
        started = time.time()
        bars = progress and sys.stderr.isatty()
        fit(net, tensor_set(train_part, device), tensor_set(val_part, device), recipe, progress=bars)
        outputs = predict_tensor(net, tensor_set(val_part, device), rc_average=both, task=task)
        losses[name] = example_losses(task, outputs, np.asarray(val_part.labels))
        scores[name] = readable_score(task, outputs, np.asarray(val_part.labels))
        if progress and not bars:
            print(f"seqcnn: position: {name} trained {recipe.epochs} epoch(s) in {time.time() - started:.1f} s, "
                  f"validation loss {losses[name].mean():.4f}", file=sys.stderr)
    return losses, scores


def chance_loss(task: Task, labels: np.ndarray) -> float | None:
    """The cross-entropy of guessing the training part's class frequencies (their entropy); None for targets."""
    if task.classes is None:
        return None
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    freq = counts[counts > 0] / counts.sum()
    return float(-(freq * np.log(freq)).sum())


def one_strand(config: TrainConfig) -> TrainConfig:
    """``config`` without reverse-complement augmentation (see the module: positions have an orientation)."""
    return replace(config, augment=tuple(a for a in config.augment if a != "rc")).check()


def race_epochs(recipe_epochs: int, rows: int) -> int:
    """Epochs of each candidate on ``rows`` training rows: :data:`RACE_BUDGET` / ``rows``, at least
    :data:`RACE_EPOCHS`, at most the recipe's."""
    return min(recipe_epochs, max(RACE_EPOCHS, math.ceil(RACE_BUDGET / max(rows, 1))))


def _subsample(part: LabelledSet, rows: int, rng: np.random.Generator) -> LabelledSet:
    """At most ``rows`` examples of ``part``, drawn without replacement in their original order."""
    if len(part) <= rows:
        return part
    return part.subset(np.sort(rng.choice(len(part), size=rows, replace=False)))


def example_losses(task: Task, outputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The task's loss of each example ``(N,)`` from the model's outputs (:func:`predict_tensor`'s).

    Classes: the negative log-probability of the true class. Multilabel: the mean binary cross-entropy of the
    example's labelled cells. Regression: the mean squared error of its labelled cells on the standardised scale
    (the scale the model was trained on); Poisson: the Poisson negative log-likelihood without its constant.
    An example without any labelled cell counts 0 for both models.
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if task.classes is not None:
        picked = outputs[np.arange(len(labels)), np.asarray(labels, dtype=np.int64)]
        return -np.log(np.clip(picked, EPS, 1.0))
    y = np.asarray(labels, dtype=np.float64).reshape(outputs.shape)
    mask = ~np.isnan(y)
    y = np.where(mask, y, 0.0)
    if task.loss == "bce":
        p = np.clip(outputs, EPS, 1 - EPS)
        cells = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    elif task.loss == "poisson":
        rate = np.clip(outputs, EPS, None)
        cells = rate - y * np.log(rate)
    else:
        std = np.asarray(task.std or [1.0] * y.shape[1])
        cells = ((outputs - y) / std) ** 2
    cells = np.where(mask, cells, 0.0)
    return cells.sum(axis=1) / np.maximum(mask.sum(axis=1), 1)


def readable_score(task: Task, outputs: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy for classes; else the mean over targets of the Pearson correlation on labelled cells."""
    if task.classes is not None:
        return float((np.asarray(outputs).argmax(axis=1) == np.asarray(labels)).mean())
    y = np.asarray(labels, dtype=np.float64).reshape(np.shape(outputs))
    values = []
    for column in range(y.shape[1]):
        keep = ~np.isnan(y[:, column])
        a, b = np.asarray(outputs)[keep, column], y[keep, column]
        if keep.sum() > 2 and a.std() > 0 and b.std() > 0:
            values.append(float(np.corrcoef(a, b)[0, 1]))
    return float(np.mean(values)) if values else float("nan")
