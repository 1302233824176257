"""What a design raises or lowers: one number per sequence from a run's outputs.

:func:`build_objective` turns the options of ``seqcnn design`` into an :class:`Objective`:

- a classifier: the probability of the positive class (binary: class 1) or of ``--class NAME``, raised
  (default) or lowered (``--lower``);
- a multi-task run: one task (``--task NAME``), or specificity across tasks, ``--maximize A B
  --minimize C`` (the mean of A and B minus the mean of C, as CREsted and gReLU weigh target gain against
  off-target gain);
- regression: the value raised or lowered, or brought to ``--target VALUE`` (minus the distance to it).

Output names are the run's class names or target names; one the run lacks is refused with the list.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seqcnn.errors import InputError


@dataclass(frozen=True)
class Objective:
    """A number to maximise from a run's outputs ``(N, K)``.

    Attributes:
        maximize: output indices whose mean is raised.
        minimize: output indices whose mean is lowered.
        target: for one regression output, the value to reach (the objective is minus the distance).
        description: the objective in words (printed, in the report).
    """

    maximize: tuple[int, ...]
    minimize: tuple[int, ...] = ()
    target: float | None = None
    description: str = ""

    def value(self, outputs: torch.Tensor) -> torch.Tensor:
        """The objective of each sequence. Shape: ``(N, K)`` -> ``(N,)``."""
        if self.target is not None:
            return -(outputs[:, self.maximize[0]] - self.target).abs()
        total = torch.zeros(outputs.shape[0], dtype=outputs.dtype, device=outputs.device)
        if self.maximize:
            total = total + outputs[:, list(self.maximize)].mean(dim=1)
        if self.minimize:
            total = total - outputs[:, list(self.minimize)].mean(dim=1)
        return total


def _index(names: list[str], name: str, option: str) -> int:
    if name in names:
        return names.index(name)
    if name.isdigit() and int(name) < len(names):
        return int(name)
    raise InputError(f"{option} {name!r} is not a task of the run; its tasks are: {', '.join(names)}")


def build_objective(names: list[str], kind: str, *, lower: bool = False, class_name: str | None = None,
                    task: str | None = None, maximize: list[str] | None = None, minimize: list[str] | None = None,
                    target: float | None = None) -> Objective:
    """The objective from the options of ``seqcnn design``.

    Args:
        names: the run's output names (class names or targets).
        kind: the run's task kind (``binary``, ``multiclass``, ``multilabel``, ``regression``).
        lower: lower the chosen output instead of raising it.
        class_name: the class raised (classifiers).
        task: the output raised (multi-task and regression runs).
        maximize: outputs whose mean is raised (specificity).
        minimize: outputs whose mean is lowered.
        target: the value a regression output is brought to.

    Raises:
        InputError: for a name the run lacks (listing its outputs), options that do not fit the run's
            kind, or a multi-output run without a choice.
    """
    maximize, minimize = list(maximize or []), list(minimize or [])
    chosen = [o for o, v in (("--class", class_name), ("--task", task)) if v is not None]
    if len(chosen) > 1 or (chosen and (maximize or minimize)):
        raise InputError("give one of --class, --task, or --maximize/--minimize")
    if target is not None:
        return _target_objective(names, kind, task, target, bool(maximize or minimize or lower or class_name))
    if maximize or minimize:
        up = tuple(_index(names, n, "--maximize") for n in maximize)
        down = tuple(_index(names, n, "--minimize") for n in minimize)
        if lower:
            up, down = down, up
        words = " - ".join(p for p in (_mean_words(names, up), _mean_words(names, down)) if p)
        return Objective(up, down, None, f"raise {words}" if up else f"lower {_mean_words(names, down)}")
    index = _single(names, kind, class_name, task)
    what = ("the probability of class " if kind in ("binary", "multiclass") else "task ") + names[index]
    return Objective((), (index,), None, f"lower {what}") if lower else Objective((index,), (), None, f"raise {what}")


def _mean_words(names: list[str], indices: tuple[int, ...]) -> str:
    if not indices:
        return ""
    listed = ", ".join(names[i] for i in indices)
    return listed if len(indices) == 1 else f"mean({listed})"


def _single(names: list[str], kind: str, class_name: str | None, task: str | None) -> int:
    """The one output raised or lowered: the named class or task, else the only choice."""
    if kind in ("binary", "multiclass"):
        if task is not None:
            raise InputError(f"--task is for multi-task and regression runs; this run predicts classes: use --class "
                             f"(one of {', '.join(names)})")
        if class_name is not None:
            return _index(names, class_name, "--class")
        if kind == "binary":
            return 1
        raise InputError(f"the run has {len(names)} classes; choose one with --class: {', '.join(names)}")
    if class_name is not None:
        raise InputError(f"--class is for classifiers; this run is {kind} on {', '.join(names)}: use --task")
    if task is not None:
        return _index(names, task, "--task")
    if len(names) == 1:
        return 0
    raise InputError(f"the run has {len(names)} tasks; choose one with --task, or --maximize/--minimize: "
                     f"{', '.join(names)}")


def _target_objective(names: list[str], kind: str, task: str | None, target: float, other: bool) -> Objective:
    if kind != "regression":
        raise InputError(f"--target is for regression runs; this run is {kind}")
    if other:
        raise InputError("--target brings one output to a value: give it with --task only")
    index = _single(names, kind, None, task)
    return Objective((index,), (), float(target), f"bring {names[index]} to {target:g}")
