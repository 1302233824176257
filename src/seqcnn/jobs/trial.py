"""One trial of ``seqcnn tune``: a point of the search space trained on the training part, scored on the
validation part after every epoch, reported to Optuna and stopped when its pruner says so.

A trial runs the same way in this process (``--engine local``) and as a Ray task on any node
(``--engine ray``): :func:`run_trial` loads the data itself (once per process, :func:`prepared`), joins the
study through its journal file (a filesystem every node sees), and returns a plain dict. The test part is
split off exactly as ``seqcnn train`` splits it, and never used here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError, SeqcnnError, SpecError
from seqcnn.jobs.cluster import check_readable, node_name
from seqcnn.jobs.search_space import layers_spec, recipe_overrides

#: Training rows scored for the training metric that ``--procedure layers`` compares with the validation one.
TRAIN_ROWS = 5000


class Pruned(Exception):
    """Raised from the epoch hook when the pruner stops a trial (carries the epochs run)."""


@dataclass(frozen=True)
class TuneData:
    """The data of a tuning run, as :func:`seqcnn.jobs.train.train` reads and splits it (picklable for Ray)."""

    data: str
    test: str | None = None
    recipe: str | None = None
    seed: int = 0
    test_size: float = 0.25
    val_size: float | None = None
    threads: int | None = None

    def files(self) -> list[str]:
        """The files every node must read."""
        return [f for f in (self.data, self.test) if f is not None and Path(f).exists()]


@dataclass
class Prepared:
    """A tuning run's data loaded and split, its task and the recipe's configuration."""

    parts: tuple
    task: object
    config: object
    recipe: str
    metric: str  # the task's validation metric: auroc or pearson


@lru_cache(maxsize=2)
def prepared(data: TuneData) -> Prepared:
    """The data of ``data`` loaded and split as ``seqcnn train`` does (cached: a worker runs many trials)."""
    # the main job's choices and the data stack import torch: only where a trial trains
    from seqcnn.data.split import split_bundle
    from seqcnn.jobs.train import DataChoices, ModelChoices, RecipeChoices, scaled_task, strand_check

    choices = DataChoices(data=data.data, test=data.test, test_size=data.test_size, val_size=data.val_size)
    bundle = choices.load(seed=data.seed)
    parts = split_bundle(bundle, choices.test_size, choices.val_fraction(bundle), data.seed)
    if not len(parts[1]):
        raise InputError(f"{data.data}: no validation part to tune on; give --val-size above 0")
    task, parts = scaled_task(parts)
    recipe, config = RecipeChoices(data.recipe, {"seed": data.seed, "threads": data.threads}).config(bundle)
    strands = strand_check(bundle, parts[0], data.recipe, {}, ModelChoices())
    if strands is not None:  # as the main job decides it, so that best/ trains as its trials did
        config = replace(config, augment=("rc",) if strands.both_strands is not False else ()).check()
    metric = "auroc" if task.loss != "mse" and task.kind != "poisson" else "pearson"
    return Prepared(parts, task, config, recipe, metric)


def run_trial(request: dict) -> dict:
    """Train one point and return its result: ``state`` (COMPLETE, PRUNED or FAIL), ``metric`` (the validation
    metric of the weights kept), ``epochs``, ``seconds``, ``node``, ``train_metric``, ``error`` (FAIL).

    Args:
        request: ``data`` (:class:`TuneData`), ``point`` (the parameters), ``epochs`` (the cap), ``study``
            (``{"name", "journal", "pruner"}`` or None: no pruning), ``trial_id``.
    """
    started, node = time.time(), node_name()
    base = {"trial": request.get("number"), "node": node, "epochs": 0, "metric": None, "train_metric": None}
    try:
        check_readable(request["data"].files())
        prep = prepared(request["data"])
        trial = join_trial(request["study"], request.get("trial_id"))
        result = train_point(prep, request["point"], request["epochs"], trial)
    except Pruned as stop:
        return base | {"state": "PRUNED", "epochs": stop.args[0], "metric": stop.args[1],
                       "seconds": round(time.time() - started, 1)}
    except SeqcnnError as exc:  # a point whose layers do not fit the input, a node that cannot read the data
        return base | {"state": "FAIL", "error": " ".join(str(exc).split()), "seconds": round(time.time() - started, 1)}
    return base | result | {"state": "COMPLETE", "seconds": round(time.time() - started, 1)}


def join_trial(study: dict | None, trial_id: int | None):
    """The Optuna trial ``trial_id`` of the study in a journal file, or None without a study."""
    if study is None:
        return None
    # optuna: an optional dependency (the cluster extra), imported where a trial reports
    import optuna

    loaded = optuna.load_study(study_name=study["name"], storage=open_storage(study["journal"]),
                               pruner=make_pruner(study["pruner"]))
    return optuna.trial.Trial(loaded, trial_id)


def open_storage(journal: str | Path):
    """Optuna's journal storage in a file: every trial process, on any node of a shared filesystem, reads and
    appends to it (file locks), so the pruner of each trial sees the others' epochs."""
    # optuna: an optional dependency (the cluster extra)
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(journal)))


#: ``--pruner`` choices.
PRUNERS = ("median", "halving")


def make_pruner(kind: str):
    """``median``: stop a trial whose validation metric is below the median of earlier trials at the same epoch
    (after 3 trials and 2 epochs); ``halving``: successive halving (asynchronous, as ASHA), rungs at 2, 6, 18...
    epochs keeping the best third."""
    import optuna

    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)
    if kind == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=2, reduction_factor=3)
    raise InputError(f"--pruner must be one of {list(PRUNERS)}, but got {kind!r}")


def train_point(prep: Prepared, point: dict, epochs: int, trial=None) -> dict:
    """Fit the model of ``point`` on the training part; the validation metric is reported to ``trial`` after
    every epoch.

    Returns:
        ``metric`` (validation, the weights kept) and ``val_loss`` (theirs), ``epochs`` run, ``train_metric`` (up to
        :data:`TRAIN_ROWS` training rows), ``params`` (the model's parameters).

    Raises:
        Pruned: when ``trial``'s pruner stops it (epochs run, last metric).
        SpecError: for a point whose layers do not fit the input.
    """
    # torch and the training stack: only where a trial trains
    import torch

    from seqcnn.data.batches import tensor_set
    from seqcnn.models.lookup import fit_head
    from seqcnn.models.network import build_model
    from seqcnn.training.devices import use_machine
    from seqcnn.training.loop import fit

    train_part, val_part, _ = prep.parts  # the test part is never looked at
    spec = fit_head(layers_spec(point, prep.task.n_outputs), prep.task)
    try:
        analysed = spec.analyse(train_part.input_shape)
    except SpecError as exc:
        raise SpecError(f"point {point} does not fit {train_part.input_shape[-1]} bp inputs: {exc}") from None
    config = replace(prep.config, epochs=int(epochs), **recipe_overrides(point)).check()
    device = use_machine(config.device, config.threads, spec, train_part.input_shape)
    torch.manual_seed(config.seed)
    net = build_model(spec, train_part.input_shape).to(device)
    val = tensor_set(val_part, device)
    scores: dict[int, float] = {}

    def on_epoch_end(loop) -> None:
        value = score(prep, val_part, loop.val_outputs)
        scores[loop.epoch] = value
        if trial is not None:
            trial.report(value, loop.epoch)
            if trial.should_prune():
                raise Pruned(loop.epoch, value)

    history = fit(net, tensor_set(train_part, device), val, config, progress=False, on_epoch_end=on_epoch_end)
    kept = history.best_epoch if config.restore_best and history.best_epoch is not None else len(history.rows)
    return {"metric": scores.get(kept), "epochs": len(history.rows), "val_loss": history.rows[kept - 1]["val_loss"],
            "train_metric": train_score(prep, net, train_part, device), "params": sum(a.params for a in analysed)}


def score(prep: Prepared, part, outputs) -> float:
    """The task's metric (AUROC, or Pearson for regression) of ``outputs`` on a labelled part."""
    from seqcnn.metrics import task_metrics

    labels = np.asarray(part.labels)
    mask = None if prep.task.classes is not None else ~np.isnan(labels)
    value = task_metrics(prep.task, labels, outputs.detach().cpu().numpy(), mask).get(prep.metric)
    return float("nan") if value is None else float(value)


def train_score(prep: Prepared, net, part, device) -> float:
    """The metric on at most :data:`TRAIN_ROWS` training rows (evenly spaced), with the weights kept."""
    from seqcnn.data.batches import tensor_set
    from seqcnn.training.loop import evaluate

    rows = np.linspace(0, len(part) - 1, min(len(part), TRAIN_ROWS)).astype(np.int64)
    sample = part.subset(np.unique(rows))
    _, _, outputs = evaluate(net, tensor_set(sample, device), config=prep.config)
    return score(prep, sample, outputs)
