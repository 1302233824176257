"""The race between a position-free and a position-aware model (seqcnn.jobs.position) and where it shows."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

import seqcnn
from seqcnn.data.sets import LabelledSet
from seqcnn.data.targets import Task
from seqcnn.jobs import position
from seqcnn.models.lookup import resolve_spec
from seqcnn.sequence import encode_batch
from seqcnn.training.recipes import RECIPES

MOTIF = "GATAAGGC"
LENGTH = 40


def planted(n: int, where, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Random sequences of :data:`LENGTH` with :data:`MOTIF` where ``where(label, rng)`` says (None: absent)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    seqs = []
    for y in labels:
        s = list(rng.choice(list("ACGT"), size=LENGTH))
        at = where(int(y), rng)
        if at is not None:
            s[at : at + len(MOTIF)] = MOTIF
        seqs.append("".join(s))
    return seqs, labels


def by_position(y: int, rng) -> int:
    """Every sequence holds the motif; class 1 in the first fifth, class 0 from the 24th base on."""
    return int(rng.integers(0, 8)) if y else int(rng.integers(24, 32))


def anywhere(y: int, rng) -> int | None:
    """Class 1 holds the motif anywhere, class 0 does not."""
    return int(rng.integers(0, LENGTH - len(MOTIF) + 1)) if y else None


def labelled(seqs, labels, task) -> LabelledSet:
    codes = encode_batch(seqs)
    return LabelledSet(codes, np.asarray(labels), [f"s{i}" for i in range(len(seqs))], "test", task=task)


def write_table(path, seqs, labels) -> None:
    path.write_text("id,sequence,label\n" + "".join(f"s{i},{s},{y}\n" for i, (s, y) in enumerate(zip(seqs, labels))))


BINARY = Task("binary", ("label",), ("0", "1"), "numeric")


def race_on(where) -> position.PositionRace:
    seqs, labels = planted(900, where)
    train, val = labelled(seqs[:700], labels[:700], BINARY), labelled(seqs[700:], labels[700:], BINARY)
    specs = {name: resolve_spec(name, classes=2, input_shape=(4, LENGTH), task=BINARY)
             for name in (position.FREE, position.AWARE)}
    config = replace(RECIPES["labelled"], epochs=6, threads=1)
    return position.race(train, val, BINARY, specs, config, rc_average=False)


def test_race_chooses_the_position_aware_model_when_only_position_decides():
    # Both classes hold the same motif: global max pooling sees the same maximum in both (chance, loss ~0.69),
    # while local pooling reads which end it sits at. The gain is hundreds of standard errors over 200 sequences.
    race = race_on(by_position)
    assert race.chosen == position.AWARE and race.position_aware
    assert race.gain > 0.1 and race.z >= position.Z
    assert race.aware_metric > race.free_metric
    assert "matters" in race.line() and f"--model {position.FREE}" in race.line()


def test_race_keeps_the_default_when_position_does_not_matter():
    # The motif anywhere against no motif: the position-free model is at least as good, so the aware one cannot
    # be 3 standard errors better; the default is kept, as it was before the race existed.
    race = race_on(anywhere)
    assert race.chosen == position.FREE and not race.position_aware
    assert race.z < position.Z
    assert "no evidence" in race.line()
    record = race.record()
    assert record["chosen"] == position.FREE and record["z_needed"] == position.Z


def test_example_losses_match_each_task_loss():
    classes = Task("multiclass", ("label",), ("a", "b", "c"), "name")
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    assert np.allclose(position.example_losses(classes, probs, np.array([0, 1])), [-math.log(0.7), -math.log(0.1)])

    multilabel = Task("multilabel", ("x", "y"), loss="bce")
    p = np.array([[0.9, 0.2], [0.5, 0.5]])
    y = np.array([[1.0, np.nan], [0.0, 1.0]])  # a missing cell counts for neither model
    assert np.allclose(position.example_losses(multilabel, p, y), [-math.log(0.9), -math.log(0.5)])

    regression = Task("regression", ("x", "y"), loss="mse", mean=(0.0, 0.0), std=(2.0, 4.0))
    pred = np.array([[1.0, 4.0]])
    assert np.allclose(position.example_losses(regression, pred, np.array([[3.0, 0.0]])), [(1.0 + 1.0) / 2])

    poisson = Task("regression", ("n",), loss="poisson")
    assert np.allclose(position.example_losses(poisson, np.array([[2.0]]), np.array([[3.0]])), [2.0 - 3 * math.log(2)])


def test_subsample_keeps_order_and_size():
    seqs, labels = planted(50, anywhere)
    part = labelled(seqs, labels, BINARY)
    small = position._subsample(part, 20, np.random.default_rng(0))
    index = [int(i[1:]) for i in small.ids]
    assert len(small) == 20 and index == sorted(index) and len(set(index)) == 20
    assert position._subsample(part, 50, np.random.default_rng(0)) is part


@pytest.fixture(scope="module")
def raced_run(tmp_path_factory):
    """``seqcnn.train`` on a table where only position decides, with nothing else given."""
    tmp = tmp_path_factory.mktemp("position")
    write_table(tmp / "pos.csv", *planted(900, by_position, seed=1))
    run = seqcnn.train(tmp / "pos.csv", out=tmp / "run", progress=False, epochs=6, threads=1)
    return tmp, run


def test_train_records_the_race_and_trains_the_winner(raced_run):
    tmp, run = raced_run
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == position.AWARE
    assert config["position"]["chosen"] == position.AWARE and config["position"]["z"] >= position.Z
    # the race never saw the test part: its rows are those of the training and validation parts at most
    assert config["position"]["rows"] <= config["data"]["split"]["train"]
    assert config["position"]["val_rows"] <= config["data"]["split"]["validation"]
    report = (run / "report.html").read_text()
    assert 'id="position"' in report and "Where a motif sits matters" in report


def test_a_named_model_skips_the_race(raced_run):
    tmp, _ = raced_run
    run = seqcnn.train(tmp / "pos.csv", model="chipseq", out=tmp / "named", progress=False, epochs=1, threads=1)
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "chipseq" and "position" not in config


def test_explain_shows_where_the_model_looks(raced_run):
    from seqcnn.interpret.explain import ExplainOptions, explain

    _, run = raced_run
    explain(run, options=ExplainOptions(filters=False, n_sequences=2, n_shuffles=2, progress=False))
    where = json.loads((run / "explain.json").read_text())["where"]
    profile = np.loadtxt(run / "position.tsv", skiprows=1)[:, 1]
    assert len(profile) == LENGTH and (run / where["plot"]).is_file()
    # the motif sits in the first 15 or the last 16 bases; the middle holds no signal for the model to read
    assert profile[:15].mean() > profile[15:24].mean() and profile[24:].mean() > profile[15:24].mean()
    assert where["top_decile_share"] > 0.1
    assert 'id="where"' in (run / "report.html").read_text()


def test_a_resumed_run_keeps_the_recorded_choice_without_racing(raced_run, monkeypatch):
    from seqcnn.data.split import split_bundle
    from seqcnn.jobs.train import DataChoices, ModelChoices, OutputChoices, position_check, scaled_task

    tmp, run = raced_run
    recorded = json.loads((run / "config.json").read_text())["position"]
    monkeypatch.setattr(position, "race", lambda *a, **k: pytest.fail("a resumed run raced again"))
    data = DataChoices(data=tmp / "pos.csv")
    bundle = data.load(0)
    task, parts = scaled_task(split_bundle(bundle, data.test_size, data.val_fraction(bundle), 0))
    config = replace(RECIPES["labelled"], epochs=6)
    race = position_check(bundle, parts, task, config, ModelChoices(), OutputChoices(out=run, resume=True))
    assert race.chosen == recorded["chosen"] and race.gain == recorded["gain"] and race.one_strand


def test_a_second_rung_with_twice_the_epochs_when_neither_learned(monkeypatch):
    seqs, labels = planted(120, by_position)
    train, val = labelled(seqs[:80], labels[:80], BINARY), labelled(seqs[80:], labels[80:], BINARY)
    chance = math.log(2)  # two balanced classes
    assert position.chance_loss(BINARY, labels[:80]) == pytest.approx(chance)
    epochs = []

    def rung(train_part, val_part, task, specs, settings, *rest):  # chance first, then the aware model learns
        epochs.append(settings.epochs)
        n = len(val_part)
        aware = np.full(n, chance) if len(epochs) == 1 else np.full(n, 0.1) + np.linspace(0, 0.01, n)
        return {position.FREE: np.full(n, chance) + np.linspace(0, 0.01, n), position.AWARE: aware}, \
            {position.FREE: 0.5, position.AWARE: 0.5 if len(epochs) == 1 else 0.9}

    monkeypatch.setattr(position, "_rung", rung)
    race = position.race(train, val, BINARY, {}, replace(RECIPES["labelled"], epochs=20), rc_average=False)
    assert epochs == [20, 40] and race.rungs == 2 and race.epochs == 40 and race.chosen == position.AWARE
    assert "second time with twice the epochs" in race.line()


def test_a_kept_default_trains_exactly_what_the_named_model_would(tmp_path):
    # Position-free data must keep what they had before the race: the race runs before the run's own seed is set,
    # so the default (the race kept chipseq) and --model chipseq train the same weights and score the same test
    # part. Equality up to float32 summation order, not a tolerance for different models.
    write_table(tmp_path / "free.csv", *planted(600, anywhere, seed=2))
    default = seqcnn.train(tmp_path / "free.csv", out=tmp_path / "default", progress=False, epochs=3, threads=1)
    named = seqcnn.train(tmp_path / "free.csv", model=position.FREE, out=tmp_path / "named", progress=False,
                         epochs=3, threads=1)
    config = json.loads((default / "config.json").read_text())
    assert config["position"]["chosen"] == position.FREE and config["model"] == position.FREE
    ours, theirs = (json.loads((run / "metrics.json").read_text()) for run in (default, named))
    assert ours["confusion_matrix"] == theirs["confusion_matrix"]
    assert ours["auroc"] == pytest.approx(theirs["auroc"], abs=1e-6)
