"""Targets: which columns a model learns, the kind of task they make, their encoding and loss.

The readers keep every column as raw text (:attr:`seqcnn.io.Records.columns`); this module
decides, and says, what is learnt:

1. :func:`choose_targets` picks the target columns: the ones the user names (``--target``), else
   the single column that could be a label. It refuses when several could be, and reports
   positives only when the file holds nothing but sequences and ids (or one label column that
   is 1 everywhere, as DeepBind's ``_AC`` files).
2. :func:`infer_task` reads the values and returns a :class:`Task`: ``binary``, ``multiclass``,
   ``multilabel`` (several 0/1 columns, empty cells missing) or ``regression`` (mean squared
   error on standardised targets, or Poisson for counts). ``--task`` overrides the inference.
3. :func:`encode_targets` gives the label arrays: int64 class indices ``(N,)``, or float32
   ``(N, T)`` with NaN where a value is missing, with the mask of present values.
4. :func:`predictions` gives the outputs on the original scale (class probabilities, per-task
   probabilities, measured values); the losses are :mod:`seqcnn.training.losses`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from seqcnn.errors import InputError, RunError
from seqcnn.io.labels import is_number
from seqcnn.io.records import Records

TASK_KINDS = ("binary", "multiclass", "multilabel", "regression")
TASK_CHOICES = TASK_KINDS + ("poisson",)  # "poisson": regression of counts with the Poisson loss
LOSSES = {"binary": "cross_entropy", "multiclass": "cross_entropy", "multilabel": "bce", "regression": "mse"}
MISSING = frozenset({"", "na", "nan", "n/a", "null"})
ID_NAMES = frozenset(
    {
        "id",
        "name",
        "seqid",
        "seq_id",
        "sequence_id",
        "sequence_name",
        "eventid",
        "event_id",
        "foldid",
        "fold_id",
        "fold",
        "split",
        "chrom",
        "chr",
        "chromosome",
        "start",
        "end",
        "stop",
        "strand",
        "peak_id",
        "locus",
        "chromstart",
        "chromend",
        "pos",
        "position",
        "index",
    }
)
LABEL_NAMES = frozenset({"label", "labels", "bound", "y", "target", "class", "classes", "category"})
# Two-class words whose positive class goes second (index 1), whatever the alphabet says.
NEGATIVE_OF = {"1": "0", "true": "false", "yes": "no", "pos": "neg", "positive": "negative", "bound": "unbound"}
TRUE_WORDS = frozenset({"1", "true", "yes"})
FALSE_WORDS = frozenset({"0", "false", "no"})
MAX_INTEGER_CLASSES = 20  # whole numbers with more distinct values are read as a measurement


@dataclass(frozen=True)
class TargetChoice:
    """The target columns chosen for a file, and the line that says so.

    Attributes:
        names: the chosen columns, in order; empty when the file holds positives only.
        positives_only: True when every record is a positive (no label column, or one that is
            1 everywhere); negatives must then be made.
        message: one line to print, naming the choice and what was ignored.
    """

    names: tuple[str, ...]
    positives_only: bool
    message: str


@dataclass(frozen=True)
class Task:
    """What a model learns: the kind of task, its targets and how they are scored.

    Attributes:
        kind: ``binary``, ``multiclass``, ``multilabel`` or ``regression``.
        targets: the target column names (one for ``binary`` and ``multiclass``).
        classes: class names in output order (``binary``, ``multiclass``), else None.
        class_order: how the classes were ordered: ``numeric``, ``name`` or ``negative first``.
        loss: ``cross_entropy``, ``bce`` (masked), ``mse`` (masked, standardised targets) or
            ``poisson`` (masked Poisson NLL on log-rates, unscaled counts).
        mean: per-target mean used to standardise (``mse`` regression), else None.
        std: per-target standard deviation used to standardise, else None.
        inferred: False when the user gave the kind (``--task``).
    """

    kind: str
    targets: tuple[str, ...]
    classes: tuple[str, ...] | None = None
    class_order: str | None = None
    loss: str = "cross_entropy"
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    inferred: bool = True

    @property
    def n_outputs(self) -> int:
        """Units of the output layer: one per class, or one per target."""
        return len(self.classes) if self.classes is not None else len(self.targets)

    @property
    def activation(self) -> str:
        """The output activation that turns logits into :func:`predictions`."""
        return {"cross_entropy": "softmax", "bce": "sigmoid", "mse": "linear", "poisson": "exp"}[self.loss]

    def to_json(self) -> dict:
        """A JSON-ready dict (for ``config.json``); :meth:`from_json` reads it back."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict, where: str = "config.json") -> Task:
        """Rebuild a task from :meth:`to_json`'s dict.

        Raises:
            RunError: for an unknown kind or loss, or missing fields, naming ``where``.
        """
        if not isinstance(data, dict) or data.get("kind") not in TASK_KINDS or not data.get("targets"):
            raise RunError(f"{where}: 'task' must be an object with a kind in {list(TASK_KINDS)} and targets")
        if data.get("loss", "cross_entropy") not in ("cross_entropy", "bce", "mse", "poisson"):
            raise RunError(f"{where}: unknown task loss {data.get('loss')!r}")
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("targets", "classes", "mean", "std"):
            if known.get(key) is not None:
                known[key] = tuple(known[key])
        return cls(**known)

    def describe(self) -> str:
        """One line for the user: the kind, targets, class order and loss."""
        how = "inferred from the values; --task overrides" if self.inferred else "given by --task"
        names = ", ".join(repr(t) for t in self.targets)
        if self.classes is not None:
            order = {
                "numeric": "sorted as numbers",
                "name": "sorted by name",
                "negative first": "negative class first",
            }[self.class_order or "name"]
            listed = ", ".join(self.classes)
            return f"task: {self.kind} on {names}, {len(self.classes)} classes {order}: {listed} ({how})"
        loss = {
            "bce": "binary cross-entropy per target, missing cells masked",
            "mse": "mean squared error on standardised targets, missing cells masked",
            "poisson": "Poisson loss on counts, missing cells masked",
        }[self.loss]
        return f"task: {self.kind} on {len(self.targets)} target(s) {names}; {loss} ({how})"


@dataclass(frozen=True)
class Targets:
    """Encoded labels.

    Attributes:
        y: int64 class indices ``(N,)`` (binary, multiclass), or float32 ``(N, T)`` on the
            original scale with NaN for missing values (multilabel, regression).
        mask: bool, True where a label is present; ``(N,)`` or ``(N, T)`` like ``y``.
    """

    y: np.ndarray
    mask: np.ndarray


# --- choosing the target columns -------------------------------------------------------------


def _split_names(target: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    if target is None:
        return None
    names = target.split(",") if isinstance(target, str) else [n for t in target for n in str(t).split(",")]
    names = [n.strip() for n in names if n.strip()]
    return names or None


def _present(values: list[str]) -> list[str]:
    return [v for v in values if v.strip().lower() not in MISSING]


def column_role(name: str, values: list[str], id_column: str | None = None) -> tuple[str, str]:
    """Whether a column can be a label, and why.

    Args:
        name: the column name.
        values: its raw cells.
        id_column: the column the reader took ids from.

    Returns:
        ``(role, reason)`` with role ``id`` (its name is an id's or a position's, or it holds
        a different text, or the row number, on every row), ``empty``, ``constant`` or
        ``candidate``.
    """
    present = _present(values)
    if name == id_column or name.lower() in ID_NAMES:
        return "id", "an id's or position's name"
    if not present:
        return "empty", "no values"
    distinct = set(present)
    if len(distinct) == 1:
        return "constant", f"the same value {present[0]!r} everywhere"
    if len(present) >= 3 and len(distinct) == len(values):
        if not all(is_number(v) for v in present):
            return "id", "a different text on every row"
        numbers = sorted(float(v) for v in present)
        if numbers[0] in (0.0, 1.0) and numbers == [numbers[0] + i for i in range(len(numbers))]:
            return "id", "the row number"
    return "candidate", ""


def choose_targets(records: Records, target: str | list[str] | tuple[str, ...] | None = None) -> TargetChoice:
    """Choose the target columns of ``records``, never guessing between several.

    Args:
        records: read with every column kept (``legacy_labels=False``).
        target: column names (a list, or one comma-separated string) from ``--target``;
            matched exactly, else without regard to case. None chooses: every column of a
            separate label file; else the one column that could be a label; positives only when
            there is none.

    Returns:
        The choice and a line to print.

    Raises:
        InputError: for an unknown or all-empty target column (listing the columns), or, without
            ``target``, when several columns could be labels (listing them; pass ``--target``).
    """
    src = records.source or "<input>"
    names = _split_names(target)
    if names is not None:
        chosen = tuple(_resolve(src, records.columns, name) for name in names)
        if len(set(chosen)) != len(chosen):
            raise InputError(f"{src}: --target names a column twice: {', '.join(names)}")
        for name in chosen:
            if not _present(records.columns[name]):
                raise InputError(
                    f"{src}: target {name!r} has no value in any of the {len(records)} records "
                    "(every cell empty or NA); expected at least one labelled record"
                )
        return _finish(records, chosen, "given by --target", "")
    if records.label_columns:
        return _finish(records, tuple(records.label_columns), "every column of the label file", "")
    roles = {name: column_role(name, values, records.id_column) for name, values in records.columns.items()}
    # A column named like a label is always a candidate: constant (positives only), empty (refused
    # as all-missing) or one text per row (too few rows to be ids) all need saying, never skipping.
    named_id = {n for n in roles if n == records.id_column or n.lower() in ID_NAMES}
    candidates = [n for n, (role, _) in roles.items() if role == "candidate" or (n not in named_id and label_like(n))]
    ignored = _ignored({n: why for n, (_, why) in roles.items() if n not in candidates})
    if len(candidates) > 1:
        raise InputError(
            f"{src}: {len(candidates)} columns could be labels: {', '.join(map(repr, candidates))}; "
            "pass --target COLUMN (or several, comma-separated, for a multi-task model)"
        )
    if not candidates:
        listed = f" ({ignored})" if ignored else ""
        return TargetChoice((), True, f"{src}: no label column, only sequences{listed}; every sequence is a positive")
    return _finish(records, tuple(candidates), "the only column that could be a label", ignored)


def label_like(name: str) -> bool:
    """True for a column named like a label (``label``, ``Bound``, ``y``, ``class``, ``label_b``, ...)."""
    low = name.lower()
    return low in LABEL_NAMES or low.startswith(("label", "target", "class"))


def _ignored(reasons: dict[str, str]) -> str:
    """``ignored 'FoldID', 'EventID' (an id's or position's name); 'Donor' (...)``, grouped by reason."""
    groups: dict[str, list[str]] = {}
    for name, why in reasons.items():
        groups.setdefault(why, []).append(repr(name))
    return ("ignored " + "; ".join(f"{', '.join(names)} ({why})" for why, names in groups.items())) if groups else ""


def _resolve(src: str, columns: dict[str, list[str]], name: str) -> str:
    if name in columns:
        return name
    folded = [c for c in columns if c.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    listed = ", ".join(map(repr, columns)) if columns else "none besides the sequence"
    raise InputError(f"{src}: unknown target column {name!r}; the columns are: {listed}")


def _finish(records: Records, chosen: tuple[str, ...], why: str, ignored: str) -> TargetChoice:
    src = records.source or "<input>"
    tail = f"; {ignored}" if ignored else ""
    if len(chosen) == 1:
        present = {_bit(v.strip()) for v in _present(records.columns[chosen[0]])}
        if present == {1.0}:
            return TargetChoice(
                (),
                True,
                f"{src}: target {chosen[0]!r} ({why}) is 1 in every record; every sequence is a positive{tail}",
            )
    names = ", ".join(map(repr, chosen))
    return TargetChoice(chosen, False, f"{src}: target {names} ({why}){tail}")


# --- inferring the task ----------------------------------------------------------------------


def _column(records: Records, name: str) -> list[str]:
    return [v.strip() for v in records.columns[name]]


def _is_missing(text: str) -> bool:
    return text.lower() in MISSING


def _number_key(text: str) -> str:
    """Canonical text of a number, so that ``1`` and ``1.0`` are one class."""
    value = float(text)
    return str(int(value)) if value.is_integer() else repr(value)


def _numeric(values: list[str]) -> bool:
    return all(is_number(v) for v in values)


def _bit(value: str) -> float | None:
    """1.0 or 0.0 for a 0/1 cell (``1``, ``1.0``, ``true``, ``yes`` ...), else None."""
    low = value.lower()
    if low in TRUE_WORDS or low in FALSE_WORDS:
        return 1.0 if low in TRUE_WORDS else 0.0
    if is_number(value) and float(value) in (0.0, 1.0):
        return float(value)
    return None


def _zero_one(values: list[str]) -> bool:
    return bool(values) and all(_bit(v) is not None for v in values)


def infer_task(records: Records, names: tuple[str, ...] | list[str], task: str | None = None) -> Task:
    """The task the target columns make, from their values (or ``task`` when given).

    Rules: one column of two values is ``binary``; of more text values, or of up to 20 whole
    numbers, ``multiclass`` (numbers sorted as numbers, text by name; for two classes, a
    recognised negative such as ``0``/``no``/``false``/``unbound`` first); of other numbers,
    ``regression``. Several columns of 0/1 are ``multilabel``; several numeric columns,
    ``regression``; text in several columns is refused.

    Args:
        records: the records whose ``columns`` hold the targets.
        names: the target columns (from :func:`choose_targets`).
        task: one of :data:`TASK_CHOICES` to override the inference (``poisson`` is regression
            with the Poisson loss).

    Returns:
        The task; for ``mse`` regression with the mean and standard deviation of each target
        (refit on the training part with :func:`fit_scale`).

    Raises:
        InputError: for an unknown task, values that do not fit it (naming the record), a
            class with one member, an all-missing target, a non-finite regression value, or
            one class only.
    """
    src = records.source or "<input>"
    names = tuple(names)
    if not names:
        raise InputError(f"{src}: no target columns to learn")
    if task is not None and task not in TASK_CHOICES:
        raise InputError(f"unknown task {task!r}; valid tasks: {', '.join(TASK_CHOICES)}")
    columns = {name: _column(records, name) for name in names}
    for name, values in columns.items():
        if not _present(values):
            raise InputError(
                f"{src}: target {name!r} has no value in any of the {len(records)} records; "
                "expected at least one labelled record"
            )
    kind = task or _infer_kind(src, columns)
    if kind in ("binary", "multiclass"):
        result = _class_task(records, names, kind, columns)
    elif kind == "multilabel":
        result = _multilabel_task(records, columns)
    else:
        result = _regression_task(records, columns, poisson=kind == "poisson")
    return replace(result, inferred=task is None)


def _infer_kind(src: str, columns: dict[str, list[str]]) -> str:
    if len(columns) == 1:
        values = _present(next(iter(columns.values())))
        if not _numeric(values):
            return "binary" if len(set(values)) == 2 else "multiclass"
        if not all(math.isfinite(float(v)) for v in values):
            return "regression"  # where a non-finite value is refused, naming its record
        keys = {_number_key(v) for v in values}
        if all(float(k).is_integer() for k in keys) and len(keys) <= MAX_INTEGER_CLASSES:
            return "binary" if len(keys) <= 2 else "multiclass"
        return "regression"
    for name, values in columns.items():
        present = _present(values)
        if not _numeric(present) and not _zero_one(present):
            shown = ", ".join(repr(v) for v in sorted(set(present))[:4])
            raise InputError(
                f"{src}: target {name!r} holds text ({shown}, ...); several targets must all be 0/1 "
                "(multi-label) or all numbers (regression); pass one --target for a class column"
            )
    bits = [name for name, values in columns.items() if _zero_one(_present(values))]
    if len(bits) == len(columns):
        return "multilabel"
    if bits:
        others = [name for name in columns if name not in bits]
        raise InputError(
            f"{src}: targets {', '.join(map(repr, bits))} are 0/1 but {', '.join(map(repr, others))} "
            "hold other numbers; pass --task regression to treat them all as measurements, or choose "
            "targets of one kind"
        )
    return "regression"


def _class_task(records: Records, names: tuple[str, ...], kind: str, columns: dict[str, list[str]]) -> Task:
    src = records.source or "<input>"
    if len(names) != 1:
        raise InputError(
            f"{src}: a {kind} task has one target column, got {len(names)}: {', '.join(names)}; "
            "use --task multilabel for several 0/1 columns"
        )
    name, values = names[0], columns[names[0]]
    for i, value in enumerate(values):
        if _is_missing(value):
            raise InputError(
                f"{records.where(i)}: no value for target {name!r}; every record of a {kind} task needs a class"
            )
    classes, order = _class_names(values)
    if len(classes) < 2:
        raise InputError(
            f"{src}: all {len(values)} values of target {name!r} are {classes[0]!r}; "
            "classification needs at least 2 classes"
        )
    if kind == "binary" and len(classes) != 2:
        raise InputError(
            f"{src}: --task binary needs 2 classes, target {name!r} has {len(classes)}: "
            f"{', '.join(classes[:10])}; use --task multiclass"
        )
    _check_members(records, name, values, classes)
    return Task(kind, names, tuple(classes), order, "cross_entropy")


def _class_names(values: list[str]) -> tuple[list[str], str]:
    """Distinct classes in output order, and the order's name."""
    if _numeric(values):
        keys = sorted({_number_key(v) for v in values}, key=float)
        return keys, "numeric"
    classes = sorted(set(values))
    if len(classes) == 2:
        low = [c.lower() for c in classes]
        for positive, negative in NEGATIVE_OF.items():
            if set(low) == {positive, negative}:
                return sorted(classes, key=lambda c: c.lower() == positive), "negative first"
    return classes, "name"


def _check_members(records: Records, name: str, values: list[str], classes: list[str]) -> None:
    keys = [_number_key(v) for v in values] if _numeric(values) else values
    counts = {c: 0 for c in classes}
    for key in keys:
        counts[key] += 1
    for cls, count in counts.items():
        if count == 1:
            i = keys.index(cls)
            raise InputError(
                f"{records.where(i)}: class {cls!r} of target {name!r} has one member; "
                "each class needs at "
                "least 2 (to train and to test on); drop it, or pass --task regression for a measurement"
            )


def _multilabel_task(records: Records, columns: dict[str, list[str]]) -> Task:
    src = records.source or "<input>"
    for name, values in columns.items():
        for i, value in enumerate(values):
            if not _is_missing(value) and not _zero_one([value]):
                raise InputError(
                    f"{records.where(i)}: target {name!r} is {value!r}; a multi-label target must be "
                    "0 or 1 (or empty for missing)"
                )
        seen = {_bit(value) for value in _present(values)}
        if len(seen) < 2:
            only = "1" if 1.0 in seen else "0"
            raise InputError(
                f"{src}: target {name!r} is {only} in every labelled record; a 0/1 target needs both values"
            )
    return Task("multilabel", tuple(columns), loss="bce")


def _regression_task(records: Records, columns: dict[str, list[str]], poisson: bool) -> Task:
    y = np.stack([_numbers(records, name, values, poisson) for name, values in columns.items()], axis=1)  # (N, T)
    task = Task("regression", tuple(columns), loss="poisson" if poisson else "mse")
    return task if poisson else fit_scale(task, y)


def _numbers(records: Records, name: str, values: list[str], poisson: bool) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, value in enumerate(values):
        if _is_missing(value):
            continue
        if not is_number(value):
            raise InputError(
                f"{records.where(i)}: target {name!r} is {value!r}, not a number; regression needs numbers"
            )
        number = float(value)
        if not math.isfinite(number):
            raise InputError(
                f"{records.where(i)}: target {name!r} is {value!r}, not a finite number; "
                "leave the cell empty for a missing value"
            )
        if poisson and number < 0:
            raise InputError(f"{records.where(i)}: target {name!r} is {value!r}; the Poisson loss needs counts >= 0")
        out[i] = number
    return out


def fit_scale(task: Task, y: np.ndarray, mask: np.ndarray | None = None) -> Task:
    """Set the standardisation of an ``mse`` regression task from ``y`` (e.g. the training part).

    Args:
        task: a regression task (other tasks are returned unchanged).
        y: float targets ``(N, T)`` on the original scale, NaN where missing.
        mask: optional bool ``(N, T)``; False cells are ignored.

    Returns:
        The task with per-target ``mean`` and ``std`` (1 where a target does not vary or has
        fewer than two values).
    """
    if task.loss != "mse":
        return task
    y = np.array(y, dtype=np.float64).reshape(len(y), -1)
    if mask is not None:
        y[~np.asarray(mask, dtype=bool).reshape(y.shape)] = np.nan
    mean, std = [], []
    for column in y.T:
        present = column[np.isfinite(column)]
        mean.append(float(present.mean()) if present.size else 0.0)
        spread = float(present.std()) if present.size > 1 else 0.0
        std.append(spread if spread > 0 else 1.0)
    return replace(task, mean=tuple(mean), std=tuple(std))


# --- encoding --------------------------------------------------------------------------------


def encode_targets(records: Records, task: Task) -> Targets:
    """The label arrays of ``records`` for ``task``.

    Args:
        records: records holding the task's target columns (e.g. a test file).
        task: from :func:`infer_task` (on the training file).

    Returns:
        :class:`Targets`: int64 class indices ``(N,)`` for binary and multiclass; float32
        ``(N, T)`` on the original scale, NaN where missing, for multilabel and regression.

    Raises:
        InputError: for a missing target column, a class the task does not know, or a value
            that does not fit the task, naming the record.
    """
    src = records.source or "<input>"
    missing = [name for name in task.targets if name not in records.columns]
    if missing:
        listed = ", ".join(map(repr, records.columns)) or "none"
        raise InputError(f"{src}: no target column {missing[0]!r}; the columns are: {listed}")
    if task.classes is not None:
        return _encode_classes(records, task)
    columns = [_column(records, name) for name in task.targets]
    if task.kind == "multilabel":
        y = np.stack([_zero_one_column(records, name, values) for name, values in zip(task.targets, columns)], axis=1)
    else:
        y = np.stack([_numbers(records, n, v, task.loss == "poisson") for n, v in zip(task.targets, columns)], axis=1)
    y = y.astype(np.float32)  # (N, T)
    return Targets(y, ~np.isnan(y))


def _encode_classes(records: Records, task: Task) -> Targets:
    name = task.targets[0]
    index = {cls: i for i, cls in enumerate(task.classes)}
    numeric = task.class_order == "numeric"
    y = np.empty(len(records), dtype=np.int64)
    for i, value in enumerate(_column(records, name)):
        key = _number_key(value) if numeric and is_number(value) else value
        if key not in index:
            raise InputError(
                f"{records.where(i)}: target {name!r} is {value!r}, not one of the classes {', '.join(task.classes)}"
            )
        y[i] = index[key]
    return Targets(y, np.ones(len(y), dtype=bool))


def _zero_one_column(records: Records, name: str, values: list[str]) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, value in enumerate(values):
        if _is_missing(value):
            continue
        if not _zero_one([value]):
            raise InputError(f"{records.where(i)}: target {name!r} is {value!r}; expected 0 or 1 (or empty)")
        out[i] = _bit(value)
    return out


def prepare_targets(
    records: Records, target: str | list[str] | None = None, task: str | None = None
) -> tuple[TargetChoice, Task | None, Targets | None]:
    """:func:`choose_targets`, :func:`infer_task` and :func:`encode_targets` in one call.

    Returns:
        The choice, and the task and targets (both None when the file holds positives only).

    Raises:
        InputError: as the three functions do.
    """
    choice = choose_targets(records, target)
    if choice.positives_only:
        return choice, None, None
    inferred = infer_task(records, choice.names, task)
    return choice, inferred, encode_targets(records, inferred)


# --- outputs ----------------------------------------------------------------------------------


def predictions(task: Task, logits) -> np.ndarray:
    """Outputs on the original scale from raw logits (a tensor or array).

    Returns:
        float64: class probabilities ``(N, K)`` (softmax), per-target probabilities ``(N, T)``
        (sigmoid), predicted values ``(N, T)`` (standardisation undone, or ``exp`` of the
        Poisson log-rate).
    """
    z = np.asarray(logits.detach().cpu().numpy() if hasattr(logits, "detach") else logits, dtype=np.float64)
    if task.loss == "cross_entropy":
        z = z - z.max(axis=1, keepdims=True)  # stable softmax
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    if task.loss == "bce":
        return 1.0 / (1.0 + np.exp(-z))
    if task.loss == "poisson":
        return np.exp(z)
    return z * np.asarray(task.std or 1.0) + np.asarray(task.mean or 0.0)


def positives_task(target: str = "label") -> Task:
    """The binary task of a positives-only file once negatives are made: classes ``0``, ``1``."""
    return Task("binary", (target,), ("0", "1"), "numeric", "cross_entropy")


def numbered_task(k: int) -> Task:
    """The task of ``k`` classes numbered ``0``, ``1``, ... (a run written before tasks were recorded, a plain
    module's outputs, a store's 0/1 labels)."""
    return Task("binary" if k == 2 else "multiclass", ("label",), tuple(str(i) for i in range(k)), "numeric")
