"""Simulated data sets for each task kind, with JASPAR motifs."""

import numpy as np
import pytest

from seqcnn.data.simulate import jaspar_motif, simulate_multiclass, simulate_multilabel, simulate_regression
from seqcnn.data.targets import encode_targets, infer_task, prepare_targets
from seqcnn.errors import InputError


def best_match(seq, pwm):
    """Best log-odds score of ``pwm`` on either strand of ``seq``."""
    codes = np.array(["ACGT".index(c) for c in seq])
    logp = np.log(pwm / 0.25)
    width = pwm.shape[1]
    rc = logp[::-1, ::-1]  # reverse complement of the matrix
    scores = [max(logp[codes[i:i + width], np.arange(width)].sum(), rc[codes[i:i + width], np.arange(width)].sum())
              for i in range(len(seq) - width + 1)]
    return max(scores)


def test_jaspar_motif_by_name_and_id():
    ctcf = jaspar_motif("CTCF")
    assert ctcf.matrix_id.startswith("MA0139.") and ctcf.pwm.shape[0] == 4
    np.testing.assert_allclose(ctcf.pwm.sum(axis=0), 1.0)
    assert jaspar_motif(ctcf.matrix_id).name == "CTCF"
    with pytest.raises(InputError, match="motif 'NOTATF' is not in JASPAR2024 CORE"):
        jaspar_motif("NOTATF")


def test_multiclass_sim_plants_the_class_motif():
    rec = simulate_multiclass(n=120, length=60, seed=1)
    choice, task, enc = prepare_targets(rec)
    assert choice.names == ("class",) and task.kind == "multiclass"
    assert task.classes == ("CTCF", "REST", "TP53", "background")
    ctcf = jaspar_motif("CTCF").pwm
    scores = np.array([best_match(s, ctcf) for s in rec.seqs])
    is_ctcf = enc.y == 0
    assert scores[is_ctcf].mean() > scores[enc.y == 3].mean() + 5  # planted sites score far above background
    assert simulate_multiclass(n=120, length=60, seed=1).seqs == rec.seqs


def test_multilabel_sim_columns_are_presence_flags():
    rec = simulate_multilabel(n=200, length=120, p=0.4, seed=2)
    assert prepare_targets(rec)[0].names == rec.label_columns  # simulated targets are declared, not guessed
    task = infer_task(rec, list(rec.columns))
    y = encode_targets(rec, task).y
    assert task.kind == "multilabel" and task.targets == ("CTCF", "CEBPB", "HNF1A", "NR3C1")
    assert 0.3 < y.mean() < 0.5
    cebpb = jaspar_motif("CEBPB").pwm
    scores = np.array([best_match(s, cebpb) for s in rec.seqs])
    assert scores[y[:, 1] == 1].mean() > scores[y[:, 1] == 0].mean() + 2


def test_regression_sim_is_a_noisy_function_of_motif_counts():
    rec = simulate_regression(n=300, length=200, noise=0.3, seed=3)
    choice, task, enc = prepare_targets(rec)
    assert choice.names == ("activity",) and task.kind == "regression" and task.loss == "mse"
    assert 0 < task.mean[0] < 3 and enc.y.shape == (300, 1)
    exact = np.array([float(v) for v in simulate_regression(n=300, noise=0.0, seed=3).columns["activity"]])
    assert set(np.unique(exact)) <= {0.5 * k for k in range(10)} and len(np.unique(exact)) > 5  # 1.0 * c1 + 0.5 * c2
    assert np.corrcoef(exact, enc.y[:, 0])[0, 1] > 0.9  # the same seed: the noise is small next to the signal (0.973)
    counts = simulate_regression(n=300, length=200, poisson=True, seed=3)
    assert infer_task(counts, ["activity"], task="poisson").loss == "poisson"
    assert all(float(v).is_integer() and float(v) >= 0 for v in counts.columns["activity"])
    with pytest.raises(InputError, match="at least"):
        simulate_regression(n=3, length=30)
