"""A run folder written by an earlier seqcnn still loads, predicts as it did, and reads back.

``tests/data/old-run`` was written by ``seqcnn train --model primer --epochs 1 --seed 0`` at commit
ca63cda (before the library's modules moved into stage packages); its ``plots/`` and ``report.html``
were left out and ``predictions.tsv`` cut to its first 40 rows, to keep the fixture small.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import seqcnn

OLD_RUN = Path(__file__).resolve().parent / "data" / "old-run"


def recorded() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Ids, labels and probabilities of class 1 from the fixture's ``predictions.tsv``."""
    header, *rows = [line.split("\t") for line in (OLD_RUN / "predictions.tsv").read_text().splitlines()]
    assert header == ["id", "label", "probability", "predicted"]
    return [r[0] for r in rows], np.array([int(r[1]) for r in rows]), np.array([float(r[2]) for r in rows])


def old_sequences() -> dict[str, str]:
    """The run's data, read again from its ``config.json`` (the built-in primer-sim, from its seed)."""
    from seqcnn.runs.folder import RunFolder

    parts = dict(RunFolder(OLD_RUN).data_records())
    records = parts["data"]
    return dict(zip(records.ids, records.seqs))


def test_an_old_run_loads_and_predicts_as_recorded():
    run = seqcnn.load_run(OLD_RUN)
    assert run.config["model"] == "primer" and run.metrics["n"] == 500
    ids, labels, probability = recorded()
    seqs = old_sequences()
    probs = seqcnn.predict(run.model, seqcnn.encode([seqs[i] for i in ids]))
    assert probs.shape == (len(ids), 2)
    assert np.allclose(probs[:, 1], probability, atol=2e-6)  # predictions.tsv keeps 6 significant digits
    assert np.array_equal(probs.argmax(1), (probability > 0.5).astype(int))


def test_an_old_run_predicts_evaluates_and_reports_through_the_cli(cli, tmp_path):
    ids, _, probability = recorded()
    seqs = old_sequences()
    fasta = tmp_path / "old.fa"
    fasta.write_text("".join(f">{i}\n{seqs[i]}\n" for i in ids))
    code, _, err = cli("predict", OLD_RUN, fasta, "-o", tmp_path / "pred.tsv")
    assert code == 0, err
    header, *rows = [line.split("\t") for line in (tmp_path / "pred.tsv").read_text().splitlines()]
    assert header == ["id", "probability", "predicted"] and [r[0] for r in rows] == ids
    assert np.allclose([float(r[1]) for r in rows], probability, atol=2e-6)
    copy = tmp_path / "run"
    shutil.copytree(OLD_RUN, copy)
    code, _, err = cli("report", copy)
    assert code == 0, err
    assert "primer" in (copy / "report.html").read_text()


def test_an_old_run_is_a_start_for_transfer(tmp_path):
    from seqcnn.training.transfer import load_state_dict_file

    state = load_state_dict_file(OLD_RUN)
    assert state["layers.0.weight"].shape == (32, 4, 12)
    with pytest.raises(seqcnn.SeqcnnError, match="pickle"):
        load_state_dict_file(tmp_path / "model.pt")
