"""Classification metrics: accuracy, AUROC, AUPRC, confusion matrix, precision and recall."""

from __future__ import annotations

import numpy as np


def classification_metrics(labels: np.ndarray, probs: np.ndarray) -> dict:
    """Metrics of class probabilities against integer labels.

    Args:
        labels: true classes ``(N,)``.
        probs: predicted probabilities ``(N, K)``.

    Returns:
        A dict with ``accuracy``, ``auroc``, ``auprc`` (of class 1 for two classes,
        macro-averaged one-vs-rest otherwise; None when a class is absent), ``confusion_matrix``
        (rows = true class), per-class ``precision`` and ``recall`` lists, and ``n``.
    """
    from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score

    labels = np.asarray(labels).astype(np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    k = probs.shape[1]
    pred = probs.argmax(axis=1)
    cm = confusion_matrix(labels, pred, labels=np.arange(k))
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(cm.sum(0) > 0, np.diag(cm) / cm.sum(0), 0.0)
        recall = np.where(cm.sum(1) > 0, np.diag(cm) / cm.sum(1), 0.0)
    present = np.unique(labels)
    auroc = auprc = None
    if present.size == k:
        if k == 2:
            auroc = float(roc_auc_score(labels, probs[:, 1]))
            auprc = float(average_precision_score(labels, probs[:, 1]))
        else:
            onehot = np.eye(k)[labels]
            auroc = float(roc_auc_score(labels, probs, multi_class="ovr"))
            auprc = float(average_precision_score(onehot, probs, average="macro"))
    return {
        "accuracy": float((pred == labels).mean()),
        "auroc": auroc,
        "auprc": auprc,
        "confusion_matrix": cm.tolist(),
        "precision": [float(p) for p in precision],
        "recall": [float(r) for r in recall],
        "n": int(labels.size),
    }


def format_metrics(m: dict) -> str:
    """A short human-readable line of the main metrics."""
    parts = [f"accuracy {m['accuracy']:.4f}"]
    for key in ("auroc", "auprc"):
        if m.get(key) is not None:
            parts.append(f"{key.upper()} {m[key]:.4f}")
    parts.append(f"n={m['n']}")
    return ", ".join(parts)
