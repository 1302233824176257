"""The run folder: :class:`RunFolder` reads and writes every file of a run; weights as safetensors,
spec and config as JSON, history as CSV, predictions (:mod:`seqcnn.runs.predictions`) as TSV; the
resumable training state is :mod:`seqcnn.runs.training_state`.

Nothing here pickles: a model is rebuilt from ``model.json`` (its spec and input shape) and
its weights are read from ``model.safetensors``, which cannot run code when loaded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from seqcnn.data.builtin import BUILTIN, load_builtin
from seqcnn.data.targets import Task, encode_targets, positives_task
from seqcnn.errors import InputError, RunError, SeqcnnError
from seqcnn.files import (
    PICKLE_SUFFIXES,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    file_sha256,
    read_json,
    refuse_pickle,
    safe_name,
)
from seqcnn.io import Records, read_sequences
from seqcnn.io.labels import read_label_file
from seqcnn.io.meme import MemeMotif, write_meme
from seqcnn.models.spec import ModelSpec
from seqcnn.runs.predictions import write_predictions
from seqcnn.sequence import decode

RUN_FILES = ("config.json", "model.json", "model.safetensors")


def read_run_json(path: str | Path) -> Any:
    """Read a JSON file of a run folder (:func:`seqcnn.files.read_json` reads the user's).

    Raises:
        RunError: for a missing or unreadable file, naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise RunError(f"{path}: missing; is {path.parent} a seqcnn run folder?")
    try:
        return read_json(path)
    except InputError as exc:  # a run's file, not the user's input: a run error
        raise RunError(str(exc)) from None


def new_run_dir(out: str | Path | None, name: str, force: bool = False, root: str | Path = "runs") -> Path:
    """Choose and create the folder of a new run.

    Without ``out``, a fresh name ``<root>/<name>-<YYYYmmdd-HHMMSS>[-k]`` is chosen, so an
    existing run is never touched. An existing ``out`` is refused unless ``force``.

    Raises:
        RunError: when ``out`` exists and ``force`` is false.
    """
    if out is not None:
        path = Path(out)
        if path.exists() and any(path.iterdir()) and not force:
            raise RunError(f"{path}: already exists; choose another --out or pass --force to overwrite it")
        path.mkdir(parents=True, exist_ok=True)
        return path
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{safe_name(name)}-{stamp}"
    path, k = base, 1
    while True:
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path
        except FileExistsError:
            k += 1
            path = base.with_name(f"{base.name}-{k}")


def save_weights(model, path: str | Path) -> None:
    """Save a module's state dict as safetensors, atomically."""
    # safetensors.torch imports torch: only when weights are read or written
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, save(state))


def load_weights(model, path: str | Path) -> None:
    """Load safetensors weights into ``model``, checking names and shapes.

    Raises:
        RunError: for a missing or corrupt file, or tensors that do not fit the model.
    """
    # safetensors.torch imports torch: only when weights are read or written
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    refuse_pickle(path)
    if not path.is_file():
        pickles = sorted(p.name for p in path.parent.glob("*") if p.suffix.lower() in PICKLE_SUFFIXES)
        why = (
            f"; found {pickles[0]}, but seqcnn does not load pickle files (they can run code): save the weights as "
            "safetensors"
            if pickles
            else ""
        )
        raise RunError(f"{path}: weights file missing{why}")
    try:
        state = load(path.read_bytes())
    except (SafetensorError, ValueError, OSError) as exc:
        raise RunError(f"{path}: not a readable safetensors file ({exc})") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise RunError(f"{path}: tensors do not fit the spec (missing {missing[:3]}, unexpected {extra[:3]})")
    for key, value in expected.items():
        if tuple(state[key].shape) != tuple(value.shape):
            raise RunError(
                f"{path}: tensor {key!r} has shape {tuple(state[key].shape)}, the spec needs {tuple(value.shape)}"
            )
    model.load_state_dict(state)



def profile_record(run: str | Path) -> dict | None:
    """The ``profile`` record of a run's ``config.json`` (a run trained with ``--signal``); None for a run of another
    task or a folder without ``config.json``."""
    path = Path(run) / "config.json"
    if not path.is_file():
        return None
    config = read_run_json(path)
    return config.get("profile") if isinstance(config, dict) else None

@dataclass
class LoadedRun:
    """A run folder loaded into memory (what :func:`load_run` returns): its model (ready for inference),
    config and metrics; :class:`RunFolder` reads and writes the folder's files."""

    path: Path
    model: Any
    config: dict
    metrics: dict | None


def save_model(path: str | Path, model) -> None:
    """Write ``model.json`` (spec and input shape) and ``model.safetensors`` into a run folder."""
    path = Path(path)
    atomic_write_json(path / "model.json", {"input_shape": list(model.input_shape), "spec": model.spec.to_obj()})
    save_weights(model, path / "model.safetensors")


def load_model(path: str | Path):
    """Rebuild the model of a run folder from its spec and weights (no pickle).

    Raises:
        RunError: for a missing folder or file, or weights that do not fit the spec.
    """
    refuse_pickle(path)  # a .pt/.pth/.pkl given as a run: say why it is refused, not "not found"
    # the network module imports torch: only when a model is rebuilt
    from seqcnn.models.network import build_model

    path = Path(path)
    if not path.is_dir():
        raise RunError(f"{path}: run folder not found")
    info = read_run_json(path / "model.json")
    if not isinstance(info, dict) or "spec" not in info or "input_shape" not in info:
        raise RunError(f"{path / 'model.json'}: expected keys 'spec' and 'input_shape'")
    spec = ModelSpec.from_obj(info["spec"], source=str(path / "model.json"))
    model = build_model(spec, tuple(info["input_shape"]))
    load_weights(model, path / "model.safetensors")
    model.eval()
    return model


def load_run(path: str | Path) -> LoadedRun:
    """Load a run folder written by :func:`seqcnn.jobs.train.train`."""
    path = Path(path)
    model = load_model(path)
    config = read_run_json(path / "config.json")
    metrics = read_run_json(path / "metrics.json") if (path / "metrics.json").is_file() else None
    return LoadedRun(path, model, config, metrics)


# --- The run folder as one object -------------------------------------------------------------

def _number(text: str) -> int | float | str:
    """A cell of ``history.csv``: an int when it reads as one, else a float, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class RunFolder:
    """A run folder (``docs/design.md``): the one place that reads and writes its files.

    Args:
        path: the folder.

    Raises:
        RunError: for a pickle file given where a run folder is expected (see :func:`refuse_pickle`).
    """

    def __init__(self, path: str | Path):
        refuse_pickle(path)
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def write_config(self, record: dict) -> None:
        """Write ``config.json``."""
        atomic_write_json(self.path / "config.json", record)

    def config(self) -> dict:
        """``config.json``."""
        return read_run_json(self.path / "config.json")

    def save_model(self, model) -> None:
        """Write ``model.json`` and ``model.safetensors``."""
        save_model(self.path, model)

    def model(self):
        """The model rebuilt from ``model.json`` and ``model.safetensors`` (see :func:`load_model`)."""
        return load_model(self.path)

    def model_info(self) -> dict:
        """``model.json``: the spec and the input shape."""
        return read_run_json(self.path / "model.json")

    def write_history(self, rows: list[dict]) -> None:
        """Write ``history.csv``: one row per epoch, floats with 6 significant digits."""
        keys = list(rows[0])
        lines = [",".join(keys)] + [
            ",".join(f"{r[k]:.6g}" if isinstance(r[k], float) else str(r[k]) for k in keys) for r in rows
        ]
        atomic_write_text(self.path / "history.csv", "\n".join(lines) + "\n")

    def history(self) -> list[dict]:
        """The rows of ``history.csv`` as numbers.

        Raises:
            RunError: when the file is missing.
        """
        path = self.path / "history.csv"
        if not path.is_file():
            raise RunError(f"{path}: missing; is {self.path} a seqcnn run folder?")
        header, *rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines() if line] or [[]]
        return [{k: _number(v) for k, v in zip(header, row)} for row in rows]

    def has(self, name: str) -> bool:
        """Whether the run folder holds the file ``name``."""
        return (self.path / name).is_file()

    def write_metrics(self, metrics: dict) -> None:
        """Write ``metrics.json``."""
        atomic_write_json(self.path / "metrics.json", metrics)

    def metrics(self) -> dict | None:
        """``metrics.json``, or None for a run without a test part."""
        path = self.path / "metrics.json"
        return read_run_json(path) if path.is_file() else None

    def write_predictions(self, task: Task, ids: list[str], outputs: np.ndarray, y: np.ndarray | None = None) -> None:
        """Write ``predictions.tsv`` (:func:`seqcnn.runs.predictions.write_predictions`)."""
        write_predictions(self.path / "predictions.tsv", task, ids, outputs, y)

    def task(self):
        """The run's :class:`seqcnn.data.targets.Task` from ``config.json``, or None for a run written
        before tasks were recorded (classes 0, 1, ...)."""
        path = self.path / "config.json"
        data = read_run_json(path).get("task") if path.is_file() else None
        if isinstance(data, dict) and data.get("kind") == "profile":
            raise RunError(f"{self.path}: a profile run (trained with --signal) predicts profiles at peaks: seqcnn "
                           "predict RUN PEAKS --genome FASTA -o pred.npz; this command reads runs of labelled "
                           "sequences")
        return None if data is None else Task.from_json(data, str(path))

    def predictions(self) -> list[dict[str, str]]:
        """The rows of ``predictions.tsv`` as text cells by column (see :func:`read_tsv`).

        Raises:
            RunError: when the file is missing or malformed.
        """
        path = self.path / "predictions.tsv"
        if not path.is_file():
            raise RunError(f"{path}: missing; the run has no test predictions")
        return read_tsv(path)

    def explain_summary(self) -> dict | None:
        """``explain.json`` (what ``seqcnn explain`` ran and found), or None before it has run."""
        path = self.path / "explain.json"
        return read_run_json(path) if path.is_file() else None

    def write_explain_summary(self, summary: dict) -> None:
        """Write ``explain.json``."""
        atomic_write_json(self.path / "explain.json", summary)

    def write_variants_summary(self, summary: dict) -> None:
        """Write ``variants.json`` (what ``seqcnn variants`` scored and skipped, and its top variants)."""
        atomic_write_json(self.path / "variants.json", summary)

    def write_arrays(self, name: str, **arrays: np.ndarray) -> None:
        """Write named arrays as one compressed ``.npz`` file (``attributions.npz``, ``attention.npz``)."""
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic_write_bytes(self.path / name, buffer.getvalue())

    def write_table(self, name: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
        """Write a tab-separated table with a header row (``motifs.tsv``, ``patterns.tsv``; :func:`read_tsv`)."""
        lines = ["\t".join(columns)] + ["\t".join(row) for row in rows]
        atomic_write_text(self.path / name, "\n".join(lines) + "\n")

    def write_motifs(self, name: str, motifs: list[MemeMotif]) -> None:
        """Write motifs in MEME format (``motifs.meme``, ``patterns.meme``; :func:`seqcnn.io.meme.write_meme`)."""
        write_meme(self.path / name, motifs)

    def plot_folder(self, name: str) -> Path:
        """``plots/<name>/``, emptied of the PNGs an earlier call drew there, so that stale figures never
        sit beside new ones (the plotting functions create it)."""
        folder = self.path / "plots" / name
        if folder.is_dir():
            for old in folder.glob("*.png"):
                old.unlink()
        return folder

    def rc_average(self) -> bool:
        """Whether the run asks for strand averaging at prediction (``config.json``; False without one)."""
        path = self.path / "config.json"
        return bool(path.is_file() and read_run_json(path).get("predict", {}).get("rc_average", False))

    def data_records(self) -> list[tuple[str, Records]]:
        """This run's data read again (see :func:`recorded_data`)."""
        return recorded_data(self.config())


def recorded_data(config: dict) -> list[tuple[str, Records]]:
    """A run's data read again from its ``config.json``: ``(name, records)`` per part, from the files it
    records (each with its label file) or, for a built-in data set, generated again from the recorded seed.

    Raises:
        RunError: for a data file that is gone or changed since the run (its SHA-256 differs), or an
            unknown built-in name.
        InputError: for a recorded file that no longer reads.
    """
    data, seed = config.get("data", {}), int(config.get("train", {}).get("seed") or 0)
    if not data.get("files"):
        return _builtin_records(str(data.get("source", "")), seed)
    hashes = data.get("sha256", {})
    parts = []
    for seqs, labels in _recorded_pairs(config):
        for path in (seqs, labels):
            if path is not None and not Path(path).is_file():
                raise RunError(f"{path}: the run's data file is gone")
            if path is not None and str(path) in hashes and file_sha256(path) != hashes[str(path)]:
                raise RunError(f"{path} changed since the run (SHA-256 differs)")
        parts.append((Path(seqs).name, _read_recorded(seqs, labels, config)))
    return parts


def _read_recorded(path: str, labels: str | None, config: dict) -> Records:
    """A recorded file read as the run read it: labels 0/1 as before tasks (and for positives-only runs),
    else every column kept, ``labels`` holding class indices for a class task (None for other tasks,
    and for a file without the target column, such as a negatives file)."""
    recorded = config.get("task")
    task = None if recorded is None else Task.from_json(recorded)
    if task is None or task == positives_task():
        return read_sequences(path, labels)
    records = read_sequences(path, labels, legacy_labels=False)
    if task.classes is not None and all(t in records.columns for t in task.targets):
        records.labels = encode_targets(records, task).y.astype(np.float64)
    return records


def _builtin_records(source: str, seed: int) -> list[tuple[str, Records]]:
    if source not in BUILTIN:
        raise RunError(f"the run records no data files, and {source!r} is not a built-in data set")
    bundle = load_builtin(source, seed)
    parts = [("data", bundle.train)] + ([("test", bundle.test)] if bundle.test is not None else [])
    return [(name, Records(ids=list(s.ids), seqs=decode(s.x), source=source,
                           labels=s.labels.astype(np.float64) if s.is_classes else None))
            for name, s in parts if s.kind == "sequence"]


def _recorded_pairs(config: dict) -> list[tuple[str, str | None]]:
    """(sequence file, its label file or None) for the files a run read, from its recorded arguments;
    runs without them (older ones) pair a file that reads as labels with the file before it."""
    arguments = config.get("arguments") or {}
    if arguments:
        keys = (("data", "labels"), ("test", "test_labels"), ("negatives_file", None))
        present = [(s, lab) for s, lab in keys if isinstance(arguments.get(s), str)]
        return [(arguments[s], arguments.get(lab) if lab else None) for s, lab in present]
    files, pairs, i = [str(f) for f in config["data"]["files"]], [], 0
    while i < len(files):
        labels = files[i + 1] if i + 1 < len(files) and _is_label_file(files[i + 1]) else None
        pairs.append((files[i], labels))
        i += 2 if labels else 1
    return pairs


def _is_label_file(path: str) -> bool:
    try:
        read_label_file(path)
    except SeqcnnError:
        return False
    return True


def read_tsv(path: str | Path) -> list[dict[str, str]]:
    """Rows of a tab-separated file with a header, as dicts.

    Raises:
        RunError: when a row has a different number of cells than the header.
    """
    path = Path(path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if not rows:
        raise RunError(f"{path}: empty; expected a header row")
    head = rows[0]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(head):
            raise RunError(f"{path}, line {number}: {len(row)} cells, but the header has {len(head)}")
    return [dict(zip(head, row)) for row in rows[1:] if row]


def read_predictions(path: str | Path) -> tuple[np.ndarray, np.ndarray] | None:
    """Labels ``(N,)`` and probabilities ``(N, K)`` from a run's ``predictions.tsv``.

    Returns None when the file has no ``label`` column (predictions of unlabelled data).

    Raises:
        RunError: for a cell that is not a number.
    """
    rows = read_tsv(path)
    if not rows or "label" not in rows[0]:
        return None
    head = list(rows[0])
    cols = ["probability"] if "probability" in head else [
        c for c in head if (c.startswith("p") and c[1:].isdigit()) or c.startswith("p_")]
    named = {c[2:]: i for i, c in enumerate(cols) if c.startswith("p_")}  # class names (multi-class) -> index
    task = RunFolder(Path(path).parent).task() if (Path(path).parent / "config.json").is_file() else None
    if task is not None and task.classes is not None:  # a run's classes, by name (two named classes too)
        named = {name: i for i, name in enumerate(task.classes)}
    try:
        labels = np.array([named[r["label"]] if r["label"] in named else int(float(r["label"])) for r in rows])
        probs = np.array([[float(r[c]) for c in cols] for r in rows])
    except ValueError as exc:
        raise RunError(f"{path}: expected numbers in the label and probability columns ({exc})") from None
    if cols == ["probability"]:
        probs = np.column_stack([1 - probs[:, 0], probs[:, 0]])
    return labels, probs


# --- Resumable training state ----------------------------------------------------------------
