"""A small run's path: what it imports, when the result line comes, what a pipe receives, the collapse record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import seqcnn.jobs.train
from conftest import ROOT, random_dna

#: Modules that cost seconds to import and that a small train or predict does not need.
HEAVY = ("sklearn", "scipy", "torch._dynamo")


def _labelled_file(path: Path, n: int = 160, length: int = 30) -> Path:
    """A table of random sequences, half of them carrying a planted motif (label 1)."""
    seqs = random_dna(n, length, seed=3)
    rows = [(s[:10] + "CGACCGAACT" + s[20:], 1) if i % 2 else (s, 0) for i, s in enumerate(seqs)]
    path.write_text("id,sequence,label\n" + "".join(f"s{i},{s},{y}\n" for i, (s, y) in enumerate(rows)))
    return path


def _seqcnn(*args, probe: str = "") -> subprocess.CompletedProcess:
    """``python -m seqcnn ARGS`` in a subprocess, stdout and stderr to pipes; ``probe`` runs at its exit."""
    code = (f"import atexit, runpy, sys\natexit.register(lambda: {probe or 'None'})\n"
            f"sys.argv = ['seqcnn'] + {[str(a) for a in args]!r}\nrunpy.run_module('seqcnn', run_name='__main__')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)


def test_small_train_and_predict_import_no_heavy_module(tmp_path):
    data = _labelled_file(tmp_path / "data.csv")
    probe = f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)"
    done = _seqcnn("train", data, "--epochs", "1", "--out", tmp_path / "run", "--quiet", probe=probe)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stderr
    done = _seqcnn("predict", tmp_path / "run", data, "-o", tmp_path / "p.tsv", probe=probe)
    assert done.returncode == 0 and "HEAVY []" in done.stderr, done.stderr


def test_fifty_epochs_into_a_pipe_print_one_line_per_epoch(tmp_path):
    data = _labelled_file(tmp_path / "data.csv")
    done = _seqcnn("train", data, "--epochs", "50", "--batch-size", "64", "--out", tmp_path / "run")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.encode()) + len(done.stderr.encode()) <= 20_000
    epochs = [line for line in done.stderr.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 50 and epochs[-1].startswith("epoch 50/50") and "\r" not in done.stderr
    assert done.stdout.splitlines()[0].startswith("test: accuracy")


def test_result_line_comes_before_the_plots(tmp_path):
    seen = []

    def announce(line: str) -> None:
        seen.append((line, (tmp_path / "run" / "metrics.json").is_file(), (tmp_path / "run" / "plots").exists()))

    seqcnn.jobs.train.train(_labelled_file(tmp_path / "data.csv"), epochs=2, out=tmp_path / "run", progress=False,
                     announce=announce)
    assert len(seen) == 1 and seen[0][0].startswith("test: accuracy")
    assert seen[0][1:] == (True, False)  # metrics written, no plot drawn yet
    assert (tmp_path / "run" / "plots" / "history.png").is_file()


def test_a_collapse_is_recorded_in_config_and_named_in_the_result_line(tmp_path, monkeypatch):
    real_fit = seqcnn.jobs.train.fit

    def collapsing_fit(*args, **kwargs):  # the real training, then a collapse at epoch 3 as fit reports one
        history = real_fit(*args, **kwargs)
        history.collapses = [{"epoch": 3, "loss": 2.0, "best_loss": 0.01, "val_accuracy": 0.5,
                              "best_val_accuracy": 0.99, "recovered": None, "kept_epoch": 2}]
        return history

    monkeypatch.setattr(seqcnn.jobs.train, "fit", collapsing_fit)
    lines = []
    run = seqcnn.jobs.train.train(_labelled_file(tmp_path / "data.csv"), epochs=3, out=tmp_path / "run", progress=False,
                           announce=lines.append)
    training = json.loads((run / "config.json").read_text())["training"]
    assert training["kept_epoch"] == 2 and [c["epoch"] for c in training["collapses"]] == [3]
    assert set(training) == {"best_epoch", "kept_epoch", "collapses"}
    assert "training collapsed at epoch 3; the weights of epoch 2 are kept" in lines[0]


def test_no_training_record_without_a_collapse(tmp_path):
    run = seqcnn.jobs.train.train(_labelled_file(tmp_path / "data.csv"), epochs=1, out=tmp_path / "run", progress=False)
    assert "training" not in json.loads((run / "config.json").read_text())


def _console(argv: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """``seqcnn ARGV`` through the program's entry point, with an exit handler that prints a word."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handler ran', file=sys.stderr))\n"
        f"sys.argv = ['seqcnn', *{argv!r}]\n"
        "from seqcnn.cli import console\n"
        "console()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)


def test_the_program_exits_with_main_status_after_exit_handlers_and_flushed_output(tmp_path):
    ok = _console(["models"], tmp_path)
    assert ok.returncode == 0
    assert "chipseq" in ok.stdout  # written through a buffered pipe, flushed before the fast exit
    assert ok.stderr.strip().endswith("exit handler ran")
    bad = _console(["summary", "no-such-model"], tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.startswith("seqcnn: error:")
    assert "exit handler ran" in bad.stderr
