"""Masked-nucleotide pretraining: masks, the k-mer baseline, the run folder and fine-tuning from it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seqcnn.errors import InputError
from seqcnn.pretrain import PretrainConfig, kmer_baseline, mask, masked_onehot, pretrain


def _periodic(n: int, length: int, seed: int = 0) -> np.ndarray:
    """Codes of ACGTACGT... at random phases: every base is fixed by its left neighbour."""
    phase = np.random.default_rng(seed).integers(0, 4, n)
    return ((phase[:, None] + np.arange(length)) % 4).astype(np.uint8)


def test_masks_hide_only_bases_at_the_rate_and_show_n():
    codes = np.random.default_rng(0).integers(0, 4, (200, 101)).astype(np.uint8)
    codes[:, :5] = 4  # N: never hidden (there is nothing to predict)
    hidden = mask(codes, 0.15, np.random.default_rng(1))
    assert not hidden[:, :5].any()
    assert hidden.mean() == pytest.approx(0.15 * 96 / 101, abs=0.01)
    x = masked_onehot(codes[:2], hidden[:2]).numpy()
    assert np.allclose(x[:, :, hidden[0]][0], 0.25)
    assert np.allclose(x.sum(1)[~hidden[:2] & (codes[:2] < 4)], 1.0)


def test_kmer_baseline_predicts_periodic_bases_from_one_neighbour():
    train, test = _periodic(300, 40, 0), _periodic(50, 40, 1)
    hidden = mask(test, 0.15, np.random.default_rng(2))
    accuracy = kmer_baseline(train, test, hidden, max_k=2)
    assert accuracy[0] < 0.4  # the most frequent base alone: about a quarter
    assert accuracy[1] > 0.97  # a neighbour on either side gives it away (unless both are hidden)


def test_pretrain_writes_a_run_that_fine_tuning_starts_from(tmp_path):
    import torch

    from seqcnn.checkpoint import load_model
    from seqcnn.models import zoo
    from seqcnn.models.network import build_model
    from seqcnn.run import transfer

    letters = np.array(list("ACGT"))
    data = tmp_path / "seqs.txt"
    data.write_text("\n".join("".join(letters[row]) for row in _periodic(120, 32)) + "\n")
    run = pretrain(data, tmp_path / "pre", config=PretrainConfig(epochs=2, batch_size=32), progress=None)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["held_out_sequences"] == 12 and metrics["best_kmer_accuracy"] > 0.97
    assert 0 <= metrics["accuracy"] <= 1 and len((run / "history.csv").read_text().splitlines()) == 3
    assert load_model(run).spec.layers[-1].args["filters"] == 4
    torch.manual_seed(1)
    net = build_model(zoo.get("mlm-classifier", input_shape=(4, 32)), (4, 32))
    copied = transfer(net, run)
    assert {k.split(".")[1] for k in copied} == {"0", "2", "3"}  # conv and both encoders; positions have no weights
    torch.testing.assert_close(net.layers[0].weight, load_model(run).layers[0].weight)


def test_bad_settings_and_too_few_sequences_are_refused(tmp_path):
    with pytest.raises(InputError, match="--mask-rate must be in"):
        PretrainConfig(mask_rate=1.5).check()
    data = tmp_path / "one.txt"
    data.write_text("ACGTACGT\n")
    with pytest.raises(InputError, match="too few to hold out"):
        pretrain(data, tmp_path / "pre", progress=None)


def test_pretrain_command_prints_accuracy_and_baseline(tmp_path, capsys):
    from seqcnn.cli import main

    letters = np.array(list("ACGT"))
    data = tmp_path / "seqs.fa"
    rows = _periodic(40, 24)
    data.write_text("".join(f">s{i}\n{''.join(letters[row])}\n" for i, row in enumerate(rows)))
    assert main(["pretrain", str(data), "--epochs", "1", "--out", str(tmp_path / "pre"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "held-out masked accuracy" in out and "best k-mer baseline, k=" in out
    assert f"run folder: {tmp_path / 'pre'}" in out
