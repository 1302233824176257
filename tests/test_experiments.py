"""In-silico experiments (seqcnn.interpret.experiments, seqcnn.io.motif_lookup; `seqcnn marginalize`, `space`,
`ablate`) on a small model trained on planted HNF4A sites, and on hand-made runs of the other task kinds."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from seqcnn.errors import InputError

PLANTED = "CAAAGTCCA"  # the consensus of JASPAR MA0114.5 (HNF4A)
LENGTH = 80
SPEC = [{"Conv1D": {"filters": 16, "kernel_size": 12, "activation": "relu"}}, {"GlobalMaxPooling1D": {}},
        {"Dense": {"units": 2, "activation": "softmax"}}]


def planted_table(path: Path, n: int, seed: int) -> Path:
    """``n`` random sequences of LENGTH bases, the odd ones (label 1) with PLANTED at a random place."""
    rng = np.random.default_rng(seed)
    lines = ["id\tsequence\tlabel"]
    for i in range(n):
        seq = "".join("ACGT"[j] for j in rng.integers(0, 4, LENGTH))
        if i % 2:
            at = int(rng.integers(0, LENGTH - len(PLANTED)))
            seq = seq[:at] + PLANTED + seq[at + len(PLANTED):]
        lines.append(f"s{i}\t{seq}\t{i % 2}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A conv -> global max model trained 8 epochs on 1,000 planted sequences (test accuracy about 0.95)."""
    import json

    import seqcnn

    base = tmp_path_factory.mktemp("experiments")
    (base / "spec.json").write_text(json.dumps(SPEC))
    table = planted_table(base / "planted.tsv", 1000, 0)
    return seqcnn.train(str(table), model=str(base / "spec.json"), epochs=8, out=base / "run", progress=False)


def rows(path: Path) -> list[dict]:
    return list(csv.DictReader(path.open(), delimiter="\t"))


def test_marginalizing_the_planted_motif_raises_the_score_and_an_unplanted_one_does_not(trained, cli, tmp_path):
    out = tmp_path / "m.tsv"
    code, stdout, _ = cli("marginalize", trained, "--motif", "MA0114.5", "--motif", "MA0106.3", "-n", "200",
                          "-o", out)
    assert code == 0
    assert "JASPAR2024 MA0114.5 (HNF4A)" in stdout and "effects in probability" in stdout
    planted, unplanted = rows(out)
    assert planted["motif"] == "MA0114.5 HNF4A" and planted["task"] == "1" and planted["n"] == "200"
    assert planted["units"] == "probability"
    # Measured: +0.35 (sd 0.08) and +0.004 (sd 0.05). With n = 200, a mean's standard error is below 0.01, so
    # 0.2 and 0.05 are many standard errors from what the model does; they fail only if it did not learn the motif.
    assert float(planted["mean_delta"]) > 0.2 and float(planted["p"]) < 1e-10
    assert abs(float(unplanted["mean_delta"])) < 0.05
    assert float(planted["mean_after"]) == pytest.approx(
        float(planted["mean_before"]) + float(planted["mean_delta"]), abs=1e-5)


def test_an_iupac_string_and_a_meme_name_are_motifs_too(trained, cli, tmp_path):
    from seqcnn.io.meme import MemeMotif, write_meme
    from seqcnn.io.motif_lookup import iupac_pwm

    meme = write_meme(tmp_path / "mine.meme", [MemeMotif("planted", iupac_pwm(PLANTED))])
    out = tmp_path / "m.tsv"
    code, stdout, _ = cli("marginalize", trained, "--motif", "planted", "--motifs", meme, "--motif", PLANTED,
                          "-n", "50", "-o", out)
    assert code == 0 and "IUPAC string" in stdout and f"motif planted of {meme}" in stdout
    by_meme, by_iupac = rows(out)
    assert by_meme["mean_delta"] == by_iupac["mean_delta"]  # the same bases written into the same background


def test_space_reports_both_orientations_against_the_sum_alone(trained, cli, tmp_path):
    out = tmp_path / "space.tsv"
    code, stdout, _ = cli("space", trained, "--motif", "MA0114.5", "--motif", "GATTACA", "--distances", "0:80:20",
                          "-n", "40", "-o", out)
    assert code == 0
    table = rows(out)
    # 9 + d + 7 bases must fit in 80: distances 0, 20, 40 and 60 do, 80 does not and is named
    assert sorted({int(r["distance"]) for r in table}) == [0, 20, 40, 60]
    assert "distances left out" in stdout and "80" in stdout.split("distances left out")[1].splitlines()[0]
    assert {r["orientation"] for r in table} == {"+", "-"}
    for r in table:
        assert float(r["sum_alone"]) == pytest.approx(float(r["effect_a"]) + float(r["effect_b"]), abs=1e-5)
        assert float(r["interaction"]) == pytest.approx(float(r["effect_both"]) - float(r["sum_alone"]), abs=1e-5)
        assert float(r["effect_a"]) > 0.2  # the planted motif alone, wherever the pair is placed
    assert out.with_suffix(".png").stat().st_size > 1000


def test_ablation_drops_the_score_and_counts_sequences_without_a_hit(trained, cli, tmp_path):
    table = planted_table(tmp_path / "held_out.tsv", 60, 99)
    out = tmp_path / "ablate.tsv"
    code, stdout, _ = cli("ablate", trained, table, "--motif", "MA0114.5", "-o", out)
    assert code == 0
    (summary,) = rows(out)
    per = rows(tmp_path / "ablate.sequences.tsv")
    scored = int(summary["n"])
    # the 30 planted sequences have a hit; a random 80 bp sequence has one with p about 2 * 72 * 1e-4 = 1.4 %
    assert 30 <= scored <= 34 and scored + int(summary["without_hit"]) == 60
    assert len(per) == scored and {r["id"] for r in per} >= {f"s{i}" for i in range(1, 60, 2)}
    assert float(summary["mean_delta"]) < -0.2
    assert f"{60 - scored} without a hit are counted, not scored" in stdout


def save_run(path: Path, task, outputs: int, length: int = 40) -> Path:
    """A run folder by hand (random weights) with ``task`` recorded in config.json."""
    from seqcnn.files import atomic_write_json
    from seqcnn.models.network import build_model
    from seqcnn.models.spec import ModelSpec
    from seqcnn.runs.folder import save_model

    torch.manual_seed(0)
    spec = [{"Conv1D": {"filters": 4, "kernel_size": 5, "activation": "relu"}}, {"GlobalMaxPooling1D": {}},
            {"Dense": {"units": outputs, "activation": "linear"}}]
    path.mkdir(parents=True)
    save_model(path, build_model(ModelSpec.from_obj(spec), (4, length)))
    atomic_write_json(path / "config.json", {"task": task.to_json()})
    return path


@pytest.mark.parametrize("kind", ["multilabel", "regression", "multiclass"])
def test_every_task_kind_reports_each_output_in_its_units(kind, tmp_path, cli):
    from seqcnn.data.targets import Task

    task = {"multilabel": Task("multilabel", ("A", "B"), loss="bce"),
            "regression": Task("regression", ("expr",), loss="mse", mean=(5.0,), std=(2.0,)),
            "multiclass": Task("multiclass", ("label",), ("EI", "IE", "N"), "name")}[kind]
    run = save_run(tmp_path / "run", task, task.n_outputs)
    background = tmp_path / "bg.txt"
    rng = np.random.default_rng(1)
    background.write_text("\n".join("".join("ACGT"[i] for i in row) for row in rng.integers(0, 4, (30, 40))) + "\n")
    out = tmp_path / "m.tsv"
    code, _, err = cli("marginalize", run, "--motif", "TGACTCA", "--background", background, "-o", out)
    assert code == 0, err
    table = rows(out)
    names = list(task.classes or task.targets)
    assert [r["task"] for r in table] == names and all(r["n"] == "30" for r in table)
    units = "model units (the target's scale)" if kind == "regression" else "probability"
    assert {r["units"] for r in table} == {units}
    if kind == "regression":  # standardisation undone: around the mean 5 with spread 2, not around 0
        assert 0 < float(table[0]["mean_before"]) < 10
    if kind == "multiclass":  # the three classes' probabilities move together: they sum to 1
        assert sum(float(r["mean_delta"]) for r in table) == pytest.approx(0, abs=1e-5)


def test_without_predictions_the_background_must_be_given(tmp_path, cli):
    from seqcnn.data.targets import Task

    run = save_run(tmp_path / "run", Task("binary", ("label",), ("0", "1"), "numeric"), 2)
    code, _, err = cli("marginalize", run, "--motif", "TGACTCA")
    assert code == 2 and "--background FILE" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, words", [
    (["marginalize", "--motif", "HNF4Z"], ["unknown motif 'HNF4Z'", "closest", "HNF4G (MA0484.3)"]),
    (["marginalize", "--motif", "MA9999.1"], ["unknown motif 'MA9999.1'"]),
    (["marginalize", "--motif", "HNF4A"], ["names 2 JASPAR2024 motifs", "MA0114.5", "MA1494.2"]),
    (["marginalize", "--motif", "MA0114.5", "-n", "0"], ["-n must be at least 1"]),
    (["space", "--motif", "MA0114.5"], ["--motif must be given twice"]),
    (["space", "--motif", "MA0114.5", "--motif", "GATA", "--distances", "5:1"], ["--distances must be"]),
    (["space", "--motif", "MA0114.5", "--motif", "GATA", "--distances", "90,100"], ["no distance", "largest is 67"]),
    (["ablate", "FILE", "--motif", "MA0114.5", "--shuffles", "0"], ["--shuffles must be at least 1"]),
])
def test_bad_input_is_one_line_and_exit_2(args, words, trained, cli, tmp_path):
    table = planted_table(tmp_path / "t.tsv", 4, 5)
    args = [str(table) if a == "FILE" else a for a in args]
    code, _, err = cli(args[0], trained, *args[1:])
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert all(w in err for w in words), err


def test_starts_of_another_length_are_named(trained, cli, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("ACGT" * 10 + "\n")
    code, _, err = cli("marginalize", trained, "--motif", "GATA", "--background", short)
    assert code == 2 and "length 40" in err and "--pad/--crop" in err


def test_motif_lookup_orders_and_versions():
    from seqcnn.io.motif_lookup import find_motif

    latest = find_motif("MA0114")
    assert latest.id == "MA0114.5" and latest.width == 9 and latest.consensus() == PLANTED
    older = find_motif("MA0114.4")
    assert older.id == "MA0114.4"
    both = find_motif("SRY")  # a JASPAR name made of IUPAC letters: the name wins, and the message says how not to
    assert both.id.startswith("MA0084") and "iupac:SRY" in both.found
    forced = find_motif("iupac:SRY")
    assert forced.iupac == "SRY" and np.allclose(forced.pwm.sum(axis=0), 1)
    assert np.allclose(forced.pwm[:, 0], [0, 0.5, 0.5, 0])  # S = C or G
    rng = np.random.default_rng(0)
    drawn = forced.sample(400, rng)
    assert set(drawn[:, 0]) == {1, 2} and set(drawn[:, 1]) == {0, 2} and set(drawn[:, 2]) == {1, 3}
    with pytest.raises(InputError, match="IUPAC string"):
        find_motif("GATTACA!")


def test_paired_p_and_distances():
    from seqcnn.interpret.experiments import paired_p, parse_distances

    before = np.zeros(10)
    assert paired_p(before, before) == 1.0 and paired_p(before, before + 0.3) == 0.0
    rng = np.random.default_rng(0)
    noise = rng.normal(size=500)
    assert paired_p(before[:1].repeat(500), noise) > 0.001  # no shift: a p this small would be a 1-in-1000 event
    assert paired_p(before[:1].repeat(500), noise + 0.5) < 1e-20  # a shift of half a sd over 500 pairs: t about 11
    assert parse_distances("0:100:5")[-1] == 100 and len(parse_distances("0:100:5")) == 21
    assert parse_distances("3,7") == [3, 7]
