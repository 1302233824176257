"""The HTML page of a run folder or a sweep folder: one self-contained ``report.html``.

:func:`write_report` is the public entry point; ``seqcnn report``, ``train``, ``explain`` and
``sweep`` call it at their end. It reads only what is in the folder (and, when cheap, the data
files that ``config.json`` names, for the GC content); it never trains. Images are inlined as
base64 PNG, the CSS is inlined from ``report/static/report.css``, and the only script is a few
lines that sort a table by the clicked column, so the page needs no network.

Every figure is drawn from the folder's files (:mod:`seqcnn.report.figures`), so the page is the
same whichever command wrote the run. The test metrics follow the run's task (binary, multiclass,
multilabel, regression; :mod:`seqcnn.report.sections`). Optional sections appear only when their
files do: a collapse notice needs ``config.json``'s ``"training"``; the motif table needs
``motifs.tsv`` (from ``seqcnn explain``, with logos in ``plots/filters/``); the patterns table
``patterns.tsv`` (``seqcnn explain --patterns``); variant effects ``variants.json`` (``seqcnn
variants``); saliency maps come from ``plots/saliency/*.png``, attention heatmaps from
``plots/attention/*.png`` (``seqcnn explain`` on a model with attention).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path

import numpy as np

from seqcnn import __version__
from seqcnn.errors import RunError, SeqcnnError
from seqcnn.files import atomic_write_text, refuse_pickle
from seqcnn.models.spec import ModelSpec
from seqcnn.models.summary import summary_rows
from seqcnn.report.figures import run_figures
from seqcnn.report.outputs import RunTask, run_task
from seqcnn.report.profiles import write_profile_report
from seqcnn.report.references import ZENG2016_MEDIAN_AUROC, zeng_name
from seqcnn.report.sections import (
    image_uri,
    image_view,
    metrics_view,
    patterns_view,
    position_view,
    training_view,
    variants_view,
)
from seqcnn.runs.folder import RunFolder, read_run_json, read_tsv, recorded_data
from seqcnn.sequence import encode, gc_content

MAX_SALIENCY = 4  # saliency maps shown; the rest stay in plots/saliency/
MAX_LOGOS = 32  # motif rows with an inlined logo
STATS_MAX_BYTES = 32 << 20  # data files larger than this are not re-read for GC content
STATS_MAX_BUILTIN = 200_000  # nor built-in data sets with more examples


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of a run or sweep folder, chosen by the folder's contents.

    Args:
        folder: a run folder (``config.json``, ``model.json``...) or a sweep folder
            (``results.tsv`` or ``sweep.json``).
        out: the HTML file to write; ``<folder>/report.html`` when None.

    Returns:
        The path of the written page.

    Raises:
        RunError: when ``folder`` is neither a run folder nor a sweep folder, or a file in it
            is corrupt.
    """
    refuse_pickle(folder)  # a .pt/.pth/.pkl given as a run: say why it is refused, not "not found"
    folder = Path(folder)
    if (folder / "test_profiles.npz").is_file() and out is None:  # a profile run has a page of its own
        return write_profile_report(folder)
    html = render_report(folder)
    path = Path(out) if out is not None else folder / "report.html"
    atomic_write_text(path, html)
    return path


def folder_kind(folder: str | Path) -> str:
    """``"sweep"`` or ``"run"``, from the files in ``folder``.

    Raises:
        RunError: when it is neither.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(f"{folder}: folder not found; expected a run folder or a sweep folder")
    if (folder / "results.tsv").is_file() or (folder / "sweep.json").is_file():
        return "sweep"
    if (folder / "config.json").is_file() or (folder / "model.json").is_file():
        return "run"
    raise RunError(
        f"{folder}: not a run folder (no config.json or model.json) nor a sweep folder (no results.tsv or sweep.json)"
    )


def render_report(folder: str | Path) -> str:
    """The HTML text of the report of ``folder`` (see :func:`write_report`)."""
    folder = Path(folder)
    kind = folder_kind(folder)
    context = run_context(folder) if kind == "run" else sweep_context(folder)
    return _environment().get_template(f"{kind}.html").render(**context, **_page_context(folder))


def warm_up() -> None:
    """Import jinja2 and compile the page templates now (a report worker, before it is asked)."""
    for kind in ("run", "sweep"):
        _environment().get_template(f"{kind}.html")


@functools.cache
def _environment():
    # jinja2: only when a page is rendered; the environment keeps its compiled templates (0.1 s each time)
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("seqcnn.report", "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["num"] = format_number
    return env


def _page_context(folder: Path) -> dict:

    css = (Path(__file__).parent / "static" / "report.css").read_text(encoding="utf-8")
    return {
        "css": css,
        "folder": str(folder),
        "version": __version__,
        "generated": datetime.now().strftime("%Y-%m-%d %H:%M"),
    }


def format_number(value, digits: int = 4) -> str:
    """A number for a table cell: integers with thousands separators, floats to ``digits``."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    if isinstance(value, (int, np.integer)) or (float(value).is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    return f"{value:.{digits}g}" if 0 < abs(value) < 1e-3 else f"{value:.{digits}f}"


# ---------------------------------------------------------------- runs


def run_context(folder: Path) -> dict:
    """Everything the run template shows, read from the run folder.

    Raises:
        RunError: for a missing ``config.json`` or ``model.json``, or corrupt files.
    """
    run = RunFolder(folder)
    config = run.config()
    task, metrics = run_task_and_metrics(run)
    figures = run_figures(run, task, metrics)
    explain = run.explain_summary()
    return {
        "title": f"seqcnn run {folder.resolve().name}",
        "config": config,
        "command": " ".join(str(c) for c in config.get("command", [])),
        "train_config": {**config.get("train", {}), **_flat(config, ("predict", "transfer"))},
        "data": data_summary(config, task),
        "model": model_summary(run),
        "history": history_summary(run),
        "training": training_view(config),
        "position": position_view(config),
        "where": where_view(folder, explain),
        "metrics": metrics_view(task, metrics),
        "plots": {name: image_uri(path) if path else None for name, path in figures.items()},
        "motifs": motif_rows(folder),
        "patterns": patterns_view(folder, explain),
        "variants": variants_view(folder),
        "saliency": saliency_images(folder),
        "attention": attention_view(folder, explain),
        "images": image_view(folder),
        "explain": _scalars(explain),
        "environment": {**config.get("versions", {}), **config.get("machine", {})},
    }


def run_task_and_metrics(run: RunFolder) -> tuple:
    """The run's task (:func:`run_task`) and its ``metrics.json`` (None when absent)."""
    metrics = run.metrics()
    return run_task(run.config(), metrics), metrics


def _flat(config: dict, sections: tuple[str, ...]) -> dict:
    """``{"section.key": value}`` for the set values of small config sections."""
    return {f"{s}.{k}": v for s in sections for k, v in (config.get(s) or {}).items() if v not in (None, False, 0)}


def model_summary(run: RunFolder) -> dict | None:
    """The Keras-style summary rows and totals of ``model.json``, or None when it is absent."""
    if not run.has("model.json"):
        return None
    info = run.model_info()
    spec = ModelSpec.from_obj(info["spec"], source=str(run.path / "model.json"))
    shape = tuple(info["input_shape"])
    infos = spec.analyse(shape)
    total, trainable = sum(i.params for i in infos), sum(i.trainable for i in infos)
    return {
        "name": spec.name, "description": spec.description, "input_shape": shape, "rows": summary_rows(infos),
        "total": total, "trainable": trainable, "macs": sum(i.macs for i in infos),
        "field": _last_field(infos),
    }


def _last_field(infos) -> str:
    """The receptive field of the last layer that has spatial axes (before Flatten)."""
    for info in reversed(infos):
        if info.fields:
            return "x".join(f.label for f in info.fields)  # "global" after a recurrent or attention layer
    return "-"


def history_summary(run: RunFolder) -> dict | None:
    """Rows of ``history.csv`` and the best epoch by validation loss, or None when absent."""
    rows = run.history() if run.has("history.csv") else []
    if not rows:
        return None
    key = "val_loss" if "val_loss" in rows[0] else "loss"
    best = min(rows, key=lambda r: float(r[key]))
    return {"columns": list(rows[0]), "rows": rows, "best": best["epoch"], "best_key": key}


def _to_number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


# ---------------------------------------------------------------- data


def data_summary(config: dict, task: RunTask | None = None) -> dict:
    """What ``config.json`` records about the data, plus sequence lengths and GC content when cheap.

    GC content is computed from the data source again: a built-in data set is regenerated (with
    the run's seed), files are re-read when their SHA-256 still matches the recorded one and they
    are smaller than :data:`STATS_MAX_BYTES`. Otherwise ``stats_note`` says why it is missing.
    Rows per class are given for class tasks (binary, multiclass) only.
    """
    data = dict(config.get("data", {}))
    counts = data.get("class_counts", [])
    names = data.get("class_names") or (list(task.names) if task and task.has_classes else None)
    names = names if names and len(names) == len(counts) else [str(i) for i in range(len(counts))]
    data["classes"] = [{"name": n, "count": c, "fraction": c / max(sum(counts), 1)} for n, c in zip(names, counts)]
    data["targets"] = list(task.task.targets) if task and task.recorded else []
    data["stats"], data["stats_note"] = None, None
    if data.get("kind", "sequence") != "sequence":
        return data
    try:
        data["stats"] = _sequence_stats(data, config, grouped=task is None or task.has_classes)
    except (SeqcnnError, OSError, ValueError) as exc:
        data["stats_note"] = f"not computed: {str(exc).splitlines()[0]}"
    return data


def _sequence_stats(data: dict, config: dict, grouped: bool = True) -> list[dict]:
    """Rows (part, class, n, length min/median/max, GC) for the data the run was trained on."""
    for path in data.get("files", []):
        if Path(path).is_file() and Path(path).stat().st_size > STATS_MAX_BYTES:
            raise ValueError(f"{path} is larger than {STATS_MAX_BYTES >> 20} MB")
    if not data.get("files") and data.get("n", 0) > STATS_MAX_BUILTIN:
        raise ValueError(f"{data['n']:,} examples; more than {STATS_MAX_BUILTIN:,} are not regenerated for the report")
    parts = recorded_data(config)
    return _stats_rows([(name, records.seqs, records.labels if grouped else None) for name, records in parts], data)


def _stats_rows(parts, data: dict) -> list[dict]:

    names = data.get("class_names")
    rows = []
    for part, seqs, labels in parts:
        groups = [("all", list(range(len(seqs))))]
        if labels is not None and not np.isnan(np.asarray(labels, dtype=float)).any():
            labels = np.asarray(labels).astype(int)
            groups += [
                (names[c] if names and c < len(names) else str(c), np.flatnonzero(labels == c).tolist())
                for c in np.unique(labels)
            ]
        for name, index in groups:
            lengths = np.array([len(seqs[i]) for i in index])
            codes = encode("".join(seqs[i] for i in index)) if index else np.zeros(0, np.uint8)
            rows.append(
                {
                    "part": part,
                    "class": name,
                    "n": len(index),
                    "min": int(lengths.min()),
                    "median": float(np.median(lengths)),
                    "max": int(lengths.max()),
                    "gc": gc_content(codes),
                }
            )
    return rows


# ---------------------------------------------------------------- explain


def motif_rows(folder: Path) -> list[dict] | None:
    """Rows of ``motifs.tsv`` with each filter's logo, matched ones first; None without the file."""
    path = folder / "motifs.tsv"
    if not path.is_file():
        return None
    rows = read_tsv(path)
    for row in rows:
        row["q"] = _float_or_inf(row.get("q_value", ""))
        row["ic"] = -_float_or_inf(row.get("information_content", ""), default=0.0)
    rows.sort(key=lambda r: (r["q"], r["ic"]))
    for rank, row in enumerate(rows):
        row["logo"] = _filter_logo(folder, row.get("filter", "")) if rank < MAX_LOGOS else None
    return rows


def _float_or_inf(text: str, default: float = float("inf")) -> float:
    try:
        return float(text)
    except ValueError:
        return default


def _filter_logo(folder: Path, name: str) -> str | None:
    digits = "".join(c for c in name if c.isdigit())
    if not digits:
        return None
    for width in (2, 3, 1):
        uri = image_uri(folder / "plots" / "filters" / f"filter_{int(digits):0{width}d}.png")
        if uri:
            return uri
    return None


def saliency_images(folder: Path) -> list[dict]:
    """The first :data:`MAX_SALIENCY` saliency maps in ``plots/saliency/``, by file name."""
    files = sorted((folder / "plots" / "saliency").glob("*.png"))[:MAX_SALIENCY]
    return [{"name": f.stem, "uri": image_uri(f)} for f in files]


def attention_view(folder: Path, explain: dict | None) -> dict | None:
    """The first :data:`MAX_SALIENCY` attention heatmaps in ``plots/attention/`` and what they show
    (``explain.json``'s ``attention`` entry); None without them."""
    files = sorted((folder / "plots" / "attention").glob("*.png"))[:MAX_SALIENCY]
    if not files:
        return None
    info = (explain or {}).get("attention") if isinstance(explain, dict) else None
    return {"images": [{"name": f.stem, "uri": image_uri(f)} for f in files], "info": info or {}}


def where_view(folder: Path, explain: dict | None) -> dict | None:
    """The profile of attribution by position (``seqcnn explain``'s ``where`` entry and its plot), or None."""
    info = (explain or {}).get("where") if isinstance(explain, dict) else None
    if not isinstance(info, dict):
        return None
    uri = image_uri(folder / info.get("plot", "plots/where_it_looks.png"))
    return {**info, "uri": uri} if uri else None


def _scalars(info: dict | None) -> dict | None:
    """The scalar entries of ``explain.json`` (method, counts, database...), or None."""
    if not isinstance(info, dict):
        return None
    return {k: v for k, v in info.items() if isinstance(v, (str, int, float, bool)) or v is None}


# ---------------------------------------------------------------- sweeps

RESULT_COLUMNS = ("experiment", "model", "auroc", "auprc", "accuracy", "epochs", "seconds", "params", "node")


def sweep_context(folder: Path) -> dict:
    """Everything the sweep template shows, read from the sweep folder.

    Raises:
        RunError: for a corrupt ``results.tsv`` or ``sweep.json``.
    """
    results = read_sweep_results(folder / "results.tsv") if (folder / "results.tsv").is_file() else []
    cells = folder / "cells"
    for row in results:
        cell = cells / f"{row['experiment']}__{row['model']}" / "report.html"
        row["link"] = cell.relative_to(folder).as_posix() if cell.is_file() else None
    sweep = read_run_json(folder / "sweep.json") if (folder / "sweep.json").is_file() else None
    summary = folder / "summary.md"
    return {
        "title": f"seqcnn sweep {folder.resolve().name}",
        "results": results,
        "columns": [c for c in RESULT_COLUMNS if not results or c in results[0]],
        "medians": model_medians(results),
        "boxplot": image_uri(folder / "plots" / "auroc_boxplot.png"),
        "sweep": json.dumps(sweep, indent=2) if sweep is not None else None,
        "summary_md": summary.read_text(encoding="utf-8") if summary.is_file() else None,
        "n_experiments": len({r["experiment"] for r in results}),
    }


def read_sweep_results(path: str | Path) -> list[dict]:
    """Rows of a sweep's ``results.tsv`` with numeric columns as numbers.

    Raises:
        RunError: when the ``experiment`` or ``model`` column is missing.
    """
    rows = read_tsv(path)
    if rows and not {"experiment", "model"} <= set(rows[0]):
        raise RunError(f"{path}: expected columns 'experiment' and 'model', found {list(rows[0])}")
    return [{k: (v if k in ("experiment", "model") else _to_number(v)) for k, v in r.items()} for r in rows]


def reference_auroc(model: str) -> float | None:
    """Zeng et al. 2016's median AUROC for a model name like ``1layer`` or ``zeng-1layer``."""
    name = zeng_name(model)
    return ZENG2016_MEDIAN_AUROC[name] if name else None


def model_medians(results: list[dict]) -> list[dict]:
    """Per model: cells, median AUROC / AUPRC / accuracy, and the published median AUROC."""
    rows = []
    for model in dict.fromkeys(r["model"] for r in results):
        mine = [r for r in results if r["model"] == model]
        row = {"model": model, "cells": len(mine), "reference": reference_auroc(model)}
        for key in ("auroc", "auprc", "accuracy"):
            values = [r[key] for r in mine if isinstance(r.get(key), (int, float))]
            row[key] = float(np.median(values)) if values else None
        row["difference"] = (
            row["auroc"] - row["reference"] if row["auroc"] is not None and row["reference"] is not None else None
        )
        rows.append(row)
    return sorted(rows, key=lambda r: -(r["auroc"] if r["auroc"] is not None else -1))
