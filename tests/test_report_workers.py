"""Report workers: forked before torch, they draw a run's figures and page; the parent draws what they do not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import seqcnn.jobs.train
from conftest import ROOT, random_dna
from seqcnn.report import workers
from seqcnn.report.figures import _stamp_of

pytestmark = pytest.mark.skipif(sys.platform != "linux" or len(os.sched_getaffinity(0)) < 2,
                                reason="report workers are used on Linux with two or more CPUs")

FIGURES = ("history", "confusion", "roc_pr", "calibration")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> tuple[Path, dict]:
    """A binary run trained in this process, its plots and report removed, and its figures' stamps."""
    tmp = tmp_path_factory.mktemp("workers")
    seqs = random_dna(120, 30, seed=5)
    rows = [(s[:10] + "CGACCGAACT" + s[20:], 1) if i % 2 else (s, 0) for i, s in enumerate(seqs)]
    data = tmp / "data.csv"
    data.write_text("id,sequence,label\n" + "".join(f"s{i},{s},{y}\n" for i, (s, y) in enumerate(rows)))
    run = seqcnn.jobs.train.train(data, epochs=2, out=tmp / "run", progress=False)
    stamps = {name: _stamp_of(run / "plots" / f"{name}.png") for name in FIGURES}
    assert all(stamps.values())
    shutil.rmtree(run / "plots")
    (run / "report.html").unlink()
    return run, stamps


#: In a fresh interpreter (no torch): start the workers, optionally kill them, draw, then say what is left.
SCRIPT = """
import os, signal, sys
from seqcnn.report import workers
painters = workers.start()
print("STARTED", painters is not None and len(painters.workers))
if sys.argv[2] == "kill":
    os.kill(painters.workers[0][0], signal.SIGKILL)
if sys.argv[2] == "stop":  # stuck workers: the parent waits REPLY_TIMEOUT, then kills them and draws
    workers.REPLY_TIMEOUT = 1.0
    os.killpg(painters.workers[0][0], signal.SIGSTOP)
print("PAGE", painters.write_report(sys.argv[1]))
print("TORCH", "torch" in sys.modules, "MATPLOTLIB", "matplotlib" in sys.modules)
try:
    os.wait()
    print("CHILD LEFT")
except ChildProcessError:
    print("NO CHILD")
"""


def _draw(run: Path, tmp_path: Path, mode: str, marker: str) -> subprocess.CompletedProcess:
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    env.pop(workers.ENV, None)
    return subprocess.run([sys.executable, "-c", SCRIPT, str(copy), mode, marker], capture_output=True, text=True,
                          env=env, timeout=300)


def _alive_with(marker: str) -> list[int]:
    """Processes whose command line holds ``marker`` (the workers are copies of the script's process)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def _gone(marker: str, timeout: float = 60.0) -> list[int]:
    """Poll until no process holds ``marker``; returns those left after ``timeout`` seconds.

    A killed process leaves ``/proc`` a moment after the signal, later on a busy machine: the tests
    wait for the processes to go instead of sleeping a fixed time (``timeout`` only bounds a hang).
    """
    end = time.monotonic() + timeout
    while (left := _alive_with(marker)) and time.monotonic() < end:
        time.sleep(0.05)
    return left


@pytest.mark.parametrize("mode", ["draw", "kill", "stop"])
def test_workers_draw_the_report_and_leave_no_process(finished_run, tmp_path, mode):
    marker = f"seqcnn-workers-test-{os.getpid()}-{mode}"
    done = _draw(finished_run[0], tmp_path, mode, marker)
    assert done.returncode == 0, done.stderr
    assert "STARTED 2" in done.stdout and "NO CHILD" in done.stdout
    # the parent itself drew nothing unless its workers were killed
    assert f"MATPLOTLIB {mode != 'draw'}" in done.stdout and "TORCH False" in done.stdout
    run = tmp_path / "run"
    page = (run / "report.html").read_text()
    assert page.count('src="data:image/png') >= len(FIGURES)
    for name in FIGURES:  # the figures the training process drew, from the same files
        assert _stamp_of(run / "plots" / f"{name}.png") == finished_run[1][name]
    assert _gone(marker) == []  # the second worker is the first one's child: it ends when its pipe closes


def test_no_workers_with_torch_loaded_or_when_turned_off(monkeypatch):
    assert "torch" in sys.modules  # this test process trained above
    assert workers.start() is None
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setenv(workers.ENV, "0")
    assert workers.start() is None


def _cli(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    env.pop(workers.ENV, None)
    return subprocess.run([sys.executable, "-m", "seqcnn", *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=300)


def test_seqcnn_train_returns_with_the_report_complete(tmp_path):
    seqs = random_dna(120, 30, seed=6)
    data = tmp_path / "data.csv"
    data.write_text("id,sequence,label\n" + "".join(
        f"s{i},{s[:10] + 'CGACCGAACT' + s[20:] if i % 2 else s},{i % 2}\n" for i, s in enumerate(seqs)))
    out = tmp_path / f"run-{os.getpid()}"
    done = _cli("train", data, "--epochs", "1", "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    page = (out / "report.html").read_text()  # complete when the command returned
    assert page.count('src="data:image/png') >= len(FIGURES)
    assert all(_stamp_of(out / "plots" / f"{name}.png") for name in FIGURES)
    bad = _cli("train", tmp_path / "missing.csv", "--out", tmp_path / "bad-run")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "missing.csv" in bad.stderr
    assert _gone(str(out)) == [] and _gone(str(tmp_path / "bad-run")) == []


def test_a_failed_fork_draws_in_the_parent_and_leaks_no_descriptor(tmp_path):
    script = (
        "import os\n"
        "from seqcnn.report import workers\n"
        "def no_fork():\n"
        "    raise BlockingIOError(11, 'Resource temporarily unavailable')\n"
        "os.fork = no_fork\n"
        "before = len(os.listdir('/proc/self/fd'))\n"
        "print('WORKERS', workers.start(), 'LEAKED', len(os.listdir('/proc/self/fd')) - before)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop(workers.ENV, None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "WORKERS None LEAKED 0" in done.stdout


#: Ctrl-C in the parent while the workers draw: the first worker, as it starts its share, has the parent
#: interrupted (SIGALRM, whose handler raises KeyboardInterrupt) and then draws for 30 s. The command must end
#: and take every worker with it, however slow the machine: no fixed wait decides when the interrupt comes.
INTERRUPTED = """
import os, signal, sys, time
from seqcnn.report import figures, workers
real = figures.run_figures
parent = os.getpid()
def slow(*args, only=(), **kwargs):
    if "history" in only:  # the first worker's share
        os.kill(parent, signal.SIGALRM)
    time.sleep(30.0)  # a drawing far longer than the parent takes to stop its workers
    return real(*args, only=only, **kwargs)
figures.run_figures = slow  # the workers are forked with it
def interrupt(*args):
    raise KeyboardInterrupt
signal.signal(signal.SIGALRM, interrupt)
painters = workers.start()
try:
    painters.write_report(sys.argv[1])
except KeyboardInterrupt:
    print("INTERRUPTED")
"""


def test_ctrl_c_while_the_workers_draw_leaves_no_worker_drawing(finished_run, tmp_path):
    marker = f"seqcnn-workers-interrupt-{os.getpid()}"
    copy = tmp_path / "run"
    shutil.copytree(finished_run[0], copy)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MPLBACKEND": "Agg"}
    env.pop(workers.ENV, None)
    done = subprocess.run([sys.executable, "-c", INTERRUPTED, str(copy), marker], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0 and "INTERRUPTED" in done.stdout, done.stderr
    assert _gone(marker, timeout=20.0) == []  # a worker left alive would still be in its 30 s drawing
    assert not (copy / "plots").exists() and not (copy / "report.html").exists()
