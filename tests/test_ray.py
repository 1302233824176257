"""seqcnn sweep --engine ray: a two-node Ray cluster on this machine (loopback only) gives the local engine's
numbers, uses both nodes, survives losing a node, and names a node that cannot read a file; bad addresses
and a missing extra are refused in one line."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from seqcnn.errors import InputError
from seqcnn.jobs import sweep as sweep_module
from seqcnn.jobs.sweep import Experiment, sweep
from test_sweep import _write_seq_gz  # the same ENCODE-like files as the local engine's tests


@pytest.fixture(scope="module")
def encode_dir(tmp_path_factory):
    """Two experiments of 120 positives (40 bp) with shuffled negatives, and their test files."""
    data = tmp_path_factory.mktemp("data")
    for k, name in enumerate(("EXP1", "EXP2")):
        _write_seq_gz(data / f"{name}_AC.seq.gz", 120, 0, 40, seed=k)
        _write_seq_gz(data / f"{name}_B.seq.gz", 30, 30, 40, seed=10 + k)
    return data


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    """Two tiny spec files: a sweep of 2 experiments x 2 models has 4 cells."""
    import json

    folder = tmp_path_factory.mktemp("specs")
    paths = []
    for name, filters in (("tinyA", 4), ("tinyB", 6)):
        path = folder / f"{name}.json"
        path.write_text(json.dumps([{"Conv1D": {"filters": filters, "kernel_size": 8, "activation": "relu"}},
                                    {"GlobalMaxPooling1D": {}}, {"Dense": {"units": 2, "activation": "softmax"}}]))
        paths.append(str(path))
    return paths


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# These two run before the cluster fixture joins Ray in this process.
def test_unreachable_address_is_refused_in_one_line_within_seconds(cli, encode_dir, specs, tmp_path):
    started = time.time()
    code, _, err = cli("sweep", "--models", specs[0], "--data", encode_dir, "--out", tmp_path / "s", "--engine", "ray",
                       "--address", f"127.0.0.1:{_free_port()}", "--quiet")
    assert code == 2 and time.time() - started < 30
    assert len(err.strip().splitlines()) == 1 and "no Ray head reachable" in err and "--address 127.0.0.1:" in err
    code, _, err = cli("sweep", "--models", specs[0], "--data", encode_dir, "--out", tmp_path / "s", "--address",
                       "127.0.0.1:6379")
    assert code == 2 and "needs --engine ray" in err


def test_missing_extra_names_it(cli, encode_dir, specs, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    code, _, err = cli("sweep", "--models", specs[0], "--data", encode_dir, "--out", tmp_path / "s", "--engine", "ray")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "pip install 'seqcnn[cluster]'" in err


@pytest.fixture(scope="module")
def cluster():
    """A Ray cluster of two nodes (1 CPU each) on 127.0.0.1, joined by this process for the module."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    assert os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER") == "0"  # tests/conftest.py: loopback only
    node = {"num_cpus": 1, "node_ip_address": "127.0.0.1", "object_store_memory": 80 * 1024**2}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    cluster.add_node(**node)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, _node_ip_address="127.0.0.1", log_to_driver=False, configure_logging=False)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def _rows(path):
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def test_ray_cells_give_the_local_numbers_on_both_nodes(cluster, encode_dir, specs, tmp_path):
    local = sweep(specs, encode_dir, tmp_path / "local", threads=1, progress=False, epochs=2)
    remote = sweep(specs, encode_dir, tmp_path / "ray", engine="ray", address=cluster.address, progress=False,
                   epochs=2)
    here, there = _rows(local / "results.tsv"), _rows(remote / "results.tsv")
    assert len(here) == len(there) == 4
    for a, b in zip(here, there):  # same seed, one thread each: the same weights, so the same test metrics
        assert (a["experiment"], a["model"]) == (b["experiment"], b["model"])
        assert (a["auroc"], a["auprc"], a["accuracy"], a["epochs"]) == (b["auroc"], b["auprc"], b["accuracy"],
                                                                        b["epochs"])
    assert {r["node"] for r in here} == {socket.gethostname()}
    nodes = {r["node"] for r in there}
    assert len(nodes) == 2 and all(n.startswith("127.0.0.1/") for n in nodes)  # two 1-CPU nodes, cells side by side
    # resume: finished cells are skipped (their folders untouched)
    marker = remote / "cells" / "EXP1__tinyA" / "model.safetensors"
    kept = marker.stat().st_mtime_ns
    sweep(specs, encode_dir, tmp_path / "ray", engine="ray", progress=False, epochs=2)
    assert marker.stat().st_mtime_ns == kept


def test_a_cell_on_a_lost_node_is_trained_again(cluster, encode_dir, specs, tmp_path):
    import ray

    victim = cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1", object_store_memory=80 * 1024**2)
    cluster.wait_for_nodes()
    victim_id = victim.node_id[:8]
    out = tmp_path / "ray"
    seen: list[str] = []

    def remove_when_busy() -> None:  # remove the node while it trains a cell (node.txt names it)
        deadline = time.time() + 120
        while time.time() < deadline:
            for f in out.glob("cells/*/node.txt"):
                if f.read_text().strip().endswith(victim_id) and not (f.parent / "cell.json").exists():
                    seen.append(f.parent.name)
                    cluster.remove_node(victim)
                    return
            time.sleep(0.05)

    remover = threading.Thread(target=remove_when_busy, daemon=True)
    remover.start()
    sweep(specs, encode_dir, out, engine="ray", progress=False, epochs=12)
    remover.join(5)
    assert seen, "no cell started on the node to remove"
    rows = _rows(out / "results.tsv")
    assert len(rows) == 4 and all(r["auroc"] != "NA" for r in rows)  # the sweep completed
    lost = next(r for r in rows if f"{r['experiment']}__{r['model']}" == seen[0])
    assert not lost["node"].endswith(victim_id)  # trained again on a node that lived
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2


def test_a_node_that_cannot_read_the_data_fails_that_cell_naming_both(cluster, encode_dir, specs, tmp_path,
                                                                     monkeypatch):
    missing = tmp_path / "gone" / "EXP9_B.seq.gz"  # seen by the driver when it listed the data, not by the node
    listed = sweep_module.find_experiments(encode_dir)
    monkeypatch.setattr(sweep_module, "find_experiments",
                        lambda data: [listed[0], Experiment("EXP9", listed[1].train, missing)])
    with pytest.raises(InputError) as info:
        sweep(specs[:1], encode_dir, tmp_path / "s", engine="ray", progress=False, epochs=1)
    message = str(info.value)
    assert "cell EXP9__tinyA failed: node 127.0.0.1/" in message and f"cannot read {missing}" in message
    assert "\n" not in message
    assert [r["experiment"] for r in _rows(tmp_path / "s" / "results.tsv")] == ["EXP1"]  # the other cell finished
    assert "EXP9__tinyA" in (tmp_path / "s" / "failed.tsv").read_text()
