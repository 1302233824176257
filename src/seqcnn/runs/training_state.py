"""The resumable training state of an unfinished run (``checkpoint.safetensors`` in its run folder):
written after every epoch, read by ``seqcnn train --resume``, removed when the run completes.

Nothing here pickles: tensors are the safetensors file's tensors, the rest is JSON in its metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seqcnn.errors import RunError
from seqcnn.files import atomic_write_bytes

#: The resumable state of an unfinished run, inside its run folder. Removed when the run ends.
STATE_FILE = "checkpoint.safetensors"


def save_training_state(path: str | Path, loop) -> None:
    """Write everything a training loop needs to continue, as one safetensors file (atomically).

    Tensors (model weights, optimiser moments, RNG states, the best weights so far) are the
    file's tensors; the rest (epoch, history, early-stopping counters, optimiser settings,
    schedule) is JSON in the file's metadata, so one rename publishes the whole state.
    Nothing is pickled.

    Args:
        path: the file to write, normally ``RUN/checkpoint.safetensors``.
        loop: a :class:`seqcnn.training.loop.Loop` at the end of an epoch.
    """
    # torch takes seconds to import: only when tensors are needed
    import torch
    from safetensors.torch import save

    tensors: dict[str, Any] = {}
    history = loop.history
    state = {
        "format": "seqcnn-training-state/1",
        "epoch": loop.epoch,
        "model": _flatten(loop.model.state_dict(), "model", tensors),
        "optimizer": _flatten(loop.optimizer.state_dict(), "optimizer", tensors),
        "schedule": _flatten(loop.schedule.state_dict(), "schedule", tensors) if loop.schedule is not None else None,
        "rng": _flatten({"torch": torch.get_rng_state(), "generator": loop.generator.get_state(),
                         "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}, "rng", tensors),
        "history": {"rows": history.rows, "best_epoch": history.best_epoch, "stopped_early": history.stopped_early,
                    "best_loss": history.best_loss, "waited": history.waited},
        "best_state": _flatten(history.best_state, "best", tensors) if history.best_state is not None else None,
        "average": _flatten(loop.average.state_dict(), "average", tensors) if loop.average is not None else None,
    }
    atomic_write_bytes(path, save(tensors, metadata={"seqcnn": json.dumps(state)}))


def load_training_state(path: str | Path) -> dict:
    """Read a file written by :func:`save_training_state`: the JSON state with its tensors in place.

    Raises:
        RunError: for an unreadable, truncated or foreign file, naming it.
    """
    # safetensors.torch imports torch: only when weights are read or written
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    try:
        raw = path.read_bytes()
        tensors = load(raw)
        state = json.loads(_safetensors_metadata(raw)["seqcnn"])
        if state.get("format") != "seqcnn-training-state/1":
            raise KeyError("format")
        return _unflatten(state, tensors)
    except (SafetensorError, ValueError, KeyError, TypeError, OSError) as exc:
        raise RunError(f"{path}: not a seqcnn training state ({type(exc).__name__}: {exc}); "
                       f"delete it to restart the run from its first epoch") from None


def restore_training_state(state: dict, loop) -> None:
    """Put a state read by :func:`load_training_state` into a freshly built training loop.

    Raises:
        RunError: when the state does not fit the loop (another model, optimiser or schedule).
    """
    # torch takes seconds to import: only when tensors are needed
    import torch

    try:
        loop.model.load_state_dict(state["model"])
        loop.optimizer.load_state_dict(state["optimizer"])
        if (state["schedule"] is None) != (loop.schedule is None):
            raise ValueError("the learning-rate schedule differs")
        if loop.schedule is not None:
            loop.schedule.load_state_dict(state["schedule"])
        if loop.average is not None and state.get("average") is not None:
            loop.average.load_state_dict(state["average"])
        elif loop.average is not None:  # saved by a seqcnn without the average: it starts from the resumed weights
            loop.average.restart(loop.model)
    except (RuntimeError, ValueError, KeyError) as exc:
        raise RunError(f"{STATE_FILE}: the saved training state does not fit this model and recipe ({exc})") from None
    torch.set_rng_state(state["rng"]["torch"])
    loop.generator.set_state(state["rng"]["generator"])
    if state["rng"]["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    for key, value in state["history"].items():
        setattr(loop.history, key, value)
    loop.history.best_state = state["best_state"]
    loop.epoch = int(state["epoch"])


class StateSaver:
    """Saves a run's training state after every epoch (``fit``'s ``on_epoch_end``) and resumes from it.

    Args:
        run_dir: the run folder; the state is ``run_dir/checkpoint.safetensors``.
        resume: read the state there (when present) for ``fit``'s ``resume``.

    Raises:
        RunError: with ``resume``, for a state file that cannot be read.
    """

    def __init__(self, run_dir: str | Path, resume: bool = False):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / STATE_FILE
        self.epoch: int | None = None  # the last epoch on disk
        self.state = load_training_state(self.path) if resume and self.path.is_file() else None
        if self.state is not None:
            self.epoch = int(self.state["epoch"])

    def __call__(self, loop) -> None:
        save_training_state(self.path, loop)
        self.epoch = loop.epoch

    @property
    def resume(self):
        """``fit``'s ``resume`` argument: restores the state read at start, or None."""
        return None if self.state is None else lambda loop: restore_training_state(self.state, loop)

    def note(self) -> str:
        """One line on what is kept and how to continue."""
        if self.epoch is None:
            return f"no epoch was completed; seqcnn train --resume {self.run_dir} starts it again"
        return f"epoch {self.epoch} is saved in {self.path}; continue with: seqcnn train --resume {self.run_dir}"


def _flatten(obj: Any, prefix: str, tensors: dict) -> Any:
    """JSON-ready copy of ``obj`` with every tensor moved into ``tensors`` under a dotted name."""
    # torch takes seconds to import: only when tensors are needed
    import torch

    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().cpu().contiguous().clone()
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        pairs = [[k, _flatten(v, f"{prefix}.{k}", tensors)] for k, v in obj.items()]
        return {"__dict__": pairs}  # pairs keep int keys (optimiser state) ints
    if isinstance(obj, (list, tuple)):
        items = [_flatten(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot save {type(obj).__name__} at {prefix} in a training state")


def _unflatten(obj: Any, tensors: dict) -> Any:
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__tuple__" in obj:
            return tuple(_unflatten(v, tensors) for v in obj["__tuple__"])
        if "__dict__" in obj:
            return {k: _unflatten(v, tensors) for k, v in obj["__dict__"]}
        return {k: _unflatten(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unflatten(v, tensors) for v in obj]
    return obj


def _safetensors_metadata(raw: bytes) -> dict:
    """The ``__metadata__`` of safetensors bytes (an 8-byte little-endian header size, then JSON)."""
    size = int.from_bytes(raw[:8], "little")
    if len(raw) < 8 or size > len(raw) - 8:
        raise ValueError("truncated header")
    return json.loads(raw[8 : 8 + size]).get("__metadata__") or {}
