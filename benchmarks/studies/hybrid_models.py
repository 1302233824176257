"""Convolution + BiLSTM and convolution + transformer models on 101-bp ChIP-seq windows: speed and ENCODE AUROC.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.studies.hybrid_models                   # speed only
    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.studies.hybrid_models --encode \\
        --only MYC,GABPA,REST --positives 2000                                          # a few, subsampled
    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.studies.hybrid_models --encode --all  # the ten, in full

Speed: one training epoch (Adam, batch 64, cross-entropy on the logits, forward and backward)
over random one-hot 101-bp windows, timed after a warm-up batch, for seqcnn's ChIP-seq default
(``chipseq``: 256 x 12 conv, global max pool) and the zoo's ``cnn-bilstm`` and
``cnn-transformer``, on ``--threads`` torch threads; reported as wall and process CPU seconds per
10,000 windows (CPU seconds change little on a busy machine; with one thread they are the wall
time of an idle one).
Results: ``benchmarks/results/studies/hybrid_models-speed-<machine>.json``.

ENCODE: ``seqcnn.train`` on each experiment's ``_AC`` file (positives only; seqcnn makes the
negatives) with each model and its default recipe (``chipseq``; ``chipseq-hybrid`` for the models
with recurrent or attention layers), tested on the ``_B`` file (500 peaks, 500 shuffles).
``--positives N`` trains on a random N positives of each training file (seed 0) instead of all,
so that a loaded machine finishes; ``--all`` runs the ten experiments in full.
Results: ``benchmarks/results/studies/hybrid_models-encode-<tag>-<machine>.tsv``.

``--diagnose``: ``model:recipe`` trials (:data:`TRIALS`, or ``--trials``) on the subsampled
experiments, the models being zoo names or specs under ``benchmarks/specs``, the recipes ChIP-seq's
with the overrides of :data:`TRIAL_RECIPES`; results:
``benchmarks/results/studies/hybrid_models-diagnose-<tag>-<machine>.tsv``. ``--scales``: each layer's output
scale at initialisation (``hybrid_models-scales-<machine>.json``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.harness import ENCODE as DATA
from benchmarks.harness import ROOT, SPECS, result_path

MODELS = ("chipseq", "cnn-bilstm", "cnn-transformer")


def _spec(name: str):
    from seqcnn.jobs.train import resolve_spec

    return resolve_spec(name, classes=2, input_shape=(4, 101))


def epoch_seconds(name: str, n: int, batch: int = 64, seed: int = 0) -> dict:
    """Wall time of one training epoch over ``n`` random 101-bp windows."""
    import torch

    from seqcnn.models.network import build_model

    torch.manual_seed(seed)
    model = build_model(_spec(name), (4, 101)).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (n, 101)), 4).float().transpose(1, 2).contiguous()
    y = torch.randint(0, 2, (n,))

    def step(xb, yb) -> None:
        optimiser.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(xb), yb).backward()
        optimiser.step()

    step(x[:batch], y[:batch])  # warm-up: allocations, oneDNN primitives
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, n, batch):
        step(x[i : i + batch], y[i : i + batch])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    params = sum(p.numel() for p in model.parameters())
    return {
        "model": name,
        "params": params,
        "windows": n,
        "seconds": round(seconds, 3),
        "seconds_per_10k": round(seconds * 10_000 / n, 2),
        "cpu_seconds_per_10k": round(cpu * 10_000 / n, 2),
    }


def _cpu_ms(fn, repeats: int = 20) -> float:
    fn()
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - start) / repeats


def lstm_fused_vs_loop() -> tuple[float, float]:
    """CPU seconds of a BiLSTM's forward and backward: seqcnn's (torch.lstm) against an LSTMCell loop."""
    import torch

    from seqcnn.models.recurrent import Recurrent

    layer = Recurrent("LSTM", 128, 64, bidirectional=True, return_sequences=True)
    cells = [torch.nn.LSTMCell(128, 64) for _ in range(2)]
    x = torch.randn(64, 128, 22)

    def loop() -> None:
        outputs = []
        for cell, seq in zip(cells, (x, x.flip(2))):
            h = c = x.new_zeros(64, 64)
            steps = []
            for t in range(seq.shape[2]):
                h, c = cell(seq[:, :, t], (h, c))
                steps.append(h)
            outputs.append(torch.stack(steps, 2))
        torch.cat(outputs, 1).sum().backward()

    return _cpu_ms(lambda: layer(x).sum().backward()), _cpu_ms(loop)


def attention_fused_vs_explicit() -> tuple[float, float]:
    """CPU seconds of self-attention forward and backward: scaled_dot_product_attention against softmax(QK^T)V."""
    import torch

    from seqcnn.models.attention import SelfAttention

    layer = SelfAttention(128, 4, 32)
    tokens = torch.randn(64, 22, 128)

    def explicit() -> None:
        v = layer._heads(layer.value, tokens, 32)
        mixed = layer.weights(tokens) @ v
        layer.output(mixed.transpose(1, 2).reshape(64, 22, 128)).sum().backward()

    return _cpu_ms(lambda: layer.attend(tokens).sum().backward()), _cpu_ms(explicit)


def speed(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    rows = [epoch_seconds(name, args.windows) for name in MODELS]
    fused = {
        "BiLSTM(64) on (64, 128, 22); reference: an LSTMCell loop": lstm_fused_vs_loop(),
        "attention, 4 heads of 32, (64, 22, 128); reference: softmax(QK^T)V": attention_fused_vs_explicit(),
    }
    result = {
        "fused": fused,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor()}",
        "torch": torch.__version__,
        "threads": args.threads,
        "batch": 64,
        "rows": rows,
    }
    result_path(__file__, "json", "speed").write_text(json.dumps(result, indent=1) + "\n")
    for r in rows:
        print(
            f"{r['model']:16} {r['params']:>9,} params  {r['seconds_per_10k']:7.2f} s wall, "
            f"{r['cpu_seconds_per_10k']:7.2f} s CPU per 10,000 windows"
        )
    for name, (fused, reference) in result["fused"].items():
        print(
            f"{name}: fused {fused * 1e3:.1f} ms, reference {reference * 1e3:.1f} ms CPU per batch (forward + backward)"
        )


def feature_scales(model_name: str, n: int = 256, seed: int = 0) -> list[dict]:
    """Each layer's output at initialisation on random 101-bp windows: mean absolute value, and the mean over
    features and positions of its standard deviation across windows (the part that tells windows apart)."""
    import torch

    from seqcnn.models.network import build_model

    spec = SPECS / f"{model_name}.json"
    torch.manual_seed(seed)
    model = build_model(_spec(str(spec) if spec.is_file() else model_name), (4, 101)).eval()
    h = torch.nn.functional.one_hot(torch.randint(0, 4, (n, 101)), 4).float().transpose(1, 2)
    rows = []
    with torch.no_grad():
        for layer in model.layers:
            h = layer(h)
            rows.append({"layer": type(layer).__name__, "mean_abs": round(h.abs().mean().item(), 3),
                         "std_across_windows": round(h.std(0).mean().item(), 4)})
    return rows


def scales(args) -> None:
    result = {name: feature_scales(name) for name in ("cnn-transformer-nonorm", "cnn-transformer")}
    result_path(__file__, "json", "scales").write_text(json.dumps(result, indent=1) + "\n")
    for name, rows in result.items():
        print(name)
        for r in rows:
            print(f"  {r['layer']:22} mean |x| {r['mean_abs']:6.3f}   std across windows {r['std_across_windows']:.4f}")


def subsample(source: Path, n: int, folder: Path) -> Path:
    """A random ``n`` rows of a DeepBind ``.seq.gz`` file (header kept), written into ``folder``."""
    with gzip.open(source, "rt") as handle:
        header, *rows = handle.read().splitlines()
    chosen = sorted(random.Random(0).sample(range(len(rows)), min(n, len(rows))))
    out = folder / source.name
    with gzip.open(out, "wt") as handle:
        handle.write("\n".join([header] + [rows[i] for i in chosen]) + "\n")
    return out


def encode(args) -> None:
    import seqcnn

    names = sorted(p.name[: -len("_AC.seq.gz")] for p in DATA.glob("*_AC.seq.gz"))
    if not args.all:
        keys = args.only.split(",")
        names = [n for n in names if any(n.startswith(k) for k in keys)]
    models = args.models.split(",")
    rows = read_tsv(args.tag)  # earlier rows of this tag are kept unless rerun here
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            train_file = DATA / f"{name}_AC.seq.gz"
            if args.positives and not args.all:
                train_file = subsample(train_file, args.positives, Path(tmp))
            for model in models:
                started, cpu = time.time(), time.process_time()
                run = seqcnn.train(
                    train_file,
                    test=DATA / f"{name}_B.seq.gz",
                    model=model,
                    progress=False,
                    force=True,
                    out=ROOT / "runs" / "hybrid" / args.tag / name / model,
                    threads=args.threads,
                )
                metrics = json.loads((run / "metrics.json").read_text())
                epochs = len((run / "history.csv").read_text().splitlines()) - 1
                seconds, cpu = time.time() - started, time.process_time() - cpu
                rows = [r for r in rows if (r["experiment"], r["model"]) != (name, model)]
                rows.append(
                    {
                        "experiment": name,
                        "model": model,
                        "recipe": json.loads((run / "config.json").read_text())["recipe"],
                        "auroc": round(metrics["auroc"], 4),
                        "epochs": epochs,
                        "seconds": round(seconds, 1),
                        "seconds_per_epoch": round(seconds / max(epochs, 1), 1),
                        "cpu_seconds_per_epoch": round(cpu / max(epochs, 1), 1),
                    }
                )
                print("\t".join(str(v) for v in rows[-1].values()), file=sys.stderr, flush=True)
                write_tsv(rows, args.tag)
    table(rows)


#: Recipe overrides tried against the ChIP-seq recipe (Adam 5e-3 constant) for models with attention.
TRIAL_RECIPES = {
    "chipseq": {},
    # early stopping as chipseq's (patience 3), which ended these runs during the warm-up
    "onecycle-1e-3-clip": {"optimizer": "adamw", "weight_decay": 0.01, "schedule": "onecycle", "lr": 1e-3,
                           "clip_norm": 1.0, "epochs": 15},
    "onecycle-1e-3": {"optimizer": "adamw", "weight_decay": 0.01, "schedule": "onecycle", "lr": 1e-3,
                      "clip_norm": 1.0, "epochs": 20, "patience": 99},
    # the chipseq-hybrid recipe (patience 99 over 20 epochs: no early stopping)
    "onecycle-3e-3": {"optimizer": "adamw", "weight_decay": 0.01, "schedule": "onecycle", "lr": 3e-3,
                      "clip_norm": 1.0, "epochs": 20, "patience": 99},
    "adam-1e-3-long": {"lr": 1e-3, "epochs": 20, "patience": 99},
    "adam-5e-3-long": {"epochs": 20, "patience": 99},
}

#: ``model:recipe`` pairs of ``--diagnose`` (model: a zoo name or a spec under benchmarks/specs), in the order
#: they were run on MYC; ZBTB7A had the four ``onecycle-3e-3`` trials.
TRIALS = (
    "cnn-transformer-nonorm:onecycle-1e-3-clip",
    "cnn-transformer-ln:chipseq",
    "cnn-transformer-ln:onecycle-1e-3-clip",
    "cnn-attention-primer:chipseq",
    "cnn-attention-primer:onecycle-1e-3-clip",
    "cnn-attention-primer:adam-1e-3-long",
    "cnn-attention-primer:onecycle-3e-3",
    "cnn-attention-primer:adam-5e-3-long",
    "cnn-transformer-ln:onecycle-1e-3",
    "cnn-transformer-ln:adam-1e-3-long",
    "cnn-transformer-nonorm:onecycle-3e-3",
    "cnn-transformer-ln:onecycle-3e-3",
    "cnn-bilstm:onecycle-3e-3",
)


def diagnose(args) -> None:
    """Each ``model:recipe`` trial on each chosen experiment's subsample; rows into hybrid-diagnose-<tag>.tsv."""
    import seqcnn

    names = sorted(p.name[: -len("_AC.seq.gz")] for p in DATA.glob("*_AC.seq.gz"))
    names = [n for n in names if any(n.startswith(k) for k in args.only.split(","))]
    trials = args.trials.split(",") if args.trials else TRIALS
    path = result_path(__file__, "tsv", f"diagnose-{args.tag}")
    if not path.is_file():
        path.write_text("experiment\tmodel\trecipe\tauroc\tepochs\tbest_epoch\tcpu_seconds\n")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            train_file = subsample(DATA / f"{name}_AC.seq.gz", args.positives, Path(tmp))
            for trial in trials:
                model, recipe = trial.split(":")
                spec = SPECS / f"{model}.json"
                cpu = time.process_time()
                run = seqcnn.train(train_file, test=DATA / f"{name}_B.seq.gz",
                                   model=str(spec) if spec.is_file() else model, progress=False, force=True,
                                   out=ROOT / "runs" / "hybrid" / "diagnose" / name / trial,
                                   threads=args.threads, recipe="chipseq", **TRIAL_RECIPES[recipe])
                auroc = json.loads((run / "metrics.json").read_text())["auroc"]
                keys, *epochs = [line.split(",") for line in (run / "history.csv").read_text().splitlines()]
                losses = [float(dict(zip(keys, e))["val_loss"]) for e in epochs]
                row = [name.split("_")[0], model, recipe, f"{auroc:.4f}", str(len(epochs)),
                       str(losses.index(min(losses)) + 1), f"{time.process_time() - cpu:.0f}"]
                with path.open("a") as handle:
                    handle.write("\t".join(row) + "\n")
                print("\t".join(row), file=sys.stderr, flush=True)


def read_tsv(tag: str) -> list[dict]:
    path = result_path(__file__, "tsv", f"encode-{tag}")
    if not path.is_file():
        return []
    keys, *lines = [line.split("\t") for line in path.read_text().splitlines()]
    rows = [dict(zip(keys, values)) for values in lines]
    for row in rows:
        row["auroc"], row["seconds_per_epoch"] = float(row["auroc"]), float(row["seconds_per_epoch"])
        row["cpu_seconds_per_epoch"] = float(row.get("cpu_seconds_per_epoch", "nan"))
    return rows


def write_tsv(rows: list[dict], tag: str) -> None:
    lines = ["\t".join(rows[0])] + ["\t".join(str(v) for v in r.values()) for r in rows]
    result_path(__file__, "tsv", f"encode-{tag}").write_text("\n".join(lines) + "\n")


def table(rows: list[dict]) -> None:
    experiments = list(dict.fromkeys(r["experiment"] for r in rows))
    print("| experiment | " + " | ".join(f"{m} AUROC | {m} CPU s/epoch" for m in MODELS) + " |")
    print("|---" * (1 + 2 * len(MODELS)) + "|")
    for e in experiments:
        cells = {r["model"]: r for r in rows if r["experiment"] == e}
        print(
            f"| {e.split('_')[0]} | "
            + " | ".join(
                f"{cells[m]['auroc']:.3f} | {cells[m]['cpu_seconds_per_epoch']}" if m in cells else "- | -"
                for m in MODELS
            )
            + " |"
        )
    def median(m: str, key: str) -> float:
        return statistics.median([r[key] for r in rows if r["model"] == m] or [float("nan")])

    print("| median | " + " | ".join(f"{median(m, 'auroc'):.3f} | {median(m, 'cpu_seconds_per_epoch'):.1f}"
                                     for m in MODELS) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--windows", type=int, default=2048, help="windows per timed epoch")
    parser.add_argument("--encode", action="store_true", help="train and test on ENCODE experiments")
    parser.add_argument("--only", default="MYC,GABPA,REST", help="experiment name prefixes, comma-separated")
    parser.add_argument("--positives", type=int, default=2000, help="training positives per experiment (0: all)")
    parser.add_argument("--all", action="store_true", help="the ten experiments with every training positive")
    parser.add_argument("--tag", default="sub")
    parser.add_argument("--models", default=",".join(MODELS), help="models to (re)run, comma-separated")
    parser.add_argument("--diagnose", action="store_true", help="model:recipe trials on subsampled experiments")
    parser.add_argument("--scales", action="store_true", help="layer output scales at initialisation")
    parser.add_argument("--trials", default="", help="model:recipe pairs for --diagnose, comma-separated")
    args = parser.parse_args()
    if args.scales:
        scales(args)
    elif args.diagnose:
        diagnose(args)
    elif args.encode:
        encode(args)
    else:
        speed(args)


if __name__ == "__main__":
    main()
