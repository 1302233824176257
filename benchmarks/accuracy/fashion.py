"""Fashion-MNIST benchmark: test accuracy of `seqcnn train`, and training speed against Keras 3.

    nice -n 10 .venv/bin/python -m benchmarks.accuracy.fashion accuracy             # dense, cnn, cnn-aug, cnn-bn
    nice -n 10 .venv/bin/python -m benchmarks.accuracy.fashion accuracy --only cnn  # one of them
    nice -n 10 .venv/bin/python -m benchmarks.accuracy.fashion speed --threads 2,1  # rounds of epochs vs Keras
    nice -n 10 .venv/bin/python -m benchmarks.accuracy.fashion options              # CPU time of bf16, NHWC, batch

`accuracy` runs the command line exactly as a user would (`seqcnn train --dataset fashion-mnist
--model M --recipe R`), with the recipe's defaults, and records test accuracy, epochs and wall
time in `benchmarks/results/accuracy/fashion-accuracy-<machine>.json`.

`speed` trains the same spec (fashion-cnn, 1,413,834 parameters), on the same slice of
training images, at the same batch size, with Adam, in long-lived worker processes: seqcnn
(this interpreter; one worker per `--threads` value) and Keras 3 with the TensorFlow backend
(`benchmarks/parity/keras_fashion.py` in the optional environment of `benchmarks/parity/requirements-keras.txt`).
They take turns, one epoch each per round, so that all see the same load on a shared machine;
round 0 is warm-up. Results go to `benchmarks/results/accuracy/fashion-speed-<machine>.json` (`options`:
`fashion-options-<machine>.json`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.harness import BENCHMARKS, ROOT, keras_python, machine, result_path, write_json
from benchmarks.harness import FASHION as DATA

#: name -> (model, recipe): what `accuracy` runs.
ACCURACY_RUNS = {
    "dense": ("fashion-dense", "fashion"),
    "cnn": ("fashion-cnn", "fashion"),
    "cnn-aug": ("fashion-cnn", "fashion-aug"),
    "cnn-bn": ("benchmarks/specs/fashion-cnn-bn.json", "fashion-bn"),  # same layer stack + batch norm
}


def run_accuracy(name: str, data_dir: Path, threads: int | None = None) -> dict:
    """One `seqcnn train` run; returns its test accuracy, epochs and wall time."""
    model, recipe = ACCURACY_RUNS[name]
    out = ROOT / "runs" / "bench-fashion" / name
    command = [sys.executable, "-m", "seqcnn", "train", "--dataset", "fashion-mnist", "--data-dir", str(data_dir),
               "--model", model, "--recipe", recipe, "--out", str(out), "--force", "--quiet"]
    command += ["--threads", str(threads)] if threads else []
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
    path = result_path(__file__, "json", "accuracy")
    results = json.loads(path.read_text()) if path.is_file() else {}
    for name in args.only.split(",") if args.only else ACCURACY_RUNS:
        results[name] = run_accuracy(name, args.data_dir, args.threads)
        write_json(path, results)
        r = results[name]
        print(
            f"| {name} | {r['model']} | {r['recipe']} | {r['test_accuracy']:.4f} | {r['epochs']} | "
            f"{r['wall_seconds'] / 60:.1f} min |",
            flush=True,
        )


class Worker:
    """A training process that runs one timed epoch per request (see `_seqcnn_worker`)."""

    def __init__(self, command: list[str], env: dict | None = None):
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env
        )
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
        common = [str(spec_file), str(data_file), "--batch-size", str(args.batch_size)]
        workers = {
            f"seqcnn-{t}t": Worker(
                [sys.executable, "-m", __spec__.name, "_seqcnn_worker", *common, "--threads", str(t),
                 "--recipe", args.recipe]
            )
            for t in args.threads
        }
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        workers["keras"] = Worker(
            [str(args.keras_python), str(BENCHMARKS / "parity" / "keras_fashion.py"), *common, "--threads", "0"],
            env=env,
        )
        params = {name: w.info["params"] for name, w in workers.items()}
        if len(set(params.values())) != 1:
            raise SystemExit(f"models differ: {params}")
        rounds = [_round(workers, i) for i in range(args.pairs + 1)]  # round 0 is warm-up (tracing, primitive caches)
        for worker in workers.values():
            worker.close()
    _report_speed(rounds[1:], args, {name: w.info for name, w in workers.items()})


def _round(workers: dict, i: int) -> dict:
    """One epoch of every worker, starting with a different one each round."""
    names = list(workers)
    order = names[i % len(names):] + names[: i % len(names)]
    times = {name: workers[name].epoch() for name in order}
    print(f"round {i}: " + ", ".join(f"{n} {times[n]:.2f} s" for n in names), file=sys.stderr, flush=True)
    return times


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


def _report_speed(rounds: list[dict], args, infos: dict) -> None:
    """Each seqcnn setting against Keras's fast level: its epochs within 25 % of its fastest
    (Keras's speed on this model flips between two levels, even within one process)."""
    keras_times = [r["keras"] for r in rounds]
    fast = [t for t in keras_times if t <= 1.25 * min(keras_times)]
    keras_fast = statistics.median(fast)
    result = {
        "model": args.model,
        "params": infos["keras"]["params"],
        "images_per_epoch": args.images,
        "batch_size": args.batch_size,
        "recipe": args.recipe,
        "keras": infos["keras"]["versions"],
        "rounds": rounds,
        "keras_median_s": statistics.median(keras_times),
        "keras_fast_level_median_s": keras_fast,
        "keras_fast_level_epochs": len(fast),
        "keras_fast_images_per_s": args.images / keras_fast,
        "seqcnn": {},
        "machine": machine(),
    }
    lines = [f"Keras 3 fast level {keras_fast:.2f} s per {args.images} images ({len(fast)} of {len(rounds)} epochs; "
             f"median of all {result['keras_median_s']:.2f} s)"]
    for name in (n for n in infos if n != "keras"):
        ours = statistics.median(r[name] for r in rounds)
        result["seqcnn"][name] = {
            "options": infos[name]["options"], "median_s": ours, "images_per_s": args.images / ours,
            "speedup_vs_keras_fast_level": keras_fast / ours,
            "speedup_per_round": [r["keras"] / r[name] for r in rounds],
        }
        lines.append(
            f"{name} {ours:.2f} s ({args.images / ours:.0f} images/s): {keras_fast / ours:.2f}x Keras's fast level, "
            f"per round {min(result['seqcnn'][name]['speedup_per_round']):.2f}-"
            f"{max(result['seqcnn'][name]['speedup_per_round']):.2f}x"
        )
    write_json(result_path(__file__, "json", "speed"), result)
    print("\n".join(lines))


#: precision, channels_last, batch size: the variants `options` compares.
OPTION_VARIANTS = [
    ("fp32", False, 32),
    ("fp32", True, 32),
    ("bf16", False, 32),
    ("bf16", True, 32),
    ("bf16", True, 64),
    ("bf16", True, 128),
]


def options(args) -> None:
    """CPU seconds per 10,000 training images of each precision / memory format / batch size.

    Process CPU time on one thread measures the work itself, which a busy shared machine
    leaves almost untouched (wall time there is mostly waiting for a core).
    """
    import numpy as np
    import torch

    from seqcnn.data.batches import image_set
    from seqcnn.models import zoo
    from seqcnn.models.network import build_model
    from seqcnn.training.loop import train_epoch
    from seqcnn.training.optimizers import make_optimizer
    from seqcnn.training.recipes import TrainConfig

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    data = image_set(rng.random((args.images, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, args.images))
    warm = image_set(rng.random((256, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 256))
    rows = []
    for precision, channels_last, batch in OPTION_VARIANTS:
        config = TrainConfig(batch_size=batch, precision=precision, channels_last=channels_last).check()
        torch.manual_seed(0)
        model = build_model(zoo.get(args.model), (1, 28, 28))
        if channels_last:
            model.to(memory_format=torch.channels_last)
        optimizer, generator = make_optimizer(model, config), torch.Generator().manual_seed(0)
        train_epoch(model, warm, optimizer, None, config, generator, 1)
        cpu, wall = time.process_time(), time.perf_counter()
        train_epoch(model, data, optimizer, None, config, generator, 1)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        rows.append({"precision": precision, "channels_last": channels_last, "batch_size": batch,
                     "cpu_s_per_10k": cpu / args.images * 1e4, "wall_s_per_10k": wall / args.images * 1e4})
        print(
            f"| {precision} | {'NHWC' if channels_last else 'NCHW'} | {batch} | {rows[-1]['cpu_s_per_10k']:.1f} s |",
            flush=True,
        )
    write_json(result_path(__file__, "json", "options"),
               {"model": args.model, "images": args.images, "threads": 1, "rows": rows, "machine": machine()})


def _seqcnn_worker(args) -> None:
    """Train the spec with seqcnn's own epoch loop, one epoch per 'epoch' line on stdin."""
    import numpy as np
    import torch

    from seqcnn.data.batches import image_set
    from seqcnn.models.network import build_model
    from seqcnn.models.spec import ModelSpec
    from seqcnn.training.loop import train_epoch
    from seqcnn.training.optimizers import make_optimizer
    from seqcnn.training.recipes import RECIPES

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
    acc.add_argument("--threads", type=int, help="torch threads (1 is fastest on a heavily shared machine)")
    spd = sub.add_parser("speed", help="paired training epochs, seqcnn vs Keras 3")
    spd.add_argument(
        "--pairs",
        type=int,
        default=6,
        help="measured rounds (one epoch of each worker) after a warm-up round (default: 6)",
    )
    spd.add_argument("--images", type=int, default=10000, help="training images per epoch (default: 10000)")
    spd.add_argument("--batch-size", type=int, default=32)
    spd.add_argument(
        "--threads",
        type=lambda s: [int(t) for t in s.split(",")],
        default=[os.cpu_count()],
        help="seqcnn torch threads, one worker per comma-separated value (default: all cores); Keras keeps "
             "TensorFlow's own setting",
    )
    spd.add_argument("--model", default="fashion-cnn")
    spd.add_argument("--recipe", default="fashion", help="seqcnn recipe whose precision and memory format are used")
    spd.add_argument("--keras-python", type=Path, default=keras_python())
    spd.add_argument("--data-dir", type=Path, default=DATA)
    opt = sub.add_parser(
        "options", help="CPU time per 10,000 images of precision / memory format / batch size variants"
    )
    opt.add_argument("--images", type=int, default=2000, help="images per measured epoch (default: 2000)")
    opt.add_argument("--model", default="fashion-cnn")
    work = sub.add_parser("_seqcnn_worker")
    for name in ("spec", "data"):
        work.add_argument(name)
    work.add_argument("--batch-size", type=int, required=True)
    work.add_argument("--threads", type=int, required=True)
    work.add_argument("--recipe", required=True)
    args = parser.parse_args(argv)
    {"accuracy": accuracy, "speed": speed, "options": options, "_seqcnn_worker": _seqcnn_worker}[args.mode](args)


if __name__ == "__main__":
    main()
