"""The search space of ``seqcnn tune``: the lecture's hyperparameters, a user's space file, and the spec of a point.

A space maps each parameter of :data:`PARAMETERS` to a range (``{"low": 1, "high": 4}``, with ``"log": true``
for rates), a list of choices (``{"choices": [32, 64]}``) or one fixed value. The default is the lecture's
list (:data:`DEFAULT_SPACE`): number of convolution layers, filters, kernel width, pooling, dropout, learning
rate, weight decay and batch size. A ``--space`` file (YAML or JSON) replaces the parameters it names; the rest
keep their default. :func:`layers_spec` turns a point into a model spec; :func:`recipe_overrides` into the
fields of :class:`seqcnn.training.recipes.TrainConfig`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from seqcnn.errors import InputError
from seqcnn.models.spec import ModelSpec

#: Each parameter and its kind: ``int`` and ``float`` take ranges or choices, ``choice`` only choices.
PARAMETERS = {
    "layers": "int",  # convolution layers
    "filters": "int",  # per convolution layer
    "kernel": "int",  # kernel width
    "pool": "choice",  # global (max pool 2 between layers, global max at the end) or localN (max pool N each layer)
    "dropout": "float",  # before the output layer
    "lr": "float",
    "weight_decay": "float",
    "batch_size": "int",
}

#: The lecture's space (its "how many layers?" and the hyperparameters it lists).
DEFAULT_SPACE: dict[str, dict] = {
    "layers": {"low": 1, "high": 4},
    "filters": {"choices": [32, 64, 128, 256]},
    "kernel": {"choices": [8, 12, 16, 24]},
    "pool": {"choices": ["global", "local2", "local4"]},
    "dropout": {"low": 0.0, "high": 0.5},
    "lr": {"low": 1e-4, "high": 1e-2, "log": True},
    "weight_decay": {"low": 1e-6, "high": 1e-2, "log": True},
    "batch_size": {"choices": [32, 64, 128]},
}

#: The width that ``--procedure layers`` keeps while it adds layers (the ChIP-seq default's kernel; the grid's
#: middle width).
DEFAULT_POINT = {"filters": 64, "kernel": 12, "pool": "global", "dropout": 0.0}


#: The ChIP-seq default model (``chipseq``: 256 kernels of width 12, global max pooling) as a point of the space:
#: the first trial of a search, so that it starts from what ``seqcnn train`` would train.
START_POINT = {"layers": 1, "filters": 256, "kernel": 12, "pool": "global", "dropout": 0.0}


def start_point(space: dict[str, dict], recipe: dict) -> dict:
    """The parameters of :data:`START_POINT` (and the recipe's ``lr``, ``weight_decay``, ``batch_size``) that lie in
    ``space``: a value in its choices or within its range. The others are left to the sampler."""
    point = {}
    for name, value in {**START_POINT, **recipe}.items():
        rng = space.get(name)
        if rng is None:
            continue
        if "choices" in rng:
            if value in rng["choices"] and len(rng["choices"]) > 1:
                point[name] = value
        elif rng["low"] <= value <= rng["high"]:
            point[name] = value
    return point


def load_space(path: str | Path | None) -> dict[str, dict]:
    """The default space with the parameters of a ``--space`` file (YAML or JSON) in place of theirs.

    Raises:
        InputError: for an unreadable file, an unknown parameter, an empty range or a value of the wrong kind,
            naming the file and the parameter.
    """
    space = {k: dict(v) for k, v in DEFAULT_SPACE.items()}
    if path is None:
        return space
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            given = json.loads(text)
        else:
            # PyYAML comes with the cluster extra (optuna needs it): only for a YAML space file
            import yaml

            given = yaml.safe_load(text)
    except Exception as exc:  # json.JSONDecodeError, yaml.YAMLError: the file is not what it says
        raise InputError(f"--space {path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'} "
                         f"({' '.join(str(exc).split())})") from None
    if not isinstance(given, dict) or not given:
        raise InputError(f"--space {path}: expected a mapping of parameter names to ranges, got {type(given).__name__}")
    for name, value in given.items():
        space[name] = check_range(path, name, value)
    return space


def check_range(path: str | Path, name: str, value) -> dict:
    """One parameter's range, choices or fixed value from a space file, checked and made a dict.

    Raises:
        InputError: see :func:`load_space`.
    """
    where = f"--space {path}: parameter {name!r}"
    if name not in PARAMETERS:
        raise InputError(f"--space {path}: unknown parameter {name!r}; expected one of {list(PARAMETERS)}")
    kind = PARAMETERS[name]
    if not isinstance(value, dict):  # a list of choices, or one value
        value = {"choices": value if isinstance(value, list) else [value]}
    ranged = "low" in value and "high" in value
    if set(value) - {"low", "high", "log", "choices"} or ("choices" in value) == ranged or (
            not ranged and "choices" not in value):
        raise InputError(f"{where}: expected {{low, high[, log]}}, {{choices: [...]}}, a list or one value, "
                         f"got {value}")
    if "choices" in value:
        choices = value["choices"]
        if not isinstance(choices, list) or not choices:
            raise InputError(f"{where}: empty choices; expected a non-empty list")
        for c in choices:
            _check_value(where, name, kind, c)
        return {"choices": list(choices)}
    if kind == "choice":
        raise InputError(f"{where}: takes choices (e.g. [global, local2]), not a range")
    low, high = value.get("low"), value.get("high")
    for v in (low, high):
        _check_value(where, name, kind, v)
    if not low < high:
        raise InputError(f"{where}: empty range low={low} high={high}; expected low < high")
    if value.get("log") and low <= 0:
        raise InputError(f"{where}: a log range needs low > 0, got low={low}")
    return {"low": low, "high": high, "log": bool(value.get("log", False))}


def _check_value(where: str, name: str, kind: str, value) -> None:
    if kind == "choice":
        if name == "pool" and not (value == "global" or (isinstance(value, str) and value.startswith("local")
                                                         and value[5:].isdigit() and int(value[5:]) > 1)):
            raise InputError(f"{where}: {value!r} is not a pooling; expected 'global' or 'localN' (N > 1)")
        return
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not number or (kind == "int" and int(value) != value):
        raise InputError(f"{where}: expected {'a whole number' if kind == 'int' else 'a number'}, got {value!r}")
    lowest = {"layers": 1, "filters": 1, "kernel": 1, "batch_size": 1, "dropout": 0, "weight_decay": 0}.get(name)
    if lowest is not None and value < lowest:
        raise InputError(f"{where}: expected at least {lowest}, got {value!r}")
    if (name == "dropout" and value >= 1) or (name == "lr" and value <= 0):
        raise InputError(f"{where}: {value!r} is out of range ({'[0, 1)' if name == 'dropout' else '> 0'})")


def suggest(trial, space: dict[str, dict]) -> dict:
    """A point of ``space`` chosen by an Optuna trial (``trial.suggest_*``)."""
    point = {}
    for name, rng in space.items():
        if "choices" in rng:
            point[name] = rng["choices"][0] if len(rng["choices"]) == 1 else trial.suggest_categorical(
                name, rng["choices"])
        elif PARAMETERS[name] == "int":
            point[name] = trial.suggest_int(name, int(rng["low"]), int(rng["high"]), log=rng.get("log", False))
        else:
            point[name] = trial.suggest_float(name, float(rng["low"]), float(rng["high"]), log=rng.get("log", False))
    return point


def layers_spec(point: dict, classes: int, name: str = "tuned") -> ModelSpec:
    """The model of a point: ``layers`` x [Conv1D(filters, kernel, relu), pooling], then Dropout and the output.

    ``pool=global``: MaxPooling1D(2) between layers and GlobalMaxPooling1D after the last (the ChIP-seq default
    at one layer); ``pool=localN``: MaxPooling1D(N) after every layer, then Flatten. Convolutions and poolings
    pad ("same"), so that every point of the space fits any input length (a deep stack of wide kernels would
    not fit 101 bp unpadded). The output layer is ``Dense(classes, softmax)``; the caller fits it to the task
    (:func:`seqcnn.models.lookup.fit_head`).
    """
    pool = point.get("pool", "global")
    size = 2 if pool == "global" else int(pool[5:])
    layers: list[dict] = []
    for i in range(int(point["layers"])):
        layers.append({"Conv1D": {"filters": int(point["filters"]), "kernel_size": int(point["kernel"]),
                                  "activation": "relu", "padding": "same"}})
        if pool != "global" or i < int(point["layers"]) - 1:
            layers.append({"MaxPooling1D": {"pool_size": size, "padding": "same"}})
    layers.append({"GlobalMaxPooling1D": {}} if pool == "global" else {"Flatten": {}})
    if point.get("dropout", 0):
        layers.append({"Dropout": {"rate": float(point["dropout"])}})
    layers.append({"Dense": {"units": classes, "activation": "softmax"}})
    return ModelSpec.from_obj({"name": name, "layers": layers}, source=f"tune point {point}")


def recipe_overrides(point: dict) -> dict:
    """The :class:`seqcnn.training.recipes.TrainConfig` fields a point sets (learning rate, weight decay, batch)."""
    return {k: point[k] for k in ("lr", "weight_decay", "batch_size") if k in point}
