"""The main job: data -> split -> model -> fit -> evaluate -> run folder.

:func:`train` is what ``seqcnn train`` and ``seqcnn.train(...)`` call. Its arguments fall into four
typed groups (:class:`DataChoices`, :class:`ModelChoices`, :class:`RecipeChoices`,
:class:`OutputChoices`); a new option is a parameter of :func:`train` and a field of its group.
It writes, atomically, the files of a run folder (``docs/design.md``): ``config.json``,
``model.json``, ``model.safetensors``, ``history.csv``, ``metrics.json``, ``predictions.tsv``,
``plots/`` and ``report.html``.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch

from seqcnn import __version__
from seqcnn.data.batches import tensor_set
from seqcnn.data.load import input_kind, load_data, warn_shared
from seqcnn.data.sets import DataBundle, LabelledSet
from seqcnn.data.split import split_bundle
from seqcnn.data.strands import StrandCheck, check_strands
from seqcnn.data.targets import Task, fit_scale
from seqcnn.errors import DivergedError, InputError, RunError
from seqcnn.files import file_sha256, refuse_pickle
from seqcnn.jobs import position
from seqcnn.jobs.inference import predict_tensor
from seqcnn.jobs.position import PositionRace
from seqcnn.metrics import format_metrics, task_metrics
from seqcnn.models import zoo
from seqcnn.models.lookup import resolve_spec
from seqcnn.models.network import build_model
from seqcnn.models.spec import MIXING_LAYERS, ModelSpec
from seqcnn.report.html import write_report
from seqcnn.report.image_plots import write_image_plots
from seqcnn.runs.folder import RunFolder, new_run_dir, read_run_json
from seqcnn.runs.training_state import STATE_FILE, StateSaver
from seqcnn.training import distributed
from seqcnn.training.devices import device_name, fit_precision, precision_line, resolve_device, use_machine
from seqcnn.training.loop import fit
from seqcnn.training.recipes import RECIPES, TrainConfig
from seqcnn.training.transfer import transfer


@dataclass
class DataChoices:
    """What to train and test on, and how to split it (see :func:`train` for each field)."""

    data: str | Path | None = None
    labels: str | Path | None = None
    test: str | Path | None = None
    test_labels: str | Path | None = None
    data_dir: str | None = None
    fit_length: str = "error"
    length: int | None = None
    negatives: str | int | None = None
    negatives_file: str | Path | None = None
    genome: str | Path | None = None
    width: int = 101
    summit_column: int | None = None
    test_chroms: list[str] | None = None
    test_size: float = 0.25
    val_size: float | None = None
    target: str | list[str] | None = None
    task: str | None = None
    input_shape: tuple[int, int, int] | list[int] | None = None
    dedupe: bool = False

    def load(self, seed: int) -> DataBundle:
        """The data as a bundle (see :func:`seqcnn.data.load.load_data`)."""
        shape = tuple(self.input_shape) if self.input_shape is not None else None
        return load_data(self.data, self.labels, test=self.test, test_labels=self.test_labels, fit=self.fit_length,
                         length=self.length, seed=seed, data_dir=self.data_dir, negatives=self.negatives,
                         negatives_file=self.negatives_file, genome=self.genome, width=self.width,
                         summit_column=self.summit_column, test_chroms=self.test_chroms or (), target=self.target,
                         task=self.task, input_shape=shape, dedupe=self.dedupe)

    def val_fraction(self, bundle: DataBundle) -> float:
        """The validation fraction: the user's, else 0.1 for positives-only data (every example counts), else 0.25."""
        if self.val_size is not None:
            return self.val_size
        return 0.1 if bundle.default_recipe == "chipseq" else 0.25

    def files(self) -> list:
        """The input files named, for ``config.json`` (with their SHA-256)."""
        data = None if self.data is None or input_kind(self.data, self.genome) == "builtin" else self.data
        paths = (data, self.labels, self.test, self.test_labels, self.negatives_file, self.genome)
        return [p for p in paths if p is not None]


@dataclass
class ModelChoices:
    """Which model, where its first weights come from, and how it predicts."""

    model: str | None = None
    init_from: str | Path | None = None
    freeze: int = 0
    rc_average: bool | None = None
    trust_pickle: bool = False

    def check(self) -> None:
        """Refuse inconsistent choices before anything is read or written."""
        if self.freeze and self.init_from is None:
            raise InputError(f"--freeze {self.freeze} needs --init-from RUN (the run whose layers are kept)")
        if self.init_from is not None:
            refuse_pickle(self.init_from, self.trust_pickle)

    def spec(self, bundle: DataBundle, task: Task, default: str | None = None) -> ModelSpec:
        """The spec for the data (``default``, else the bundle's default model, when none is named), its output
        layer sized and activated for ``task``, checked against the input."""
        spec = resolve_spec(self.model or default or bundle.default_model, classes=task.n_outputs,
                            input_shape=bundle.train.input_shape, task=task)
        spec.analyse(bundle.train.input_shape)  # fail on a misfit spec before creating the folder
        return spec

    def strand_average(self, bundle: DataBundle) -> bool:
        """Average both strands at prediction: the user's choice, else on for positives-only data."""
        return bundle.default_recipe == "chipseq" if self.rc_average is None else bool(self.rc_average)


#: The recipe that replaces the data's default one for a model with recurrent or attention layers when no
#: ``--recipe`` is named: such models sit at the class prior for several epochs before they learn, where
#: ``chipseq``'s early stopping ends them (BENCHMARKS.md, Recurrent and attention layers). ``labelled`` (every
#: labelled sequence file) already trains 20 epochs on a one-cycle schedule without early stopping.
MIXING_RECIPES = {"chipseq": "chipseq-hybrid"}

#: The data's default recipes that a named zoo model's own recipe (``ZooEntry.recipe``) replaces: ``labelled``
#: is the recipe every model of the defaults panel was compared with, generic for labelled sequences, while
#: ``chipseq`` (positives-only data with shuffled negatives) and ``fashion`` (images) were made for their data.
GENERIC_RECIPES = ("labelled",)

#: What the printed line says of each recipe chosen for a model rather than for the data.
RECIPE_NOTES = {
    "chipseq-hybrid": "AdamW, one-cycle to 3e-3, 20 epochs without early stopping",
    "seqcnn": "AdamW, one-cycle to 3e-2, clipped gradients, a moving average of the weights",
    "fashion": "Adam, one-cycle to 2e-3, 15 epochs",
}


@dataclass
class RecipeChoices:
    """The training recipe and the fields of :class:`seqcnn.training.recipes.TrainConfig` overridden."""

    recipe: str | None = None
    overrides: dict = field(default_factory=dict)

    def config(self, bundle: DataBundle, spec: ModelSpec | None = None, named: str | None = None
               ) -> tuple[str, TrainConfig]:
        """The recipe's name (when none is named, the data's default for ``spec``, see :meth:`choose`) and its
        checked configuration."""
        name = self.recipe or self.choose(bundle, spec, named)[0]
        if name not in RECIPES:
            raise InputError(f"--recipe must be one of {list(RECIPES)}, but got {name!r}")
        return name, replace(RECIPES[name], **{k: v for k, v in self.overrides.items() if v is not None}).check()

    def choose(self, bundle: DataBundle, spec: ModelSpec | None, named: str | None = None
               ) -> tuple[str, str | None]:
        """The recipe when none is named, and the line that says so when the model changed it (else None).

        The data's default recipe, except that
        - a zoo model named by the user (``named``) that has a recipe tuned for it gets that recipe in place of a
          generic one (:data:`GENERIC_RECIPES`): the primer model trains with ``seqcnn``, which does not collapse
          at the primer's high rate where ``labelled`` did;
        - a model with recurrent or attention layers gets the recipe of :data:`MIXING_RECIPES` made for them,
          where there is one.
        """
        default = bundle.default_recipe
        if self.recipe is not None:
            return self.recipe, None
        own = zoo.ZOO[named].recipe if named in zoo.ZOO else ""
        if own and own != default and default in GENERIC_RECIPES:
            return own, (f"seqcnn: model '{named}' has a recipe tuned for it: {own} ({RECIPE_NOTES[own]}) "
                         f"instead of {default}; --recipe chooses another")
        mixing = sorted({layer.type for layer in spec.layers if layer.type in MIXING_LAYERS}) if spec else []
        if not mixing or default not in MIXING_RECIPES:
            return default, None
        name = MIXING_RECIPES[default]
        return name, (f"seqcnn: model '{spec.name}' has recurrent or attention layers ({', '.join(mixing)}): "
                      f"recipe {name} ({RECIPE_NOTES[name]}) instead of {default}; --recipe chooses another")


@dataclass
class OutputChoices:
    """Where the run goes and how it reports (not recorded for a rerun)."""

    out: str | Path | None = None
    force: bool = False
    progress: bool = True
    command: list[str] | None = None
    resume: bool = False
    announce: Callable[[str], object] | None = None
    reporter: Callable[[Path], object] | None = None


@dataclass
class Plan:
    """Everything a run was asked and what it resolved to, from which ``config.json`` is written."""

    data: DataChoices
    model: ModelChoices
    output: OutputChoices
    bundle: DataBundle
    recipe: str
    config: TrainConfig
    parts: tuple[LabelledSet, LabelledSet, LabelledSet]
    spec: ModelSpec
    arguments: dict
    task: Task
    distributed: dict | None = None
    recipe_note: str | None = None  # why the recipe is not the data's default (the model's own, or attention layers)
    training: dict | None = None  # best and kept epochs and the collapses, when training collapsed
    strands: dict | None = None  # the strand test of a labelled DNA table (seqcnn.data.strands), when it decided
    # the recipe's precision against what the device runs natively (seqcnn.training.devices)
    precision: dict | None = None
    position: dict | None = None  # the race of a position-free against a position-aware model (jobs.position)


def _group(cls, params: dict):
    """The fields of dataclass ``cls`` taken from :func:`train`'s parameters."""
    return cls(**{f.name: params[f.name] for f in fields(cls) if f.name in params})


def train(
    data: str | Path | None = None,
    labels: str | Path | None = None,
    *,
    test: str | Path | None = None,
    test_labels: str | Path | None = None,
    model: str | None = None,
    recipe: str | None = None,
    out: str | Path | None = None,
    force: bool = False,
    test_size: float = 0.25,
    val_size: float | None = None,
    fit_length: str = "error",
    length: int | None = None,
    progress: bool = True,
    command: list[str] | None = None,
    data_dir: str | None = None,
    negatives: str | int | None = None,
    negatives_file: str | Path | None = None,
    rc_average: bool | None = None,
    init_from: str | Path | None = None,
    freeze: int = 0,
    genome: str | Path | None = None,
    width: int = 101,
    summit_column: int | None = None,
    test_chroms: list[str] | None = None,
    resume: bool = False,
    trust_pickle: bool = False,
    target: str | list[str] | None = None,
    task: str | None = None,
    input_shape: tuple[int, int, int] | list[int] | None = None,
    dedupe: bool = False,
    announce: Callable[[str], object] | None = None,
    reporter: Callable[[Path], object] | None = None,
    **overrides,
) -> Path:
    """Train and evaluate a model on labelled sequences and write a run folder.

    Args:
        data: a sequence file (FASTA, table, one per line) or a built-in data set name; None
            gives the built-in ``primer-sim`` data.
        labels: an optional label file (one label per line).
        test: a separate labelled test file; without it the test part is split off ``data``.
        test_labels: an optional label file for ``test``.
        model: a zoo name or a spec ``.json`` file; None picks the data set's default.
        recipe: ``"seqcnn"``, ``"primer"`` or ``"chipseq"`` (see :data:`seqcnn.training.recipes.RECIPES`);
            None picks the data's default (``chipseq`` for positives-only data, ``chipseq-hybrid`` for
            such data with a model that has recurrent or attention layers, ``labelled`` for other
            sequence files, else ``seqcnn``).
        out: the run folder; a new ``runs/<model>-<time>`` when None.
        force: allow ``out`` to exist already.
        test_size: fraction of all examples held out for the test (ignored with ``test``).
        val_size: fraction of the rest used for validation; None: 0.1 for positives-only
            (ChIP-seq) data, where every example counts, else 0.25.
        fit_length: ``"error"``, ``"pad"``, ``"crop"`` or ``"pad-crop"`` for unequal lengths.
        length: the length to pad or crop to.
        progress: show progress bars.
        command: the command line, recorded in ``config.json``.
        data_dir: where a named data set's files are (e.g. Fashion-MNIST's IDX files).
        negatives: for positives-only data: ``"shuffle"`` (default), a number of shuffled
            copies per positive, or ``"none"`` (see :mod:`seqcnn.data.negatives`).
        negatives_file: negative sequences for positives-only data.
        rc_average: average both strands at prediction (recorded in ``config.json`` for
            predict and evaluate); None: on for positives-only data, else off.
        init_from: a run folder whose weights start the model (tensors whose shapes fit).
        freeze: with ``init_from``, keep the first ``freeze`` spec layers fixed.
        genome: a genome FASTA; ``data`` is then a BED file of peaks (see
            :func:`seqcnn.data.sequence_sets.peak_bundle`).
        width: window width around each peak (BED input).
        summit_column: 1-based BED column with the summit offset (10 for narrowPeak).
        test_chroms: chromosomes held out as the test set (BED input).
        resume: continue the run in ``out`` from its last completed epoch (its
            ``checkpoint.safetensors``); see :func:`rerun`.
        trust_pickle: allow ``init_from`` to be a ``.pt``/``.pth``/``.pkl`` file (pickle can run code).
        target: the target column(s) of a sequence file, a list or one comma-separated string;
            None uses the one column that could be a label (see :mod:`seqcnn.data.targets`).
        task: ``binary``, ``multiclass``, ``multilabel``, ``regression`` or ``poisson``; None
            infers it from the values (printed).
        input_shape: ``(H, W, C)`` for a ``.npz`` of flat image rows.
        dedupe: drop repeated sequences (or reverse complements) before the split.
        announce: called with the result line (:func:`result_line`) as soon as the test metrics
            are written, before the plots and the report are drawn.
        reporter: draws the finished run's figures and ``report.html`` (the command line's
            :mod:`seqcnn.report.workers`); None: :func:`seqcnn.report.html.write_report`, here.
        **overrides: fields of :class:`seqcnn.training.recipes.TrainConfig` (epochs, batch_size, lr, seed...).

    Returns:
        The run folder.

    Raises:
        SeqcnnError: for bad data, options or specs, before anything is written.
    """
    params = dict(locals())  # first: only the parameters are local yet
    data, model, output = (_group(cls, params) for cls in (DataChoices, ModelChoices, OutputChoices))
    model.check()
    seed = overrides.get("seed") or 0  # every recipe's seed is 0
    bundle = data.load(seed=seed)
    parts = split_bundle(bundle, data.test_size, data.val_fraction(bundle), seed)
    warn_shared(parts, note=bundle.notes.append)
    learnt, parts = scaled_task(parts)
    spec = model.spec(bundle, learnt)
    recipes = RecipeChoices(recipe, overrides)
    recipe_name, config = recipes.config(bundle, spec, model.model)
    note = recipes.choose(bundle, spec, model.model)[1]
    if note:
        bundle.notes.append(note)
    strands_given = model.rc_average is not None or overrides.get("augment") is not None
    strands = strand_check(bundle, parts[0], recipe, overrides, model)
    if strands is not None:  # both strands unless the table looks strand-specific (printed with the other notes)
        both = strands.both_strands is not False
        config = replace(config, augment=("rc",) if both else ()).check()
        model.rc_average = both
        bundle.notes.append(strands.line())
    precision, chosen = fit_precision(config.precision, overrides.get("precision") is not None,
                                      resolve_device(config.device))
    if chosen is not None:  # a recipe's bf16 where the device would emulate it: float32
        config = replace(config, precision=precision).check()
        bundle.notes.append(precision_line(chosen))
    said = _say(bundle.notes, 0, output)  # what was inferred so far, before the race's minutes
    race = position_check(bundle, parts, learnt, config, model, output, strands_given)
    if race is not None:
        bundle.notes.append(race.line())
        if race.position_aware:
            spec = model.spec(bundle, learnt, race.chosen)
        if race.position_aware and race.one_strand:  # a position counts from the start of the sequence as given
            config, model.rc_average = position.one_strand(config), False
        if race.position_aware and race.epochs > config.epochs and overrides.get("epochs") is None:
            config = replace(config, epochs=race.epochs).check()  # it learned only with a longer second rung
            bundle.notes.append(f"seqcnn: position: {race.epochs} epochs, as the race's second rung needed "
                                "(--epochs chooses)")
    plan = Plan(data, model, output, bundle, recipe_name, config, parts, spec, record_arguments(params), learnt,
                recipe_note=note, strands=None if strands is None else strands.record(), precision=chosen,
                position=None if race is None else race.record())
    _say(bundle.notes, said, output)
    distributed.setup(config.device)  # under torchrun: join the process group; rank 0 alone writes the folder
    folder = RunFolder(distributed.broadcast(new_run_dir(output.out, plan.spec.name, force=output.force)
                                             if distributed.is_main() else None))
    started = time.time()
    if distributed.is_main():  # written before training, so that a killed run can be resumed
        folder.write_config(config_record(plan, 0.0))
    result = _fit_and_evaluate(plan, folder)
    if distributed.is_main():
        folder.write_config(config_record(plan, time.time() - started))
        if output.announce is not None and "metrics" in result:
            output.announce(result_line(result))
        write_image_plots(folder.path, parts[2], result)  # image runs: plots/misclassified.png
        (output.reporter or write_report)(folder.path)
        (folder.path / STATE_FILE).unlink(missing_ok=True)  # the run is complete: nothing left to resume
    distributed.barrier()
    return folder.path


def _say(notes: list[str], start: int, output: OutputChoices) -> int:
    """Print ``notes[start:]`` on stderr (once: not again on resuming, and by the first process only); the
    number of notes said."""
    if distributed.is_main() and not output.resume:
        for line in notes[start:]:
            print(line, file=sys.stderr)
    return len(notes)


def position_check(bundle: DataBundle, parts: tuple, task: Task, config: TrainConfig, model: ModelChoices,
                   output: OutputChoices, strands_given: bool = False) -> PositionRace | None:
    """The race between a position-free and a position-aware model (:mod:`seqcnn.jobs.position`), when it is
    to decide the model: a labelled sequence table held in memory, with its default recipe family (``labelled``),
    no model named (``--model`` or ``--init-from``), in one process, with a validation part; None otherwise.
    ``strands_given``: the user chose the strands (``--augment``, ``--rc-average``), which both candidates keep.
    A resumed run keeps the choice its ``config.json`` recorded."""
    train_part, val_part = parts[0], parts[1]
    if (model.model is not None or model.init_from is not None or bundle.default_recipe != "labelled"
            or train_part.kind != "sequence" or getattr(train_part, "x", None) is None or train_part.x.ndim != 2
            or not len(val_part) or distributed.world_size() > 1):
        return None
    recorded_file = Path(output.out or ".") / "config.json"
    if output.resume and output.out is not None and recorded_file.is_file():
        recorded = read_run_json(recorded_file).get("position")
        if recorded:
            return PositionRace(**{k: v for k, v in recorded.items() if k in PositionRace.__dataclass_fields__})
    specs = {name: model.spec(bundle, task, name) for name in (position.FREE, position.AWARE)}
    rows = min(len(train_part), position.RACE_ROWS)
    if distributed.is_main():
        print(f"seqcnn: position: does where a motif sits matter? {position.FREE} (position-free) against "
              f"{position.AWARE} (position-aware), {position.race_epochs(config.epochs, rows)} epoch(s) each on "
              f"{rows:,} training rows (--model skips this)", file=sys.stderr)
    return position.race(train_part, val_part, task, specs, config, model.strand_average(bundle),
                         progress=output.progress, strands_given=strands_given)


def data_task(ds) -> Task:
    """The task of a labelled set: its own, else classes numbered 0, 1, ... (built-in sets, images, stores)."""
    if getattr(ds, "task", None) is not None:
        return ds.task
    k = ds.n_classes
    names = tuple(ds.class_names) if ds.class_names else tuple(str(i) for i in range(k))
    return Task("binary" if k == 2 else "multiclass", ("label",), names, "name" if ds.class_names else "numeric")


def scaled_task(parts: tuple) -> tuple[Task, tuple]:
    """The run's task, regression targets standardised on the training part alone (:func:`fit_scale`),
    and the parts carrying it."""
    train = parts[0]
    task = data_task(train)
    if task.loss != "mse":
        return task, parts
    task = fit_scale(task, train.labels)
    return task, tuple(replace(part, task=task) for part in parts)


#: Arguments of :func:`train` that are not recorded for a rerun (where and how, not what).
NOT_RECORDED = ("out", "force", "progress", "command", "resume", "trust_pickle", "announce", "reporter")


def record_arguments(params: dict) -> dict:
    """The arguments of a :func:`train` call as JSON data for ``config.json``; paths made absolute."""
    out = {}
    for key, value in {**params, **params.get("overrides", {})}.items():
        if key in NOT_RECORDED or key == "overrides":
            continue
        if isinstance(value, Path) or (
            isinstance(value, str) and Path(value).exists() and (key != "model" or Path(value).is_file())
        ):
            value = str(Path(value).resolve())
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


def rerun(config_file: str | Path, *, out: str | Path | None = None, force: bool = False, resume: bool = False,
          progress: bool = True, trust_pickle: bool = False, command: list[str] | None = None,
          announce: Callable[[str], object] | None = None,
          reporter: Callable[[Path], object] | None = None) -> Path:
    """Train again with the arguments recorded in a run's ``config.json``, or resume that run.

    Args:
        config_file: a run's ``config.json``.
        out: the new run folder (ignored with ``resume``, which continues in place).
        force: allow ``out`` to exist.
        resume: continue the run that ``config_file`` belongs to from its last completed epoch
            (its ``checkpoint.safetensors``); with none, it starts again from epoch 1, which
            gives the same result since every random choice comes from the seed.
        progress: show progress bars.
        trust_pickle: see :func:`train`.
        command: the command line, recorded in the new ``config.json``.
        announce: see :func:`train`.
        reporter: see :func:`train`.

    Returns:
        The run folder.

    Raises:
        RunError: for a config without recorded arguments, or a run that is already complete.
    """
    config_file = Path(config_file)
    recorded = read_run_json(config_file)
    arguments = recorded.get("arguments") if isinstance(recorded, dict) else None
    if not isinstance(arguments, dict):
        raise RunError(
            f"{config_file}: no 'arguments' recorded (written by an older seqcnn?); run the 'command' it records "
            "instead"
        )
    _warn_changed_files(recorded, arguments, config_file)
    if resume:
        run_dir = config_file.parent
        if not (run_dir / STATE_FILE).is_file() and (run_dir / "metrics.json").is_file():
            raise RunError(f"{run_dir}: the run is complete (no {STATE_FILE} to resume from); nothing to do")
        out, force, command = run_dir, True, recorded.get("command")
    return train(
        **arguments, out=out, force=force, resume=resume, progress=progress, trust_pickle=trust_pickle, command=command,
        announce=announce, reporter=reporter,
    )


def _warn_changed_files(recorded: dict, arguments: dict, config_file: Path) -> None:
    """Warn on stderr when a data file's SHA-256 differs from the one recorded in ``config.json``."""
    expected = set((recorded.get("data") or {}).get("sha256", {}).values())
    keys = ("data", "labels", "test", "test_labels", "negatives_file", "genome")
    found = {
        arguments[k]: file_sha256(arguments[k])
        for k in keys
        if isinstance(arguments.get(k), str) and Path(arguments[k]).is_file()
    }
    changed = [path for path, digest in found.items() if digest not in expected]
    if changed:
        print(
            f"seqcnn: warning: {config_file}: {', '.join(changed)} changed since the run (SHA-256 differs); results "
            "will differ",
            file=sys.stderr,
        )


def _fit_and_evaluate(plan: Plan, folder: RunFolder) -> dict:
    """Train the model of ``plan`` (resumable, epoch by epoch), then save it and its test results."""
    train_set, val_set, test_set = plan.parts
    device = use_machine(plan.config.device, plan.config.threads, plan.spec, train_set.input_shape)
    torch.manual_seed(plan.config.seed)
    net = build_model(plan.spec, train_set.input_shape).to(device)
    if plan.model.init_from:
        transfer(net, plan.model.init_from, plan.model.freeze, plan.model.trust_pickle)
    val = tensor_set(val_set, device) if len(val_set) else None
    saver = StateSaver(folder.path, resume=plan.output.resume)
    try:
        history = fit(net, tensor_set(train_set, device), val, plan.config, progress=plan.output.progress,
                      resume=saver.resume, on_epoch_end=saver if distributed.is_main() else None)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(saver.note()) from None
    except DivergedError as exc:
        raise DivergedError(f"{exc}; {saver.note()}") from None
    plan.distributed = distributed.record(net)  # None in one process; checks that the ranks agree
    if not distributed.is_main():
        return {}
    warning = chance_warning(history.rows, train_set.labels) if plan.task.classes is not None else None
    if warning:
        print(f"seqcnn: warning: {folder.path}: {warning}", file=sys.stderr)
    folder.save_model(net)
    folder.write_history(history.rows)
    result = {"history": history.rows, "best_epoch": history.best_epoch, "stopped_early": history.stopped_early}
    plan.training = training_record(history)
    if plan.training:
        result["training"] = plan.training
    if len(test_set):
        probs = predict_tensor(net, tensor_set(test_set, device), rc_average=plan.model.strand_average(plan.bundle),
                               task=plan.task)
        labels = np.asarray(test_set.labels)
        mask = None if plan.task.classes is not None else ~np.isnan(labels)
        metrics = task_metrics(plan.task, labels, probs, mask)
        folder.write_metrics(metrics)
        folder.write_predictions(plan.task, test_set.ids, probs, labels)
        result.update(metrics=metrics, probs=probs, labels=labels)
    return result


def training_record(history) -> dict | None:
    """``config.json``'s ``training`` entry after a collapse (best and kept epochs, the collapses), else None."""
    collapses = getattr(history, "collapses", None)
    if not collapses:
        return None
    return {"best_epoch": history.best_epoch, "kept_epoch": collapses[-1]["kept_epoch"], "collapses": collapses}


def result_line(result: dict) -> str:
    """The line a run ends with: its test metrics, and which epoch's weights it kept when training collapsed."""
    metrics = result["metrics"]
    how = f" (AUROC averaged {metrics['auroc_average']})" if metrics.get("auroc_average") else ""
    line = f"test: {format_metrics(metrics)}{how}"
    training = result.get("training")
    if training:
        epochs = ", ".join(str(c["epoch"]) for c in training["collapses"])
        line += (f" (training collapsed at epoch {epochs}; the weights of epoch {training['kept_epoch']} are kept, "
                 "see config.json)")
    return line


def chance_warning(rows: list[dict], labels: np.ndarray) -> str | None:
    """A warning when no epoch's validation loss beat guessing the class frequencies, else None.

    Guessing the training set's class frequencies scores a cross-entropy equal to their entropy
    (ln 2 for two balanced classes, 0.50 for a 4:1 split); a model whose best validation loss
    stays within 1 % of that learned nothing usable, which happens when a learning rate kills
    every ReLU of a dense layer.
    """
    losses = [r["val_loss"] for r in rows if "val_loss" in r]
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    if not losses or (counts > 0).sum() < 2:
        return None
    freq = counts[counts > 0] / counts.sum()
    chance = float(-(freq * np.log(freq)).sum())
    if min(losses) < 0.99 * chance:
        return None
    return (
        f"the validation loss never fell below chance level ({min(losses):.4f} against {chance:.4f}, the entropy of "
        "the class "
        f"frequencies): the model learned nothing usable; try a lower --lr, another --model or check the labels"
    )


def strand_check(bundle: DataBundle, part: LabelledSet, recipe: str | None, overrides: dict,
                 model: ModelChoices) -> StrandCheck | None:
    """The strand test (:mod:`seqcnn.data.strands`) of a labelled DNA table's training part, when it is to decide.

    It decides for class-labelled sequence tables held in memory (not a store) and trained with their default
    recipe (``labelled``) when neither ``--augment`` nor ``--rc-average``/``--no-rc-average`` was given; None
    otherwise.
    """
    if (recipe is not None or bundle.default_recipe != "labelled" or part.kind != "sequence"
            or getattr(part, "x", None) is None or part.x.ndim != 2  # a store's rows stay on disk: not tested
            or not part.is_classes or overrides.get("augment") is not None or model.rc_average is not None):
        return None
    return check_strands(part.x, part.labels)


def config_record(plan: Plan, seconds: float) -> dict:
    """The contents of ``config.json``: the data, model, recipe and machine of a run, and how to rerun it."""
    dataset, (train, val, test), files = plan.bundle.train, plan.parts, plan.data.files()
    config = plan.config
    return {
        "command": plan.output.command or sys.argv,
        "data": {"source": dataset.source, "kind": dataset.kind, "files": [str(p) for p in files],
                 "sha256": {str(p): file_sha256(p) for p in files if Path(p).is_file()},
                 "n": len(dataset), "input_shape": list(dataset.input_shape),
                 "class_counts": np.bincount(dataset.labels).tolist() if plan.task.classes is not None else [],
                 "class_names": dataset.class_names,
                 "split": {"train": len(train), "validation": len(val), "test": len(test),
                           "test_size": plan.data.test_size, "val_size": plan.data.val_fraction(plan.bundle)}},
        "task": plan.task.to_json(),
        "model": plan.spec.name,
        "recipe": plan.recipe,
        **({"recipe_chosen": plan.recipe_note.removeprefix("seqcnn: ")} if plan.recipe_note else {}),
        "train": asdict(config),
        "arguments": plan.arguments,
        "predict": {"rc_average": plan.model.strand_average(plan.bundle)},
        "transfer": {"init_from": None if plan.model.init_from is None else str(plan.model.init_from),
                     "freeze": int(plan.model.freeze)},
        "distributed": plan.distributed,
        **({"training": plan.training} if plan.training else {}),
        **({"strands": plan.strands} if plan.strands else {}),
        **({"precision": plan.precision} if plan.precision else {}),
        **({"position": plan.position} if plan.position else {}),
        "seconds": round(seconds, 3),
        "versions": {"seqcnn": __version__, "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "machine": {"platform": platform.platform(), "processor": platform.machine(),
                    "device": device_name(config.device, config.threads, plan.spec, dataset.input_shape)},
    }
