"""The main job: data -> split -> model -> fit -> evaluate -> run folder.

:func:`train` is what ``seqcnn train`` and ``seqcnn.train(...)`` call. It writes, atomically,
the files of a run folder (``docs/design.md``): ``config.json``, ``model.json``,
``model.safetensors``, ``history.csv``, ``metrics.json``, ``predictions.tsv`` and ``plots/``.
"""

from __future__ import annotations

import hashlib
import platform
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from seqcnn.checkpoint import atomic_write_json, atomic_write_text, new_run_dir, save_model
from seqcnn.datasets import LabelledSet, load_labelled, split
from seqcnn.errors import InputError
from seqcnn.metrics import classification_metrics


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_spec(model: str, input_shape: tuple[int, ...], classes: int):
    """A zoo name or a spec ``.json`` file to a :class:`ModelSpec`."""
    from seqcnn.models import zoo
    from seqcnn.models.spec import ModelSpec

    if model.endswith(".json") or Path(model).is_file():
        return ModelSpec.load(model)
    return zoo.get(model, classes=classes, input_shape=input_shape)


def train(
    data: str | Path | None = None,
    labels: str | Path | None = None,
    *,
    model: str = "primer",
    recipe: str = "seqcnn",
    out: str | Path | None = None,
    force: bool = False,
    test_size: float = 0.25,
    val_size: float = 0.25,
    fit_length: str = "error",
    length: int | None = None,
    progress: bool = True,
    command: list[str] | None = None,
    **overrides,
) -> Path:
    """Train and evaluate a model on labelled sequences and write a run folder.

    Args:
        data: a sequence file (FASTA, table, one per line), or None for the built-in
            ``primer-sim`` data.
        labels: an optional label file (one label per line).
        model: a zoo name or a spec ``.json`` file.
        recipe: ``"seqcnn"`` (default) or ``"primer"``; see :data:`seqcnn.training.RECIPES`.
        out: the run folder; a new ``runs/<model>-<time>`` when None.
        force: allow ``out`` to exist already.
        test_size: fraction of all examples held out for the test.
        val_size: fraction of the rest used for validation.
        fit_length: ``"error"``, ``"pad"``, ``"crop"`` or ``"pad-crop"`` for unequal lengths.
        length: the length to pad or crop to.
        progress: show progress bars.
        command: the command line, recorded in ``config.json``.
        **overrides: fields of :class:`seqcnn.training.TrainConfig` (epochs, batch_size, lr, seed...).

    Returns:
        The run folder.

    Raises:
        SeqcnnError: for bad data, options or specs, before anything is written.
    """
    from seqcnn.training import RECIPES

    if recipe not in RECIPES:
        raise InputError(f"--recipe must be one of {list(RECIPES)}, but got {recipe!r}")
    config = replace(RECIPES[recipe], **{k: v for k, v in overrides.items() if v is not None}).check()
    dataset = load_labelled(data, labels, fit=fit_length, length=length)
    classes = int(dataset.labels.max()) + 1
    spec = resolve_spec(model, (4, dataset.codes.shape[1]), classes)
    parts = split(dataset.labels, test_size, val_size, seed=config.seed)
    spec.analyse((4, dataset.codes.shape[1]))  # fail on a misfit spec before creating the folder
    run_dir = new_run_dir(out, spec.name, force=force)
    started = time.time()
    result = _fit_and_evaluate(spec, dataset, parts, config, progress, run_dir)
    _write_config(run_dir, dataset, data, labels, spec, config, recipe, parts, command, time.time() - started, test_size, val_size)
    _write_plots(run_dir, result)
    return run_dir


def _fit_and_evaluate(spec, dataset: LabelledSet, parts, config, progress: bool, run_dir: Path) -> dict:
    import torch

    from seqcnn.data import sequence_set
    from seqcnn.models.network import build_model
    from seqcnn.inference import write_predictions
    from seqcnn.training import evaluate, fit, resolve_device

    if config.threads:
        torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    net = build_model(spec, (4, dataset.codes.shape[1])).to(device)
    train_idx, val_idx, test_idx = parts
    sets = [sequence_set(dataset.codes[i], dataset.labels[i], device) for i in parts]
    history = fit(net, sets[0], sets[1] if len(val_idx) else None, config, progress=progress)
    save_model(run_dir, net)
    _write_history(run_dir / "history.csv", history.rows)
    result = {"history": history.rows, "best_epoch": history.best_epoch, "stopped_early": history.stopped_early}
    if len(test_idx):
        _, _, probs = evaluate(net, sets[2])
        probs = probs.cpu().numpy()
        metrics = classification_metrics(dataset.labels[test_idx], probs)
        atomic_write_json(run_dir / "metrics.json", metrics)
        write_predictions(run_dir / "predictions.tsv", [dataset.ids[i] for i in test_idx], probs, dataset.labels[test_idx])
        result.update(metrics=metrics, probs=probs, labels=dataset.labels[test_idx])
    return result


def _write_history(path: Path, rows: list[dict]) -> None:
    keys = list(rows[0])
    lines = [",".join(keys)] + [",".join(f"{r[k]:.6g}" if isinstance(r[k], float) else str(r[k]) for k in keys) for r in rows]
    atomic_write_text(path, "\n".join(lines) + "\n")


def _write_config(run_dir, dataset, data, labels, spec, config, recipe, parts, command, seconds, test_size, val_size) -> None:
    import torch

    from seqcnn import __version__

    files = {}
    for path in (data, labels):
        if path is not None and Path(path).is_file():
            files[str(path)] = file_sha256(path)
    counts = np.bincount(dataset.labels).tolist()
    atomic_write_json(run_dir / "config.json", {
        "command": command or sys.argv,
        "data": {"source": dataset.source, "path": str(data) if data else None, "labels": str(labels) if labels else None,
                 "sha256": files, "n": len(dataset), "length": int(dataset.codes.shape[1]), "class_counts": counts,
                 "split": {"train": len(parts[0]), "validation": len(parts[1]), "test": len(parts[2]),
                           "test_size": test_size, "val_size": val_size}},
        "model": spec.name,
        "recipe": recipe,
        "train": asdict(config),
        "seconds": round(seconds, 3),
        "versions": {"seqcnn": __version__, "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()},
        "machine": {"platform": platform.platform(), "processor": platform.machine()},
    })


def _write_plots(run_dir: Path, result: dict) -> None:
    from seqcnn.report.plots import plot_confusion, plot_history, plot_roc_pr

    plots = run_dir / "plots"
    plot_history(result["history"], plots / "history.png")
    if "metrics" in result:
        plot_confusion(result["metrics"]["confusion_matrix"], plots / "confusion.png")
        if result["probs"].shape[1] == 2 and len(np.unique(result["labels"])) == 2:
            plot_roc_pr(result["labels"], result["probs"][:, 1], plots / "roc_pr.png")
