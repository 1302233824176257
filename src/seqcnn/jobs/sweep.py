"""Many models on many data sets: the study of Zeng et al. (2016) as one command.

:func:`sweep` trains every (experiment, model) pair ("cell") in a process pool and writes a
sweep folder::

    DIR/sweep.json                 the sweep's configuration
    DIR/results.tsv                experiment, model, auroc, auprc, accuracy, epochs, seconds, params, task, pearson,
                                   node (the machine that trained the cell)
    DIR/tasks.tsv                  per target, for runs with several targets (multi-label, regression)
    DIR/cells/<experiment>__<model>/   one ordinary run folder per cell (+ cell.json when done)
    DIR/plots/auroc_boxplot.png    test AUROC per model, best median first
    DIR/summary.md                 per-model medians next to the published references

A cell is finished when its ``cell.json`` exists; a rerun skips finished cells and restarts
partial ones from scratch, so an interrupted sweep resumes where it stopped.

Two engines run the cells: ``local``, a process pool on this machine, and ``ray``, one Ray task per
cell on a cluster (:mod:`seqcnn.jobs.cluster`; every node reads the data and writes the cell folders on a
shared filesystem). A Ray task whose node dies is run again on another node (``max_retries``); a cell
that fails for a reason the user can fix (a node that cannot read a data file) is left unfinished and
named, in one line, once the other cells are done.

Models are zoo names, zoo family names (``zeng2016``), spec ``.json`` files, or a grid
(:func:`grid_specs`: filters x kernel width x pooling x depth).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from seqcnn.errors import InputError, SeqcnnError, SpecError
from seqcnn.files import atomic_write_json, atomic_write_text
from seqcnn.jobs.cluster import RAY_RETRIES, check_readable, connect, node_name
from seqcnn.models import zoo
from seqcnn.models.lookup import is_spec_file
from seqcnn.models.spec import ModelSpec
from seqcnn.report.plots import pyplot, save_figure
from seqcnn.report.references import ZENG2016_MEDIAN_AUROC, zeng_name
from seqcnn.runs.folder import RunFolder

RESULT_COLUMNS = ("experiment", "model", "auroc", "auprc", "accuracy", "epochs", "seconds", "params", "task", "pearson",
                  "node")

ENGINES = ("local", "ray")
#: ``tasks.tsv``: one row per target of a run with several (multi-label or multi-target regression).
TASK_COLUMNS = ("experiment", "model", "target", "auroc", "auprc", "accuracy", "pearson", "spearman", "r2")

GRID_KEYS = ("filters", "kernel", "pool", "depth")


@dataclass(frozen=True)
class Experiment:
    """A training file and its optional separate test file."""

    name: str
    train: Path
    test: Path | None


@dataclass(frozen=True)
class Cell:
    """One (experiment, model) pair and where its run folder goes."""

    experiment: Experiment
    model: str  # the label in results.tsv
    source: str  # a zoo name or a spec file, as run.train takes it
    folder: Path


def find_experiments(data: str | Path | list) -> list[Experiment]:
    """Experiments from a folder, a list file, or a list of training files.

    A folder yields one experiment per ``<name>_AC.seq.gz`` (DeepBind's training files), with
    ``<name>_B.seq.gz`` as its test file when present. A text file lists one experiment per
    line: ``TRAIN [TEST]`` (paths relative to the list file). A comma-separated string or a
    list gives training files directly.

    Raises:
        InputError: for a missing path or a folder without training files.
    """
    if isinstance(data, (list, tuple)) or "," in str(data):
        paths = data if isinstance(data, (list, tuple)) else str(data).split(",")
        return [_experiment(Path(p.strip() if isinstance(p, str) else p)) for p in paths if str(p).strip()]
    path = Path(data)
    if path.is_dir():
        found = [_experiment(p) for p in sorted(path.glob("*_AC.seq.gz"))]
        if not found:
            raise InputError(
                f"{path}: no <name>_AC.seq.gz training files in this folder; give a list file or comma-separated files"
            )
        return found
    if not path.is_file():
        raise InputError(f"{path}: data folder or list file not found")
    if path.name.endswith(".seq.gz"):
        return [_experiment(path)]
    return _read_list(path)


def _experiment(train: Path, test: Path | None = None) -> Experiment:
    if not train.is_file():
        raise InputError(f"{train}: training file not found")
    name = train.name
    for suffix in ("_AC.seq.gz", ".seq.gz", ".gz", ".fa", ".fasta", ".tsv", ".csv", ".txt"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if test is None and train.name.endswith("_AC.seq.gz"):
        candidate = train.with_name(train.name.replace("_AC.seq.gz", "_B.seq.gz"))
        test = candidate if candidate.is_file() else None
    return Experiment(name, train, test)


def _read_list(path: Path) -> list[Experiment]:
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) > 2:
            raise InputError(f"{path}, line {number}: {len(fields)} fields, expected TRAIN [TEST]")
        files = [(path.parent / f) for f in fields]
        for f in files:
            if not f.is_file():
                raise InputError(f"{path}, line {number}: {f} not found")
        found.append(_experiment(files[0], files[1] if len(files) > 1 else None))
    if not found:
        raise InputError(f"{path}: no experiments listed; expected lines 'TRAIN [TEST]'")
    return found


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """Read ``["filters=16,64", "kernel=24", ...]`` into a dict of value lists.

    Raises:
        InputError: for an unknown key or a malformed item.
    """
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or key not in GRID_KEYS or not values:
            raise InputError(f"--grid item {item!r}: expected KEY=V1,V2,... with KEY one of {list(GRID_KEYS)}")
        grid[key] = [v.strip() for v in values.split(",") if v.strip()]
    return grid


def grid_specs(grid: dict[str, list[str]], length: int = 101):
    """One spec per combination of filters x kernel width x pooling x depth.

    Each spec is ``depth`` x [Conv1D(filters, kernel, relu)] with max pooling between layers
    (``pool=global``: size 2 between layers and global max pooling at the end, as Zeng et al.'s
    1layer; ``pool=localN``: MaxPooling1D(N) after every layer, then Flatten), followed by
    Dense(32, relu) -> Dropout(0.5) -> Dense(2, softmax). Missing keys take 128 filters,
    kernel 24, global pooling and depth 1.

    Returns:
        ``(name, ModelSpec)`` pairs, named like ``grid-f128-k24-global-d1``.

    Raises:
        InputError: for a value that is not a positive number or a pooling name.
        SpecError: for a combination whose layers do not fit the input length.
    """
    values = {"filters": ["128"], "kernel": ["24"], "pool": ["global"], "depth": ["1"]} | grid
    out = []
    for filters, kernel, pool, depth in itertools.product(*(values[k] for k in GRID_KEYS)):
        f, k, d = (_positive(key, v) for key, v in (("filters", filters), ("kernel", kernel), ("depth", depth)))
        name = f"grid-f{f}-k{k}-{pool}-d{d}"
        spec = ModelSpec.from_obj({"name": name, "layers": _grid_layers(f, k, pool, d)}, source=f"--grid {name}")
        try:
            spec.analyse((4, length))
        except SpecError as exc:
            raise SpecError(f"--grid cell {name} does not fit {length} bp inputs: {exc}") from None
        out.append((name, spec))
    return out


def _positive(key: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise InputError(f"--grid {key}={value!r}: expected a positive whole number")
    return int(value)


def _grid_layers(filters: int, kernel: int, pool: str, depth: int) -> list[dict]:
    if pool != "global" and not (pool.startswith("local") and pool[5:].isdigit()):
        raise InputError(f"--grid pool={pool!r}: expected 'global' or 'localN' (N = pool width, e.g. local3)")
    size = 2 if pool == "global" else int(pool[5:])
    layers: list[dict] = []
    for i in range(depth):
        layers.append({"Conv1D": {"filters": filters, "kernel_size": kernel, "activation": "relu"}})
        if pool != "global" or i < depth - 1:
            layers.append({"MaxPooling1D": {"pool_size": size}})
    layers.append({"GlobalMaxPooling1D": {}} if pool == "global" else {"Flatten": {}})
    return layers + [{"Dense": {"units": 32, "activation": "relu"}}, {"Dropout": {"rate": 0.5}},
                     {"Dense": {"units": 2, "activation": "softmax"}}]


def resolve_models(
    models: list[str], grid: dict[str, list[str]] | None, out: Path, length: int = 101
) -> list[tuple[str, str]]:
    """Model labels and sources: family names expand to their zoo names; grid specs are
    written to ``out/specs/`` so each cell's run folder can name its file.

    Raises:
        SpecError: for a name that is neither a zoo model, a family nor a spec file.
    """
    resolved: list[tuple[str, str]] = []
    for item in models:
        if is_spec_file(item):
            if not Path(item).is_file():
                raise SpecError(f"{item}: spec file not found")
            resolved.append((Path(item).stem, str(Path(item).resolve())))
        elif item in zoo.names():
            resolved.append((item, item))
        elif _family(item):
            resolved.extend((n, n) for n in _family(item))
        else:
            zoo.entry(item)  # raises, listing the valid names
    for name, spec in grid_specs(grid, length) if grid else []:
        path = out / "specs" / f"{name}.json"
        atomic_write_text(path, spec.to_json() + "\n")
        resolved.append((name, str(path.resolve())))
    if not resolved:
        raise InputError("no models to sweep; give --models NAMES and/or --grid KEY=VALUES")
    return resolved


def _family(name: str) -> list[str]:
    try:
        return list(zoo.family(name))
    except SpecError:  # not a family name
        return []


def sweep(
    models: list[str],
    data: str | Path | list,
    out: str | Path,
    *,
    grid: dict[str, list[str]] | None = None,
    workers: int = 1,
    threads: int | None = None,
    progress: bool = True,
    engine: str = "local",
    address: str | None = None,
    cpus_per_cell: int = 1,
    gpus_per_cell: float = 0,
    **train_options,
) -> Path:
    """Train every (experiment, model) pair and write the sweep folder (see the module doc).

    Args:
        models: zoo names, family names or spec files.
        data: see :func:`find_experiments`.
        out: the sweep folder; an existing one is resumed (finished cells are kept).
        grid: a hyperparameter grid (see :func:`grid_specs`), added to ``models``.
        workers: processes training cells at the same time (``local`` engine).
        threads: torch threads per worker (default: cores // workers; on Ray, ``cpus_per_cell``).
        progress: show the overall progress bar with an ETA.
        engine: ``local`` (a process pool here) or ``ray`` (one Ray task per cell).
        address: with ``ray``: the cluster's ``HOST:PORT`` or ``auto``; None starts Ray on this machine.
        cpus_per_cell: with ``ray``: CPUs that Ray reserves for each cell.
        gpus_per_cell: with ``ray``: GPUs that Ray reserves for each cell (fractions share a GPU).
        **train_options: passed to :func:`seqcnn.jobs.train.train` for every cell (epochs, recipe...).

    Returns:
        The sweep folder.

    Raises:
        SeqcnnError: for bad data, models or options, before any training.
    """
    out = Path(out)
    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    if engine not in ENGINES:
        raise InputError(f"--engine must be one of {list(ENGINES)}, but got {engine!r}")
    if cpus_per_cell < 1 or gpus_per_cell < 0:
        raise InputError(f"--cpus-per-cell must be at least 1 and --gpus-per-cell at least 0, got {cpus_per_cell} "
                         f"and {gpus_per_cell}")
    if engine == "local" and address:
        raise InputError("--address joins a Ray cluster: it needs --engine ray")
    experiments = find_experiments(data)
    resolved = resolve_models(models, grid, out)
    threads = threads or (cpus_per_cell if engine == "ray" else max(1, (os.cpu_count() or 1) // workers))
    cells = [
        Cell(e, label, source, out / "cells" / f"{e.name}__{label}") for e in experiments for label, source in resolved
    ]
    atomic_write_json(
        out / "sweep.json",
        {
            "models": [{"model": m, "source": s} for m, s in resolved],
            "experiments": [
                {"name": e.name, "train": str(e.train), "test": str(e.test) if e.test else None} for e in experiments
            ],
            "grid": grid,
            "workers": workers,
            "threads": threads,
            "engine": engine,
            **({"address": address, "cpus_per_cell": cpus_per_cell, "gpus_per_cell": gpus_per_cell}
               if engine == "ray" else {}),
            "train": train_options,
            "command": sys.argv,
        },
    )
    if engine == "ray":
        with connect(address, "seqcnn sweep --engine ray") as ray:
            rows, failed = _run_ray(ray, cells, threads, progress, train_options, out, cpus_per_cell, gpus_per_cell)
    else:
        rows, failed = _run_cells(cells, workers, threads, progress, train_options, out), []
    write_outputs(out, rows, [m for m, _ in resolved])
    if failed:
        more = f" (and {len(failed) - 1} more cell(s), see {out / 'failed.tsv'})" if len(failed) > 1 else ""
        raise InputError(f"sweep {out}: cell {failed[0]['cell']} failed: {failed[0]['error']}{more}; "
                         "the other cells are in results.tsv, and a rerun trains only the unfinished ones")
    return out


def _bar(cells: list[Cell], done: int, progress: bool):
    """The sweep's progress bar (cells, with an ETA) on stderr."""
    # tqdm: only when a progress bar is shown
    from tqdm.auto import tqdm

    return tqdm(total=len(cells), initial=done, desc="sweep", unit="cell", disable=not progress, file=sys.stderr,
                dynamic_ncols=True)


def _run_cells(cells: list[Cell], workers: int, threads: int, progress: bool, options: dict, out: Path) -> list[dict]:
    """Finished cells' rows, training the unfinished ones in a pool (results.tsv kept current)."""
    rows = [r for r in map(_finished, cells) if r is not None]
    todo = [c for c in cells if _finished(c) is None]
    bar = _bar(cells, len(rows), progress)
    if workers == 1:  # in this process: no start-up cost, same results
        for cell in todo:
            _record(rows, train_cell(cell, threads, options), out, bar)
    else:
        context = multiprocessing.get_context("spawn")  # fresh interpreters: no forked torch thread pools
        counter, gpus = context.Value("i", 0), visible_gpus()
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=pin_worker, initargs=(counter, gpus)
        ) as pool:
            futures = [pool.submit(train_cell, c, threads, options) for c in todo]
            for future in as_completed(futures):
                _record(rows, future.result(), out, bar)
    bar.close()
    return rows


def _run_ray(ray, cells: list[Cell], threads: int, progress: bool, options: dict, out: Path, cpus: int,
             gpus: float) -> tuple[list[dict], list[dict]]:
    """Finished cells' rows and the failed cells, training the unfinished ones as Ray tasks (results.tsv kept
    current). A task whose node dies is retried by Ray on another node."""
    rows = [r for r in map(_finished, cells) if r is not None]
    todo = [c for c in cells if _finished(c) is None]
    bar = _bar(cells, len(rows), progress)
    task = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=RAY_RETRIES, retry_exceptions=False)(ray_cell)
    pending = {task.remote(c, threads, options): c for c in todo}
    failed: list[dict] = []
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        cell = pending.pop(ready[0])
        result = ray.get(ready[0])
        if "error" in result:
            failed.append({"cell": cell.folder.name, "error": result["error"]})
            atomic_write_text(out / "failed.tsv", "cell\terror\n" + "".join(f"{f['cell']}\t{f['error']}\n"
                                                                           for f in failed))
            bar.update(1)
            continue
        _record(rows, result, out, bar)
    bar.close()
    if not failed:
        (out / "failed.tsv").unlink(missing_ok=True)
    return rows, failed


def ray_cell(cell: Cell, threads: int, options: dict) -> dict:
    """A cell as a Ray task: its data checked where it runs, then :func:`train_cell`; a mistake the user can fix
    comes back as ``{"error": line}`` rather than an exception, so that the other cells go on."""
    try:
        check_readable([cell.experiment.train, cell.experiment.test])
        return train_cell(cell, threads, options)
    except SeqcnnError as exc:
        return {"error": " ".join(str(exc).split())}


def visible_gpus() -> list[str]:
    """The CUDA devices this process may use, as ``CUDA_VISIBLE_DEVICES`` entries (empty without CUDA)."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [d.strip() for d in listed.split(",") if d.strip() and d.strip() != "-1"]
    # torch takes seconds to import: only when tensors are needed
    import torch

    return [str(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []


def pin_worker(counter, gpus: list[str]) -> None:
    """Pool initializer: worker ``i`` sees only GPU ``gpus[i % len(gpus)]`` (as its ``cuda:0``).

    With several GPUs the workers spread over them instead of all landing on the first; with
    one GPU or none nothing changes. Runs before the worker imports torch's CUDA state.
    """
    if len(gpus) < 2:
        return
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]


def _record(rows: list[dict], row: dict, out: Path, bar) -> None:
    rows.append(row)
    write_results(out / "results.tsv", rows)
    bar.update(1)
    bar.set_postfix_str(f"{row['experiment'][:20]} {row['model']} AUROC {_cell_text(row['auroc'])}")


def _finished(cell: Cell) -> dict | None:
    marker = cell.folder / "cell.json"
    return json.loads(marker.read_text()) if marker.is_file() else None


def train_cell(cell: Cell, threads: int, options: dict) -> dict:
    """Train one cell into its folder (a partial folder is wiped first); returns its row."""
    # torch takes seconds to import: only when tensors are needed
    import torch

    # the main job imports the whole stack (torch, models, report): only in the worker that trains
    from seqcnn.jobs.train import train

    torch.set_num_threads(threads)
    if cell.folder.exists():
        shutil.rmtree(cell.folder)
    cell.folder.mkdir(parents=True)
    node = node_name()
    (cell.folder / "node.txt").write_text(node + "\n")  # who is training it, while it trains
    started = time.time()
    with open(cell.folder / "log.txt", "w") as log, contextlib.redirect_stderr(log):
        train(cell.experiment.train, test=cell.experiment.test, model=cell.source, out=cell.folder, force=True,
              progress=False, threads=threads, command=["seqcnn", "sweep", "(cell)"], **options)
    row = _row(cell, time.time() - started) | {"node": node}
    atomic_write_json(cell.folder / "cell.json", row)
    return row


def _row(cell: Cell, seconds: float) -> dict:
    folder = RunFolder(cell.folder)
    metrics, info, config, history = folder.metrics() or {}, folder.model_info(), folder.config(), folder.history()
    spec = ModelSpec.from_obj(info["spec"])
    params = sum(layer.params for layer in spec.analyse(tuple(info["input_shape"])))
    return {
        "experiment": cell.experiment.name,
        "model": cell.model,
        "auroc": metrics.get("auroc"),
        "auprc": metrics.get("auprc"),
        "accuracy": metrics.get("accuracy"),
        "epochs": len(history),
        "seconds": round(seconds, 1),
        "params": params,
        "train_examples": config["data"]["split"]["train"],
        "train_seconds": round(sum(r["seconds"] for r in history), 2),
        "task": (config.get("task") or {}).get("kind", "binary"),
        "pearson": metrics.get("pearson"),
        "tasks": {name: {k: m.get(k) for k in TASK_COLUMNS[3:]} for name, m in (metrics.get("tasks") or {}).items()},
    }


def write_results(path: Path, rows: list[dict]) -> None:
    """``results.tsv``: one row per finished cell, sorted by experiment and model; beside it ``tasks.tsv``,
    one row per target, when a cell's run has several targets."""
    rows = sorted(rows, key=lambda r: (r["experiment"], r["model"]))
    lines = ["\t".join(RESULT_COLUMNS)]
    for r in rows:
        lines.append("\t".join(_cell_text(r.get(k)) for k in RESULT_COLUMNS))  # cells of an older sweep lack some
    atomic_write_text(path, "\n".join(lines) + "\n")
    per_task = [(r, name, m) for r in rows for name, m in (r.get("tasks") or {}).items()]
    if per_task:
        lines = ["\t".join(TASK_COLUMNS)]
        lines += ["\t".join([r["experiment"], r["model"], name] + [_cell_text(m.get(k)) for k in TASK_COLUMNS[3:]])
                  for r, name, m in per_task]
        atomic_write_text(path.with_name("tasks.tsv"), "\n".join(lines) + "\n")


def _cell_text(value) -> str:
    if value is None:
        return "NA"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_outputs(out: Path, rows: list[dict], models: list[str]) -> None:
    """results.tsv, the AUROC box plot and summary.md."""
    write_results(out / "results.tsv", rows)
    by_model = {m: [r for r in rows if r["model"] == m and r["auroc"] is not None] for m in models}
    plot_auroc_boxplot(
        {m: [r["auroc"] for r in rs] for m, rs in by_model.items() if rs}, out / "plots" / "auroc_boxplot.png"
    )
    atomic_write_text(out / "summary.md", summary_markdown(by_model))


def summary_markdown(by_model: dict[str, list[dict]]) -> str:
    """Per-model medians (best first) beside Zeng et al.'s, with training throughput and the ranking check."""
    stats = []
    for model, rows in by_model.items():
        if not rows:
            continue
        seconds = sum(r.get("train_seconds", r["seconds"]) for r in rows)  # epochs only, without loading and testing
        examples = sum(r.get("train_examples", 0) * r["epochs"] for r in rows)
        stats.append(
            (
                model,
                statistics.median(r["auroc"] for r in rows),
                len(rows),
                rows[0]["params"],
                examples / seconds if seconds else 0.0,
            )
        )
    stats.sort(key=lambda s: -s[1])
    lines = [
        "# Sweep summary",
        "",
        "| model | median test AUROC | experiments | parameters | training seqs/s (epochs incl. validation) | Zeng et "
        "al. 2016 median (690 exps) |",
        "|---|---|---|---|---|---|",
    ]
    for model, median, n, params, speed in stats:
        ref = zeng_name(model)
        lines.append(
            f"| {model} | {median:.3f} | {n} | {params:,} | {speed:,.0f} | "
            f"{ZENG2016_MEDIAN_AUROC[ref] if ref else '-'} |"
        )
    lines += ["", ranking_note([(m, med) for m, med, *_ in stats])]
    return "\n".join(lines) + "\n"


def ranking_note(medians: list[tuple[str, float]]) -> str:
    """Whether the models' order by median agrees with Zeng et al. (Spearman rho, best and worst)."""
    pairs = [(zeng_name(m), med) for m, med in medians if zeng_name(m)]
    if len(pairs) < 2:
        return "Fewer than two models have a published median; no ranking comparison."
    # scipy is slow to import: only for the ranking check
    from scipy.stats import spearmanr

    ours = [med for _, med in pairs]
    paper = [ZENG2016_MEDIAN_AUROC[name] for name, _ in pairs]
    rho = spearmanr(ours, paper).statistic
    best, worst = max(pairs, key=lambda p: p[1])[0], min(pairs, key=lambda p: p[1])[0]
    pbest, pworst = (
        max(pairs, key=lambda p: ZENG2016_MEDIAN_AUROC[p[0]])[0],
        min(pairs, key=lambda p: ZENG2016_MEDIAN_AUROC[p[0]])[0],
    )
    return (f"Ranking against Zeng et al. 2016 over {len(pairs)} models: Spearman rho {rho:.2f}; best here {best} "
            f"(paper: {pbest}), worst here {worst} (paper: {pworst}).")


def plot_auroc_boxplot(aurocs: dict[str, list[float]], path: Path) -> Path:
    """Box plot of test AUROC per model (best median first), with the points, as Zeng et al.'s Fig. 2."""

    plt = pyplot()
    order = sorted(aurocs, key=lambda m: -statistics.median(aurocs[m]))
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(order) + 1.5), 4.2))
    ax.boxplot([aurocs[m] for m in order], showfliers=False)
    for i, m in enumerate(order, start=1):
        ax.scatter([i] * len(aurocs[m]), aurocs[m], s=10, alpha=0.6, color="tab:blue")
    ax.set_xticks(range(1, len(order) + 1), order, rotation=45, ha="right")
    ax.set_ylabel("test AUROC")
    ax.set_title(f"Test AUROC per model ({max(len(v) for v in aurocs.values())} experiments)")
    return save_figure(fig, path)
