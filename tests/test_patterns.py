"""TF-MoDISco patterns from attributions (``seqcnn explain RUN --patterns``)."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch

from seqcnn.errors import InputError
from seqcnn.interpret import motif_matching
from seqcnn.interpret.patterns import TSV_COLUMNS, PatternOptions, explain_patterns, find_patterns, trim_span
from seqcnn.io import jaspar

FAST = {"n_shuffles": 4, "n_leiden_runs": 2}


def _planted(pwm: np.ndarray, n: int, length: int, seed: int = 0) -> np.ndarray:
    """``n`` random one-hot sequences ``(n, 4, length)``, each with one site sampled from ``pwm``, either strand."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, length))
    for row in codes:
        site = np.array([rng.choice(4, p=col) for col in pwm.T])
        if rng.random() < 0.5:
            site = 3 - site[::-1]
        start = rng.integers(0, length - len(site) + 1)
        row[start : start + len(site)] = site
    return np.eye(4, dtype=np.float32)[codes].transpose(0, 2, 1).copy()


def _detector(pwm: np.ndarray, length: int):
    """A spec model whose one filter is ``pwm``'s log-odds on both strands: a perfect site detector."""
    from seqcnn.models.network import build_model
    from seqcnn.models.spec import ModelSpec

    spec = [
        {"Conv1D": {"filters": 2, "kernel_size": pwm.shape[1], "activation": "relu"}},
        {"GlobalMaxPooling1D": {}},
        {"Dense": {"units": 2, "activation": "softmax"}},
    ]
    model = build_model(ModelSpec.from_obj(spec), (4, length)).eval()
    log_odds = torch.tensor(np.log2(np.clip(pwm, 1e-3, None) / 0.25), dtype=torch.float32)
    with torch.no_grad():
        model.layers[0].weight.copy_(
            torch.stack([log_odds, log_odds.flip(0, 1)])
        )  # the second is its reverse complement
        model.layers[0].bias.fill_(-0.5 * float(log_odds.max(dim=0).values.sum()))
        dense = model.layers[-1]
        dense.weight.copy_(torch.tensor([[-0.5, -0.5], [0.5, 0.5]]))
        dense.bias.zero_()
    return model


@pytest.fixture(scope="module")
def ctcf() -> jaspar.Motif:
    return next(m for m in jaspar.load_jaspar() if m.id == "MA0139.2")


def test_a_planted_jaspar_motif_comes_out_as_a_pattern(ctcf, tmp_path):
    x = _planted(ctcf.pwm, 300, 80)
    model = _detector(ctcf.pwm, 80)
    summary = explain_patterns(model, x, jaspar.load_jaspar(), tmp_path, PatternOptions(**FAST))
    assert summary["sequences"] == 300 and summary["positive_patterns"] >= 1
    best = summary["patterns"][0]
    assert best["pattern"] == "pos_00" and best["n_seqlets"] >= 20
    assert best["best_match"] == "CTCF" and best["q_value"] < 0.05
    assert best["information_content"] > 10


def test_output_files(ctcf, tmp_path):
    from memelite.io import read_meme as memelite_read

    x = _planted(ctcf.pwm, 200, 80, seed=1)
    (tmp_path / "plots" / "patterns").mkdir(parents=True)
    (tmp_path / "plots" / "patterns" / "stale.png").write_bytes(b"old")
    summary = explain_patterns(
        _detector(ctcf.pwm, 80), x, jaspar.load_jaspar(), tmp_path, PatternOptions(top=3, **FAST)
    )
    names = [p["pattern"] for p in summary["patterns"]]
    memes = memelite_read(str(tmp_path / "patterns.meme"))
    assert [k.split()[0] for k in memes] == names
    for name in names:
        pwm = memes[next(k for k in memes if k.split()[0] == name)]
        assert pwm.shape[0] == 4 and np.allclose(pwm.sum(axis=0), 1, atol=1e-3)
    with open(tmp_path / "patterns.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert list(rows[0]) == TSV_COLUMNS
    for name in names:
        mine = [r for r in rows if r["pattern"] == name]
        assert 1 <= len(mine) <= 3
        p = [float(r["p_value"]) for r in mine]
        assert p == sorted(p) and all(r["orientation"] in "+-" for r in mine)
    assert sorted(p.stem for p in (tmp_path / "plots" / "patterns").glob("*.png")) == sorted(names)


def test_trim_keeps_the_contributing_core():
    cwm = np.zeros((4, 10))
    cwm[0, 3], cwm[2, 5], cwm[1, 8] = 1.0, -0.5, 0.2
    assert trim_span(cwm, 0.3) == (3, 6)  # position 8 carries under 0.3 of the largest
    assert trim_span(cwm, 0.1) == (3, 9)


@pytest.mark.parametrize(
    "options, x_shape, expected",
    [
        (PatternOptions(), (5, 4, 12), "sequences of 12 bp are shorter than a seqlet (10 + 2 x 3 flank = 16 bp)"),
        (PatternOptions(), (5, 3, 40), "of the same shape (N, 4, L)"),
        (PatternOptions(trim=1.5), (5, 4, 40), "trim must be in (0, 1)"),
        (PatternOptions(window=0), (5, 4, 40), "window must be at least 1"),
    ],
    ids=["short", "not-dna", "trim", "window"],
)
def test_bad_input_names_the_problem(options, x_shape, expected):
    x = np.zeros(x_shape, dtype=np.float32)
    with pytest.raises(InputError) as caught:
        find_patterns(x, np.zeros((5, 4, x_shape[2]), dtype=np.float32), options)
    assert expected in str(caught.value)


# --- the explain command ------------------------------------------------------------------


@pytest.fixture
def run_copy(trained_run, tmp_path):
    dest = tmp_path / "run"
    shutil.copytree(trained_run, dest)
    return dest


def test_explain_patterns_on_a_run(cli, run_copy, tmp_path):
    from seqcnn.io.meme import MemeMotif, write_meme

    planted = tmp_path / "planted.meme"
    write_meme(planted, [MemeMotif("planted", motif_matching.consensus_motif("CGACCGAACTCC").pwm, "CGACCGAACTCC")])
    code, out, err = cli(
        "explain",
        run_copy,
        "--patterns",
        "--no-filters",
        "--sequences",
        "1",
        "--shuffles",
        "4",
        "--motifs",
        planted,
        "--quiet",
    )
    assert code == 0, err
    assert "patterns.tsv" in out
    summary = json.loads((run_copy / "explain.json").read_text())["patterns"]
    rows = [line.split("\t") for line in (run_copy / "predictions.tsv").read_text().splitlines()[1:]]
    assert summary["sequences"] == sum(1 for r in rows if r[1] == "1" and r[3] == "1")  # correctly classified positives
    hits = [line.split("\t") for line in (run_copy / "patterns.tsv").read_text().splitlines()[1:]]
    assert any(r[3] == "planted" and float(r[6]) < 0.05 for r in hits)  # an extra motif: id planted


def test_a_run_without_test_positives_is_a_clear_error(cli, run_copy):
    path = run_copy / "predictions.tsv"
    header, *lines = path.read_text().splitlines()
    columns = header.split("\t")
    fixed = []
    for line in lines:
        r = line.split("\t")
        r[columns.index("predicted")] = "0"
        fixed.append("\t".join(r))
    path.write_text("\n".join([header] + fixed) + "\n")
    code, _, err = cli("explain", run_copy, "--patterns", "--quiet")
    assert code == 2 and err.count("\n") == 1
    assert "no correctly classified test sequence of class 1" in err
    assert not (run_copy / "patterns.tsv").exists()


def test_the_target_output_is_the_one_explained(ctcf, tmp_path):
    # class 0's score falls where a site is: the same sites come out as a negative pattern
    x = _planted(ctcf.pwm, 300, 80)
    options = PatternOptions(target=0, **FAST)
    summary = explain_patterns(_detector(ctcf.pwm, 80), x, jaspar.load_jaspar(), tmp_path, options)
    assert summary["positive_patterns"] == 0 and summary["negative_patterns"] >= 1
    best = summary["patterns"][0]
    assert best["pattern"] == "neg_00" and best["best_match"] == "CTCF" and best["q_value"] < 0.05
