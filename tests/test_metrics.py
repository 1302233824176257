"""Metrics in numpy, checked against scikit-learn and scipy on random data with ties."""

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import average_precision_score, confusion_matrix, r2_score, roc_auc_score

from seqcnn.data.targets import Task
from seqcnn.metrics import (
    auprc,
    auroc,
    class_curves,
    classification_metrics,
    format_metrics,
    multilabel_metrics,
    rank,
    regression_metrics,
    task_metrics,
)

RNG = np.random.default_rng(11)


@pytest.mark.parametrize("seed", range(5))
def test_auroc_and_auprc_match_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    score = np.round(rng.random(300) + 0.3 * y, 1)  # rounding makes many ties
    # float64 sums over a few hundred examples in other orders than scikit-learn's: about 1e-15 apart
    assert auroc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert auprc(y, score) == pytest.approx(average_precision_score(y, score), abs=1e-12)


def test_auroc_is_none_with_one_class_and_perfect_with_separated_scores():
    assert auroc(np.ones(4), np.arange(4)) is None and auprc(np.zeros(3), np.arange(3)) is None
    assert auroc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0 and auroc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0


def test_binary_keeps_todays_keys_and_values():
    y = RNG.integers(0, 2, 200)
    p1 = np.clip(0.3 * y + RNG.random(200) * 0.7, 0, 1)
    probs = np.stack([1 - p1, p1], axis=1)
    m = classification_metrics(y, probs)
    assert set(m) == {"accuracy", "auroc", "auprc", "confusion_matrix", "precision", "recall", "n"}
    assert m["auroc"] == pytest.approx(roc_auc_score(y, p1))
    assert m["auprc"] == pytest.approx(average_precision_score(y, p1))
    assert m["confusion_matrix"] == confusion_matrix(y, probs.argmax(1)).tolist()


def test_multiclass_states_classes_and_macro_ovr_like_sklearn():
    y = np.repeat([0, 1, 2], 40)
    logits = RNG.normal(size=(120, 3)) + np.eye(3)[y]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    m = classification_metrics(y, probs, ["EI", "IE", "N"])
    assert m["classes"] == ["EI", "IE", "N"] and m["auroc_average"] == "macro one-vs-rest"
    assert m["auroc"] == pytest.approx(roc_auc_score(y, probs, multi_class="ovr"))
    assert m["auprc"] == pytest.approx(average_precision_score(np.eye(3)[y], probs, average="macro"))
    assert set(m["auroc_per_class"]) == {"EI", "IE", "N"}
    absent = classification_metrics(y[y < 2], probs[y < 2], ["EI", "IE", "N"])
    assert absent["auroc_per_class"]["N"] is None and "over the 2 of 3 classes present" in absent["auroc_average"]
    curves = class_curves(y, probs, ["EI", "IE", "N"])
    assert set(curves) == {"EI", "IE", "N"} and curves["N"]["fpr"][0] == 0.0 and curves["N"]["tpr"][-1] == 1.0


def test_multilabel_masks_missing_and_reports_unscorable_tasks():
    y = np.array([[1, 0, np.nan], [0, 1, np.nan], [1, 1, np.nan], [0, 1, np.nan]], dtype=float)
    y[:, 1] = 1  # task b: one class only
    probs = np.array([[0.9, 0.2, 0.5], [0.2, 0.8, 0.5], [0.7, 0.3, 0.5], [0.4, 0.9, 0.5]])
    m = multilabel_metrics(y, probs, ["a", "b", "c"])
    assert m["tasks"]["a"]["auroc"] == 1.0 and m["tasks"]["a"]["n"] == 4
    assert m["tasks"]["b"]["note"] == "only one class among the labelled test examples"
    assert m["tasks"]["c"] == {"auroc": None, "auprc": None, "accuracy": None, "n": 0, "n_positive": 0,
                               "note": "no labelled test example"}
    assert m["auroc"] == 1.0 and m["n_tasks_scored"] == 1 and m["n"] == 8
    assert m["accuracy"] == pytest.approx((1.0 + 0.5) / 2)  # task b: 2 of 4 above 0.5
    assert "mean AUROC 1.0000" in format_metrics(m)


def test_regression_matches_scipy_and_sklearn():
    truth = np.round(RNG.normal(size=100), 1)
    pred = truth + RNG.normal(scale=0.5, size=100)
    m = regression_metrics(truth[:, None], pred[:, None], ["expr"])
    assert m["pearson"] == pytest.approx(pearsonr(truth, pred)[0])
    assert m["spearman"] == pytest.approx(spearmanr(truth, pred)[0])
    assert m["r2"] == pytest.approx(r2_score(truth, pred))
    assert m["mae"] == pytest.approx(np.abs(truth - pred).mean()) and m["n"] == 100
    assert rank([3, 1, 3, 2]).tolist() == [3.5, 1.0, 3.5, 2.0]


def test_several_regression_targets_have_tasks_and_means():
    y = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, np.nan]])
    pred = np.array([[1.5, 0.0], [2.5, 0.0], [2.0, 0.0]])
    m = regression_metrics(y, pred, ["a", "b"])
    assert m["tasks"]["b"]["note"] == "no labelled test example" and m["tasks"]["b"]["pearson"] is None
    assert m["mse"] == pytest.approx(m["tasks"]["a"]["mse"]) and m["n_tasks"] == 2 and m["n"] == 3
    assert format_metrics(m).startswith("mean pearson")


def test_task_metrics_dispatches_on_the_task():
    task = Task("regression", ("e",), loss="mse", mean=(0.0,), std=(1.0,))
    m = task_metrics(task, np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [3.0]]))
    assert m["pearson"] == pytest.approx(1.0) and m["mse"] == 0.0
    binary = Task("binary", ("y",), ("no", "yes"), "negative first")
    assert "classes" not in task_metrics(binary, np.array([0, 1]), np.array([[0.8, 0.2], [0.1, 0.9]]))


def test_metrics_and_targets_do_not_import_scikit_learn():
    import subprocess
    import sys

    code = "import sys, seqcnn.metrics, seqcnn.data.targets, seqcnn.data.leakage; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
