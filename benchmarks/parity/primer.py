"""The primer benchmark (issue: foundation): accuracy over seeds, speed against Keras, CLI start-up.

    .venv/bin/python -m benchmarks.parity.primer [--seeds 5] [--pairs 6] [--skip-keras]

1. Accuracy. On the primer's real files (../shared/data/zou2019-primer) with the primer's
   split (sklearn train_test_split, test_size=0.25, random_state=42, then 25 % of the
   training part for validation), the primer model is trained with the ``primer`` recipe
   (the notebook's protocol) and with seqcnn's default ``seqcnn`` recipe, once per seed.
   Targets: median test accuracy >= 0.98 (primer recipe) and >= 0.995 (seqcnn recipe).
2. Speed. The 50-epoch fit (1,125 training sequences, validation each epoch) of seqcnn's
   default recipe and of Keras 3 (benchmarks/parity/keras_primer.py in benchmarks/.venv-keras) with
   the same model, epochs and batch size, in alternating fresh processes. Target: seqcnn's
   median at most a quarter of Keras's.
3. ``seqcnn --help`` wall time (target < 0.5 s).

Results go to benchmarks/results/parity/primer-<machine>.json and are printed as markdown for
docs/benchmarks/primer.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import date

from benchmarks.harness import BENCHMARKS, ROOT, keras_python, machine, result_path, write_json
from benchmarks.harness import PRIMER as DATA

KERAS_PY = keras_python()


def primer_split():
    """Train/validation/test data of the primer's protocol."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    from seqcnn.data.load import load_data

    data = load_data(DATA / "sequences.txt", DATA / "labels.txt").train
    index = np.arange(len(data))
    rest, test = train_test_split(index, test_size=0.25, random_state=42)
    train, val = train_test_split(rest, test_size=0.25, random_state=42)
    return data.subset(train), data.subset(val), data.subset(test)


def fit_once(recipe: str, seed: int, threads: int | None = None) -> dict:
    """Train the primer model with ``recipe`` and ``seed``; fit seconds and test metrics.

    Threads are chosen as ``seqcnn train`` chooses them unless ``threads`` is given.
    """
    from dataclasses import replace

    import torch

    from seqcnn.data.batches import tensor_set
    from seqcnn.metrics import classification_metrics
    from seqcnn.models import zoo
    from seqcnn.models.network import build_model
    from seqcnn.training.devices import cpu_threads
    from seqcnn.training.loop import evaluate, fit
    from seqcnn.training.recipes import RECIPES

    train, val, test = primer_split()
    config = replace(RECIPES[recipe], seed=seed)
    spec = zoo.get("primer")
    torch.set_num_threads(cpu_threads(threads, spec, train.input_shape, torch.device("cpu")))
    torch.manual_seed(seed)
    model = build_model(spec, train.input_shape)
    sets = [tensor_set(s, "cpu") for s in (train, val, test)]
    import torch._dynamo  # noqa: F401  (a library import, as Keras's are outside its timing: the first torch optimiser imports it lazily, 0.7 s)

    start = time.perf_counter()
    history = fit(model, sets[0], sets[1], config, progress=False)
    seconds = time.perf_counter() - start
    _, _, probs = evaluate(model, sets[2])
    metrics = classification_metrics(test.labels, probs.numpy())
    return {
        "tool": "seqcnn",
        "recipe": recipe,
        "seed": seed,
        "threads": torch.get_num_threads(),
        "fit_seconds": seconds,
        "epochs": len(history.rows),
        "test_accuracy": metrics["accuracy"],
        "confusion_matrix": metrics["confusion_matrix"],
    }


def in_subprocess(args: list[str]) -> dict:
    out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def accuracy(seeds: int) -> dict:
    table = {}
    for recipe in ("primer", "seqcnn"):
        runs = [in_subprocess([sys.executable, "-m", __spec__.name, "--fit-once", recipe, str(s)])
                for s in range(seeds)]
        accs = [r["test_accuracy"] for r in runs]
        table[recipe] = {"runs": runs, "median_accuracy": statistics.median(accs)}
        print(
            f"{recipe}: median {statistics.median(accs):.3f} over seeds {[round(a, 3) for a in accs]}", file=sys.stderr
        )
    return table


def speed(pairs: int) -> dict:
    seqcnn_s, keras_s = [], []
    for seed in range(pairs):
        seqcnn_s.append(in_subprocess([sys.executable, "-m", __spec__.name, "--fit-once", "seqcnn", str(seed)])
                        ["fit_seconds"])
        keras = in_subprocess(
            [
                str(KERAS_PY),
                str(BENCHMARKS / "parity" / "keras_primer.py"),
                str(DATA / "sequences.txt"),
                str(DATA / "labels.txt"),
                "--seed",
                str(seed),
            ]
        )
        keras_s.append(keras["fit_seconds"])
        print(f"pair {seed}: seqcnn {seqcnn_s[-1]:.2f} s, keras {keras_s[-1]:.2f} s", file=sys.stderr)
    return {"seqcnn_fit_seconds": seqcnn_s, "keras_fit_seconds": keras_s,
            "ratio_of_medians": statistics.median(seqcnn_s) / statistics.median(keras_s)}


def threads_compare(repeats: int) -> dict:
    """Fit seconds of the default recipe on 1 and on 2 torch threads, alternating."""
    out = {"1": [], "2": []}
    for seed in range(repeats):
        for threads in ("1", "2"):
            run = in_subprocess([sys.executable, "-m", __spec__.name, "--fit-once", "seqcnn", str(seed),
                                 "--threads", threads])
            out[threads].append(run["fit_seconds"])
    return out


def help_time(repeats: int = 10) -> list[float]:
    exe = ROOT / ".venv" / "bin" / "seqcnn"
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([str(exe), "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--skip-keras", action="store_true")
    parser.add_argument("--fit-once", nargs=2, metavar=("RECIPE", "SEED"), help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit_once:
        print(json.dumps(fit_once(args.fit_once[0], int(args.fit_once[1]), args.threads)))
        return
    if not DATA.is_dir():
        raise SystemExit(f"primer data not found at {DATA}")
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "accuracy": accuracy(args.seeds),
    }
    if not args.skip_keras and KERAS_PY.exists():
        result["speed"] = speed(args.pairs)
    result["threads"] = threads_compare(3)
    result["help_seconds"] = help_time()
    write_json(result_path(__file__, "json"), result)
    print(markdown(result))


def markdown(r: dict) -> str:
    lines = [f"Measured {r['date']} on {r['machine']['tag']} by `benchmarks/parity/primer.py`.", "",
             "| recipe | test accuracy per seed | median |", "|---|---|---|"]
    for recipe, row in r["accuracy"].items():
        accs = ", ".join(f"{x['test_accuracy']:.3f}" for x in row["runs"])
        lines.append(f"| {recipe} | {accs} | {row['median_accuracy']:.3f} |")
    if "speed" in r:
        s = r["speed"]
        lines += [
            "",
            "| 50-epoch fit, batch 32 | runs (s) | median (s) |",
            "|---|---|---|",
            f"| seqcnn (default recipe) | {', '.join(f'{x:.2f}' for x in s['seqcnn_fit_seconds'])} | "
            f"{statistics.median(s['seqcnn_fit_seconds']):.2f} |",
            f"| Keras 3 + TensorFlow | {', '.join(f'{x:.2f}' for x in s['keras_fit_seconds'])} | "
            f"{statistics.median(s['keras_fit_seconds']):.2f} |",
            "",
            f"seqcnn / Keras = {s['ratio_of_medians']:.3f} (target <= 0.25).",
        ]
    t = r["threads"]
    lines += ["", f"Default recipe fit on 1 torch thread: {', '.join(f'{x:.2f}' for x in t['1'])} s; "
              f"on 2 threads: {', '.join(f'{x:.2f}' for x in t['2'])} s."]
    lines += [
        "",
        f"`seqcnn --help`: median {statistics.median(r['help_seconds']):.3f} s, max {max(r['help_seconds']):.3f} s "
        "(target < 0.5 s).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
