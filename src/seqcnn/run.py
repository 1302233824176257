"""The main job: data -> split -> model -> fit -> evaluate -> run folder.

:func:`train` is what ``seqcnn train`` and ``seqcnn.train(...)`` call. It writes, atomically,
the files of a run folder (``docs/design.md``): ``config.json``, ``model.json``,
``model.safetensors``, ``history.csv``, ``metrics.json``, ``predictions.tsv`` and ``plots/``.
"""

from __future__ import annotations

import platform
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from seqcnn.checkpoint import STATE_FILE, StateSaver, refuse_pickle, new_run_dir, read_json, save_model
from seqcnn.files import atomic_write_json, atomic_write_text
from seqcnn.datasets import DataBundle, LabelledSet, load_data, split
from seqcnn.errors import DivergedError, InputError, RunError
from seqcnn.metrics import classification_metrics
from seqcnn.files import file_sha256
from seqcnn.store import StorePart, is_store, store_bundle


#: The default model for positives-only ChIP-seq data (``--model chipseq``): 256 kernels of
#: width 12, global max pooling, the output layer. Chosen by measurement on the ten ENCODE
#: experiments (BENCHMARKS.md, ENCODE; ``benchmarks/encode_grid.py``): more kernels and
#: narrower ones beat DeepBind's 16 x 24 and a 128 x 24 layer, deeper stacks did worse, and a
#: Dense(32) + Dropout head learned slower than the output layer directly on the pooled kernels.
CHIPSEQ_SPEC = {"name": "chipseq", "description": "256 x 12 conv, global max pool, softmax (seqcnn's ChIP-seq default)",
                "layers": [{"Conv1D": {"filters": 256, "kernel_size": 12, "activation": "relu"}}, {"GlobalMaxPooling1D": {}}]}


def resolve_spec(model: str, input_shape: tuple[int, ...], classes: int):
    """A zoo name, ``chipseq`` or a spec ``.json`` file to a :class:`ModelSpec`."""
    from seqcnn.models import zoo
    from seqcnn.models.spec import ModelSpec

    if model.endswith(".json") or Path(model).is_file():
        return ModelSpec.load(model)
    if model == CHIPSEQ_SPEC["name"]:
        head = {"Dense": {"units": classes, "activation": "softmax"}}
        return ModelSpec.from_obj({**CHIPSEQ_SPEC, "layers": CHIPSEQ_SPEC["layers"] + [head]})
    return zoo.get(model, classes=classes, input_shape=input_shape)


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
        recipe: ``"seqcnn"``, ``"primer"`` or ``"chipseq"`` (see :data:`seqcnn.training.RECIPES`);
            None picks the data's default (``chipseq`` for positives-only data, else ``seqcnn``).
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
            copies per positive, or ``"none"`` (see :mod:`seqcnn.negatives`).
        negatives_file: negative sequences for positives-only data.
        rc_average: average both strands at prediction (recorded in ``config.json`` for
            predict and evaluate); None: on for positives-only data, else off.
        init_from: a run folder whose weights start the model (tensors whose shapes fit).
        freeze: with ``init_from``, keep the first ``freeze`` spec layers fixed.
        genome: a genome FASTA; ``data`` is then a BED file of peaks (see
            :func:`seqcnn.negatives.peak_bundle`).
        width: window width around each peak (BED input).
        summit_column: 1-based BED column with the summit offset (10 for narrowPeak).
        test_chroms: chromosomes held out as the test set (BED input).
        resume: continue the run in ``out`` from its last completed epoch (its
            ``checkpoint.safetensors``); see :func:`rerun`.
        trust_pickle: allow ``init_from`` to be a ``.pt``/``.pth``/``.pkl`` file (pickle can run code).
        **overrides: fields of :class:`seqcnn.training.TrainConfig` (epochs, batch_size, lr, seed...).

    Returns:
        The run folder.

    Raises:
        SeqcnnError: for bad data, options or specs, before anything is written.
    """
    arguments = record_arguments(locals())  # first: only the parameters are local yet
    if freeze and init_from is None:
        raise InputError(f"--freeze {freeze} needs --init-from RUN (the run whose layers are kept)")
    if init_from is not None:
        refuse_pickle(init_from, trust_pickle)  # before anything is read or written
    seed = overrides.get("seed") or 0
    if genome is not None:
        from seqcnn.negatives import peak_bundle

        bundle = peak_bundle(data, genome, width=width, summit_column=summit_column, test_chroms=test_chroms or (), negatives=negatives, seed=seed)
    elif is_store(data):  # an on-disk store from `seqcnn prepare`: read batch by batch, never loaded
        bundle = store_bundle(data, test)
    else:
        bundle = load_data(data, labels, test=test, test_labels=test_labels, fit=fit_length, length=length, seed=seed, data_dir=data_dir, negatives=negatives, negatives_file=negatives_file)
    warn_shared(bundle, test)
    recipe = recipe or bundle.default_recipe
    val_size = val_size if val_size is not None else 0.1 if bundle.default_recipe == "chipseq" else 0.25
    config = _config(recipe, overrides)
    parts = _split(bundle, test_size, val_size, config.seed)
    spec = resolve_spec(model or bundle.default_model, bundle.train.input_shape, bundle.train.n_classes)
    spec.analyse(bundle.train.input_shape)  # fail on a misfit spec before creating the folder
    options = {"rc_average": bundle.default_recipe == "chipseq" if rc_average is None else bool(rc_average),
               "init_from": None if init_from is None else str(init_from), "freeze": int(freeze)}
    from seqcnn import distributed

    distributed.setup(config.device)  # under torchrun: join the process group; rank 0 alone writes the folder
    run_dir = distributed.broadcast(new_run_dir(out, spec.name, force=force) if distributed.is_main() else None)
    started = time.time()
    files = [p for p in (data, labels, test, test_labels, negatives_file, genome) if p is not None]
    options.update(arguments=arguments, resume=resume, trust_pickle=trust_pickle)
    if distributed.is_main():  # written before training, so that a killed run can be resumed
        _write_config(run_dir, bundle.train, files, spec, config, recipe, parts, command, 0.0, test_size, val_size, options)
    result = _fit_and_evaluate(spec, parts, config, progress, run_dir, options)
    if not distributed.is_main():
        distributed.barrier()
        return run_dir
    _write_config(run_dir, bundle.train, files, spec, config, recipe, parts, command, time.time() - started, test_size, val_size, options)
    _write_plots(run_dir, result, bundle.train.class_names)
    from seqcnn.report.html import write_report
    from seqcnn.report.images import write_image_plots

    write_image_plots(run_dir, parts[2], result)  # image runs: plots/misclassified.png

    write_report(run_dir)
    (run_dir / STATE_FILE).unlink(missing_ok=True)  # the run is complete: nothing left to resume
    distributed.barrier()
    return run_dir


#: Arguments of :func:`train` that are not recorded for a rerun (where and how, not what).
NOT_RECORDED = ("out", "force", "progress", "command", "resume", "trust_pickle")


def record_arguments(params: dict) -> dict:
    """The arguments of a :func:`train` call as JSON data for ``config.json``; paths made absolute."""
    out = {}
    for key, value in {**params, **params.get("overrides", {})}.items():
        if key in NOT_RECORDED or key == "overrides":
            continue
        if isinstance(value, Path) or (isinstance(value, str) and Path(value).exists() and (key != "model" or Path(value).is_file())):
            value = str(Path(value).resolve())
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


def rerun(config_file: str | Path, *, out: str | Path | None = None, force: bool = False, resume: bool = False,
          progress: bool = True, trust_pickle: bool = False, command: list[str] | None = None) -> Path:
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

    Returns:
        The run folder.

    Raises:
        RunError: for a config without recorded arguments, or a run that is already complete.
    """
    config_file = Path(config_file)
    recorded = read_json(config_file)
    arguments = recorded.get("arguments") if isinstance(recorded, dict) else None
    if not isinstance(arguments, dict):
        raise RunError(f"{config_file}: no 'arguments' recorded (written by an older seqcnn?); run the 'command' it records instead")
    _warn_changed_files(recorded, arguments, config_file)
    if resume:
        run_dir = config_file.parent
        if not (run_dir / STATE_FILE).is_file() and (run_dir / "metrics.json").is_file():
            raise RunError(f"{run_dir}: the run is complete (no {STATE_FILE} to resume from); nothing to do")
        out, force, command = run_dir, True, recorded.get("command")
    return train(**arguments, out=out, force=force, resume=resume, progress=progress, trust_pickle=trust_pickle, command=command)


def _warn_changed_files(recorded: dict, arguments: dict, config_file: Path) -> None:
    """Warn on stderr when a data file's SHA-256 differs from the one recorded in ``config.json``."""
    expected = set((recorded.get("data") or {}).get("sha256", {}).values())
    keys = ("data", "labels", "test", "test_labels", "negatives_file", "genome")
    found = {arguments[k]: file_sha256(arguments[k]) for k in keys if isinstance(arguments.get(k), str) and Path(arguments[k]).is_file()}
    changed = [path for path, digest in found.items() if digest not in expected]
    if changed:
        print(f"seqcnn: warning: {config_file}: {', '.join(changed)} changed since the run (SHA-256 differs); results will differ", file=sys.stderr)


def chipseq_recipe():
    """The recipe for positives-only ChIP-seq data with shuffled negatives (``--recipe chipseq``).

    Chosen by measurement on ENCODE experiments: see BENCHMARKS.md, section ENCODE.
    """
    from seqcnn.training import TrainConfig

    return TrainConfig(epochs=20, batch_size=64, lr=5e-3, optimizer="adam", patience=3, restore_best=True, augment=("rc",))


def _config(recipe: str, overrides: dict):
    from seqcnn.training import RECIPES

    RECIPES.setdefault("chipseq", chipseq_recipe())
    if recipe not in RECIPES:
        raise InputError(f"--recipe must be one of {list(RECIPES)}, but got {recipe!r}")
    return replace(RECIPES[recipe], **{k: v for k, v in overrides.items() if v is not None}).check()


def warn_shared(bundle: DataBundle, test_file) -> int:
    """Warn on stderr when test sequences also occur in the training data; returns the count."""
    from seqcnn.negatives import shared_sequences

    if bundle.test is None or bundle.train.kind != "sequence":
        return 0
    shared = shared_sequences(bundle.train.x, bundle.test.x)
    if shared:
        print(f"seqcnn: warning: {test_file}: {shared} of {len(bundle.test)} test sequences also occur in the training data; "
              "test metrics will be optimistic", file=sys.stderr)
    return shared


def _split(bundle: DataBundle, test_size: float, val_size: float, seed: int) -> tuple[LabelledSet, LabelledSet, LabelledSet]:
    """Train, validation and test sets: the test (and validation) set is the bundle's own when it has one."""
    if bundle.val is not None and bundle.test is not None:  # a fixed split (Fashion-MNIST); val_size does not apply
        return bundle.train, bundle.val, bundle.test
    whole = bundle.train
    if isinstance(whole, StorePart):  # by blocks of neighbouring rows, without loading the labels
        return whole.split(test_size, val_size, seed)
    if bundle.test is not None:
        train_idx, val_idx, _ = split(whole.labels, 0.0, val_size, seed=seed)
        return whole.subset(train_idx), whole.subset(val_idx), bundle.test
    train_idx, val_idx, test_idx = split(whole.labels, test_size, val_size, seed=seed)
    return whole.subset(train_idx), whole.subset(val_idx), whole.subset(test_idx)


def tensor_set(ds: LabelledSet, device):
    """A :class:`seqcnn.data.TensorSet` of a labelled set on ``device``."""
    from seqcnn.data import image_set, sequence_set, store_set

    if isinstance(ds, StorePart):
        return store_set(ds, device)
    return sequence_set(ds.x, ds.labels, device) if ds.kind == "sequence" else image_set(ds.x, ds.labels, device)


#: Below this many multiply-adds per example a model trains fastest on one CPU thread (BENCHMARKS.md).
SMALL_MODEL_MACS = 5_000_000
_TORCH_DEFAULT_THREADS: int | None = None


def cpu_threads(threads: int | None, spec, input_shape: tuple[int, ...], device) -> int:
    """torch CPU threads for a run: the user's choice, else 1 for small models, else torch's.

    Small models (the primer's, DeepBind's) spend their time in per-batch overhead that more
    threads cannot split, and on a busy machine a second thread that has to wait for a core
    slows every step by an order of magnitude (measured: 4.5 s against 35-100 s for the
    primer's 50 epochs).
    """
    import torch

    global _TORCH_DEFAULT_THREADS
    if _TORCH_DEFAULT_THREADS is None:  # before any run of this process changed it
        _TORCH_DEFAULT_THREADS = torch.get_num_threads()
    if threads:
        return threads
    macs = sum(info.macs for info in spec.analyse(input_shape))
    small = getattr(device, "type", str(device)) == "cpu" and macs < SMALL_MODEL_MACS
    return 1 if small else _TORCH_DEFAULT_THREADS


def _fit_and_evaluate(spec, parts: tuple[LabelledSet, LabelledSet, LabelledSet], config, progress: bool, run_dir: Path, options: dict | None = None) -> dict:
    import torch

    from seqcnn import distributed
    from seqcnn.inference import predict_tensor, write_predictions
    from seqcnn.models.network import build_model
    from seqcnn.training import fit, resolve_device

    options = options or {}

    device = resolve_device(config.device)
    torch.set_num_threads(cpu_threads(config.threads, spec, parts[0].input_shape, device))
    torch.manual_seed(config.seed)
    train_set, val_set, test_set = parts
    net = build_model(spec, train_set.input_shape).to(device)
    if options.get("init_from"):
        transfer(net, options["init_from"], options.get("freeze", 0), options.get("trust_pickle", False))
    val = tensor_set(val_set, device) if len(val_set) else None
    saver = StateSaver(run_dir, resume=options.get("resume", False))
    try:
        history = fit(net, tensor_set(train_set, device), val, config, progress=progress, resume=saver.resume,
                      on_epoch_end=saver if distributed.is_main() else None)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(saver.note()) from None
    except DivergedError as exc:
        raise DivergedError(f"{exc}; {saver.note()}") from None
    options["distributed"] = distributed.record(net)  # None in one process; checks that the ranks agree
    if not distributed.is_main():
        return {}
    warning = chance_warning(history.rows, train_set.labels)
    if warning:
        print(f"seqcnn: warning: {run_dir}: {warning}", file=sys.stderr)
    save_model(run_dir, net)
    _write_history(run_dir / "history.csv", history.rows)
    result = {"history": history.rows, "best_epoch": history.best_epoch, "stopped_early": history.stopped_early}
    if len(test_set):
        probs = predict_tensor(net, tensor_set(test_set, device), rc_average=options.get("rc_average", False))
        metrics = classification_metrics(test_set.labels, probs)
        atomic_write_json(run_dir / "metrics.json", metrics)
        write_predictions(run_dir / "predictions.tsv", test_set.ids, probs, test_set.labels)
        result.update(metrics=metrics, probs=probs, labels=test_set.labels)
    return result


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
    return (f"the validation loss never fell below chance level ({min(losses):.4f} against {chance:.4f}, the entropy of the class "
            f"frequencies): the model learned nothing usable; try a lower --lr, another --model or check the labels")


def transfer(net, run: str | Path, freeze: int = 0, trust_pickle: bool = False) -> list[str]:
    """Start ``net`` from a trained run's weights and freeze its first ``freeze`` spec layers.

    Tensors are copied by name (``layers.<i>.weight``) where the shapes agree, so a model
    that shares its bottom layers with the run's keeps them and trains the rest afresh.

    Returns:
        The names of the copied tensors.

    Raises:
        InputError: when no tensor fits, or ``freeze`` is not between 0 and the layer count.
        RunError: for a ``.pt``/``.pth``/``.pkl`` file without ``trust_pickle``.
    """
    from seqcnn.checkpoint import load_state_dict_file

    if not 0 <= freeze <= len(net.layers):
        raise InputError(f"--freeze must be between 0 and the model's {len(net.layers)} layers, got {freeze}")
    source = load_state_dict_file(run, trust_pickle)
    state = net.state_dict()
    copied = [k for k, v in source.items() if k in state and tuple(state[k].shape) == tuple(v.shape)]
    if not copied:
        raise InputError(f"{run}: no layer's weights fit the new model (compare `seqcnn summary` of both)")
    net.load_state_dict({**state, **{k: source[k] for k in copied}})
    for layer in list(net.layers)[:freeze]:
        for param in layer.parameters():
            param.requires_grad_(False)
    return copied


def _write_history(path: Path, rows: list[dict]) -> None:
    keys = list(rows[0])
    lines = [",".join(keys)] + [",".join(f"{r[k]:.6g}" if isinstance(r[k], float) else str(r[k]) for k in keys) for r in rows]
    atomic_write_text(path, "\n".join(lines) + "\n")


def _write_config(run_dir, dataset: LabelledSet, files, spec, config, recipe, parts, command, seconds, test_size, val_size, options=None) -> None:
    import torch

    from seqcnn import __version__

    hashes = {str(p): file_sha256(p) for p in files if Path(p).is_file()}
    atomic_write_json(run_dir / "config.json", {
        "command": command or sys.argv,
        "data": {"source": dataset.source, "kind": dataset.kind, "files": [str(p) for p in files], "sha256": hashes,
                 "n": len(dataset), "input_shape": list(dataset.input_shape),
                 "class_counts": np.bincount(dataset.labels).tolist(), "class_names": dataset.class_names,
                 "split": {"train": len(parts[0]), "validation": len(parts[1]), "test": len(parts[2]),
                           "test_size": test_size, "val_size": val_size}},
        "model": spec.name,
        "recipe": recipe,
        "train": asdict(config),
        "arguments": (options or {}).get("arguments"),
        "predict": {"rc_average": bool((options or {}).get("rc_average", False))},
        "transfer": {k: (options or {}).get(k) for k in ("init_from", "freeze")},
        "distributed": (options or {}).get("distributed"),
        "seconds": round(seconds, 3),
        "versions": {"seqcnn": __version__, "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()},
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "device": _device_name(config, spec, dataset.input_shape)},
    })


def _device_name(config, spec, input_shape: tuple[int, ...]) -> str:
    """The device a run trains on, in words: ``cpu (2 threads)`` or ``cuda (NVIDIA H100 80GB HBM3)``.

    The thread count is :func:`cpu_threads`'s, the rule training follows, so the ``config.json``
    written before the first epoch already says what the run will use.
    """
    import torch

    from seqcnn.training import resolve_device

    device = resolve_device(config.device)
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    threads = cpu_threads(config.threads, spec, input_shape, device)
    return f"{device.type} ({threads} thread{'s' if threads > 1 else ''})"


def _write_plots(run_dir: Path, result: dict, class_names: list[str] | None) -> None:
    from seqcnn.report.plots import plot_confusion, plot_history, plot_roc_pr

    plots = run_dir / "plots"
    plot_history(result["history"], plots / "history.png")
    if "metrics" in result:
        plot_confusion(result["metrics"]["confusion_matrix"], plots / "confusion.png", class_names)
        if result["probs"].shape[1] == 2 and len(np.unique(result["labels"])) == 2:
            plot_roc_pr(result["labels"], result["probs"][:, 1], plots / "roc_pr.png")
