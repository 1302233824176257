"""Check seqcnn's recurrent and attention layers against Keras 3 and keras_hub: counts, shapes and outputs.

    .venv/bin/python -m benchmarks.parity.keras_layers [--random 40] [--seed 0]

The specs are the zoo models ``danq``, ``deepsea``, ``basset``, ``cnn-bilstm`` and
``cnn-transformer`` and ``--random`` random specs that mix Conv1D and pooling with LSTM, GRU
(both ``reset_after`` values), Bidirectional (every merge mode), MultiHeadAttention,
LayerNormalization, sine and learned position encodings and TransformerEncoder. This process
writes them to a JSON file and runs this same module under ``benchmarks/.venv-keras`` (Keras 3
with TensorFlow and keras_hub; see ``requirements-keras.txt``), which builds each spec in Keras
with its own translation (no seqcnn code), and returns per-layer output shapes and parameter
counts, the weights Keras initialised and Keras's output for a random input. Back here, every
count and shape is compared with ``seqcnn``'s spec analysis, and for every spec small enough
(under 2 million parameters) Keras's weights are loaded into the torch model built from the
spec and both outputs compared: the layers are Keras's, not only their counts.

Results: ``benchmarks/results/parity/keras_layers-<machine>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from benchmarks.harness import ROOT, keras_python, result_path

KERAS_PYTHON = keras_python()
ZOO = tuple(os.environ.get("KERAS_LAYERS_ZOO", "danq deepsea basset cnn-bilstm cnn-transformer").split())
NUMERIC_LIMIT = 2_000_000  # parameters; bigger models are compared by counts and shapes only


# --- Random specs (seqcnn side) ---------------------------------------------------------------


def _recurrent(rng: random.Random, sequences: bool) -> dict:
    cell = rng.choice(["LSTM", "GRU"])
    args = {"units": rng.randint(2, 24), "return_sequences": sequences}
    if rng.random() < 0.2:
        args["use_bias"] = False
    if cell == "GRU" and rng.random() < 0.4:
        args["reset_after"] = False
    if rng.random() < 0.5:
        return {"Bidirectional": {"layer": {cell: args}, "merge_mode": rng.choice(["concat", "sum", "mul", "ave"])}}
    return {cell: args}


def _mixing(rng: random.Random, features: int, length: int) -> dict:
    kind = rng.choice(["recurrent", "attention", "encoder", "norm", "sine", "embedding"])
    if kind == "recurrent":
        return _recurrent(rng, True)
    if kind == "attention":
        args = {"num_heads": rng.randint(1, 4), "key_dim": rng.randint(2, 12)}
        if rng.random() < 0.5:
            args["value_dim"] = rng.randint(2, 12)
        if rng.random() < 0.2:
            args["use_bias"] = False
        return {"MultiHeadAttention": args}
    if kind == "encoder":
        return {
            "TransformerEncoder": {
                "intermediate_dim": rng.randint(4, 48),
                "num_heads": rng.randint(1, min(4, features)),
                "normalize_first": rng.random() < 0.5,
                "activation": rng.choice(["relu", "gelu"]),
            }
        }
    if kind == "norm":
        return {"LayerNormalization": {}}
    if kind == "sine":
        return {"SinePositionEncoding": {}}
    return {"PositionEmbedding": {"sequence_length": length + rng.randint(0, 10)}}


def random_spec(rng: random.Random) -> tuple[list[dict], int]:
    """A random spec mixing the new layers with convolution and pooling, and its input length."""
    length = rng.randint(12, 80)
    layers, features, steps = [], 4, length
    if rng.random() < 0.8:
        filters, width = rng.randint(4, 32), rng.randint(2, 9)
        padding = rng.choice(["valid", "same"])
        layers.append({"Conv1D": {"filters": filters, "kernel_size": width, "padding": padding, "activation": "relu"}})
        features, steps = filters, steps - (width - 1 if padding == "valid" else 0)
        if rng.random() < 0.5:
            layers.append({"MaxPooling1D": {"pool_size": 2}})
            steps //= 2
    for _ in range(rng.randint(1, 3)):
        layer = _mixing(rng, features, steps)
        layers.append(layer)
        features = _features_after(layer, features)
    layers += _random_head(rng)
    return layers, length


def _features_after(layer: dict, features: int) -> int:
    ((kind, args),) = layer.items()
    if kind in ("LSTM", "GRU"):
        return args["units"]
    if kind == "Bidirectional":
        ((_, inner),) = args["layer"].items()
        return inner["units"] * (2 if args["merge_mode"] == "concat" else 1)
    return features


def _random_head(rng: random.Random) -> list[dict]:
    top = rng.choice(["recurrent", "global_max", "global_average", "flatten"])
    head = (
        [_recurrent(rng, False)]
        if top == "recurrent"
        else [
            {"GlobalMaxPooling1D": {}}
            if top == "global_max"
            else {"GlobalAveragePooling1D": {}}
            if top == "global_average"
            else {"Flatten": {}}
        ]
    )
    if rng.random() < 0.5:
        head += [{"Dense": {"units": rng.randint(4, 32), "activation": "relu"}}, {"Dropout": {"rate": 0.3}}]
    outputs = rng.choice([1, 2, 3, 5])
    return head + [
        {"Dense": {"units": outputs, "activation": "softmax" if outputs > 1 and rng.random() < 0.5 else "sigmoid"}}
    ]


def seqcnn_counts(layers: list[dict], length: int) -> dict:
    """seqcnn's analysis: per-layer Keras shapes (steps, features) and parameters."""
    from seqcnn.models.spec import ModelSpec

    infos = ModelSpec.from_obj(layers).analyse((4, length))
    shapes = [list(i.out_shape[1:]) + [i.out_shape[0]] if len(i.out_shape) == 2 else list(i.out_shape) for i in infos]
    return {"shapes": shapes, "params": [i.params for i in infos], "trainable": sum(i.trainable for i in infos)}


# --- Keras side (runs in benchmarks/.venv-keras) ------------------------------------------------


def keras_layer(kind: str, args: dict):
    """One spec layer as a Keras (or keras_hub) layer; position layers are returned alone (the caller adds them)."""
    import keras
    import keras_hub

    args = {k: v for k, v in args.items() if k != "name"}
    if kind == "Bidirectional":
        ((inner_kind, inner),) = args["layer"].items()
        return keras.layers.Bidirectional(keras_layer(inner_kind, inner), merge_mode=args.get("merge_mode", "concat"))
    if kind == "SinePositionEncoding":
        return keras_hub.layers.SinePositionEncoding(**args)
    if kind in ("PositionEmbedding", "TransformerEncoder"):
        return getattr(keras_hub.layers, kind)(**args)
    return getattr(keras.layers, kind)(**args)


def keras_model(layers: list[dict], length: int):
    """The spec as a Keras functional model, and the layer (or Add) whose output ends each spec layer."""
    import keras

    inputs = keras.Input((length, 4))
    x, ends, owners = inputs, [], []
    for item in layers:
        ((kind, args),) = item.items()
        layer = keras_layer(kind, args)
        if kind == "MultiHeadAttention":
            x = layer(x, x)
        elif kind in ("SinePositionEncoding", "PositionEmbedding"):
            x = keras.layers.Add()([x, layer(x)])
        else:
            x = layer(x)
        ends.append(x)
        owners.append(layer)
    return keras.Model(inputs, x), ends, owners


def keras_side(spec_file: str, out_file: str, arrays_dir: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(0)
    cases = json.loads(Path(spec_file).read_text())
    results = []
    for index, case in enumerate(cases):
        model, ends, owners = keras_model(case["layers"], case["length"])
        entry = {
            "name": case["name"],
            "total": model.count_params(),
            "trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
            "shapes": [list(t.shape[1:]) for t in ends],
            "params": [layer.count_params() for layer in owners],
            "keras": keras.__version__,
        }
        if model.count_params() <= NUMERIC_LIMIT:
            x = np.random.default_rng(index).normal(size=(3, case["length"], 4)).astype(np.float32)
            arrays = {"input": x, "output": np.asarray(model(x, training=False))}
            for i, layer in enumerate(owners):
                for j, weight in enumerate(layer.weights):
                    arrays[f"{i}/{j}/{weight.path}"] = np.asarray(weight)
            np.savez(Path(arrays_dir) / f"{index}.npz", **arrays)
            entry["arrays"] = f"{index}.npz"
        results.append(entry)
    Path(out_file).write_text(json.dumps(results))


# --- Keras weights into the torch model (seqcnn side) -------------------------------------------


def _by_layer(arrays) -> dict[int, list[tuple[str, np.ndarray]]]:
    layers: dict[int, list] = {}
    for key in arrays.files:
        if "/" in key:
            i, j, path = key.split("/", 2)
            layers.setdefault(int(i), []).append((int(j), path, arrays[key]))
    return {i: [(path, a) for _, path, a in sorted(ws)] for i, ws in layers.items()}


def _gru_rows(a: np.ndarray, units: int) -> np.ndarray:
    """Keras's GRU gate blocks (update, reset, new) to torch's (reset, update, new), along the last axis."""
    z, r, n = a[..., :units], a[..., units : 2 * units], a[..., 2 * units :]
    return np.concatenate([r, z, n], axis=-1)


def _recurrent_state(cell: str, units: int, weights: list[np.ndarray], suffix: str, reset_after: bool) -> dict:
    kernel, recurrent, *bias = weights
    fix = (lambda a: _gru_rows(a, units)) if cell == "GRU" else (lambda a: a)
    state = {f"weight_ih{suffix}": fix(kernel).T, f"weight_hh{suffix}": fix(recurrent).T}
    if bias and cell == "GRU" and reset_after:
        state[f"bias_ih{suffix}"], state[f"bias_hh{suffix}"] = fix(bias[0][0]), fix(bias[0][1])
    elif bias:
        state[f"bias{suffix}"] = fix(bias[0])
    return state


def _attention_state(prefix: str, weights: dict[str, np.ndarray]) -> dict:
    """Keras MultiHeadAttention (kernels (d, h, k) and (h, v, d)) to four torch Linear layers."""
    state = {}
    for part in ("query", "key", "value"):
        kernel = weights[f"{part}/kernel"]
        state[f"{prefix}{part}.weight"] = kernel.reshape(kernel.shape[0], -1).T
        if f"{part}/bias" in weights:
            state[f"{prefix}{part}.bias"] = weights[f"{part}/bias"].reshape(-1)
    kernel = weights["attention_output/kernel"]
    state[f"{prefix}output.weight"] = kernel.reshape(-1, kernel.shape[-1]).T
    if "attention_output/bias" in weights:
        state[f"{prefix}output.bias"] = weights["attention_output/bias"]
    return state


def _short(path: str, depth: int) -> str:
    return "/".join(path.split("/")[-depth:])


def torch_state(info, weights: list[tuple[str, np.ndarray]], flattened: tuple[int, ...]) -> dict:
    """Keras weights of one spec layer as the torch layer's state (names without the ``layers.i.`` prefix)."""
    kind, args = info.layer.type, info.layer.args
    arrays = [a for _, a in weights]
    if kind == "Conv1D":
        return {"weight": arrays[0].transpose(2, 1, 0), **({"bias": arrays[1]} if len(arrays) > 1 else {})}
    if kind == "Dense":
        kernel = arrays[0]
        if len(flattened) == 2:  # after Flatten: Keras flattens (steps, features), torch (features, steps)
            features, steps = flattened
            kernel = kernel.reshape(steps, features, -1).transpose(1, 0, 2).reshape(steps * features, -1)
        return {"weight": kernel.T, **({"bias": arrays[1]} if len(arrays) > 1 else {})}
    if kind == "BatchNormalization":
        return dict(zip(("weight", "bias", "running_mean", "running_var"), arrays))
    if kind == "LayerNormalization":
        return {"norm.weight": arrays[0], "norm.bias": arrays[1]}
    if kind == "PositionEmbedding":
        return {"embeddings": arrays[0]}
    if kind in ("LSTM", "GRU"):
        return _recurrent_state(kind, args["units"], arrays, "", args.get("reset_after", True))
    if kind == "Bidirectional":
        ((cell, inner),) = args["layer"].items()
        half = len(arrays) // 2
        reset_after = inner.get("reset_after", True)
        return {
            **_recurrent_state(cell, inner["units"], arrays[:half], "", reset_after),
            **_recurrent_state(cell, inner["units"], arrays[half:], "_reverse", reset_after),
        }
    if kind == "MultiHeadAttention":
        return _attention_state("", {_short(p, 2): a for p, a in weights})
    if kind == "TransformerEncoder":
        return _encoder_state(weights)
    return {}


def _encoder_state(weights: list[tuple[str, np.ndarray]]) -> dict:
    named = {p.split("/", 1)[1]: a for p, a in weights}  # without the layer's own name
    attention = {_short(k, 2): a for k, a in named.items() if k.startswith("self_attention_layer/")}
    state = _attention_state("attention.", attention)
    for keras_name, torch_name in (
        ("self_attention_layer_norm", "attention_norm"),
        ("feedforward_layer_norm", "feed_forward_norm"),
    ):
        state[f"{torch_name}.weight"], state[f"{torch_name}.bias"] = (
            named[f"{keras_name}/gamma"],
            named[f"{keras_name}/beta"],
        )
    for keras_name, torch_name in (
        ("feedforward_intermediate_dense", "intermediate"),
        ("feedforward_output_dense", "output"),
    ):
        state[f"{torch_name}.weight"], state[f"{torch_name}.bias"] = (
            named[f"{keras_name}/kernel"].T,
            named[f"{keras_name}/bias"],
        )
    return state


def compare_outputs(layers: list[dict], length: int, arrays_file: Path) -> float:
    """Largest absolute difference between Keras's output and the torch model's with Keras's weights."""
    import torch

    from seqcnn.models.network import build_model
    from seqcnn.models.spec import ModelSpec

    arrays = np.load(arrays_file)
    model = build_model(ModelSpec.from_obj(layers), (4, length)).eval()
    per_layer = _by_layer(arrays)
    state = {}
    for i, info in enumerate(model.infos):
        flattened = model.infos[i - 1].in_shape if i and model.infos[i - 1].layer.type == "Flatten" else ()
        for key, value in torch_state(info, per_layer.get(i, []), flattened).items():
            state[f"layers.{i}.{key}"] = torch.as_tensor(np.ascontiguousarray(value))
    model.load_state_dict(state, strict=True)
    with torch.no_grad():
        logits = model(torch.as_tensor(arrays["input"]).transpose(1, 2))
    act = model.output_activation
    out = torch.softmax(logits, 1) if act == "softmax" else torch.sigmoid(logits) if act == "sigmoid" else logits
    return float(np.abs(out.numpy() - arrays["output"]).max())


# --- Driver -------------------------------------------------------------------------------------


def cases(n_random: int, seed: int) -> list[dict]:
    from seqcnn.models import zoo

    out = []
    for name in ZOO:
        spec = zoo.get(name)
        out.append(
            {
                "name": name,
                "length": zoo.entry(name).default_input[1],
                "layers": [{layer.type: dict(layer.args)} for layer in spec.layers],
            }
        )
    rng = random.Random(seed)
    for i in range(n_random):
        layers, length = random_spec(rng)
        out.append({"name": f"random-{i}", "length": length, "layers": layers})
    return out


def compare(case: dict, keras: dict, arrays_dir: Path) -> dict:
    ours = seqcnn_counts(case["layers"], case["length"])
    row = {
        "name": case["name"],
        "layers": " ".join(next(iter(layer)) for layer in case["layers"]),
        "seqcnn_total": sum(ours["params"]),
        "keras_total": keras["total"],
        "params_equal": ours["params"] == keras["params"] and sum(ours["params"]) == keras["total"],
        "trainable_equal": ours["trainable"] == keras["trainable"],
        "shapes_equal": ours["shapes"] == keras["shapes"],
    }
    if not row["params_equal"] or not row["shapes_equal"]:
        row["seqcnn"], row["keras"] = ours, {k: keras[k] for k in ("params", "shapes")}
    if "arrays" in keras:
        row["max_abs_output_difference"] = compare_outputs(case["layers"], case["length"], arrays_dir / keras["arrays"])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=40, help="random specs besides the zoo models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keras-side", nargs=3, metavar=("SPECS", "OUT", "ARRAYS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.keras_side:
        return keras_side(*args.keras_side)
    if not KERAS_PYTHON.exists():
        sys.exit(f"{KERAS_PYTHON}: missing; create it as benchmarks/parity/requirements-keras.txt says "
                 "(keras-hub included)")
    all_cases = cases(args.random, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "specs.json").write_text(json.dumps(all_cases))
        subprocess.run(
            [str(KERAS_PYTHON), "-m", __spec__.name, "--keras-side", str(tmp / "specs.json"), str(tmp / "keras.json"),
             str(tmp)],
            check=True,
            cwd=ROOT,
            env={**os.environ, "KERAS_BACKEND": "tensorflow"},
        )
        keras = json.loads((tmp / "keras.json").read_text())
        rows = [compare(case, k, tmp) for case, k in zip(all_cases, keras)]
    diffs = [r["max_abs_output_difference"] for r in rows if "max_abs_output_difference" in r]
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "keras": keras[0]["keras"],
        "seed": args.seed,
        "specs": len(rows),
        "params_equal": sum(r["params_equal"] for r in rows),
        "shapes_equal": sum(r["shapes_equal"] for r in rows),
        "trainable_equal": sum(r["trainable_equal"] for r in rows),
        "outputs_compared": len(diffs),
        "max_abs_output_difference": max(diffs) if diffs else None,
        "rows": rows,
    }
    out = result_path(__file__, "json")
    out.write_text(json.dumps(result, indent=1) + "\n")
    for r in rows:
        diff = r.get("max_abs_output_difference")
        params, shapes = ("ok" if r[key] else "DIFFER" for key in ("params_equal", "shapes_equal"))
        out_diff = "-" if diff is None else f"{diff:.1e}"
        print(
            f"{r['name']:16} {r['seqcnn_total']:>12,} {r['keras_total']:>12,} params {params} shapes {shapes} "
            f"out {out_diff}  {r['layers']}"
        )
    print(
        f"{result['params_equal']}/{len(rows)} parameter counts, {result['shapes_equal']}/{len(rows)} shapes equal; "
        f"outputs of {len(diffs)} specs differ by at most {result['max_abs_output_difference']:.2e}; wrote {out}"
    )


if __name__ == "__main__":
    main()
