"""seqcnn tune: the search with pruning (here and on Ray), the space file, the layers procedure, the outputs."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from seqcnn.errors import InputError
from seqcnn.jobs.search_space import DEFAULT_SPACE, PARAMETERS, layers_spec, load_space

pytest.importorskip("optuna")

MOTIF = "CACGTGAC"


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """600 sequences of 40 bp, half with a motif (label 1): learnable in a few epochs."""
    rng = np.random.default_rng(0)
    lines = ["sequence\tlabel"]
    for i in range(600):
        seq = "".join("ACGT"[j] for j in rng.integers(0, 4, 40))
        if i % 2:
            at = int(rng.integers(0, 32))
            seq = seq[:at] + MOTIF + seq[at + len(MOTIF):]
        lines.append(f"{seq}\t{i % 2}")
    path = tmp_path_factory.mktemp("tune") / "table.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _tsv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_tune_searches_prunes_and_trains_the_best_on_the_test_part(cli, table, tmp_path):
    out = tmp_path / "t"
    code, stdout, err = cli("tune", table, "--trials", "8", "--epochs", "3", "--out", out, "--quiet")
    assert code == 0, err
    assert "best.json" in stdout and "report.html" in stdout
    rows = _tsv(out / "trials.tsv")
    assert list(rows[0]) == ["trial", "state", *PARAMETERS, "val_auroc", "epochs", "seconds", "node", "error"]
    assert [int(r["trial"]) for r in rows] == list(range(8))
    first = rows[0]  # the search starts from the ChIP-seq default model (1 x 256 kernels of width 12, global max)
    assert (first["layers"], first["filters"], first["kernel"], first["pool"], first["dropout"]) == (
        "1", "256", "12", "global", "0.0000")
    states = [r["state"] for r in rows]
    assert set(states) <= {"COMPLETE", "PRUNED", "FAIL"} and "PRUNED" in states and "FAIL" not in states
    assert all(int(r["epochs"]) < 3 for r in rows if r["state"] == "PRUNED")  # stopped before the cap
    best = json.loads((out / "best.json").read_text())
    complete = [r for r in rows if r["state"] == "COMPLETE"]
    top = max(complete, key=lambda r: float(r["val_auroc"]))
    assert best["trial"] == int(top["trial"]) and best["val_auroc"] == pytest.approx(float(top["val_auroc"]), abs=1e-4)
    assert best["states"]["PRUNED"] == states.count("PRUNED")
    assert best["epochs_spent"] == sum(int(r["epochs"]) for r in rows)
    # best/ is an ordinary run of the best point that retrains it exactly: the same validation loss at the kept epoch
    history = _tsv_csv(out / "best" / "history.csv")
    assert float(history[best["epochs"] - 1]["val_loss"]) == pytest.approx(best["val_loss"], abs=1e-5)
    metrics = json.loads((out / "best" / "metrics.json").read_text())
    assert best["test"]["auroc"] == pytest.approx(metrics["auroc"]) and 0.5 < metrics["auroc"] <= 1.0
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and "Parameter importance" in page
    # the search never saw the test part: best/'s test rows are those the trials' split left out
    from seqcnn.jobs.trial import TuneData, prepared

    train_part, val_part, test_part = prepared(TuneData(str(table))).parts
    tested = {r["id"] for r in _tsv(out / "best" / "predictions.tsv")}
    assert tested == set(test_part.ids) and not tested & (set(train_part.ids) | set(val_part.ids))


def _tsv_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_rerun_continues_the_study(table, tmp_path):
    from seqcnn.jobs.tune import tune

    out = tune(table, out=tmp_path / "t", trials=2, epochs=2, progress=False)
    first = _tsv(out / "trials.tsv")
    tune(table, out=out, trials=3, epochs=2, progress=False)
    rows = _tsv(out / "trials.tsv")
    assert len(rows) == 3 and rows[:2] == first  # two kept from the journal, one more run


@pytest.mark.parametrize(
    ("text", "suffix", "expected"),
    [
        ('{"depth": {"low": 1, "high": 3}}', ".json", "unknown parameter 'depth'; expected one of"),
        ('{"layers": {"low": 3, "high": 2}}', ".json", "parameter 'layers': empty range low=3 high=2"),
        ("filters: {choices: []}\n", ".yaml", "parameter 'filters': empty choices"),
        ("weight_decay: {low: 0, high: 0.1, log: true}\n", ".yaml", "a log range needs low > 0"),
        ("pool: [global, local1]\n", ".yaml", "'local1' is not a pooling"),
        ("dropout: {low: 0.1}\n", ".yaml", "expected {low, high[, log]}, {choices: [...]}, a list or one value"),
        ("pool: {choices: [global, average]}\n", ".yaml", "'average' is not a pooling"),
        ("layers: {low: 1.5, high: 3}\n", ".yaml", "expected a whole number"),
        ("[1, 2]\n", ".yaml", "expected a mapping of parameter names"),
        ("{oops", ".json", "not valid JSON"),
    ],
)
def test_space_file_mistakes_are_named(cli, table, tmp_path, text, suffix, expected):
    space = tmp_path / f"space{suffix}"
    space.write_text(text)
    with pytest.raises(InputError) as info:
        load_space(space)
    assert expected in str(info.value) and str(space) in str(info.value)
    code, _, err = cli("tune", table, "--space", space, "--out", tmp_path / "t")
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err
    assert not (tmp_path / "t").exists()  # refused before anything is written


def test_zero_trials_and_bad_engine_options_are_refused(cli, table, tmp_path):
    code, _, err = cli("tune", table, "--trials", "0", "--out", tmp_path / "t")
    assert code == 2 and "--trials must be at least 1, got 0" in err
    code, _, err = cli("tune", table, "--address", "127.0.0.1:6379", "--out", tmp_path / "t")
    assert code == 2 and "needs --engine ray" in err


def test_a_space_file_replaces_only_what_it_names(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("layers: {low: 1, high: 2}\nkernel: 12\nlr: {low: 0.001, high: 0.01, log: true}\n")
    loaded = load_space(space)
    assert loaded["layers"] == {"low": 1, "high": 2, "log": False} and loaded["kernel"] == {"choices": [12]}
    assert loaded["filters"] == DEFAULT_SPACE["filters"] and loaded["lr"]["log"] is True


def test_every_point_of_the_default_space_fits_101_bp():
    deepest = {"layers": 4, "filters": 32, "kernel": 24, "pool": "local4", "dropout": 0.5}
    spec = layers_spec(deepest, 2)
    shapes = spec.analyse((4, 101))
    assert len([layer for layer in spec.layers if layer.type == "Conv1D"]) == 4 and shapes[-1].params > 0


def test_layers_procedure_adds_layers_then_regularises(cli, table, tmp_path):
    out = tmp_path / "layers"
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"layers": {"low": 1, "high": 3}}))
    code, stdout, err = cli("tune", table, "--procedure", "layers", "--trials", "3", "--epochs", "2", "--space",
                            space, "--out", out, "--quiet")
    assert code == 0, err
    layers = _tsv(out / "layers.tsv")
    assert list(layers[0]) == ["depth", "params", "train_auroc", "val_auroc", "epochs", "seconds", "chosen"]
    assert [int(r["depth"]) for r in layers] == list(range(1, len(layers) + 1)) and len(layers) <= 3
    assert [int(r["params"]) for r in layers] == sorted(int(r["params"]) for r in layers)  # deeper, bigger
    chosen = [r for r in layers if r["chosen"] == "True"]
    assert len(chosen) == 1 and float(chosen[0]["val_auroc"]) == max(float(r["val_auroc"]) for r in layers)
    if len(layers) < 3:  # stopped early: the last depth did not beat the best validation metric before it
        assert float(layers[-1]["val_auroc"]) <= max(float(r["val_auroc"]) for r in layers[:-1])
    assert "depth  parameters" in stdout and "chosen" in err
    trials = _tsv(out / "trials.tsv")
    assert len(trials) == 3 and {r["layers"] for r in trials} == {chosen[0]["depth"]}
    assert len({r["dropout"] for r in trials}) == 3  # the regularisation is what is searched
    best = json.loads((out / "best.json").read_text())
    assert best["layers"]["chosen"] == int(chosen[0]["depth"]) and best["params"]["layers"] == best["layers"]["chosen"]
    assert "How many layers?" in (out / "report.html").read_text()


def test_tune_on_ray_prunes_and_names_the_node(table, tmp_path):
    pytest.importorskip("ray")
    from seqcnn.jobs.tune import tune

    out = tune(table, out=tmp_path / "ray", trials=8, epochs=4, engine="ray", pruner="halving", progress=False)
    rows = _tsv(out / "trials.tsv")
    assert len(rows) == 8 and "PRUNED" in {r["state"] for r in rows} and "COMPLETE" in {r["state"] for r in rows}
    assert all(r["node"].startswith("127.0.0.1/") for r in rows)  # IP/node id of the Ray node, on the loopback
    assert (out / "best" / "metrics.json").is_file()
