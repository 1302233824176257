"""Masked-nucleotide pretraining: masks, the k-mer baseline, the run folder and fine-tuning from it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seqcnn.errors import InputError
from seqcnn.training.pretrain import PretrainConfig, kmer_baseline, mask, masked_onehot, pretrain


def _periodic(n: int, length: int, seed: int = 0) -> np.ndarray:
    """Codes of ACGTACGT... at random phases: every base is fixed by its left neighbour."""
    phase = np.random.default_rng(seed).integers(0, 4, n)
    return ((phase[:, None] + np.arange(length)) % 4).astype(np.uint8)


def test_masks_hide_only_bases_at_the_rate_and_show_n():
    codes = np.random.default_rng(0).integers(0, 4, (200, 101)).astype(np.uint8)
    codes[:, :5] = 4  # N: never hidden (there is nothing to predict)
    hidden = mask(codes, 0.15, np.random.default_rng(1))
    assert not hidden[:, :5].any()
    assert hidden.mean() == pytest.approx(0.15 * 96 / 101, abs=0.01)  # seeded; 0.01 is 4 sd of 19,200 draws
    x = masked_onehot(codes[:2], hidden[:2]).numpy()
    assert np.allclose(x[:, :, hidden[0]][0], 0.25)
    assert np.allclose(x.sum(1)[~hidden[:2] & (codes[:2] < 4)], 1.0)


def test_kmer_baseline_predicts_periodic_bases_from_one_neighbour():
    train, test = _periodic(300, 40, 0), _periodic(50, 40, 1)
    hidden = mask(test, 0.15, np.random.default_rng(2))
    accuracy = kmer_baseline(train, test, hidden, max_k=2)
    assert accuracy[0] < 0.4  # the most frequent base alone: about a quarter
    assert accuracy[1] > 0.97  # a neighbour on either side gives it away (unless both are hidden): 0.984, counted


def test_pretrain_writes_a_run_that_fine_tuning_starts_from(tmp_path):
    import torch

    from seqcnn.jobs.train import transfer
    from seqcnn.models import zoo
    from seqcnn.models.network import build_model
    from seqcnn.runs.folder import load_model

    letters = np.array(list("ACGT"))
    data = tmp_path / "seqs.txt"
    data.write_text("\n".join("".join(letters[row]) for row in _periodic(120, 32)) + "\n")
    run = pretrain(data, tmp_path / "pre", config=PretrainConfig(epochs=2, batch_size=32), progress=None)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["held_out_sequences"] == 12 and metrics["best_kmer_accuracy"] > 0.93  # misses: both sides hidden
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


# --- from a store, and under torchrun ------------------------------------------------------

TINY_SPEC = [{"Conv1D": {"filters": 8, "kernel_size": 5, "padding": "same", "activation": "relu"}},
             {"Conv1D": {"filters": 4, "kernel_size": 1}}]  # no dropout: runs compare exactly


def _tiny(tmp_path) -> str:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY_SPEC))
    return str(path)


def _fasta_and_store(tmp_path, n: int = 120, length: int = 30):
    """The same random sequences as a FASTA file and as a store of several shards (``--negatives none``)."""
    from seqcnn.data.prepare import prepare

    letters = np.array(list("ACGT"))
    rows = np.random.default_rng(3).integers(0, 4, (n, length))
    fasta = tmp_path / "seqs.fa"
    fasta.write_text("".join(f">s{i}\n{''.join(letters[row])}\n" for i, row in enumerate(rows)))
    store = prepare([fasta], tmp_path / "store", negatives="none", shard_rows=17, progress=False)
    return fasta, store


def _weights(run) -> dict:
    from safetensors.numpy import load_file

    return load_file(str(run / "model.safetensors"))


def test_pretraining_from_a_store_equals_pretraining_from_its_file(tmp_path):
    fasta, store = _fasta_and_store(tmp_path)
    config = PretrainConfig(model=_tiny(tmp_path), epochs=2, batch_size=16)
    a = pretrain(fasta, tmp_path / "file", config=config, progress=None)
    b = pretrain(store, tmp_path / "store-run", config=config, progress=None)
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)
    ma, mb = (json.loads((r / "metrics.json").read_text()) for r in (a, b))
    assert ma == mb and ma["held_out_sequences"] == 12 and ma["train_sequences"] == 108
    assert json.loads((b / "config.json").read_text())["data_kind"] == "store"
    # the held-out part depends on the seed: another seed holds out other sequences
    c = pretrain(store, tmp_path / "seed1", config=PretrainConfig(model=config.model, epochs=1, seed=1), progress=None)
    assert json.loads((c / "metrics.json").read_text())["hidden_positions"] != ma["hidden_positions"]


def test_store_pretraining_reads_batch_by_batch_never_the_whole_store(tmp_path, monkeypatch):
    import seqcnn.training.pretrain as pretrain_module
    from seqcnn.data.store import Store
    from seqcnn.training.pretrain import StoreRows

    _, store = _fasta_and_store(tmp_path)
    reads = []
    read = StoreRows.read
    monkeypatch.setattr(StoreRows, "read", lambda self, rows: reads.append(len(rows)) or read(self, rows))
    monkeypatch.setattr(pretrain_module, "COUNT_POSITIONS", 30 * 20)  # k-mer counting: 20 rows at a time

    def refuse(*args, **kwargs):
        raise AssertionError("a store must not be read into memory, nor through its memory maps")

    monkeypatch.setattr(pretrain_module, "read_codes", refuse)
    monkeypatch.setattr(Store, "read", refuse)  # mapped pages would stay resident
    run = pretrain(store, tmp_path / "pre", config=PretrainConfig(model=_tiny(tmp_path), epochs=3, batch_size=16),
                   progress=None)
    assert max(reads) <= 20  # one batch (16) or one counting chunk (20), never the 120 rows
    # 3 epochs x (108 training + 12 held-out rows), then the k-mer tables and baselines: every row read once a pass
    assert sum(reads) == 3 * 120 + 120
    assert json.loads((run / "metrics.json").read_text())["train_sequences"] == 108


def test_store_rows_are_read_across_shards_in_the_order_asked(tmp_path):
    from seqcnn.data.store import Store, StoreWriter
    from seqcnn.training.pretrain import StoreRows

    codes = np.random.default_rng(5).integers(0, 5, (50, 7)).astype(np.uint8)
    with StoreWriter(tmp_path / "s", 7, shard_rows=8, ids=False) as writer:
        writer.add(codes, np.zeros(50, np.int64))
    source = StoreRows(Store(tmp_path / "s"))
    rows = np.array([49, 6, 7, 8, 9, 0, 31, 30, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 3])  # runs that cross shards
    assert np.array_equal(source.read(rows), codes[rows])


def test_a_shuffled_pass_over_blocks_of_rows_reads_each_row_once(tmp_path, monkeypatch):
    import seqcnn.training.pretrain as pretrain_module
    from seqcnn.data.store import Store, StoreWriter
    from seqcnn.training.pretrain import StoreRows, row_batches

    with StoreWriter(tmp_path / "s", 4, shard_rows=3000, ids=False) as writer:
        writer.add(np.zeros((9000, 4), np.uint8), np.zeros(9000, np.int64))
    source = StoreRows(Store(tmp_path / "s"))
    assert (source.blocks[:, 1] - source.blocks[:, 0]).max() == 2  # 9,000 rows: blocks of 2
    monkeypatch.setattr(pretrain_module, "WINDOW_ROWS", 1000)
    part = source.blocks[::3]  # a third of the blocks, as a held-out part would be
    batches = list(row_batches(part, 64, np.random.default_rng(0)))
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == sorted(pretrain_module._rows_of(part).tolist())  # every row, once
    assert all(len(b) == 64 for b in batches[:-1]) and len(batches[-1]) <= 64
    assert not np.array_equal(rows, np.sort(rows))  # shuffled
    pairs = {(r // 2) for r in rows[:500]}
    assert len(pairs) > 250  # rows of a block are mixed with others within the window, not read in pairs
    window = {(r // 2) for r in rows[:960]}  # the first 15 batches: all from the first window
    assert len(window) <= 500  # ... but only within a window of 500 blocks
    ordered = np.concatenate(list(row_batches(part, 64)))
    assert np.array_equal(ordered, np.sort(ordered))


def test_bad_stores_and_models_are_refused_in_one_line(tmp_path, capsys):
    from seqcnn.cli import main

    _, store = _fasta_and_store(tmp_path)
    assert main(["pretrain", str(store), "--max-sequences", "10", "--out", str(tmp_path / "a")]) == 2
    assert "--max-sequences picks sequences of a file" in capsys.readouterr().err
    assert main(["pretrain", str(store), "--model", "mlm-classifier", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "pretraining needs 4 base logits per position" in err and len(err.strip().splitlines()) == 1
    manifest = json.loads((store / "manifest.json").read_text())
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "manifest.json").write_text(json.dumps({**manifest, "count": 0, "shards": []}))
    assert main(["pretrain", str(empty), "--out", str(tmp_path / "c")]) == 2
    assert "the store holds no sequences" in capsys.readouterr().err
    (store / manifest["shards"][0]["codes"]).write_bytes(b"ACGT")  # a damaged shard
    assert main(["pretrain", str(store), "--out", str(tmp_path / "d")]) == 2
    assert "the store is damaged" in capsys.readouterr().err


def test_a_store_with_shuffled_negatives_is_pretrained_whole_with_a_note(tmp_path, capsys):
    from seqcnn.data.prepare import prepare

    fasta, _ = _fasta_and_store(tmp_path)
    store = prepare([fasta], tmp_path / "with-negatives", progress=False)  # adds shuffled copies (label 0)
    run = pretrain(store, tmp_path / "pre", config=PretrainConfig(model=_tiny(tmp_path), epochs=1), progress=None)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train_sequences"] + metrics["held_out_sequences"] > 120
    assert "labels ignored" in capsys.readouterr().err


def test_two_processes_pretrain_the_model_one_process_pretrains(tmp_path, monkeypatch):
    """The same global batches and masks in 1 and 2 processes: the same weights, bit for bit.

    Each step, DDP's 2 ranks take the gradient of their halves of the batch (summed loss times
    ``2 / hidden positions``), halve them and gloo adds the two. The one-process run here does the
    same operations in the same order (see ``tests/test_distributed.py`` for why a whole-batch
    backward pass cannot be held to a bound that holds on every CPU): its loss is the sum of the
    two halves' losses, each half through the model on its own, so backward gives each half the
    gradient of its summed loss times ``1 / hidden positions`` (exactly half of a rank's: a factor
    of 2 is exact in float32) and autograd adds the two. Both sides run on one thread.
    """
    import os
    import subprocess
    import sys

    import torch

    import seqcnn.training.pretrain as pretrain_module

    _, store = _fasta_and_store(tmp_path)
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(key, raising=False)
    spec = _tiny(tmp_path)
    whole_batch = pretrain_module.masked_loss_sum

    def two_slices(model, codes, hidden):
        if not torch.is_grad_enabled():  # held-out batches: whole, as each rank evaluates its own
            return whole_batch(model, codes, hidden)
        n = len(codes)
        halves = [whole_batch(model, codes[lo:hi], hidden[lo:hi]) for lo, hi in ((0, n // 2), (n // 2, n))]
        return halves[0][0] + halves[1][0], halves[0][1] + halves[1][1]

    monkeypatch.setattr(pretrain_module, "masked_loss_sum", two_slices)
    threads = torch.get_num_threads()
    try:  # one thread, as each rank has (OMP_NUM_THREADS=1): a kernel may split its sums by thread
        single = pretrain(store, tmp_path / "one", config=PretrainConfig(model=spec, epochs=2, batch_size=16,
                                                                         threads=1), progress=None)
    finally:
        torch.set_num_threads(threads)
    import seqcnn

    src = str(Path(seqcnn.__file__).resolve().parents[1])  # the tree under test, whatever the working folder
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    two = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "seqcnn",
         "pretrain", str(store), "--model", spec, "--epochs", "2", "--batch-size", "16", "--out", str(tmp_path / "two"),
         "--quiet"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert two.returncode == 0, two.stderr[-2000:]
    assert two.stdout.count("run folder:") == 1  # rank 1 prints nothing
    assert not (tmp_path / "runs").exists()  # and makes no folder of its own
    record = json.loads((tmp_path / "two" / "config.json").read_text())["distributed"]
    assert record["world_size"] == 2 and record["backend"] == "gloo"
    assert record["weights_sha256"][0] == record["weights_sha256"][1]
    a, b = _weights(single), _weights(tmp_path / "two")
    for name in a:  # the same float32 operations in the same order (docstring): no tolerance
        assert np.array_equal(a[name], b[name]), f"{name} differs by {np.abs(a[name] - b[name]).max():.3g}"
    assert not np.allclose(a["layers.0.weight"], _initial(spec)["layers.0.weight"], atol=1e-3)  # they did train
    ma, mb = (json.loads((r / "metrics.json").read_text()) for r in (single, tmp_path / "two"))
    assert ma["kmer_baselines"] == mb["kmer_baselines"] and ma["hidden_positions"] == mb["hidden_positions"]
    # Held-out batches go through equal weights whole on both sides; each rank adds up its own batches' losses
    # (float64) before the sum over ranks: another grouping, rounding near 1e-16 of a loss near ln 4.
    assert ma["accuracy"] == mb["accuracy"] and abs(ma["loss"] - mb["loss"]) < 1e-12


def _initial(spec: str) -> dict:
    import torch

    from seqcnn.training.pretrain import build_trunk

    torch.manual_seed(0)
    return {k: v.numpy() for k, v in build_trunk(spec, (4, 30)).state_dict().items()}
