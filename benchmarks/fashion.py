"""Fashion-MNIST benchmark: test accuracy of `seqcnn train`, and training speed against Keras 3.

    nice -n 10 .venv/bin/python benchmarks/fashion.py accuracy                 # dense, cnn, cnn-aug
    nice -n 10 .venv/bin/python benchmarks/fashion.py accuracy --only cnn      # one of them
    nice -n 10 .venv/bin/python benchmarks/fashion.py speed --pairs 6          # paired epochs vs Keras

`accuracy` runs the command line exactly as a user would (`seqcnn train --dataset fashion-mnist
--model M --recipe R`), with the recipe's defaults, and records test accuracy, epochs and wall
time in `benchmarks/results/fashion-accuracy.json`.

`speed` trains the same spec (fashion-cnn, 1,413,834 parameters), on the same slice of
training images, at the same batch size, with Adam, in two long-lived worker processes: seqcnn
(this interpreter) and Keras 3 with the TensorFlow backend (`benchmarks/keras_fashion.py` in
the optional environment of `benchmarks/requirements-keras.txt`). The two take turns, one
epoch each, so that both see the same load on a shared machine; the first epoch of each is
warm-up. Results go to `benchmarks/results/fashion-speed.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "fashion-mnist"
RESULTS = ROOT / "benchmarks" / "results"
KERAS_PYTHON = ROOT / "benchmarks" / ".venv-keras" / "bin" / "python"

#: name -> (model, recipe): what `accuracy` runs.
ACCURACY_RUNS = {
    "dense": ("fashion-dense", "fashion"),
    "cnn": ("fashion-cnn", "fashion"),
    "cnn-aug": ("fashion-cnn", "fashion-aug"),
}


def machine() -> dict:
    """Where a number was measured."""
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(), "date": date.today().isoformat()}


def run_accuracy(name: str, data_dir: Path) -> dict:
    """One `seqcnn train` run; returns its test accuracy, epochs and wall time."""
    model, recipe = ACCURACY_RUNS[name]
    out = ROOT / "runs" / "bench-fashion" / name
    command = [sys.executable, "-m", "seqcnn", "train", "--dataset", "fashion-mnist", "--data-dir", str(data_dir),
               "--model", model, "--recipe", recipe, "--out", str(out), "--force", "--quiet"]
    started = time.time()
    subprocess.run(command, check=True, cwd=ROOT)
    seconds = time.time() - started
    metrics = json.loads((out / "metrics.json").read_text())
    config = json.loads((out / "config.json").read_text())
    history = (out / "history.csv").read_text().splitlines()
    header = history[0].split(",")
    best = max((dict(zip(header, row.split(","))) for row in history[1:]), key=lambda r: float(r["val_accuracy"]))
    return {"name": name, "model": model, "recipe": recipe, "command": "seqcnn " + " ".join(command[3:]),
            "test_accuracy": metrics["accuracy"], "epochs": len(history) - 1, "best_val_epoch": int(best["epoch"]),
            "best_val_accuracy": float(best["val_accuracy"]), "wall_seconds": round(seconds, 1),
            "split": config["data"]["split"], "train": config["train"], "machine": machine()}


def accuracy(args) -> None:
    path = RESULTS / "fashion-accuracy.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    for name in args.only.split(",") if args.only else ACCURACY_RUNS:
        results[name] = run_accuracy(name, args.data_dir)
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
        r = results[name]
        print(f"| {name} | {r['model']} | {r['recipe']} | {r['test_accuracy']:.4f} | {r['epochs']} | {r['wall_seconds'] / 60:.1f} min |", flush=True)


class Worker:
    """A training process that runs one timed epoch per request (see `_seqcnn_worker`)."""

    def __init__(self, command: list[str], env: dict | None = None):
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        self.info = json.loads(self._read())

    def _read(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"worker {self.proc.args[:3]} ended early (exit {self.proc.wait()})")
        return line

    def epoch(self) -> float:
        self.proc.stdin.write("epoch\n")
        self.proc.stdin.flush()
        return float(self._read())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def speed(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec_file, data_file = _speed_inputs(Path(tmp), args)
        common = [str(spec_file), str(data_file), "--batch-size", str(args.batch_size), "--threads", str(args.threads)]
        ours = Worker([sys.executable, __file__, "_seqcnn_worker", *common, "--recipe", args.recipe])
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        keras = Worker([str(args.keras_python), str(ROOT / "benchmarks" / "keras_fashion.py"), *common], env=env)
        if ours.info["params"] != keras.info["params"]:
            raise SystemExit(f"models differ: seqcnn {ours.info['params']} parameters, Keras {keras.info['params']}")
        pairs = []
        for i in range(args.pairs + 1):  # pair 0 is warm-up (tracing, oneDNN primitive caches)
            first, second = (ours, keras) if i % 2 else (keras, ours)
            times = {id(first): first.epoch(), id(second): second.epoch()}
            pairs.append({"seqcnn": times[id(ours)], "keras": times[id(keras)]})
            print(f"pair {i}: keras {pairs[-1]['keras']:.2f} s, seqcnn {pairs[-1]['seqcnn']:.2f} s", file=sys.stderr, flush=True)
        ours.close()
        keras.close()
    _report_speed(pairs[1:], args, ours.info, keras.info)


def _speed_inputs(tmp: Path, args) -> tuple[Path, Path]:
    """The spec as JSON and the first ``args.images`` training images as .npz, for both workers."""
    import numpy as np

    from seqcnn.io.idx import read_idx
    from seqcnn.models import zoo

    spec_file = tmp / "spec.json"
    spec_file.write_text(json.dumps(zoo.get(args.model).to_obj()))
    images = read_idx(args.data_dir / "train-images-idx3-ubyte.gz")[: args.images]
    labels = read_idx(args.data_dir / "train-labels-idx1-ubyte.gz")[: args.images]
    data_file = tmp / "data.npz"
    np.savez(data_file, x=images, y=labels)
    return spec_file, data_file


def _report_speed(pairs: list[dict], args, ours: dict, keras: dict) -> None:
    """Keras's fast level: its epochs within 25 % of its fastest (its speed flips between two levels)."""
    keras_times = [p["keras"] for p in pairs]
    fast = [t for t in keras_times if t <= 1.25 * min(keras_times)]
    ours_median = statistics.median(p["seqcnn"] for p in pairs)
    result = {
        "model": args.model, "params": ours["params"], "images_per_epoch": args.images, "batch_size": args.batch_size,
        "threads": args.threads, "recipe": args.recipe, "seqcnn_options": ours["options"], "keras": keras["versions"],
        "pairs": pairs,
        "seqcnn_median_s": ours_median, "keras_median_s": statistics.median(keras_times),
        "keras_fast_level_median_s": statistics.median(fast), "keras_fast_level_epochs": len(fast),
        "speedup_vs_keras_fast_level": statistics.median(fast) / ours_median,
        "speedup_per_pair": [p["keras"] / p["seqcnn"] for p in pairs],
        "seqcnn_images_per_s": args.images / ours_median, "keras_fast_images_per_s": args.images / statistics.median(fast),
        "machine": machine(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fashion-speed.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"seqcnn {ours_median:.2f} s per {args.images} images ({result['seqcnn_images_per_s']:.0f}/s); "
          f"Keras fast level {result['keras_fast_level_median_s']:.2f} s ({len(fast)} of {len(pairs)} epochs), "
          f"all epochs median {result['keras_median_s']:.2f} s; speed-up {result['speedup_vs_keras_fast_level']:.2f}x")


def _seqcnn_worker(args) -> None:
    """Train the spec with seqcnn's own epoch loop, one epoch per 'epoch' line on stdin."""
    import numpy as np
    import torch

    from seqcnn.data import image_set
    from seqcnn.models.network import build_model
    from seqcnn.models.spec import ModelSpec
    from seqcnn.training import RECIPES, make_optimizer, train_epoch

    torch.set_num_threads(args.threads)
    spec = ModelSpec.from_obj(json.loads(Path(args.spec).read_text()))
    with np.load(args.data) as arrays:
        data = image_set(arrays["x"][:, None].astype(np.float32) / 255.0, arrays["y"].astype(np.int64))
    # Keras's side: Adam at its default rate, no schedule, no augmentation.
    config = replace(RECIPES[args.recipe], batch_size=args.batch_size, lr=1e-3, schedule="constant", augment=()).check()
    torch.manual_seed(0)
    model = build_model(spec, (1, 28, 28))
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, config)
    generator = torch.Generator().manual_seed(0)
    options = {"precision": config.precision, "channels_last": config.channels_last, "threads": torch.get_num_threads()}
    print(json.dumps({"params": sum(p.numel() for p in model.parameters()), "options": options}), flush=True)
    for epoch, _ in enumerate(sys.stdin, start=1):
        started = time.perf_counter()
        train_epoch(model, data, optimizer, None, config, generator, epoch)
        print(time.perf_counter() - started, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    acc = sub.add_parser("accuracy", help="seqcnn train runs: test accuracy, epochs, wall time")
    acc.add_argument("--only", help=f"comma-separated subset of {list(ACCURACY_RUNS)}")
    acc.add_argument("--data-dir", type=Path, default=DATA)
    spd = sub.add_parser("speed", help="paired training epochs, seqcnn vs Keras 3")
    spd.add_argument("--pairs", type=int, default=6, help="measured pairs after one warm-up pair (default: 6)")
    spd.add_argument("--images", type=int, default=10000, help="training images per epoch (default: 10000)")
    spd.add_argument("--batch-size", type=int, default=32)
    spd.add_argument("--threads", type=int, default=os.cpu_count())
    spd.add_argument("--model", default="fashion-cnn")
    spd.add_argument("--recipe", default="fashion", help="seqcnn recipe whose precision and memory format are used")
    spd.add_argument("--keras-python", type=Path, default=KERAS_PYTHON)
    spd.add_argument("--data-dir", type=Path, default=DATA)
    work = sub.add_parser("_seqcnn_worker")
    for name in ("spec", "data"):
        work.add_argument(name)
    work.add_argument("--batch-size", type=int, required=True)
    work.add_argument("--threads", type=int, required=True)
    work.add_argument("--recipe", required=True)
    args = parser.parse_args(argv)
    {"accuracy": accuracy, "speed": speed, "_seqcnn_worker": _seqcnn_worker}[args.mode](args)


if __name__ == "__main__":
    main()
