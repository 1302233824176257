"""Simulated task kinds end to end through seqcnn.data.targets and seqcnn.metrics, against stated floors.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.accuracy.targets_sim [--n 4000] [--epochs 8]

For each simulated set (seqcnn.data.simulate: multiclass, multilabel, regression, Poisson counts) it
chooses the target and infers the task with the library (nothing given by hand), splits 70/15/15,
trains one small CNN (Conv1d 64 x 15 -> ReLU -> global max pool -> Linear to ``task.n_outputs``)
with ``seqcnn.training.losses.task_loss``, and scores the test part with ``seqcnn.metrics.task_metrics``
on ``seqcnn.data.targets.predictions``. It also checks the leakage counter on the split. Floors:

- multiclass accuracy >= 0.80 (chance 0.25 with 4 balanced classes; each class is one planted
  JASPAR site; the printed ceiling is a scanner that knows the true PWMs);
- multilabel mean per-task AUROC >= 0.90 (chance 0.5; presence of one site per label);
- regression Pearson r >= 0.80 (the noise ceiling, printed, is about 0.97: r of the noiseless
  signal with the observed values);
- Poisson counts Pearson r >= 0.60 (Poisson noise is large at low rates; ceiling printed).

Writes benchmarks/results/accuracy/targets_sim-<machine>.tsv and prints one line per set.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.harness import result_path

FLOORS = {"multiclass-sim": ("accuracy", 0.80), "multilabel-sim": ("auroc", 0.90),
          "regression-sim": ("pearson", 0.80), "poisson-sim": ("pearson", 0.60)}


def model(n_outputs: int) -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Conv1d(4, 64, 15, padding=7), torch.nn.ReLU(),
                               torch.nn.AdaptiveMaxPool1d(1), torch.nn.Flatten(), torch.nn.Linear(64, n_outputs))


def split(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    a, b = int(0.7 * n), int(0.85 * n)
    return order[:a], order[a:b], order[b:]


def train(task, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, epochs: int) -> torch.nn.Module:
    from seqcnn.training.losses import task_loss

    torch.manual_seed(0)
    net = model(task.n_outputs)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(epochs):
        for batch in torch.randperm(len(x)).split(64):
            opt.zero_grad()
            loss = task_loss(task, net(x[batch]), y[batch], mask[batch])
            loss.backward()
            opt.step()
    return net


def run(name: str, records, epochs: int, task_name: str | None = None, ceiling=None) -> dict:
    from seqcnn.data.leakage import shared
    from seqcnn.data.targets import choose_targets, encode_targets, fit_scale, infer_task, predictions
    from seqcnn.metrics import task_metrics
    from seqcnn.sequence import onehot_strings

    start = time.perf_counter()
    choice = choose_targets(records)
    task = infer_task(records, choice.names, task_name)
    enc = encode_targets(records, task)
    tr, _, te = split(len(records))
    task = fit_scale(task, enc.y[tr], enc.mask[tr])
    x = torch.from_numpy(onehot_strings(records.seqs))  # (N, 4, L)
    y = torch.from_numpy(enc.y)
    net = train(task, x[tr], y[tr], torch.from_numpy(enc.mask[tr]), epochs)
    with torch.no_grad():
        out = predictions(task, net(x[te]))
    metrics = task_metrics(task, enc.y[te], out, enc.mask[te])
    leak = shared([records.seqs[i] for i in tr], [records.seqs[i] for i in te])
    key, floor = FLOORS[name]
    row = {"set": name, "task": task.kind, "loss": task.loss, "targets": ",".join(task.targets), "n": len(records),
           "metric": key, "value": metrics[key], "floor": floor, "ceiling": ceiling, "leaked_test": leak.n_shared,
           "seconds": time.perf_counter() - start}
    print(f"{name}: {task.describe()}\n  {key} {metrics[key]:.4f} (floor {floor}"
          f"{f', ceiling {ceiling:.3f}' if ceiling else ''}) {'PASS' if metrics[key] >= floor else 'FAIL'}; "
          f"{leak.n_shared} test sequences also in training; {row['seconds']:.1f} s")
    return row


def scan_oracle(records, motifs: tuple[str, ...]) -> float:
    """Test accuracy of logistic regression on each true PWM's best log-odds score (either strand)."""
    from sklearn.linear_model import LogisticRegression

    from seqcnn.data.simulate import jaspar_motif
    from seqcnn.data.targets import prepare_targets

    codes = np.array([["ACGT".index(c) for c in s] for s in records.seqs])  # (N, L)
    features = []
    for name in motifs:
        logodds = np.log(jaspar_motif(name).pwm / 0.25)  # (4, W)
        width = logodds.shape[1]
        windows = np.lib.stride_tricks.sliding_window_view(codes, width, axis=1)  # (N, L - W + 1, W)
        forward = logodds[windows, np.arange(width)].sum(-1)
        reverse = logodds[::-1, ::-1][windows, np.arange(width)].sum(-1)
        features.append(np.maximum(forward, reverse).max(axis=1))
    x, y = np.stack(features, axis=1), prepare_targets(records)[2].y
    tr, _, te = split(len(records))
    return float(LogisticRegression(max_iter=1000).fit(x[tr], y[tr]).score(x[te], y[te]))


def noise_ceiling(records, noiseless) -> float:
    observed = np.array([float(v) for v in records.columns["activity"]])
    signal = np.array([float(v) for v in noiseless.columns["activity"]])
    return float(np.corrcoef(observed, signal)[0, 1])


def main() -> int:
    from seqcnn.data.simulate import MULTICLASS_MOTIFS, simulate_multiclass, simulate_multilabel, simulate_regression

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--out", default=str(result_path(__file__, "tsv")))
    args = parser.parse_args()
    torch.set_num_threads(1)
    reg, reg0 = (simulate_regression(args.n, noise=s, seed=1) for s in (0.3, 0.0))
    counts = simulate_regression(args.n, poisson=True, seed=2)
    classes = simulate_multiclass(args.n, seed=1)
    rows = [
        run("multiclass-sim", classes, args.epochs, ceiling=scan_oracle(classes, MULTICLASS_MOTIFS)),
        run("multilabel-sim", simulate_multilabel(args.n, seed=1), args.epochs),
        run("regression-sim", reg, args.epochs, ceiling=noise_ceiling(reg, reg0)),
        run("poisson-sim", counts, args.epochs, "poisson", ceiling=poisson_ceiling(args.n)),
    ]
    header = list(rows[0])
    lines = ["\t".join(header)] + ["\t".join(_cell(r[k]) for k in header) for r in rows]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0 if all(r["value"] >= r["floor"] for r in rows) else 1


def poisson_ceiling(n: int) -> float:
    """r of Poisson counts with their own true rate (the best any model can do)."""
    from seqcnn.data.simulate import simulate_regression

    signal = np.array([float(v) for v in simulate_regression(n, noise=0.0, seed=2).columns["activity"]])
    counts = np.array([float(v) for v in simulate_regression(n, poisson=True, seed=2).columns["activity"]])
    return float(np.corrcoef(np.exp(0.5 * signal), counts)[0, 1])


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


if __name__ == "__main__":
    raise SystemExit(main())
