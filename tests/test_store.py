"""The on-disk store: writing in shards, memory-mapped reads, manifest and hashes, splits,
store-backed batches, `seqcnn prepare`, and training from a store."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import random_dna
from seqcnn.data.batches import batches, store_set
from seqcnn.data.prepare import prepare
from seqcnn.data.store import Store, StoreWriter, tile_genome, verify
from seqcnn.errors import InputError
from seqcnn.sequence import encode_batch


def make_store(path, n=1000, length=20, shard_rows=300, seed=0):
    """A store of ``n`` random rows whose label is row % 3; returns the codes and labels written."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 6, size=(n, length), dtype=np.uint8)
    labels = np.arange(n) % 3
    with StoreWriter(path, length, shard_rows=shard_rows) as writer:
        for start in range(0, n, 128):  # appended in chunks that straddle shard ends
            writer.add(codes[start : start + 128], labels[start : start + 128])
    return codes, labels


def test_round_trip_across_shards_in_any_order(tmp_path):
    codes, labels = make_store(tmp_path / "s")
    store = Store(tmp_path / "s")
    assert len(store) == 1000 and len(store.shards) == 4  # 300 + 300 + 300 + 100
    rows = np.random.default_rng(1).permutation(1000)[:257]
    got_codes, got_labels = store.read(rows)
    assert np.array_equal(got_codes, codes[rows]) and np.array_equal(got_labels, labels[rows])
    assert store.ids(np.array([0, 299, 300, 999])) == ["row0", "row299", "row300", "row999"]
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["count"] == 1000 and manifest["length"] == 20
    assert manifest["class_counts"] == np.bincount(labels).tolist()
    assert (tmp_path / "s" / "shard-00000.codes").stat().st_size == 300 * 20  # 1 byte per base


def test_verify_finds_a_changed_shard_and_a_short_one_is_refused(tmp_path):
    make_store(tmp_path / "s")
    assert verify(tmp_path / "s") == []
    shard = tmp_path / "s" / "shard-00001.codes"
    raw = bytearray(shard.read_bytes())
    raw[5] ^= 1
    shard.write_bytes(bytes(raw))
    assert verify(tmp_path / "s") == ["shard-00001.codes"]
    shard.write_bytes(bytes(raw[:-20]))
    with pytest.raises(InputError, match="shard-00001.codes: 5980 bytes, expected 6000"):
        Store(tmp_path / "s")


def test_interrupted_write_leaves_nothing_and_existing_store_is_kept(tmp_path):
    with pytest.raises(RuntimeError):
        with StoreWriter(tmp_path / "s", 10) as writer:
            writer.add(np.zeros((5, 10), np.uint8), np.zeros(5))
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    make_store(tmp_path / "s")
    with pytest.raises(InputError, match="already exists"):
        StoreWriter(tmp_path / "s", 20)
    with pytest.raises(InputError, match="rows of shape \\(7,\\) cannot go into a store of length 20"):
        with StoreWriter(tmp_path / "t", 20) as writer:
            writer.add(np.zeros((2, 7), np.uint8), np.zeros(2))


def test_not_a_store_is_refused(tmp_path):
    with pytest.raises(InputError, match="not a seqcnn store"):
        Store(tmp_path)


def test_split_is_disjoint_and_complete(tmp_path):
    make_store(tmp_path / "s", n=5000)
    whole = Store(tmp_path / "s").all()
    train, val, test = whole.split(0.25, 0.25, seed=3)
    rows = [set(p.rows().tolist()) for p in (train, val, test)]
    assert sum(map(len, rows)) == 5000 and len(set.union(*rows)) == 5000
    assert abs(len(test) - 1250) <= 2 and abs(len(val) - 938) <= 2  # blocks of one row at this size
    again = whole.split(0.25, 0.25, seed=3)[2]
    assert np.array_equal(again.rows(), test.rows())


def test_shuffled_pass_reads_every_row_once_in_full_batches(tmp_path):
    codes, labels = make_store(tmp_path / "s", n=1000)
    data = store_set(Store(tmp_path / "s").all())
    data.window = 3  # several windows, so rows carry over from one window to the next
    table = torch.from_numpy(np.eye(6, 4, dtype=np.float32))
    data.table = table
    seen, sizes = [], []
    for xb, yb in batches(data, 64, shuffle=True, generator=torch.Generator().manual_seed(0)):
        sizes.append(len(yb))
        seen.append(yb.numpy())
        assert xb.shape == (len(yb), 4, 20)
    assert sizes == [64] * 15 + [40]
    assert sorted(np.concatenate(seen).tolist()) == sorted(labels.tolist())
    first = next(batches(data, 1000, shuffle=False))[0]
    assert torch.equal(first, torch.from_numpy(np.eye(6, 4, dtype=np.float32)[codes]).transpose(1, 2))


def test_rank_slices_make_up_the_global_batch(tmp_path):
    make_store(tmp_path / "s", n=999)
    data = store_set(Store(tmp_path / "s").all())
    whole = [y for _, y in batches(data, 100, True, torch.Generator().manual_seed(5))]
    parts = [[y for _, y in batches(data, 100, True, torch.Generator().manual_seed(5), shard=(r, 3))] for r in range(3)]
    assert len(parts[0]) == len(whole) == 10
    for step, y in enumerate(whole):
        assert torch.equal(torch.cat([p[step] for p in parts]), y)


def test_prepare_fasta_and_table_into_one_store(tmp_path):
    seqs = random_dna(30, 12, seed=1)
    fasta = tmp_path / "a.fa"
    fasta.write_text("".join(f">s{i} label={i % 2}\n{s}\n" for i, s in enumerate(seqs[:20])))
    table = tmp_path / "b.tsv"
    table.write_text("id\tsequence\tlabel\n" + "".join(f"t{i}\t{s}\t{i % 2}\n" for i, s in enumerate(seqs[20:])))
    prepare([fasta, table], tmp_path / "s", shard_rows=7, progress=False)
    store = Store(tmp_path / "s")
    codes, labels = store.read(np.arange(30))
    assert np.array_equal(codes, encode_batch(seqs))
    assert labels.tolist() == [i % 2 for i in range(20)] + [i % 2 for i in range(10)]
    assert store.ids(np.array([0, 29])) == ["s0", "t9"]
    assert [s["rows"] for s in store.manifest["sources"]] == [20, 10]


def test_prepare_cli_and_bad_input(cli, tmp_path):
    (tmp_path / "bad.fa").write_text(">a label=1\nACGT\n>b label=0\nACXT\n")
    code, _, err = cli("prepare", tmp_path / "bad.fa", "--out", tmp_path / "s", "--quiet")
    assert code == 2 and "record \"b\"" in err and "'X' at position 3" in err
    assert not (tmp_path / "s").exists()


def test_tiled_genome_windows_are_labelled_by_peak_overlap(tmp_path):
    pytest.importorskip("pyfaidx")
    chrom = "".join(random_dna(1, 95, seed=2)) + "N" * 20
    (tmp_path / "g.fa").write_text(f">chr1\n{chrom}\n")
    (tmp_path / "p.bed").write_text("chr1\t40\t45\n")
    chunks = list(tile_genome(tmp_path / "g.fa", tmp_path / "p.bed", width=10, step=5))
    codes = np.concatenate([c for c, _, _ in chunks])
    labels = np.concatenate([y for _, y, _ in chunks])
    ids = sum((i for _, _, i in chunks), [])
    assert ids[0] == "chr1:0-10" and ids[-1] == "chr1:90-100"  # windows of N only (100..115) are left out
    assert np.array_equal(codes[8], encode_batch([chrom[40:50]])[0])
    assert [i for i, y in zip(ids, labels) if y] == ["chr1:35-45", "chr1:40-50"]


def test_train_cli_reads_a_store(cli, tmp_path):
    seqs = random_dna(400, 30, seed=4)
    labels = [int("GGG" in s) for s in seqs]
    (tmp_path / "d.fa").write_text("".join(f">s{i} label={y}\n{s}\n" for i, (s, y) in enumerate(zip(seqs, labels))))
    assert cli("prepare", tmp_path / "d.fa", "--out", tmp_path / "s", "--quiet")[0] == 0
    code, out, _ = cli(
        "train", tmp_path / "s", "--model", "primer", "--epochs", "2", "--out", tmp_path / "run", "--quiet"
    )
    assert code == 0, out
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (
        config["data"]["split"]["train"] + config["data"]["split"]["validation"] + config["data"]["split"]["test"]
        == 400
    )
    # a store is a labelled table on disk: the defaults panel's recipe, which the named primer model's own replaces
    assert config["recipe"] == "seqcnn" and config["recipe_chosen"].endswith("instead of labelled; --recipe chooses "
                                                                             "another")
    predictions = (tmp_path / "run" / "predictions.tsv").read_text().splitlines()
    assert len(predictions) == 1 + config["data"]["split"]["test"] and predictions[1].split("\t")[0].startswith("s")


def test_store_without_id_files_names_rows_by_number(tmp_path):
    with StoreWriter(tmp_path / "s", 4, shard_rows=3, ids=False) as writer:
        writer.add(np.zeros((5, 4), np.uint8), np.array([0, 1, 0, 1, 1]), ids=["ignored"] * 5)
    store = Store(tmp_path / "s")
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if p.suffix == ".ids") == []
    assert store.ids(np.array([4, 0])) == ["row4", "row0"] and verify(tmp_path / "s") == []


def test_predict_cli_streams_a_store_like_a_file(cli, tmp_path, trained_run):
    seqs = random_dna(70, 50, seed=6)
    (tmp_path / "d.fa").write_text("".join(f">q{i} label={i % 2}\n{s}\n" for i, s in enumerate(seqs)))
    prepare([tmp_path / "d.fa"], tmp_path / "s", shard_rows=16, progress=False)
    from seqcnn.jobs.inference import predict_store
    from seqcnn.runs.folder import load_model

    predict_store(load_model(trained_run), tmp_path / "s", tmp_path / "chunked.tsv", batch_size=8, chunk=32)
    assert cli("predict", trained_run, tmp_path / "s", "-o", tmp_path / "store.tsv")[0] == 0
    assert cli("predict", trained_run, tmp_path / "d.fa", "-o", tmp_path / "file.tsv")[0] == 0
    tables = [
        [line.split("\t") for line in (tmp_path / f"{name}.tsv").read_text().splitlines()]
        for name in ("file", "store", "chunked")
    ]
    assert len(tables[0]) == 71 and tables[0][0] == ["id", "probability", "predicted"]
    for table in tables[1:]:  # same ids and classes; probabilities up to float rounding (batches of other sizes)
        assert [r[0] for r in table] == [r[0] for r in tables[0]] and [r[2] for r in table] == [r[2] for r in tables[0]]
        # printed to 6 significant digits: a last-digit flip is at most 1e-5 relative, float32 rounding far less
        assert np.allclose([float(r[1]) for r in table[1:]], [float(r[1]) for r in tables[0][1:]], rtol=1e-4, atol=1e-7)
