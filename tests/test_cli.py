"""End-to-end tests of each CLI verb, run in temporary folders."""

import json

import numpy as np
import pytest

METRIC_KEYS = {"accuracy", "auroc", "auprc", "confusion_matrix", "precision", "recall"}


def test_train_writes_a_complete_run_folder(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {
        "config.json",
        "model.json",
        "model.safetensors",
        "history.csv",
        "metrics.json",
        "predictions.tsv",
        "plots",
    } <= names
    assert {p.name for p in (trained_run / "plots").iterdir()} >= {"history.png", "confusion.png", "roc_pr.png"}
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert METRIC_KEYS <= set(metrics)
    cm = np.array(metrics["confusion_matrix"])
    assert cm.sum() == 500 and metrics["accuracy"] == pytest.approx(np.trace(cm) / 500)
    assert len((trained_run / "history.csv").read_text().splitlines()) == 11
    assert len((trained_run / "predictions.tsv").read_text().splitlines()) == 501
    assert not list(trained_run.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_train_cli_on_primer_files_and_refuses_to_overwrite(cli, primer_files, tmp_path):
    seqs, labels = primer_files
    out = tmp_path / "run"
    code, stdout, _ = cli("train", seqs, "--labels", labels, "--epochs", "2", "--out", out, "--quiet")
    assert code == 0 and "test: accuracy" in stdout and str(out) in stdout
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["split"] == {
        "train": 1125,
        "validation": 375,
        "test": 500,
        "test_size": 0.25,
        "val_size": 0.25,
    }
    assert len(config["data"]["sha256"]) == 2
    import torch

    expected = (
        f"cuda ({torch.cuda.get_device_name()})" if torch.cuda.is_available() else "cpu (1 thread)"
    )  # the primer model gets one CPU thread
    assert config["machine"]["device"] == expected
    code, _, err = cli("train", seqs, "--labels", labels, "--epochs", "1", "--out", out, "--quiet")
    assert code == 2 and "already exists" in err and "--force" in err


def test_predict_and_evaluate(cli, trained_run, tmp_path):
    from seqcnn.data.builtin import simulate_primer

    sim = simulate_primer(n=50, seed=9)
    fasta = tmp_path / "new.fa"
    fasta.write_text("".join(f">{i} label={int(lab)}\n{s}\n" for i, s, lab in zip(sim.ids, sim.seqs, sim.labels)))
    out = tmp_path / "pred.tsv"
    code, stdout, _ = cli("predict", trained_run, fasta, "-o", out)
    assert code == 0 and str(out) in stdout
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    assert rows[0] == ["id", "probability", "predicted"] and len(rows) == 51
    assert all(0 <= float(r[1]) <= 1 and r[2] == str(int(float(r[1]) > 0.5)) for r in rows[1:])
    code, stdout, _ = cli("evaluate", trained_run, fasta, "--json")
    metrics = json.loads(stdout)
    assert code == 0 and METRIC_KEYS <= set(metrics) and metrics["n"] == 50
    predicted = np.array([int(r[2]) for r in rows[1:]])
    assert metrics["accuracy"] == pytest.approx((predicted == sim.labels).mean())


def test_summary_and_models(cli):
    code, stdout, _ = cli("summary", "primer", "--length", "50")
    assert code == 0 and "Total params: 6,226" in stdout and "(None, 39, 32)" in stdout
    code, stdout, _ = cli("models")
    assert code == 0 and "primer" in stdout and "6,226" in stdout


@pytest.mark.parametrize(
    "files, extra, message",
    [
        ({}, ["missing.fa"], "missing.fa: file not found"),
        ({"e.fa": ""}, ["e.fa"], "e.fa: no FASTA records found"),
        ({"x.fa": "ACGT\n"}, ["x.fa"], "x.fa, line 1: sequence data before the first '>'"),
        (
            {"h.fa": ">a label=1\n>b label=0\nACGT\n"},
            ["h.fa"],
            'h.fa, line 1 \\(record "a"\\): header without a sequence',
        ),
        (
            {"c.fa": ">a label=1\nACGT\n>b label=0\nACZT\n"},
            ["c.fa"],
            "c.fa \\(record \"b\"\\): invalid character 'Z' at position 3",
        ),
        (
            {"s.txt": "ACGT\nACGA\n", "l.txt": "1\n"},
            ["s.txt", "--labels", "l.txt"],
            "l.txt: 1 labels, but .*s.txt has 2 sequences",
        ),
        (
            {"s.txt": "ACGT\nACGA\n", "l.txt": "1\nno\n"},
            ["s.txt", "--labels", "l.txt"],
            # text classes are accepted now; two classes of one member each cannot be trained and tested
            's.txt, line 1 \\(record "line1"\\): class .1. of target .label. has one member',
        ),
        (
            {"one.fa": ">a label=0\nACGT\n>b label=0\nACGA\n"},
            ["one.fa"],
            "all 2 values of target 'label' are '0'; classification needs at least 2 classes",
        ),
        ({}, ["--model", "resnet"], "unknown model 'resnet'; valid models: primer"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, tmp_path, monkeypatch, files, extra, message):
    import re

    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    code, _, err = cli("train", *extra, "--epochs", "1", "--quiet", "--out", tmp_path / "run")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("seqcnn: error: ")
    assert re.search(message, err), err
    assert not (tmp_path / "run").exists()  # nothing created for bad input
