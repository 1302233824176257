"""``seqcnn tune``: a hyperparameter search with pruning, and the lecture's "how many layers?" procedure.

The search is Optuna's: a TPE sampler proposes points of the space (:mod:`seqcnn.jobs.search_space`), each
point is a trial (:mod:`seqcnn.jobs.trial`) that reports the task's validation metric (AUROC, or Pearson for
regression) after every epoch, and a pruner (median, or successive halving) stops the trials that fall behind;
the first trial of a new search is the ChIP-seq default model's point (where it lies in the space);
``--epochs`` caps a trial. The study lives in a journal file in the output folder (Optuna's
``JournalStorage``), which every trial process appends to: trials run one after another here
(``--engine local``) or side by side as Ray tasks on a cluster (``--engine ray``, the folder on a filesystem
that every node sees), with the same code. A rerun into the same folder continues the study.

``--procedure layers`` is the lecture's: train 1, 2, 3... convolution layers at the default width until the
validation metric stops improving while the training metric still improves (overfitting), then search the
regularisation (dropout, weight decay) at the depth with the best validation metric.

The test part is never seen by the search: the trials train on the training part and are scored on the
validation part, split exactly as ``seqcnn train`` splits them; only ``best/``, an ordinary run of the best
point, is evaluated on the test part. The folder::

    DIR/trials.tsv     trial, state (COMPLETE/PRUNED/FAIL), each parameter, the validation metric, epochs, seconds,
                       node
    DIR/best.json      the best point, its validation metric by name (val_auroc), its spec
    DIR/best/          the best point trained by ``seqcnn train`` and tested on the test part
    DIR/layers.tsv     ``--procedure layers``: depth, parameters, training and validation metric, chosen
    DIR/report.html    metric by trial, parameter importance, the layers table; figures in DIR/plots/
    DIR/study.journal  Optuna's journal of the study
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from seqcnn.errors import InputError
from seqcnn.files import atomic_write_json, atomic_write_text
from seqcnn.jobs.cluster import RAY_RETRIES, connect, require
from seqcnn.jobs.search_space import (
    DEFAULT_POINT,
    PARAMETERS,
    layers_spec,
    load_space,
    recipe_overrides,
    start_point,
    suggest,
)
from seqcnn.jobs.trial import PRUNERS, TuneData, make_pruner, open_storage, prepared, run_trial

STUDY = "seqcnn-tune"
ENGINES = ("local", "ray")
PROCEDURES = ("search", "layers")


@dataclass
class Tuning:
    """What a tuning run was asked (see :func:`tune`)."""

    data: TuneData
    out: Path
    trials: int = 20
    epochs: int | None = None
    engine: str = "local"
    address: str | None = None
    cpus_per_trial: int = 1
    space: dict = field(default_factory=dict)
    procedure: str = "search"
    pruner: str = "median"
    progress: bool = True
    rows: list[dict] = field(default_factory=list)  # one per finished trial, in order


def tune(data: str | Path, *, out: str | Path, test: str | Path | None = None, trials: int = 20,
         epochs: int | None = None, engine: str = "local", address: str | None = None, cpus_per_trial: int = 1,
         space: str | Path | None = None, procedure: str = "search", pruner: str = "median",
         recipe: str | None = None, seed: int = 0, threads: int | None = None, progress: bool = True) -> Path:
    """Search hyperparameters on the validation part, then train the best point (see the module doc).

    Args:
        data: a labelled sequence file (or a built-in data set's name); a DeepBind ``<name>_AC.seq.gz`` gets
            its ``<name>_B.seq.gz`` as test file when ``test`` is None and it exists.
        out: the output folder (a rerun continues its study).
        test: a separate test file, for ``best/`` only.
        trials: trials of the search (of the regularisation search with ``procedure="layers"``).
        epochs: the most epochs a trial trains (default: the recipe's).
        engine: ``local`` (here, one trial after another) or ``ray`` (Ray tasks).
        address: with ``ray``, a cluster's ``HOST:PORT`` or ``auto``; None starts Ray here.
        cpus_per_trial: with ``ray``, CPUs reserved (and torch threads) per trial.
        space: a YAML or JSON file replacing parameters of the default space.
        procedure: ``search``, or ``layers`` (the lecture's procedure).
        pruner: ``median`` or ``halving``.
        recipe: the training recipe (default: the data's).
        seed: the seed of the split, every trial and the sampler.
        threads: torch threads of a local trial (default: the main job's rule).
        progress: show a progress bar.

    Returns:
        The output folder.

    Raises:
        SeqcnnError: for bad options, a bad space file or data, before any training.
    """
    if trials < 1:
        raise InputError(f"--trials must be at least 1, got {trials}")
    if epochs is not None and epochs < 1:
        raise InputError(f"--epochs must be at least 1, got {epochs}")
    for name, value, choices in (("--engine", engine, ENGINES), ("--procedure", procedure, PROCEDURES),
                                 ("--pruner", pruner, PRUNERS)):
        if value not in choices:
            raise InputError(f"{name} must be one of {list(choices)}, but got {value!r}")
    if engine == "local" and address:
        raise InputError("--address joins a Ray cluster: it needs --engine ray")
    if cpus_per_trial < 1:
        raise InputError(f"--cpus-per-trial must be at least 1, got {cpus_per_trial}")
    require("optuna", "seqcnn tune")
    run = Tuning(TuneData(str(data), _test_file(data, test), recipe, seed,
                          threads=cpus_per_trial if engine == "ray" else threads),
                 Path(out), trials, epochs, engine, address, cpus_per_trial, load_space(space), procedure, pruner,
                 progress)
    prep = prepared(run.data)  # the data read once here: its mistakes refused before any trial
    run.epochs = run.epochs or prep.config.epochs
    run.out.mkdir(parents=True, exist_ok=True)
    _say(f"seqcnn: tune: {prep.recipe} recipe, at most {run.epochs} epochs a trial, validation {prep.metric} on "
         f"{len(prep.parts[1]):,} sequences (training {len(prep.parts[0]):,}); the test part is left for best/")
    with connect(address, "seqcnn tune --engine ray") if engine == "ray" else _no_cluster() as ray:
        layers = layers_procedure(run, ray) if procedure == "layers" else None
        fixed = {"layers": layers["chosen"]} if layers else {}
        searched = _regularisation_space(run.space) if layers else run.space
        study = search(run, ray, searched, fixed)
    best = write_outputs(run, study, prep.metric, layers, fixed)
    train_best(run, best)
    from seqcnn.jobs.tune_report import write_tune_report

    write_tune_report(run.out, prep.metric)
    return run.out


def _test_file(data: str | Path, test: str | Path | None) -> str | None:
    if test is not None:
        return str(test)
    name = str(data)
    if name.endswith("_AC.seq.gz"):
        candidate = Path(name[: -len("_AC.seq.gz")] + "_B.seq.gz")
        if candidate.is_file():
            _say(f"seqcnn: tune: test file {candidate} (DeepBind's pair of {Path(name).name}); --test chooses another")
            return str(candidate)
    return None


class _no_cluster:
    """``with`` without Ray: the local engine."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _regularisation_space(space: dict) -> dict:
    """The space of the search after ``--procedure layers``: dropout and weight decay as given (or default)."""
    return {k: space[k] for k in ("dropout", "weight_decay")}


def search(run: Tuning, ray, space: dict, fixed: dict):
    """Run the trials of an Optuna study (TPE, the run's pruner) until ``run.trials`` are done; returns the study.

    ``fixed`` parameters (and the default point's, for those not in ``space``) complete every point.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    journal = run.out / "study.journal"
    sampler = optuna.samplers.TPESampler(seed=run.data.seed, n_startup_trials=max(2, min(10, run.trials // 3)),
                                         constant_liar=True)
    study = optuna.create_study(study_name=STUDY, storage=open_storage(journal), direction="maximize",
                                sampler=sampler, pruner=make_pruner(run.pruner), load_if_exists=True)
    for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)  # an interrupted run's trial: run anew
    if not study.trials and not fixed:  # a new search starts from the default model's point
        config = prepared(run.data).config
        study.enqueue_trial(start_point(space, {"lr": config.lr, "weight_decay": config.weight_decay,
                                                "batch_size": config.batch_size}))
    done = [t for t in study.get_trials() if t.state.is_finished()]
    run.rows.extend(_row_of(t) for t in done)
    todo = max(0, run.trials - len(done))
    if done:
        _say(f"seqcnn: tune: {run.out / 'study.journal'}: {len(done)} trial(s) done before; {todo} to run")
    base = {**recipe_point(run), **{k: v["choices"][0] for k, v in run.space.items()
                                if "choices" in v and len(v["choices"]) == 1}, **fixed}
    study_ref = {"name": STUDY, "journal": str(journal.resolve()), "pruner": run.pruner}
    bar = _bar(run.trials, len(done), run.progress)

    def ask() -> tuple[object, dict]:
        trial = study.ask()
        point = {**base, **suggest(trial, space)}
        for k, v in fixed.items():
            trial.set_user_attr(k, v)
        return trial, {"data": run.data, "point": point, "epochs": run.epochs, "study": study_ref,
                       "trial_id": trial._trial_id, "number": trial.number}

    def tell(trial, request: dict, result: dict) -> None:
        state = getattr(optuna.trial.TrialState, result["state"])
        value = result["metric"] if state == optuna.trial.TrialState.COMPLETE else None
        if state == optuna.trial.TrialState.COMPLETE and (value is None or math.isnan(value)):
            state, result["state"], result["error"] = optuna.trial.TrialState.FAIL, "FAIL", "no validation metric"
        for key in ("epochs", "seconds", "node", "error", "train_metric", "val_loss"):
            if result.get(key) is not None:  # kept in the journal, for a rerun's trials.tsv
                trial.set_user_attr(key, result[key])
        study.tell(trial, value, state=state)
        run.rows.append({"trial": trial.number, "state": result["state"], **request["point"], **_result(result)})
        write_trials(run.out / "trials.tsv", run.rows, list(PARAMETERS), f"val_{prepared(run.data).metric}")
        bar.update(1)
        bar.set_postfix_str(f"trial {trial.number} {result['state']} {_text(result['metric'])}")

    if ray is None:
        for _ in range(todo):
            trial, request = ask()
            tell(trial, request, run_trial(request))
    else:
        _run_on_ray(ray, run, todo, ask, tell)
    bar.close()
    return study


def recipe_point(run: Tuning) -> dict:
    """The default point: the default width (:data:`DEFAULT_POINT`) and the recipe's rate, decay and batch."""
    config = prepared(run.data).config
    return {**DEFAULT_POINT, "lr": config.lr, "weight_decay": config.weight_decay, "batch_size": config.batch_size}


def _run_on_ray(ray, run: Tuning, todo: int, ask, tell) -> None:
    """Trials as Ray tasks, as many at once as the cluster has CPUs for; a new point asked as each ends."""
    task = ray.remote(num_cpus=run.cpus_per_trial, max_retries=RAY_RETRIES, retry_exceptions=False)(run_trial)
    slots = max(1, int(ray.cluster_resources().get("CPU", 1) // run.cpus_per_trial))
    pending: dict = {}
    started = 0
    while started < todo or pending:
        while started < todo and len(pending) < slots:
            trial, request = ask()
            pending[task.remote(request)] = (trial, request)
            started += 1
        ready, _ = ray.wait(list(pending), num_returns=1)
        trial, request = pending.pop(ready[0])
        tell(trial, request, ray.get(ready[0]))


def _result(result: dict) -> dict:
    return {"metric": result.get("metric"), "epochs": result.get("epochs"), "seconds": result.get("seconds"),
            "node": result.get("node"), "error": result.get("error"), "val_loss": result.get("val_loss")}


def _row_of(trial) -> dict:
    """A trials.tsv row of a trial finished by an earlier run (from the journal)."""
    attrs = trial.user_attrs
    metric = trial.value if trial.value is not None else (
        trial.intermediate_values[max(trial.intermediate_values)] if trial.intermediate_values else None)
    return {"trial": trial.number, "state": trial.state.name, **DEFAULT_POINT, **trial.params,
            **{k: attrs[k] for k in ("layers",) if k in attrs}, "metric": metric, "epochs": attrs.get("epochs"),
            "seconds": attrs.get("seconds"), "node": attrs.get("node"), "error": attrs.get("error"),
            "val_loss": attrs.get("val_loss")}


def _bar(total: int, done: int, progress: bool):
    # tqdm: only when a progress bar is shown
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc="tune", unit="trial", disable=not progress, file=sys.stderr,
                dynamic_ncols=True)


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_trials(path: Path, rows: list[dict], parameters: list[str], metric: str = "metric") -> None:
    """``trials.tsv``: trial, state, each parameter, the validation metric, epochs, seconds, node (and why a trial
    failed)."""
    columns = ["trial", "state", *parameters, metric, "epochs", "seconds", "node", "error"]
    lines = ["\t".join(columns)]
    for r in sorted(rows, key=lambda r: r["trial"]):
        lines.append("\t".join(_text(r.get("metric" if c == metric else c)) for c in columns))
    atomic_write_text(path, "\n".join(lines) + "\n")


def layers_procedure(run: Tuning, ray) -> dict:
    """The lecture's procedure: depth 1, 2, 3... at the default width, until the validation metric stops
    improving; writes ``layers.tsv`` and prints the table. Returns ``{"rows", "chosen", "reason"}``."""
    prep = prepared(run.data)
    deepest = int(run.space["layers"].get("high", max(run.space["layers"].get("choices", [4]))))
    rows: list[dict] = []
    reason = f"the deepest allowed ({deepest})"
    for depth in range(1, deepest + 1):
        point = {**recipe_point(run), "layers": depth}
        request = {"data": run.data, "point": point, "epochs": run.epochs, "study": None, "number": depth}
        result = ray.get(ray.remote(num_cpus=run.cpus_per_trial, max_retries=RAY_RETRIES)(run_trial).remote(
            request)) if ray is not None else run_trial(request)
        if result["state"] != "COMPLETE":
            reason = f"depth {depth} failed: {result.get('error')}"
            break
        rows.append({"depth": depth, "params": result["params"], "train": result["train_metric"],
                     "val": result["metric"], "epochs": result["epochs"], "seconds": result["seconds"]})
        _say(f"seqcnn: tune: {depth} layer(s): training {prep.metric} {rows[-1]['train']:.4f}, validation "
             f"{rows[-1]['val']:.4f} ({result['epochs']} epochs)")
        if len(rows) > 1 and rows[-1]["val"] <= max(r["val"] for r in rows[:-1]):
            gained = rows[-1]["train"] > rows[-2]["train"]
            reason = (f"at {depth} layers the validation {prep.metric} stopped improving "
                      f"{'while the training one still improved (overfitting)' if gained else 'and so did training'}")
            break
    if not rows:
        raise InputError(f"--procedure layers: no depth trained ({reason})")
    chosen = max(rows, key=lambda r: r["val"])["depth"]
    for r in rows:
        r["chosen"] = r["depth"] == chosen
    write_layers(run.out / "layers.tsv", rows, prep.metric)
    print(layers_table(rows, prep.metric))
    _say(f"seqcnn: tune: {chosen} layer(s) chosen ({reason}); now the regularisation (dropout, weight decay) at "
         f"that depth, {run.trials} trial(s)")
    return {"rows": rows, "chosen": chosen, "reason": reason}


def write_layers(path: Path, rows: list[dict], metric: str) -> None:
    """``layers.tsv``: depth, parameters, training and validation metric, epochs, seconds, chosen."""
    columns = ["depth", "params", f"train_{metric}", f"val_{metric}", "epochs", "seconds", "chosen"]
    keys = ["depth", "params", "train", "val", "epochs", "seconds", "chosen"]
    lines = ["\t".join(columns)] + ["\t".join(_text(r[k]) for k in keys) for r in rows]
    atomic_write_text(path, "\n".join(lines) + "\n")


def layers_table(rows: list[dict], metric: str) -> str:
    """The layers table as text, for the terminal."""
    head = f"{'depth':>5}  {'parameters':>10}  {'train ' + metric:>14}  {'val ' + metric:>12}  chosen"
    body = [f"{r['depth']:>5}  {r['params']:>10,}  {r['train']:>14.4f}  {r['val']:>12.4f}  {'*' if r['chosen'] else ''}"
            for r in rows]
    return "\n".join([head, *body])


def write_outputs(run: Tuning, study, metric: str, layers: dict | None, fixed: dict) -> dict:
    """``trials.tsv`` (with the metric named) and ``best.json``; returns the best entry.

    Raises:
        InputError: when no trial completed.
    """
    write_trials(run.out / "trials.tsv", run.rows, list(PARAMETERS), f"val_{metric}")
    complete = [r for r in run.rows if r["state"] == "COMPLETE" and r.get("metric") is not None]
    if not complete:
        failed = next((r["error"] for r in run.rows if r.get("error")), "every trial was pruned")
        raise InputError(f"tune {run.out}: no trial completed ({failed}); see {run.out / 'trials.tsv'}")
    top = max(complete, key=lambda r: r["metric"])
    point = {k: top[k] for k in PARAMETERS if k in top}
    prep = prepared(run.data)
    spec = layers_spec(point, prep.task.n_outputs, name=f"tuned-trial{top['trial']}")
    from seqcnn.models.lookup import fit_head

    spec = fit_head(spec, prep.task)
    atomic_write_text(run.out / "best_spec.json", spec.to_json() + "\n")
    best = {"trial": top["trial"], "params": point, f"val_{metric}": top["metric"], "val_loss": top.get("val_loss"),
            "epochs": top["epochs"],
            "procedure": run.procedure, "trials": len(run.rows),
            "states": {s: sum(r["state"] == s for r in run.rows) for s in ("COMPLETE", "PRUNED", "FAIL")},
            "epochs_spent": sum(int(r.get("epochs") or 0) for r in run.rows) + sum(
                r["epochs"] for r in (layers or {}).get("rows", [])),
            "recipe": prep.recipe, "epochs_cap": run.epochs, "spec": "best_spec.json",
            **({"layers": {"chosen": layers["chosen"], "reason": layers["reason"]}} if layers else {})}
    atomic_write_json(run.out / "best.json", best)
    _say(f"seqcnn: tune: best trial {top['trial']}: validation {metric} {top['metric']:.4f} with "
         + ", ".join(f"{k}={_text(v)}" for k, v in point.items()))
    return best


def train_best(run: Tuning, best: dict) -> Path:
    """``best/``: the best point trained by ``seqcnn train`` (the same split) and evaluated on the test part."""
    from seqcnn.jobs.train import train

    prep = prepared(run.data)
    started = time.time()
    folder = train(run.data.data, test=run.data.test, model=str(run.out / "best_spec.json"), recipe=prep.recipe,
                   out=run.out / "best", force=True, progress=run.progress, seed=run.data.seed,
                   epochs=run.epochs, augment=prep.config.augment, threads=run.data.threads,
                   command=["seqcnn", "tune", "(best)"], **recipe_overrides(best["params"]))
    metrics = json.loads((folder / "metrics.json").read_text()) if (folder / "metrics.json").is_file() else {}
    best["test"] = {k: metrics.get(k) for k in ("auroc", "auprc", "accuracy", "pearson") if metrics.get(k) is not None}
    best["best_seconds"] = round(time.time() - started, 1)
    atomic_write_json(run.out / "best.json", best)
    _say("seqcnn: tune: best/ test " + ", ".join(f"{k} {v:.4f}" for k, v in best["test"].items()))
    return folder
