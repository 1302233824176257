"""What the run page shows beyond the basics, each read from its own file of the run folder.

- the test metrics of any task kind (``metrics.json``, as :func:`seqcnn.metrics.task_metrics`
  writes it): headline cards, a summary that states the task and how AUROC was averaged, and a
  table per class, task or target;
- training collapses (``config.json``'s ``"training"``: ``best_epoch``, ``kept_epoch``,
  ``collapses``);
- variant effects (``variants.json`` from ``seqcnn variants``);
- TF-MoDISco patterns (``patterns.tsv``, ``patterns.meme``, ``plots/patterns/*.png`` from
  ``seqcnn explain --patterns``).

Each function returns plain dicts and lists for the template, or None when its file is absent.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

from seqcnn.errors import RunError
from seqcnn.report.outputs import RunTask
from seqcnn.runs.folder import read_run_json, read_tsv

MAX_VARIANTS = 20  # top variants listed (variants.json holds 10 by default)
MAX_VARIANT_PLOTS = 10  # of them with their figure inlined
MAX_PATTERN_LOGOS = 24  # patterns with their logo inlined
SIGNIFICANT_Q = 0.05  # JASPAR matches listed as matches; the best other one is named as "no match"
MAX_CONTIGS = 12  # contig renames listed
MAX_FEATURE_MAPS = 2  # test images whose feature-map figures are inlined
MAX_NAMED_TARGETS = 12  # targets named in the task's line (every one is in the metrics table)


def image_uri(path: str | Path) -> str | None:
    """A ``data:`` URI of a PNG or SVG file, or None when it does not exist."""
    path = Path(path)
    if not path.is_file():
        return None
    mime = "image/svg+xml" if path.suffix.lower() == ".svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


# ---------------------------------------------------------------- metrics


def metrics_view(task: RunTask | None, metrics: dict | None) -> dict | None:
    """Cards, summary rows and the per-class/task/target table of the test metrics.

    Returns:
        ``kind``, ``task`` (one line), ``cards`` (``label``, ``value``, ``id``), ``summary``
        (``(label, value)`` pairs), ``table`` (``title``, ``columns``, ``rows``), or None
        without metrics.
    """
    if not metrics:
        return None
    kind = task.kind if task else "binary"
    build = {"multiclass": _multiclass, "multilabel": _multilabel, "regression": _regression}.get(kind, _binary)
    view = build(metrics, list(task.names) if task else _numbered(metrics))
    view["kind"] = kind
    view["task"] = _task_line(task)
    return view


def _numbered(metrics: dict) -> list[str]:
    return [str(i) for i in range(len(metrics.get("confusion_matrix", [])))]


def _task_line(task: RunTask | None) -> str:
    if task is None:
        return "task: not recorded"
    if not task.recorded:
        names = ", ".join(task.names)
        return f"task: {task.kind}, {len(task.names)} classes: {names} (config.json records no task; from the metrics)"
    if len(task.task.targets) <= MAX_NAMED_TARGETS:
        return task.task.describe()
    shown = replace(task.task, targets=task.task.targets[:MAX_NAMED_TARGETS]).describe()
    return shown.replace(f"on {MAX_NAMED_TARGETS} target(s)",
                         f"on {len(task.task.targets)} targets (the first {MAX_NAMED_TARGETS} named here)", 1)


def _card(label: str, value, key: str | None = None) -> dict:
    return {"label": label, "value": value, "id": key}


def _binary(m: dict, names: list[str]) -> dict:
    cards = [_card("test accuracy", m.get("accuracy"), "test-accuracy")]
    cards += [_card(f"test {k.upper()}", m[k], f"test-{k}") for k in ("auroc", "auprc") if m.get(k) is not None]
    cards.append(_card("test examples", m.get("n")))
    summary = [("accuracy", m.get("accuracy")), ("AUROC", m.get("auroc")), ("AUPRC", m.get("auprc")),
               ("examples", m.get("n"))]
    rows = [[name, _at(m.get("precision"), i), _at(m.get("recall"), i)] for i, name in enumerate(names)]
    return {"cards": cards, "summary": summary, "table": {"title": "class", "columns": ["precision", "recall"],
                                                          "rows": rows}}


def _multiclass(m: dict, names: list[str]) -> dict:
    view = _binary(m, names)
    names = m.get("classes") or names
    for card in view["cards"]:
        if card["id"] in ("test-auroc", "test-auprc"):
            card["label"] += " (macro)"
    view["summary"][1:3] = [("AUROC", m.get("auroc")), ("AUROC averaging", m.get("auroc_average", "-")),
                            ("AUPRC", m.get("auprc")), ("AUPRC averaging", m.get("auprc_average", "-"))]
    per_roc, per_pr = m.get("auroc_per_class") or {}, m.get("auprc_per_class") or {}
    view["table"] = {
        "title": "class",
        "columns": ["precision", "recall", "AUROC (one-vs-rest)", "AUPRC (one-vs-rest)"],
        "rows": [[name, _at(m.get("precision"), i), _at(m.get("recall"), i), per_roc.get(name), per_pr.get(name)]
                 for i, name in enumerate(names)],
    }
    return view


def _multilabel(m: dict, names: list[str]) -> dict:
    tasks = m.get("tasks") or {}
    scored, total = m.get("n_tasks_scored", len(tasks)), m.get("n_tasks", len(tasks))
    how = f"mean over the {scored} of {total} tasks with both classes among their labelled test examples"
    cards = [_card(f"mean test {k.upper()}", m.get(k), f"test-{k}") for k in ("auroc", "auprc")]
    cards += [_card("mean test accuracy", m.get("accuracy"), "test-accuracy"),
              _card("tasks scored", f"{scored} of {total}"), _card("labelled test cells", m.get("n"))]
    summary = [("mean AUROC", m.get("auroc")), ("AUROC averaging", how), ("mean AUPRC", m.get("auprc")),
               ("mean accuracy (threshold 0.5)", m.get("accuracy")), ("labelled test cells", m.get("n")),
               ("missing cells", "left out of every metric")]
    columns = ["AUROC", "AUPRC", "accuracy", "labelled", "positives", "note"]
    keys = ["auroc", "auprc", "accuracy", "n", "n_positive", "note"]
    rows = [[name] + [tasks[name].get(k) for k in keys] for name in tasks]
    return {"cards": cards, "summary": summary, "table": {"title": "task", "columns": columns, "rows": rows}}


def _regression(m: dict, names: list[str]) -> dict:
    tasks = m.get("tasks") or {names[0] if names else "target": m}
    prefix = "mean " if "tasks" in m else ""
    labels = {"pearson": "Pearson r", "spearman": "Spearman rho", "r2": "R\u00b2", "mse": "MSE", "mae": "MAE"}
    cards = [_card(f"{prefix}test {labels[k]}", m.get(k), f"test-{k}") for k in ("pearson", "spearman", "r2", "mse")]
    cards.append(_card("labelled test cells" if prefix else "test examples", m.get("n")))
    summary = [(f"{prefix}{labels[k]}", m.get(k)) for k in labels]
    if prefix:
        summary.append(("averaging", f"mean over the {len(tasks)} targets, each on its own labelled examples"))
    summary.append(("scale", "original units of each target (standardisation undone)"))
    keys = ["pearson", "spearman", "r2", "mse", "mae", "n", "note"]
    rows = [[name] + [tasks[name].get(k) for k in keys] for name in tasks]
    columns = [labels.get(k, k) for k in keys[:5]] + ["labelled", "note"]
    return {"cards": cards, "summary": summary, "table": {"title": "target", "columns": columns, "rows": rows}}


def _at(values: list | None, i: int):
    return values[i] if values and i < len(values) else None


# ---------------------------------------------------------------- training


def training_view(config: dict) -> dict | None:
    """The best and kept epochs and one sentence per collapse, from ``config.json``'s ``"training"``."""
    training = config.get("training")
    if not isinstance(training, dict):
        return None
    events = [_collapse_text(e) for e in training.get("collapses") or [] if isinstance(e, dict)]
    kept = training.get("kept_epoch")
    kept_text = f"the weights of epoch {kept} were kept" if kept is not None else "the last epoch's weights were kept"
    return {"best_epoch": training.get("best_epoch"), "kept_epoch": kept, "collapses": events, "kept_text": kept_text}


def position_view(config: dict) -> dict | None:
    """Why the run trains its model when a race chose it (``config.json``'s ``position``, from
    ``seqcnn.jobs.position``): both candidates' validation numbers and the verdict; None without a race."""
    race = config.get("position")
    if not isinstance(race, dict) or "chosen" not in race:
        return None
    aware = race.get("chosen") == race.get("aware")
    verdict = (f"Where a motif sits matters in these data: the position-aware model {race.get('aware')} was chosen "
               f"over the position-free default {race.get('free')}." if aware else
               f"No evidence that position matters in these data: the position-free default {race.get('free')} was "
               f"kept (the position-aware {race.get('aware')} needed to be better by {race.get('z_needed')} standard "
               "errors).")
    kinds = (("free", "position-free (global max pooling)"), ("aware", "position-aware (local pooling)"))
    rows = [{"model": race.get(k), "kind": kind, "loss": race.get(f"{k}_loss"), "metric": race.get(f"{k}_metric")}
            for k, kind in kinds]
    return {"aware": aware, "verdict": verdict, "rows": rows, "metric": race.get("metric"), "gain": race.get("gain"),
            "se": race.get("se"), "z": race.get("z"), "rows_used": race.get("rows"), "val_rows": race.get("val_rows"),
            "epochs": race.get("epochs"), "seconds": race.get("seconds")}


def _collapse_text(event: dict) -> str:
    """``Training collapsed at epoch 7 (training loss 0.1 -> 0.69, ...); it recovered at epoch 9.``"""
    what = []
    if event.get("loss") is not None and event.get("best_loss") is not None:
        what.append(f"training loss {event['best_loss']:.4f} \u2192 {event['loss']:.4f}")
    if event.get("val_accuracy") is not None and event.get("best_val_accuracy") is not None:
        what.append(f"validation accuracy {event['best_val_accuracy']:.3f} \u2192 {event['val_accuracy']:.3f}")
    recovered = event.get("recovered")
    after = f"it recovered at epoch {recovered}" if recovered is not None else "it did not recover"
    detail = f" ({', '.join(what)})" if what else ""
    return f"Training collapsed at epoch {event.get('epoch')}{detail}; {after}."


# ---------------------------------------------------------------- images


def image_view(folder: Path) -> dict | None:
    """An image run's figures: ``plots/misclassified.png`` (from train) and, per explained test image,
    ``plots/feature-maps/<index>/`` (kernels, feature maps, saliency from ``seqcnn explain``); None
    without any."""
    plots = folder / "plots"
    groups = []
    for sub in sorted((plots / "feature-maps").glob("*"), key=lambda p: (len(p.name), p.name))[:MAX_FEATURE_MAPS]:
        files = sorted(sub.glob("*.png"), key=lambda p: (p.name != "kernels.png", p.name != "saliency.png", p.name))
        if files:
            groups.append({"index": sub.name, "figures": [{"name": f.stem, "uri": image_uri(f)} for f in files]})
    misclassified = image_uri(plots / "misclassified.png")
    if misclassified is None and not groups:
        return None
    return {"misclassified": misclassified, "feature_maps": groups}


# ---------------------------------------------------------------- variants


def variants_view(folder: Path) -> dict | None:
    """``variants.json``: the scoring, the skipped alleles, the contig renames and the top variants.

    Raises:
        RunError: for a corrupt ``variants.json``.
    """
    path = folder / "variants.json"
    if not path.is_file():
        return None
    info = read_run_json(path)
    if not isinstance(info, dict) or not isinstance(info.get("top", []), list):
        raise RunError(f"{path}: expected an object with a 'top' list, as `seqcnn variants` writes")
    first = info.get("first_skipped") or {}
    skipped = [{"reason": r, "n": n, "first": first.get(r, "-")}
               for r, n in sorted((info.get("skipped") or {}).items(), key=lambda kv: -kv[1])]
    contigs = list((info.get("contig_map") or {}).items())
    top = [dict(row) for row in info.get("top", [])[:MAX_VARIANTS]]
    for rank, row in enumerate(top):
        row["uri"] = _inside(folder, row.get("plot")) if rank < MAX_VARIANT_PLOTS else None
    scores = info.get("scores")
    tasks = [t for t in info.get("tasks") or [] if t]
    return {
        **{k: info.get(k) for k in ("source", "genome", "score", "n_scored", "attribution")},
        "scores": scores, "scores_missing": bool(scores) and Path(scores).is_absolute() and not Path(scores).is_file(),
        "skipped": skipped, "n_skipped": sum(s["n"] for s in skipped),
        "contigs": contigs[:MAX_CONTIGS], "more_contigs": max(0, len(contigs) - MAX_CONTIGS),
        "top": top, "n_top": len(info.get("top", [])), "task": tasks[0] if len(tasks) > 1 else None,
    }


def _inside(folder: Path, relative: str | None) -> str | None:
    """The data URI of a file named relative to the run folder; None when absent or outside it."""
    if not relative:
        return None
    path = (folder / relative).resolve()
    return image_uri(path) if path.is_relative_to(folder.resolve()) else None


# ---------------------------------------------------------------- patterns


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("inf")


def patterns_view(folder: Path, explain: dict | None) -> dict | None:
    """``patterns.tsv`` grouped by pattern (its JASPAR matches together) with each pattern's logo.

    Args:
        folder: the run folder.
        explain: ``explain.json`` (its ``patterns`` entry says how the patterns were found), or None.
    """
    path = folder / "patterns.tsv"
    if not path.is_file():
        return None
    patterns: dict[str, dict] = {}
    for row in read_tsv(path):
        name = row.get("pattern", "")
        entry = patterns.setdefault(name, {"pattern": name, "n_seqlets": row.get("n_seqlets", ""),
                                           "information_content": row.get("information_content", ""),
                                           "matches": []})
        if row.get("jaspar_id"):
            entry["matches"].append({k: row.get(k, "") for k in ("jaspar_id", "jaspar_name", "p_value", "q_value",
                                                                  "orientation")})
    rows = list(patterns.values())
    for rank, entry in enumerate(rows):
        matches = sorted(entry.pop("matches"), key=lambda m: _float(m["q_value"]))
        entry["matches"] = [m for m in matches if _float(m["q_value"]) < SIGNIFICANT_Q]
        entry["best"] = matches[0] if matches and not entry["matches"] else None
        entry["sign"] = "lowers" if entry["pattern"].startswith("neg") else "raises"
        entry["logo"] = image_uri(folder / "plots" / "patterns" / f"{entry['pattern']}.png") \
            if rank < MAX_PATTERN_LOGOS else None
    summary = (explain or {}).get("patterns") if isinstance(explain, dict) else None
    about = {k.replace("_", " "): v for k, v in (summary or {}).items()
             if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
    return {"rows": rows, "meme": (folder / "patterns.meme").is_file(), "about": about}
