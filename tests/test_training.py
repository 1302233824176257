import numpy as np
import pytest
import torch

from seqcnn.data import sequence_set
from seqcnn.datasets import simulate_primer, to_labelled
from seqcnn.errors import InputError, SeqcnnError
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
    model, history = train_once(small_sets, lr=recipe.lr, optimizer=recipe.optimizer, weight_decay=recipe.weight_decay, schedule=recipe.schedule, epochs=20)
    _, acc, probs = evaluate(model, small_sets[1])
    assert acc > 0.95
    assert history.rows[-1]["loss"] < history.rows[0]["loss"]
    assert probs.shape == (200, 2) and torch.allclose(probs.sum(1), torch.ones(200))


def test_same_seed_same_weights_other_seed_differs(small_sets):
    a, _ = train_once(small_sets, epochs=2)
    b, _ = train_once(small_sets, epochs=2)
    c, _ = train_once(small_sets, epochs=2, seed=2)
    for (k, va), vb, vc in zip(a.state_dict().items(), b.state_dict().values(), c.state_dict().values()):
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
