import numpy as np
import pytest
import torch

from seqcnn.data import sequence_set
from seqcnn.datasets import simulate_primer
from seqcnn.errors import InputError, SeqcnnError
from seqcnn.labelled import to_labelled
from seqcnn.models import zoo
from seqcnn.models.network import build_model
from seqcnn.training import RECIPES, TrainConfig, evaluate, fit


@pytest.fixture(scope="module")
def small_sets():
    data = to_labelled(simulate_primer(n=600, seed=3))
    tr, va = data.subset(np.arange(400)), data.subset(np.arange(400, 600))
    return sequence_set(tr.x, tr.labels), sequence_set(va.x, va.labels)


def train_once(sets, **kw):
    config = TrainConfig(**{"epochs": 15, "seed": 1, **kw})
    torch.manual_seed(config.seed)  # initial weights, as run.train seeds them
    model = build_model(zoo.get("primer"), (4, 50))
    history = fit(model, sets[0], sets[1], config, progress=False)
    return model, history


def test_fit_learns_the_planted_motif(small_sets):
    recipe = RECIPES["seqcnn"]
    model, history = train_once(
        small_sets,
        lr=recipe.lr,
        optimizer=recipe.optimizer,
        weight_decay=recipe.weight_decay,
        schedule=recipe.schedule,
        epochs=20,
    )
    _, acc, probs = evaluate(model, small_sets[1])
    assert acc > 0.95
    assert history.rows[-1]["loss"] < history.rows[0]["loss"]
    assert probs.shape == (200, 2) and torch.allclose(probs.sum(1), torch.ones(200))


def test_same_seed_same_weights_other_seed_differs(small_sets):
    a, _ = train_once(small_sets, epochs=2)
    b, _ = train_once(small_sets, epochs=2)
    c, _ = train_once(small_sets, epochs=2, seed=2)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k
    assert not torch.equal(a.layers[0].weight, c.layers[0].weight)


def test_early_stopping_stops_and_restores_best(small_sets):
    _, history = train_once(small_sets, epochs=60, lr=1e-2, patience=2, restore_best=True)
    assert history.stopped_early
    assert len(history.rows) == history.best_epoch + 2
    best = min(r["val_loss"] for r in history.rows)
    assert history.rows[history.best_epoch - 1]["val_loss"] == best


def test_divergence_is_reported_with_epoch_and_batch(small_sets):
    model = build_model(zoo.get("primer"), (4, 50))
    with torch.no_grad():
        model.layers[0].weight.fill_(float("nan"))
    with pytest.raises(SeqcnnError, match="loss is nan at epoch 1, batch 1"):
        fit(model, small_sets[0], None, TrainConfig(epochs=1), progress=False)


def test_bad_options_rejected():
    with pytest.raises(InputError, match="--optimizer must be one of"):
        TrainConfig(optimizer="adagrad").check()
    with pytest.raises(InputError, match="--epochs must be at least 1"):
        TrainConfig(epochs=0).check()


def test_chance_warning_compares_the_best_validation_loss_with_the_label_entropy():
    from seqcnn.run import chance_warning

    balanced, skewed = np.array([0, 1] * 50), np.array([0] * 80 + [1] * 20)
    assert "0.6950 against 0.6931" in chance_warning([{"val_loss": 0.71}, {"val_loss": 0.695}], balanced)
    assert chance_warning([{"val_loss": 0.71}, {"val_loss": 0.30}], balanced) is None
    assert chance_warning([{"val_loss": 0.55}], skewed) is not None  # 4:1 labels: chance is 0.5004, not ln 2
    assert chance_warning([{"val_loss": 0.45}], skewed) is None
    assert chance_warning([{"loss": 0.9}], balanced) is None  # no validation split: nothing to compare


def test_train_warns_when_the_model_learns_nothing(cli, tmp_path):
    rng = np.random.default_rng(0)
    table = tmp_path / "random.tsv"
    table.write_text(
        "sequence\tlabel\n"
        + "".join(f"{''.join(rng.choice(list('ACGT'), 30))}\t{rng.integers(0, 2)}\n" for _ in range(400))
    )
    code, _, err = cli("train", table, "--epochs", "3", "--out", tmp_path / "random", "--quiet")
    assert code == 0 and "never fell below chance level" in err  # random labels: nothing to learn
    code, _, err = cli("train", "--epochs", "3", "--out", tmp_path / "planted", "--quiet")
    assert code == 0 and "chance level" not in err  # the built-in data's planted motif is learned in 3 epochs


def test_progress_shows_epochs_and_the_batches_of_each_epoch(small_sets, capsys):
    model = build_model(zoo.get("primer"), (4, 50))
    fit(model, small_sets[0], small_sets[1], TrainConfig(epochs=2, batch_size=40), progress=True)
    err = capsys.readouterr().err
    assert "epochs" in err and "/2 [" in err  # the epoch bar, with its total
    assert "batches" in err and "/10 [" in err  # 400 examples in batches of 40: 10 per epoch
    fit(model, small_sets[0], small_sets[1], TrainConfig(epochs=1), progress=False)
    assert capsys.readouterr().err == ""
