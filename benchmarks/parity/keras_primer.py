"""Reference: the primer's Keras model and protocol, timed. Runs in benchmarks/.venv-keras only.

Started by ``benchmarks.parity.primer``, ``benchmarks.speed.startup`` and ``benchmarks.speed.default_speed``;
by hand, from the repository root:

    benchmarks/.venv-keras/bin/python -m benchmarks.parity.keras_primer SEQUENCES LABELS --seed 0

Prints one JSON line: fit wall time (50 epochs, batch 32, validation_split 0.25 as the
primer's notebook), test accuracy and confusion matrix on the primer's split
(train_test_split(test_size=0.25, random_state=42)).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np


def onehot(seqs: list[str]) -> np.ndarray:
    table = np.zeros((256, 4), dtype=np.float32)
    for i, base in enumerate(b"ACGT"):
        table[base, i] = 1.0
    raw = np.frombuffer("".join(seqs).encode(), dtype=np.uint8).reshape(len(seqs), -1)
    return table[raw]  # (N, L, 4): Keras is channels last


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sequences")
    parser.add_argument("labels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    import keras
    from sklearn.model_selection import train_test_split

    keras.utils.set_random_seed(args.seed)
    seqs = [line.strip() for line in open(args.sequences) if line.strip()]
    labels = np.array([int(line) for line in open(args.labels) if line.strip()])
    x, y = onehot(seqs), np.eye(2, dtype=np.float32)[labels]
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=42)
    model = keras.Sequential([
        keras.Input(shape=x.shape[1:]),
        keras.layers.Conv1D(filters=32, kernel_size=12),
        keras.layers.MaxPooling1D(pool_size=4),
        keras.layers.Flatten(),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["binary_accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0, validation_split=0.25)
    seconds = time.perf_counter() - start
    pred = model.predict(x_test, verbose=0).argmax(1)
    true = y_test.argmax(1)
    cm = [[int(((true == i) & (pred == j)).sum()) for j in range(2)] for i in range(2)]
    print(
        json.dumps(
            {
                "tool": "keras",
                "keras": keras.__version__,
                "seed": args.seed,
                "fit_seconds": seconds,
                "params": model.count_params(),
                "test_accuracy": float((pred == true).mean()),
                "confusion_matrix": cm,
            }
        )
    )


if __name__ == "__main__":
    main()
