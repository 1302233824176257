"""The run folder: atomic file writes, weights as safetensors, spec and config as JSON.

Nothing here pickles: a model is rebuilt from ``model.json`` (its spec and input shape) and
its weights are read from ``model.safetensors``, which cannot run code when loaded.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from seqcnn.errors import RunError

RUN_FILES = ("config.json", "model.json", "model.safetensors")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename.

    A crash or a full disk leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from other users
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write JSON (indented, keys in insertion order) atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def read_json(path: str | Path) -> Any:
    """Read a JSON file of a run folder.

    Raises:
        RunError: for a missing or unreadable file, naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise RunError(f"{path}: missing; is {path.parent} a seqcnn run folder?")
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(f"{path}: corrupt JSON ({exc})") from None


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
    base = Path(root) / f"{_safe_name(name)}-{stamp}"
    path, k = base, 1
    while True:
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path
        except FileExistsError:
            k += 1
            path = base.with_name(f"{base.name}-{k}")


def _safe_name(name: str) -> str:
    """A file-name-safe version of ``name`` (no separators, no leading dots)."""
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".")
    return keep[:80] or "run"


def save_weights(model, path: str | Path) -> None:
    """Save a module's state dict as safetensors, atomically."""
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, save(state))


def load_weights(model, path: str | Path) -> None:
    """Load safetensors weights into ``model``, checking names and shapes.

    Raises:
        RunError: for a missing or corrupt file, or tensors that do not fit the model.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    if not path.is_file():
        raise RunError(f"{path}: weights file missing")
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
            raise RunError(f"{path}: tensor {key!r} has shape {tuple(state[key].shape)}, the spec needs {tuple(value.shape)}")
    model.load_state_dict(state)


@dataclass
class Run:
    """A loaded run folder: its model (ready for inference), spec, config and metrics."""

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
    from seqcnn.models.network import build_model
    from seqcnn.models.spec import ModelSpec

    path = Path(path)
    if not path.is_dir():
        raise RunError(f"{path}: run folder not found")
    info = read_json(path / "model.json")
    if not isinstance(info, dict) or "spec" not in info or "input_shape" not in info:
        raise RunError(f"{path / 'model.json'}: expected keys 'spec' and 'input_shape'")
    spec = ModelSpec.from_obj(info["spec"], source=str(path / "model.json"))
    model = build_model(spec, tuple(info["input_shape"]))
    load_weights(model, path / "model.safetensors")
    model.eval()
    return model


def load_run(path: str | Path) -> Run:
    """Load a run folder written by :func:`seqcnn.run.train`."""
    path = Path(path)
    model = load_model(path)
    config = read_json(path / "config.json")
    metrics = read_json(path / "metrics.json") if (path / "metrics.json").is_file() else None
    return Run(path, model, config, metrics)
