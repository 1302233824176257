"""constraints-min.txt pins every direct dependency at the floor that pyproject.toml declares."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _declared_floors() -> dict[str, Version]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floors = {}
    extras = [line for lines in project["optional-dependencies"].values() for line in lines]
    for line in project["dependencies"] + extras:
        req = Requirement(line)
        lows = [Version(s.version) for s in req.specifier if s.operator == ">="]
        assert len(lows) == 1, f"pyproject.toml: {line!r} should declare one floor (>=)"
        floors[req.name.lower()] = lows[0]
    return floors


def _pinned() -> dict[str, Version]:
    pins = {}
    for n, line in enumerate((ROOT / "constraints-min.txt").read_text().splitlines(), 1):
        line = line.split("#")[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][0-9a-z.]*)", line)
            assert match, f"constraints-min.txt, line {n}: expected NAME==VERSION, got {line!r}"
            pins[match[1].lower()] = Version(match[2])
    return pins


def test_constraints_min_pins_each_declared_floor():
    assert _pinned() == _declared_floors()


def test_make_installs_every_extra():
    # make test and make test-min install every optional extra, so that the extras' code is tested at both ends
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    installs = re.findall(r"-e '\.\[([a-z,]+)\]'", (ROOT / "Makefile").read_text())
    assert len(installs) == 2, installs  # make test and make test-min
    for install in installs:
        assert set(install.split(",")) == extras, install
