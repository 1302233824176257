"""Distributed data parallel: 2 CPU processes under torchrun against one process on the same global batch.

Tolerance: with plain SGD the two runs differ only by the order of float32 additions (the
gradient of a global batch as two all-reduced halves instead of one sum); after 2 epochs of
36 steps the weights agree to 1e-4. Measured: under 1e-6 with torch 2.13; with torch 2.4 (the
floor in constraints-min.txt) 1e-7 after the first epoch, then a rounding difference tips one
ReLU or max-pool choice in the second and 21 weights of 4 first-layer filters move by 5e-5.
A fault moves them by far more: gradients summed instead of averaged (as lr 0.1) or each rank
stepping on its own half (as batch 16) end 0.3 to 0.6 away. With Adam the rounding differences of
near-zero gradients are divided by their tiny running norms, so Adam runs agree to about 2e-4
only (docs/scale.md); the test therefore uses SGD for a tight check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from seqcnn.data.batches import batches, sequence_set
from seqcnn.training import distributed

TRAIN = ["train", "primer-sim", "--model", "primer", "--recipe", "primer", "--optimizer", "sgd", "--lr", "0.05",
         "--epochs", "2", "--batch-size", "32", "--quiet", "--force"]


def _env() -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
    }
    return {**env, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _weights(run) -> dict:
    from safetensors.numpy import load_file

    return load_file(str(run / "model.safetensors"))


def test_two_processes_train_the_same_model_as_one(tmp_path):
    single, multi = tmp_path / "single", tmp_path / "ddp"
    one = subprocess.run(
        [sys.executable, "-m", "seqcnn", *TRAIN, "--out", str(single)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "seqcnn",
            *TRAIN,
            "--out",
            str(multi),
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert two.returncode == 0, two.stderr[-2000:]
    assert two.stdout.count("run folder:") == 1  # rank 1 prints nothing
    record = json.loads((multi / "config.json").read_text())["distributed"]
    assert record["world_size"] == 2 and record["backend"] == "gloo"
    assert record["weights_sha256"][0] == record["weights_sha256"][1]  # identical on both ranks, bit for bit
    a, b = _weights(single), _weights(multi)
    assert a.keys() == b.keys()
    for name in a:
        assert np.abs(a[name] - b[name]).max() < 1e-4, name
    assert not np.allclose(a["layers.0.weight"], _initial_conv_weight(), atol=1e-3)  # they did train
    h1 = (single / "history.csv").read_text().splitlines()[1:]
    h2 = (multi / "history.csv").read_text().splitlines()[1:]
    for r1, r2 in zip(h1, h2):  # loss and accuracy gathered over ranks equal the single run's
        assert np.allclose([float(v) for v in r1.split(",")[:5]], [float(v) for v in r2.split(",")[:5]], atol=1e-4)


def _initial_conv_weight() -> np.ndarray:
    from seqcnn.models import zoo
    from seqcnn.models.network import build_model

    torch.manual_seed(0)
    return build_model(zoo.get("primer"), (4, 50)).layers[0].weight.detach().numpy()


def test_rank_slices_of_tensor_batches_make_up_the_global_batch():
    codes = np.random.default_rng(0).integers(0, 4, size=(101, 8), dtype=np.uint8)
    data = sequence_set(codes, np.arange(101))
    whole = [y for _, y in batches(data, 10, True, torch.Generator().manual_seed(1))]
    ranks = [[y for _, y in batches(data, 10, True, torch.Generator().manual_seed(1), shard=(r, 2))] for r in range(2)]
    assert len(ranks[0]) == len(ranks[1]) == 10  # the last global batch (1 example) is smaller than the world: skipped
    for step in range(10):
        assert torch.equal(torch.cat([ranks[0][step], ranks[1][step]]), whole[step])
    ordered = [torch.cat([y for _, y in batches(data, 16, shard=(r, 2))]) for r in range(2)]
    assert torch.equal(torch.cat(ordered), torch.arange(101))  # evaluation: contiguous halves


def test_loss_weights_average_to_the_global_mean(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    # a last global batch of 5 split 2 + 3: DDP averages (w0 * mean0 + w1 * mean1) / 2
    w0, w1 = distributed.loss_weight(2, 3, 35, 10), distributed.loss_weight(3, 3, 35, 10)
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (w0 * x[:2].mean() + w1 * x[2:].mean()) / 2 == pytest.approx(x.mean())
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert distributed.loss_weight(7, 0, 100, 32) == 1.0


def test_single_process_helpers_are_no_ops(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not distributed.active() and distributed.is_main() and distributed.shard() == (0, 1)
    assert distributed.setup("cpu") is False
    model = torch.nn.Linear(3, 2)
    assert distributed.wrap(model) is model
    assert distributed.sum_all(torch.tensor(2.5), 4) == [2.5, 4]
    assert distributed.record(model) is None
    assert (
        distributed.backend_for(torch.device("cuda", 0)) == "nccl"
        and distributed.backend_for(torch.device("cpu")) == "gloo"
    )


def test_two_processes_train_a_multilabel_task_as_one(tmp_path):
    """Float targets with missing cells go through the per-rank slices and the gathered metrics."""
    args = ["train", "multilabel-sim", "--optimizer", "sgd", "--lr", "0.05", "--epochs", "1", "--quiet", "--force"]
    single, multi = tmp_path / "single", tmp_path / "ddp"
    one = subprocess.run([sys.executable, "-m", "seqcnn", *args, "--out", str(single)], env=_env(),
                         capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "seqcnn", *args, "--out", str(multi)], env=_env(), capture_output=True, text=True,
                         timeout=300)
    assert two.returncode == 0, two.stderr
    a, b = (json.loads((run / "metrics.json").read_text()) for run in (single, multi))
    assert sorted(a["tasks"]) == sorted(b["tasks"]) and len(a["tasks"]) == 4
    assert abs(a["auroc"] - b["auroc"]) < 1e-3  # same global batches: the same model up to float32 rounding
