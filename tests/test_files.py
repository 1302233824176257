"""The leaf module of file writes: whole or nothing, JSON, SHA-256, safe names."""

from __future__ import annotations

import hashlib

import pytest

from seqcnn.errors import InputError
from seqcnn.files import atomic_open, atomic_write_json, file_sha256, read_json, safe_name


def test_atomic_open_leaves_old_file_and_no_temp_when_the_writer_raises(tmp_path):
    target = tmp_path / "predictions.tsv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as handle:
        handle.write("half of the new\n")
        raise RuntimeError("prediction failed")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["predictions.tsv"]


def test_json_round_trip_sha256_and_errors(tmp_path):
    path = tmp_path / "a" / "x.json"
    atomic_write_json(path, {"n": 3, "p": tmp_path})
    assert read_json(path) == {"n": 3, "p": str(tmp_path)}
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError, match="bad.json: corrupt JSON"):
        read_json(tmp_path / "bad.json")
    with pytest.raises(InputError, match="nope.json: file not found"):
        read_json(tmp_path / "nope.json")


def test_safe_name():
    assert safe_name("../chr1:5-9/x") == "_chr1_5-9_x"
    assert safe_name("...") == "run"
