"""Shared fixtures: paths to the real data in ../shared/data, tiny data sets, a trained run."""

from __future__ import annotations

import os
from pathlib import Path

# The tests train tiny models: one thread each is as fast, and immune to a busy machine's cores
# (BENCHMARKS.md, ## Primer: threads). Set before torch is imported; subprocesses inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Ray's test clusters stay on the loopback (tests/test_ray.py): without this Ray swaps a node's 127.0.0.1 for the
# machine's outward address. Read when ray is imported, so set before any test imports it.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PRIMER = SHARED / "zou2019-primer"


#: Test files that are slow as a whole (`pytest -m "not slow"` leaves them out; `make test` runs everything):
#: the tutorial's and the README's commands, training under torchrun, sweeps (local and on a Ray cluster), tuning.
SLOW_FILES = {"test_tutorial.py", "test_readme.py", "test_distributed.py", "test_sweep.py", "test_ray.py",
              "test_tune.py"}


def pytest_collection_modifyitems(config, items):
    """Mark slow: the files of :data:`SLOW_FILES` and every test that reads the real data in ../shared/data
    (through the ``primer_files`` fixture or the ``SHARED`` paths of its module)."""
    for item in items:
        if item.path.name in SLOW_FILES or "primer_files" in getattr(item, "fixturenames", ()) or _reads_shared(item):
            item.add_marker(pytest.mark.slow)


def _reads_shared(item) -> bool:
    """Whether a test function names a module-level path into ../shared/data (``FASHION``, ``ENCODE``...)."""
    function = getattr(item, "function", None)
    if function is None:
        return False
    names = set(function.__code__.co_names)
    return any(isinstance(value, Path) and SHARED in (value, *value.parents)
               for name, value in vars(item.module).items() if name in names)


@pytest.fixture
def primer_files() -> tuple[Path, Path]:
    """The primer's sequences.txt and labels.txt; skips when ../shared/data is absent."""
    seqs, labels = PRIMER / "sequences.txt", PRIMER / "labels.txt"
    if not seqs.is_file():
        pytest.skip(f"real data not found at {PRIMER}")
    return seqs, labels


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process: returns (exit status, stdout, stderr)."""
    from seqcnn.cli import main

    def invoke(*args: str) -> tuple[int, str, str]:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def tiny_spec(tmp_path) -> Path:
    """A spec file of a tiny Conv1D -> global max pool -> softmax model."""
    import json

    path = tmp_path / "tiny.json"
    path.write_text(
        json.dumps(
            [
                {"Conv1D": {"filters": 4, "kernel_size": 8, "activation": "relu"}},
                {"GlobalMaxPooling1D": {}},
                {"Dense": {"units": 2, "activation": "softmax"}},
            ]
        )
    )
    return path


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A small run on the built-in data (10 epochs), shared by tests that only read it."""
    import seqcnn

    out = tmp_path_factory.mktemp("runs") / "primer"
    return seqcnn.train(model="primer", epochs=10, out=out, progress=False)


def random_dna(n: int, length: int, seed: int = 0) -> list[str]:
    """``n`` random A/C/G/T strings of ``length``."""
    rng = np.random.default_rng(seed)
    return ["".join("ACGT"[i] for i in row) for row in rng.integers(0, 4, size=(n, length))]
