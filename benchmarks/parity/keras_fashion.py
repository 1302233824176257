"""Keras 3 (TensorFlow backend) side of `benchmarks/accuracy/fashion.py speed`: one timed epoch per request.

Runs in the optional environment of `benchmarks/parity/requirements-keras.txt` (never a seqcnn
dependency):

    python3 -m venv benchmarks/.venv-keras
    benchmarks/.venv-keras/bin/pip install -r benchmarks/parity/requirements-keras.txt

It builds the seqcnn spec given as JSON with the Keras layers of the same names and arguments
(the spec's layer names *are* Keras's), compiles it with Adam (learning rate 1e-3) and sparse
categorical cross-entropy, prints one JSON line (parameter count, versions), then trains one
epoch per `epoch` line on stdin and prints the epoch's wall time in seconds.

Started by `benchmarks.accuracy.fashion speed`; by hand, from the repository root:

    benchmarks/.venv-keras/bin/python -m benchmarks.parity.keras_fashion SPEC.json DATA.npz --batch-size 32
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build(spec: dict, input_shape: tuple[int, ...]):
    """A keras.Sequential from a seqcnn spec object (``{"layers": [{"Conv2D": {...}}, ...]}``)."""
    import keras

    layers = [keras.Input(shape=input_shape)]
    for entry in spec["layers"]:
        (kind, kwargs), = entry.items()
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        layers.append(getattr(keras.layers, kind)(**kwargs))
    return keras.Sequential(layers)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec")
    parser.add_argument("data")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: TensorFlow's choice)")
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    with np.load(args.data) as arrays:
        x = (arrays["x"][..., None].astype("float32") / 255.0)  # (N, 28, 28) -> (N, 28, 28, 1), channels last
        y = arrays["y"].astype("int64")
    keras.utils.set_random_seed(0)
    model = build(json.loads(open(args.spec).read()), x.shape[1:])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    versions = {"tensorflow": tf.__version__, "keras": keras.__version__, "backend": keras.backend.backend()}
    print(json.dumps({"params": int(model.count_params()), "versions": versions}), flush=True)
    for _ in sys.stdin:
        started = time.perf_counter()
        model.fit(x, y, batch_size=args.batch_size, epochs=1, shuffle=True, verbose=0)
        print(time.perf_counter() - started, flush=True)


if __name__ == "__main__":
    main()
