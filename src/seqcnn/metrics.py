"""Metrics of every task kind, in numpy alone (no scikit-learn import at start-up).

- Classes (binary, multiclass): accuracy, AUROC, AUPRC (average precision), confusion matrix,
  per-class precision and recall. A multiclass result names its ``classes`` and says how AUROC
  and AUPRC were averaged (macro one-vs-rest).
- Multilabel: the same per task (missing cells left out), with means over the tasks.
- Regression: Pearson r, Spearman rho, R^2, mean squared and absolute error, on the original
  scale, per target, with means over the targets.

AUROC is the trapezoid area under the ROC curve and AUPRC the step-wise average precision
``sum_k (R_k - R_{k-1}) P_k`` over distinct score thresholds, the definitions scikit-learn's
``roc_auc_score`` and ``average_precision_score`` use (the tests compare them).
"""

from __future__ import annotations

import math

import numpy as np

MACRO_OVR = "macro one-vs-rest"
NO_LABELS = "no labelled test example"
ONE_CLASS = "only one class among the labelled test examples"


# --- curves ---------------------------------------------------------------------------------


def _counts(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positives at each distinct threshold, scores descending."""
    order = np.argsort(-score, kind="mergesort")
    score, y = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(score)), y.size - 1]  # the end of each run of tied scores
    tps = np.cumsum(y)[last]
    fps = (last + 1) - tps
    return tps.astype(np.float64), fps.astype(np.float64), score[last]


def roc_curve(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve of 0/1 labels against scores.

    Returns:
        ``(fpr, tpr, thresholds)``, starting at (0, 0) (threshold ``inf``).

    Raises:
        ValueError: unless both classes occur.
    """
    y, score = np.asarray(y, dtype=np.int64), np.asarray(score, dtype=np.float64)
    tps, fps, thresholds = _counts(y, score)
    if tps[-1] == 0 or fps[-1] == 0:
        raise ValueError("ROC needs both classes")
    return np.r_[0.0, fps / fps[-1]], np.r_[0.0, tps / tps[-1]], np.r_[np.inf, thresholds]


def pr_curve(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision-recall curve of 0/1 labels against scores, thresholds descending.

    Returns:
        ``(precision, recall, thresholds)``, starting at recall 0 with precision 1.

    Raises:
        ValueError: without positives.
    """
    y, score = np.asarray(y, dtype=np.int64), np.asarray(score, dtype=np.float64)
    tps, fps, thresholds = _counts(y, score)
    if tps[-1] == 0:
        raise ValueError("precision-recall needs positives")
    return np.r_[1.0, tps / (tps + fps)], np.r_[0.0, tps / tps[-1]], np.r_[np.inf, thresholds]


def auroc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve, or None unless both classes occur."""
    y = np.asarray(y)
    if y.size == 0 or y.min() == y.max():
        return None
    fpr, tpr, _ = roc_curve(y, score)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def auprc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Average precision (step-wise area under the PR curve), or None without positives."""
    y = np.asarray(y)
    if y.size == 0 or y.max() <= 0:
        return None
    precision, recall, _ = pr_curve(y, score)
    return float(np.sum(np.diff(recall) * precision[1:]))


# --- classes ---------------------------------------------------------------------------------


def classification_metrics(labels: np.ndarray, probs: np.ndarray, class_names: list[str] | None = None) -> dict:
    """Metrics of class probabilities against integer labels.

    Args:
        labels: true classes ``(N,)``.
        probs: predicted probabilities ``(N, K)``.
        class_names: a name per class (multiclass results list them under ``classes``).

    Returns:
        ``accuracy``, ``auroc``, ``auprc`` (of class 1 for two classes, None when a class is
        absent), ``confusion_matrix`` (rows = true class), per-class ``precision`` and
        ``recall`` lists, and ``n``. For more than two classes also ``classes``,
        ``auroc_average`` and ``auprc_average`` (macro one-vs-rest, over the classes present
        in ``labels``; the text says when some are absent), ``auroc_per_class`` and
        ``auprc_per_class`` (None for an absent class).
    """
    labels = np.asarray(labels).astype(np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    k = probs.shape[1]
    pred = probs.argmax(axis=1)
    cm = np.bincount(labels * k + pred, minlength=k * k).reshape(k, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(cm.sum(0) > 0, np.diag(cm) / np.maximum(cm.sum(0), 1), 0.0)
        recall = np.where(cm.sum(1) > 0, np.diag(cm) / np.maximum(cm.sum(1), 1), 0.0)
    out = {
        "accuracy": float((pred == labels).mean()) if labels.size else None,
        "auroc": None,
        "auprc": None,
        "confusion_matrix": cm.tolist(),
        "precision": [float(p) for p in precision],
        "recall": [float(r) for r in recall],
        "n": int(labels.size),
    }
    if k == 2:
        if np.unique(labels).size == 2:
            out["auroc"], out["auprc"] = auroc(labels == 1, probs[:, 1]), auprc(labels == 1, probs[:, 1])
        return out
    return out | _multiclass_averages(labels, probs, class_names or [str(i) for i in range(k)])


def _multiclass_averages(labels: np.ndarray, probs: np.ndarray, names: list[str]) -> dict:
    per_roc = {name: auroc(labels == i, probs[:, i]) for i, name in enumerate(names)}
    per_pr = {name: auprc(labels == i, probs[:, i]) for i, name in enumerate(names)}
    scored = [v for v in per_roc.values() if v is not None]
    scored_pr = [per_pr[n] for n, v in per_roc.items() if v is not None]
    how = MACRO_OVR
    if len(scored) < len(names):
        how += f" over the {len(scored)} of {len(names)} classes present"
    return {
        "auroc": float(np.mean(scored)) if scored else None,
        "auprc": float(np.mean(scored_pr)) if scored_pr else None,
        "classes": list(names),
        "auroc_average": how,
        "auprc_average": how,
        "auroc_per_class": per_roc,
        "auprc_per_class": per_pr,
    }


def class_curves(labels: np.ndarray, scores: np.ndarray, names: list[str], mask: np.ndarray | None = None) -> dict:
    """ROC and PR curves per class (one-vs-rest) or per task, for plots.

    Args:
        labels: classes ``(N,)`` (then ``scores`` are class probabilities ``(N, K)``), or 0/1
            ``(N, T)`` per task (NaN missing) with ``scores`` ``(N, T)``.
        scores: probabilities.
        names: a name per class or task.
        mask: optional bool ``(N, T)`` of labelled cells (multi-label).

    Returns:
        ``{name: {"fpr", "tpr", "precision", "recall" (lists), "auroc", "auprc"}}`` for each class
        or task with both classes present; others are left out. For two classes only class 1.
    """
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    if labels.ndim == 1:
        onehot = np.eye(scores.shape[1])[labels.astype(np.int64)]  # (N,) -> (N, K)
        columns = [1] if scores.shape[1] == 2 else range(scores.shape[1])
        cells = [(names[c], onehot[:, c], scores[:, c]) for c in columns]
    else:
        keep = ~np.isnan(labels) if mask is None else np.asarray(mask, dtype=bool) & ~np.isnan(labels)
        cells = [(names[t], labels[keep[:, t], t], scores[keep[:, t], t]) for t in range(labels.shape[1])]
    out = {}
    for name, y, s in cells:
        if y.size and y.min() != y.max():
            fpr, tpr, _ = roc_curve(y, s)
            precision, recall, _ = pr_curve(y, s)
            out[name] = {
                "fpr": fpr.tolist(),
                "tpr": tpr.tolist(),
                "precision": precision.tolist(),
                "recall": recall.tolist(),
                "auroc": auroc(y, s),
                "auprc": auprc(y, s),
            }
    return out


def multilabel_metrics(y: np.ndarray, probs: np.ndarray, names: list[str], mask: np.ndarray | None = None) -> dict:
    """Per-task metrics of several 0/1 targets, missing cells left out.

    Args:
        y: 0/1 targets ``(N, T)``, NaN where missing.
        probs: predicted probabilities ``(N, T)``.
        names: target names.
        mask: optional bool ``(N, T)`` of labelled cells (else the non-NaN cells).

    Returns:
        ``tasks`` (per target: ``auroc``, ``auprc``, ``accuracy`` at 0.5, ``n``, ``n_positive``,
        and a ``note`` when it has no labelled example or one class only), the means of
        ``auroc``, ``auprc`` and ``accuracy`` over the tasks that have them, ``n`` (labelled
        cells), ``n_tasks`` and ``n_tasks_scored`` (tasks with an AUROC).
    """
    y, probs = np.asarray(y, dtype=np.float64), np.asarray(probs, dtype=np.float64)
    keep = _keep(y, mask)
    tasks = {}
    for t, name in enumerate(names):
        truth, score = y[keep[:, t], t], probs[keep[:, t], t]
        tasks[name] = _binary_task(truth, score)
    out = _means(tasks, ("auroc", "auprc", "accuracy"))
    scored = sum(task["auroc"] is not None for task in tasks.values())
    return out | {"n": int(keep.sum()), "n_tasks": len(names), "n_tasks_scored": scored, "tasks": tasks}


def _binary_task(truth: np.ndarray, score: np.ndarray) -> dict:
    out = {
        "auroc": auroc(truth, score),
        "auprc": auprc(truth, score),
        "accuracy": float(((score >= 0.5) == (truth == 1)).mean()) if truth.size else None,
        "n": int(truth.size),
        "n_positive": int((truth == 1).sum()),
    }
    if not truth.size:
        out["note"] = NO_LABELS
    elif out["auroc"] is None:
        out["note"] = ONE_CLASS
    return out


def _keep(y: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    keep = ~np.isnan(y)
    return keep if mask is None else keep & np.asarray(mask, dtype=bool).reshape(y.shape)


def _means(tasks: dict, keys: tuple[str, ...]) -> dict:
    out = {}
    for key in keys:
        values = [task[key] for task in tasks.values() if task.get(key) is not None]
        out[key] = float(np.mean(values)) if values else None
    return out


# --- regression ------------------------------------------------------------------------------


def rank(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``x``, ties given their average rank."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(x.size)
    ranks[order] = np.arange(1, x.size + 1)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation, or None for fewer than 2 values or a constant input."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size < 2:
        return None
    dx, dy = x - x.mean(), y - y.mean()
    denom = np.sqrt((dx * dx).sum() * (dy * dy).sum())
    return float((dx * dy).sum() / denom) if denom > 0 else None


def _regression_task(truth: np.ndarray, pred: np.ndarray) -> dict:
    if not truth.size:
        return {"pearson": None, "spearman": None, "r2": None, "mse": None, "mae": None, "n": 0, "note": NO_LABELS}
    error = pred - truth
    total = ((truth - truth.mean()) ** 2).sum()
    return {
        "pearson": pearson(truth, pred),
        "spearman": pearson(rank(truth), rank(pred)),
        "r2": float(1 - (error**2).sum() / total) if total > 0 else None,
        "mse": float((error**2).mean()),
        "mae": float(np.abs(error).mean()),
        "n": int(truth.size),
    }


def regression_metrics(y: np.ndarray, pred: np.ndarray, names: list[str], mask: np.ndarray | None = None) -> dict:
    """Pearson, Spearman, R^2, MSE and MAE of predictions on the original scale.

    Args:
        y: observed values ``(N, T)`` (or ``(N,)``), NaN where missing.
        pred: predicted values, same shape.
        names: target names.
        mask: optional bool of labelled cells.

    Returns:
        One target: ``pearson``, ``spearman``, ``r2``, ``mse``, ``mae``, ``n`` (None where
        undefined, with a ``note`` when nothing is labelled). Several: those means over the
        targets at top level, ``n`` (labelled cells), ``n_tasks`` and ``tasks`` keyed by name.
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    pred = np.asarray(pred, dtype=np.float64).reshape(y.shape)
    keep = _keep(y, mask)
    tasks = {name: _regression_task(y[keep[:, t], t], pred[keep[:, t], t]) for t, name in enumerate(names)}
    if len(names) == 1:
        return tasks[names[0]]
    out = _means(tasks, ("pearson", "spearman", "r2", "mse", "mae"))
    return out | {"n": int(keep.sum()), "n_tasks": len(names), "tasks": tasks}


def task_metrics(task, y: np.ndarray, outputs: np.ndarray, mask: np.ndarray | None = None) -> dict:
    """The metrics of any :class:`seqcnn.data.targets.Task`.

    Args:
        task: the task.
        y: encoded labels (:func:`seqcnn.data.targets.encode_targets`).
        outputs: :func:`seqcnn.data.targets.predictions` (probabilities or original-scale values).
        mask: labelled cells, for multilabel and regression.

    Returns:
        :func:`classification_metrics` (binary: today's keys exactly), :func:`multilabel_metrics`
        or :func:`regression_metrics`.
    """
    if task.classes is not None:
        return classification_metrics(y, outputs, list(task.classes) if len(task.classes) > 2 else None)
    if task.kind == "multilabel":
        return multilabel_metrics(y, outputs, list(task.targets), mask)
    return regression_metrics(y, outputs, list(task.targets), mask)


def format_metrics(m: dict) -> str:
    """A short human-readable line of the main metrics."""
    if "mse" in m:
        prefix = "mean " if "tasks" in m else ""
        keys = ("pearson", "spearman", "r2", "mse")
        parts = [f"{prefix}{key} {m[key]:.4f}" for key in keys if m.get(key) is not None]
    else:
        prefix = "mean " if "tasks" in m else ""
        parts = [f"{prefix}accuracy {m['accuracy']:.4f}"] if m.get("accuracy") is not None else []
        parts += [f"{prefix}{key.upper()} {m[key]:.4f}" for key in ("auroc", "auprc") if m.get(key) is not None]
    if "n_tasks" in m:
        parts.append(f"{m['n_tasks']} tasks")
    parts.append(f"n={m['n']}")
    return ", ".join(parts)


# --- Base-resolution profiles (BPNet-style runs) ------------------------------------------------------------

def multinomial_nll(counts: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per example, the negative log-likelihood of ``counts`` under a multinomial with ``probs``.

    Args:
        counts: observed reads ``(n, ...)`` (tracks and positions together form one multinomial).
        probs: probabilities of the same shape, each example summing to 1.

    Returns:
        ``(n,)``: ``-log(N! / prod(k!) * prod(p ** k))``, with ``N`` the example's total.
    """
    k = counts.reshape(len(counts), -1).astype(np.float64)
    p = np.clip(probs.reshape(len(probs), -1).astype(np.float64), 1e-300, None)
    lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
    coefficient = lgamma(k.sum(axis=1) + 1) - lgamma(k + 1).sum(axis=1)
    return -(coefficient + (k * np.log(p)).sum(axis=1))


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per example, the Jensen-Shannon distance (base 2, 0 to 1) between two distributions ``(n, ...)``;
    NaN where either sums to 0."""
    p = p.reshape(len(p), -1).astype(np.float64)
    q = q.reshape(len(q), -1).astype(np.float64)
    ps, qs = p.sum(axis=1, keepdims=True), q.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p, q = p / ps, q / qs
        m = (p + q) / 2
        kl = lambda a: np.where(a > 0, a * np.log2(np.where(a > 0, a, 1) / np.where(m > 0, m, 1)), 0).sum(axis=1)
        out = np.sqrt(np.clip((kl(p) + kl(q)) / 2, 0, None))
    out[(ps[:, 0] <= 0) | (qs[:, 0] <= 0)] = np.nan
    return out


def rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per example, the Pearson correlation of two ``(n, ...)`` arrays over their other axes; NaN where
    either is constant."""
    a = a.reshape(len(a), -1).astype(np.float64)
    b = b.reshape(len(b), -1).astype(np.float64)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))


def _median(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return round(float(np.median(x)), 6) if len(x) else None


def profile_metrics(observed: np.ndarray, probs: np.ndarray, log_counts: np.ndarray, baseline: np.ndarray) -> dict:
    """Test metrics of a profile model, each beside the same metric of the average-training-profile baseline.

    Args:
        observed: reads ``(n, tracks, L)``.
        probs: predicted probabilities ``(n, tracks, L)``, each example summing to 1 over tracks and positions.
        log_counts: predicted ``log(1 + total reads)`` ``(n,)``.
        baseline: the average training profile ``(tracks, L)``, summing to 1.

    Returns:
        ``counts_pearson``, ``counts_spearman`` (of ``log(1 + total)``), ``counts_mse``; ``profile_nll`` (mean
        multinomial NLL per example), ``profile_jsd`` (median Jensen-Shannon distance, unsmoothed) and
        ``profile_pearson`` (median per-example Pearson), each with a ``baseline_`` twin; ``n``.
    """
    observed = np.asarray(observed, dtype=np.float64)
    truth = np.log1p(observed.sum(axis=(1, 2)))
    pred = np.asarray(log_counts, dtype=np.float64).reshape(-1)
    base = np.broadcast_to(baseline, observed.shape)
    out: dict = {
        "counts_pearson": _round(pearson(truth, pred)),
        "counts_spearman": _round(pearson(rank(truth), rank(pred))),
        "counts_mse": round(float(np.mean((truth - pred) ** 2)), 6) if len(truth) else None,
    }
    for prefix, p in (("", probs), ("baseline_", base)):
        out[f"{prefix}profile_nll"] = round(float(multinomial_nll(observed, p).mean()), 4) if len(truth) else None
        out[f"{prefix}profile_jsd"] = _median(jensen_shannon(observed, p))
        out[f"{prefix}profile_pearson"] = _median(rowwise_pearson(observed, p))
    out["smoothing"] = "none"
    out["n"] = int(len(truth))
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)
