"""Faults during training: NaN losses, Ctrl-C, kill -9 and resume, a full disk, reruns.

The subprocess tests train the primer model on 600 simulated sequences for a few epochs, on
one thread (the same arithmetic in every process). An epoch takes about 15 ms, so the runs that
are killed or interrupted stall mid-epoch 2 (:data:`STALLED`) until the signal comes: where it
lands does not depend on the machine's speed.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seqcnn.runs.training_state import STATE_FILE, load_training_state
from seqcnn.version import version

EPOCHS = "8"
OPTIONS = ["--model", "primer", "--epochs", EPOCHS, "--seed", "3", "--threads", "1", "--quiet"]


def failure_lines(err: str) -> list[str]:
    """stderr without the lines a run prints when it starts (the target column, the task, the strands and the
    recipe it inferred)."""
    started = ("(the only column that could be a label)", "seqcnn: task: ", "seqcnn: strands: ",
               "has a recipe tuned for it")
    return [line for line in err.strip().splitlines() if not any(s in line for s in started)]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """600 labelled 50 bp sequences (the primer recipe) as FASTA."""
    from seqcnn.data.builtin import simulate_primer

    sim = simulate_primer(n=600, seed=11)
    path = tmp_path_factory.mktemp("data") / "sim.fa"
    path.write_text("".join(f">{i} label={int(y)}\n{s}\n" for i, s, y in zip(sim.ids, sim.seqs, sim.labels)))
    return path


def seqcnn(*args, **kwargs) -> subprocess.Popen:
    """Start ``python -m seqcnn ARGS`` in a new process."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "seqcnn", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


#: ``python -c`` program: ``seqcnn ARGS`` whose training stops in its first step after the first checkpoint
#: (mid-epoch 2) until it is killed or interrupted. An epoch of these runs takes about 15 ms, so a run left to
#: itself could end before the test's signal arrived on a busy or a fast machine.
STALLED = """
import sys, time
from pathlib import Path
from seqcnn.cli import console
from seqcnn.runs.training_state import STATE_FILE
from seqcnn.training import loop
state, real = Path(sys.argv[sys.argv.index("--out") + 1]) / STATE_FILE, loop.train_step
def stalled(*args, **kwargs):
    if state.exists():  # epoch 1 is saved
        time.sleep(3600)
    return real(*args, **kwargs)
loop.train_step = stalled
sys.argv = ["seqcnn", *sys.argv[1:]]
console()
"""


def stalled_seqcnn(*args) -> subprocess.Popen:
    """Start ``seqcnn ARGS`` (with ``--out``) in a new process that stalls mid-epoch 2 (:data:`STALLED`)."""
    return subprocess.Popen([sys.executable, "-c", STALLED, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Poll until ``path`` exists (the first epoch is saved); fail if the process ends first."""
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"the run ended before {path.name} appeared: {proc.communicate()}"
        assert time.monotonic() < end, f"{path} did not appear"
        time.sleep(0.005)


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(run / "model.safetensors")


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), f"{key} differs between {a} and {b}"


@pytest.fixture(scope="module")
def reference(tmp_path_factory, data) -> Path:
    """An uninterrupted run, in a subprocess like the runs it is compared with."""
    out = tmp_path_factory.mktemp("faults") / "reference"
    code, _, err = finish(seqcnn("train", data, *OPTIONS, "--out", out))
    assert code == 0, err
    return out


def test_kill_9_then_resume_gives_the_same_weights(reference, data, tmp_path):
    run = tmp_path / "killed"
    proc = stalled_seqcnn("train", data, *OPTIONS, "--out", run)
    wait_for(run / STATE_FILE, proc)
    proc.kill()  # SIGKILL: no handler runs, nothing is flushed
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (run / "metrics.json").exists(), "the run finished before it was killed; the test proves nothing"
    assert load_training_state(run / STATE_FILE)["epoch"] == 1  # killed in epoch 2
    code, out, err = finish(seqcnn("train", "--resume", run, "--quiet"))
    assert code == 0, err
    assert str(run) in out and not (run / STATE_FILE).exists()
    assert_same_weights(reference, run)  # bit for bit
    assert json.loads((run / "metrics.json").read_text()) == json.loads((reference / "metrics.json").read_text())
    history = (run / "history.csv").read_text().splitlines()
    assert len(history) == int(EPOCHS) + 1  # the epochs before the kill come from the checkpoint


def test_config_rerun_is_identical(reference, tmp_path):
    """The same seed on the same machine gives the same weights and metrics; --config reruns a run."""
    again = tmp_path / "again"
    code, _, err = finish(seqcnn("train", "--config", reference / "config.json", "--out", again, "--quiet"))
    assert code == 0, err
    assert_same_weights(reference, again)
    ref, new = (json.loads((d / "metrics.json").read_text()) for d in (reference, again))
    assert new == ref
    config = json.loads((again / "config.json").read_text())
    assert config["arguments"]["seed"] == 3 and config["arguments"]["epochs"] == int(EPOCHS)
    assert {"seqcnn", "torch", "numpy", "python"} <= set(config["versions"])
    assert config["versions"]["seqcnn"] == version()  # the run names the code that made it (the same checkout)


def test_ctrl_c_saves_a_resumable_checkpoint_and_says_how_to_resume(data, tmp_path):
    run = tmp_path / "interrupted"
    proc = stalled_seqcnn("train", data, *OPTIONS, "--out", run)
    wait_for(run / STATE_FILE, proc)
    proc.send_signal(signal.SIGINT)
    code, _, err = finish(proc)
    assert code == 130
    lines = failure_lines(err)
    assert len(lines) == 1 and "Traceback" not in err
    assert f"seqcnn train --resume {run}" in lines[0] and "epoch" in lines[0]
    state = load_training_state(run / STATE_FILE)
    assert state["epoch"] == 1 and len(state["history"]["rows"]) == 1  # interrupted in epoch 2
    assert not list(run.glob(".*.tmp"))  # no half-written file left behind


def test_nan_loss_names_epoch_and_batch_and_keeps_the_last_good_checkpoint(monkeypatch, tmp_path, cli, data):
    import math

    import seqcnn.training.loop as training  # the loop calls batch_loss by this name

    real, calls = training.batch_loss, []
    per_epoch = math.ceil(600 * 0.75 * 0.75 / 100)  # training batches of 100 in an epoch

    def poisoned(logits, y, act, *rest):  # the 3rd training batch of epoch 2 gives NaN
        loss = real(logits, y, act, *rest)
        if torch.is_grad_enabled():
            calls.append(1)
            if len(calls) == per_epoch + 3:
                return loss * float("nan")
        return loss

    monkeypatch.setattr(training, "batch_loss", poisoned)
    run = tmp_path / "nan"
    code, _, err = cli("train", data, *OPTIONS, "--batch-size", "100", "--out", run)
    assert code == 2
    assert "loss is nan at epoch 2, batch 3" in err and f"--resume {run}" in err
    assert len(failure_lines(err)) == 1
    state = load_training_state(run / STATE_FILE)
    assert state["epoch"] == 1 and all(torch.isfinite(t).all() for t in state["model"].values())
    assert not (run / "model.safetensors").exists()  # no model that looks finished


def test_full_disk_leaves_previous_files_intact(monkeypatch, tmp_path, cli, data):
    from seqcnn.files import atomic_write_bytes

    target = tmp_path / "file.json"
    target.write_bytes(b"old")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError) as info:
        atomic_write_bytes(target, b"new contents")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["file.json"]
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text('{"kept": true}\n')
    code, _, err = cli("train", data, *OPTIONS, "--out", run, "--force")
    assert code == 2 and "No space left on device" in err and "config.json" in err
    assert len(failure_lines(err)) == 1
    assert (run / "config.json").read_text() == '{"kept": true}\n' and sorted(p.name for p in run.iterdir()) == [
        "config.json"
    ]


def test_pickle_weights_are_refused_unless_trusted(tmp_path, cli, data):
    from seqcnn.models import zoo
    from seqcnn.models.network import build_model
    from seqcnn.runs.folder import save_model
    from seqcnn.training.transfer import load_state_dict_file

    pt = tmp_path / "model.pt"
    pt.write_bytes(b"not even a pickle")
    code, _, err = cli("train", data, *OPTIONS, "--init-from", pt, "--out", tmp_path / "r")
    assert code == 2 and "pickle" in err and "--trust-pickle" in err and "can run any code" in err
    assert not (tmp_path / "r").exists()  # refused before anything was read or written
    net = build_model(zoo.get("primer"), (4, 50))
    torch.save(net.state_dict(), pt)
    state = load_state_dict_file(pt, trust_pickle=True)  # the user vouched for it
    assert torch.equal(state["layers.0.weight"], net.layers[0].weight)
    folder = tmp_path / "pickled_run"
    save_model(folder, net)
    (folder / "model.safetensors").rename(folder / "model.pth")
    code, _, err = cli("predict", folder, data, "-o", tmp_path / "p.tsv")
    assert code == 2 and "model.pth" in err and "pickle" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "verb", ["predict", "evaluate", "explain", "report", "feature-maps", "summary", "train --resume"]
)
def test_a_pickle_file_given_as_a_run_gets_the_pickle_message(tmp_path, cli, verb):
    pt = tmp_path / "model.pt"
    pt.write_bytes(b"not even a pickle")
    seqs = tmp_path / "s.fa"
    seqs.write_text(">a label=1\nACGTACGT\n")
    extra = {"predict": [seqs, "-o", tmp_path / "p.tsv"], "evaluate": [seqs], "summary": ["--length", "50"]}.get(
        verb, []
    )
    code, _, err = cli(*verb.split(), pt, *extra)
    assert code == 2 and "refusing to read a pickle file" in err and "not found" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_run_with_the_weights_average_resumes_to_the_same_weights(monkeypatch, tmp_path, cli, data):
    """The ``seqcnn`` recipe keeps a moving average of the weights: it is saved with the state and resumed."""
    from seqcnn.runs.training_state import StateSaver

    options = [*OPTIONS, "--recipe", "seqcnn", "--epochs", "4"]
    code, _, err = cli("train", data, *options, "--out", tmp_path / "whole")
    assert code == 0, err
    real = StateSaver.__call__

    def interrupted(self, loop):  # Ctrl-C right after epoch 2 was saved
        real(self, loop)
        if loop.epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(StateSaver, "__call__", interrupted)
    run = tmp_path / "cut"
    code, _, err = cli("train", data, *options, "--out", run)
    assert code == 130 and f"--resume {run}" in err
    state = load_training_state(run / STATE_FILE)
    assert state["epoch"] == 2 and int(state["average"]["n_averaged"]) > 0
    monkeypatch.setattr(StateSaver, "__call__", real)
    code, _, err = cli("train", "--resume", run, "--quiet")
    assert code == 0, err
    assert_same_weights(tmp_path / "whole", run)


def test_a_state_saved_without_an_average_resumes_with_its_own_weights(tmp_path, data):
    """A state from before the average (no "average" entry) with no epoch left: the run ends with the saved
    weights, not with the average's untrained copy of the model made before they were loaded."""
    from seqcnn.data.batches import sequence_set
    from seqcnn.data.builtin import simulate_primer
    from seqcnn.data.sets import to_labelled
    from seqcnn.models import zoo
    from seqcnn.models.network import build_model
    from seqcnn.runs.training_state import restore_training_state
    from seqcnn.training.loop import fit
    from seqcnn.training.recipes import TrainConfig

    sim = to_labelled(simulate_primer(n=200, seed=2))
    train = sequence_set(sim.x, sim.labels)
    torch.manual_seed(0)
    trained = build_model(zoo.get("primer"), (4, 50))
    saved = {}
    fit(trained, train, None, TrainConfig(epochs=2, lr=1e-2), progress=False,
        on_epoch_end=lambda loop: saved.update(state=_state_of(loop)))
    state = saved["state"]
    state.pop("average")  # as an older seqcnn wrote it
    torch.manual_seed(1)
    fresh = build_model(zoo.get("primer"), (4, 50))
    fit(fresh, train, None, TrainConfig(epochs=2, lr=1e-2, average=0.995, restore_best=False), progress=False,
        resume=lambda loop: restore_training_state(state, loop))
    for p, q in zip(fresh.parameters(), trained.parameters()):
        assert torch.equal(p, q)


def _state_of(loop) -> dict:
    """What ``save_training_state`` writes, read back, without a file on disk."""
    import tempfile

    from seqcnn.runs.training_state import save_training_state

    with tempfile.TemporaryDirectory() as tmp:
        save_training_state(Path(tmp) / "state.safetensors", loop)
        return load_training_state(Path(tmp) / "state.safetensors")
