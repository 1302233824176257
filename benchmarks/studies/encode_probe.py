"""Quick recipe probe: test AUROC after every epoch for one ENCODE experiment, model and learning rate.

    nice -n 10 .venv/bin/python -m benchmarks.studies.encode_probe \
        MYC_H1-hESC_c-Myc_Stanford benchmarks/specs/c128k24.json 5e-3 64 4 rc

Arguments: experiment, model (zoo name or spec file), learning rate, batch size, epochs, and
``rc`` to turn on reverse-complement augmentation. Trains on 90 % of the ``_AC`` file with one
shuffled negative per positive (``load_data``'s default at the time of the probe was one),
prints training and validation loss and the strand-averaged test AUROC on ``_B`` per epoch.
Used to compare architectures and learning rates before the full runs of ``benchmarks/accuracy/encode.py``.
Prints its table (docs/benchmarks/encode.md); no results file.
"""

import sys
import time
from dataclasses import replace

import torch
from sklearn.metrics import roc_auc_score

from benchmarks.harness import ENCODE as DATA
from seqcnn.data.batches import tensor_set
from seqcnn.data.load import load_data
from seqcnn.data.split import split
from seqcnn.jobs.inference import predict_tensor
from seqcnn.models.lookup import resolve_spec
from seqcnn.models.network import build_model
from seqcnn.training.loop import evaluate, train_epoch
from seqcnn.training.optimizers import make_optimizer
from seqcnn.training.recipes import RECIPES


def main() -> int:
    exp, model, lr, batch, epochs = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(2)
    bundle = load_data(DATA / f"{exp}_AC.seq.gz", test=DATA / f"{exp}_B.seq.gz", negatives="shuffle")
    train, val, _ = split(bundle.train.labels, 0, 0.1, seed=0)
    torch.manual_seed(0)
    net = build_model(resolve_spec(model, classes=2, input_shape=bundle.train.input_shape), bundle.train.input_shape)
    config = replace(RECIPES["chipseq"], lr=lr, batch_size=batch, augment=("rc",) if "rc" in sys.argv[6:] else ())
    optimizer, generator = make_optimizer(net, config), torch.Generator().manual_seed(0)
    tr, va, te = (tensor_set(s, "cpu") for s in (bundle.train.subset(train), bundle.train.subset(val), bundle.test))
    for epoch in range(epochs):
        start = time.time()
        loss, _ = train_epoch(net, tr, optimizer, None, config, generator, epoch)
        val_loss, _, _ = evaluate(net, va)
        auroc = roc_auc_score(bundle.test.labels, predict_tensor(net, te, rc_average=True)[:, 1])
        print(
            f"epoch {epoch}: loss {loss:.4f} val {val_loss:.4f} test AUROC {auroc:.4f} {time.time() - start:.1f} s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
