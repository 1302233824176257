"""The API reference builds from the docstrings with warnings as errors (mkdocs + mkdocstrings, mkdocs.yml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_api_reference_builds_strictly_from_the_docstrings(tmp_path):
    pytest.importorskip("mkdocstrings_handlers.python", reason="the test extra's mkdocstrings-python is not installed")
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]  # a stale reference (a renamed object, a bad docstring) fails
    from seqcnn.jobs.train import train

    page = (site / "jobs" / "index.html").read_text()
    first_line = train.__doc__.strip().splitlines()[0]
    assert "seqcnn.jobs.train.train" in page and first_line.split(":")[0] in page  # rendered from the docstring
    listed = {p.stem for p in (ROOT / "docs" / "api").glob("*.md")} - {"index", "core"}
    packages = {p.name for p in (ROOT / "src" / "seqcnn").iterdir() if (p / "__init__.py").is_file()} - {"cli"}
    assert listed == packages  # every package has its page (the command line is documented by --help)
