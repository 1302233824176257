"""seqcnn sweep: experiments x models, resumable, results table, box plot, summary."""

import gzip
import json
import os
import socket

import numpy as np
import pytest

from seqcnn.errors import InputError, SpecError
from seqcnn.jobs.sweep import find_experiments, grid_specs, parse_grid, ranking_note

MOTIF = "CACGTGAC"


def _write_seq_gz(path, n_pos, n_neg, length, seed):
    rng = np.random.default_rng(seed)
    rows = ["FoldID\tEventID\tseq\tBound"]
    for i in range(n_pos + n_neg):
        seq = "".join("ACGT"[j] for j in rng.integers(0, 4, length))
        if i < n_pos:
            at = int(rng.integers(0, length - len(MOTIF)))
            seq = seq[:at] + MOTIF + seq[at + len(MOTIF):]
        rows.append(f"A\tpeak{seed}_{i}{'_shuf' if i >= n_pos else ''}\t{seq}\t{int(i < n_pos)}")
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(rows) + "\n")


@pytest.fixture
def encode_dir(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for k, name in enumerate(("EXP1", "EXP2")):
        _write_seq_gz(data / f"{name}_AC.seq.gz", 60, 0, 30, seed=k)
        _write_seq_gz(data / f"{name}_B.seq.gz", 20, 20, 30, seed=10 + k)
    return data


def test_sweep_writes_the_folder_and_resumes(cli, encode_dir, tiny_spec, tmp_path):
    out = tmp_path / "sweep"
    code, stdout, _ = cli(
        "sweep", "--models", tiny_spec, "--data", encode_dir, "--out", out, "--epochs", "1", "--quiet"
    )
    assert code == 0 and "results.tsv" in stdout
    rows = [line.split("\t") for line in (out / "results.tsv").read_text().splitlines()]
    header = ["experiment", "model", "auroc", "auprc", "accuracy", "epochs", "seconds", "params", "task", "pearson",
              "node"]
    assert rows[0] == header
    assert rows[1][8:10] == ["binary", "NA"] and not (out / "tasks.tsv").exists()  # one target: no per-target table
    assert rows[1][10] == socket.gethostname()  # the local engine's node: this machine
    assert [(r[0], r[1]) for r in rows[1:]] == [("EXP1", "tiny"), ("EXP2", "tiny")]
    tiny = rows[1]
    assert int(tiny[7]) == 4 * 4 * 8 + 4 + 4 * 2 + 2 and 0.0 <= float(tiny[2]) <= 1.0 and tiny[5] == "1"
    cell = out / "cells" / "EXP1__tiny"
    assert (cell / "metrics.json").is_file() and (cell / "cell.json").is_file()
    assert json.loads((cell / "config.json").read_text())["data"]["class_counts"] == [
        240,
        60,
    ]  # four shuffled negatives per positive added
    assert (out / "plots" / "auroc_boxplot.png").stat().st_size > 1000
    assert "| tiny |" in (out / "summary.md").read_text()
    assert json.loads((out / "sweep.json").read_text())["experiments"][0]["name"] == "EXP1"
    # resume: a finished cell is kept as it is, a partial one (no cell.json) is trained again
    kept = (cell / "model.safetensors").stat().st_mtime_ns
    partial = out / "cells" / "EXP2__tiny"
    (partial / "cell.json").unlink()
    (partial / "stale.txt").write_text("left by an interrupted run")
    code, _, _ = cli("sweep", "--models", tiny_spec, "--data", encode_dir, "--out", out, "--epochs", "1", "--quiet")
    assert code == 0 and (cell / "model.safetensors").stat().st_mtime_ns == kept
    assert (partial / "cell.json").is_file() and not (partial / "stale.txt").exists()
    assert len((out / "results.tsv").read_text().splitlines()) == 3


def test_find_experiments_pairs_ac_with_b(encode_dir, tmp_path):
    found = find_experiments(encode_dir)
    assert [e.name for e in found] == ["EXP1", "EXP2"] and found[0].test.name == "EXP1_B.seq.gz"
    listing = tmp_path / "list.txt"
    listing.write_text(f"{encode_dir / 'EXP2_AC.seq.gz'} {encode_dir / 'EXP1_B.seq.gz'}\n")
    assert find_experiments(listing)[0].test.name == "EXP1_B.seq.gz"
    listing.write_text("a b c\n")
    with pytest.raises(InputError, match="list.txt, line 1: 3 fields"):
        find_experiments(listing)


def test_grid_expands_and_checks():
    specs = grid_specs(parse_grid(["filters=16,64", "pool=global,local3", "depth=1,2"]))
    assert len(specs) == 8 and specs[0][0] == "grid-f16-k24-global-d1"
    layers = [next(iter(layer.to_obj())) for layer in dict(specs)["grid-f64-k24-local3-d2"].layers]
    assert layers.count("Conv1D") == 2 and layers.count("MaxPooling1D") == 2 and "Flatten" in layers
    with pytest.raises(InputError, match="KEY one of"):
        parse_grid(["width=3"])
    with pytest.raises(SpecError, match="grid-f16-k24-global-d4 does not fit 101 bp"):
        grid_specs({"filters": ["16"], "depth": ["4"]})


def test_ranking_note_compares_with_the_paper():
    note = ranking_note(
        [("zeng2016-1layer_128motif", 0.95), ("zeng2016-1layer", 0.93), ("zeng2016-1layer_1motif", 0.80)]
    )
    assert "Spearman rho 1.00" in note and "best here 1layer_128motif (paper: 1layer_128motif)" in note
    note = ranking_note([("zeng2016-1layer_128motif", 0.80), ("zeng2016-1layer_1motif", 0.90)])
    assert "rho -1.00" in note


def test_pool_workers_are_pinned_round_robin_to_the_visible_gpus(monkeypatch):
    import multiprocessing

    from seqcnn.jobs.sweep import pin_worker, visible_gpus

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5,6")
    assert visible_gpus() == ["3", "5", "6"]
    counter, gpus, seen = multiprocessing.get_context("spawn").Value("i", 0), visible_gpus(), []
    for _ in range(4):  # what four workers' initializers do, one after the other
        pin_worker(counter, gpus)
        seen.append(os.environ["CUDA_VISIBLE_DEVICES"])
    assert seen == ["3", "5", "6", "3"]
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    pin_worker(counter, ["7"])  # one GPU: the worker's environment is left alone
    assert "CUDA_VISIBLE_DEVICES" not in os.environ


def test_sweep_in_a_process_pool_gives_the_in_process_results(cli, encode_dir, tiny_spec, tmp_path):
    """Two spawned workers (with their GPU-pinning initializer) train the same cells to the same numbers."""
    tables = []
    for workers in ("1", "2"):
        out = tmp_path / f"sweep-{workers}"
        code, _, err = cli(
            "sweep",
            "--models",
            tiny_spec,
            "--data",
            encode_dir,
            "--out",
            out,
            "--epochs",
            "1",
            "--quiet",
            "--workers",
            workers,
            "--threads",
            "1",
        )
        assert code == 0, err
        rows = sorted(line.split("\t")[:6] for line in (out / "results.tsv").read_text().splitlines()[1:])
        tables.append(rows)
    assert len(tables[0]) == 2 and tables[0] == tables[1]


def test_results_of_a_multi_target_cell_are_written_per_target(tmp_path):
    from seqcnn.jobs.sweep import write_results

    per_task = {"CTCF": {"auroc": 0.91, "auprc": 0.88}, "REST": {"auroc": 0.75, "auprc": 0.70}}
    rows = [{"experiment": "chip", "model": "chipseq", "auroc": 0.83, "auprc": 0.79, "accuracy": None, "epochs": 3,
             "seconds": 1.0, "params": 10, "task": "multilabel", "pearson": None, "tasks": per_task},
            {"experiment": "old", "model": "primer", "auroc": 0.99, "auprc": 0.98, "accuracy": 0.97, "epochs": 2,
             "seconds": 1.0, "params": 5}]  # a cell written before tasks existed
    write_results(tmp_path / "results.tsv", rows)
    results = [line.split("\t") for line in (tmp_path / "results.tsv").read_text().splitlines()]
    assert results[1][-3:-1] == ["multilabel", "NA"] and results[2][-3:-1] == ["NA", "NA"]
    tasks = [line.split("\t") for line in (tmp_path / "tasks.tsv").read_text().splitlines()]
    assert tasks[0][:5] == ["experiment", "model", "target", "auroc", "auprc"]
    assert [t[2:5] for t in tasks[1:]] == [["CTCF", "0.9100", "0.8800"], ["REST", "0.7500", "0.7000"]]
