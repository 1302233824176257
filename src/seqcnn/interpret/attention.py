"""Attention weights of the chosen sequences, saved and drawn by ``seqcnn explain``.

For a model with a ``MultiHeadAttention`` or ``TransformerEncoder`` layer, the weights of the
last such layer (:func:`seqcnn.models.network.attention_weights`: row = query position, column =
key position, each row sums to 1 over the keys) are written for every explained sequence to
``attention.npz`` and drawn as one heatmap per sequence under ``plots/attention/`` (heads
averaged, then each head). The layer's positions are those after any pooling before it; each is
labelled by the input position it is centred on. Models without attention get nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from seqcnn.files import safe_name
from seqcnn.models.attention import SelfAttention, TransformerEncoder
from seqcnn.models.network import SpecModel, attention_weights
from seqcnn.report.attention import plot_attention
from seqcnn.runs.folder import RunFolder

FILE = "attention.npz"
FOLDER = Path("plots") / "attention"


def last_attention_layer(model) -> int | None:
    """Index of the model's last ``MultiHeadAttention`` or ``TransformerEncoder`` layer; None without one
    (or for a model that is not built from a spec)."""
    if not isinstance(model, SpecModel):
        return None
    found = [i for i, layer in enumerate(model.layers) if isinstance(layer, (SelfAttention, TransformerEncoder))]
    return found[-1] if found else None


def save_attention(model, ids: list[str], x: np.ndarray, out: str | Path, progress=None) -> dict | None:
    """Write and draw the last attention layer's weights for sequences ``x`` ``(N, 4, L)``.

    Args:
        model: the network (a spec model; anything else has no attention to show).
        ids: the sequences' ids (file names and titles).
        x: one-hot sequences ``(N, 4, L)``.
        out: the run folder.
        progress: wraps the loop over plots (a progress bar), or None.

    Returns:
        The ``attention`` entry of ``explain.json``, or None when the model has no attention layer
        (and nothing is written).
    """
    index = last_attention_layer(model)
    if index is None:
        return None
    out = Path(out)
    device = next(model.parameters()).device
    weights, centres = attention_weights(model, torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(device))
    weights, centres = weights.float().cpu().numpy(), centres.numpy()  # (N, h, L', L'), (L',)
    run = RunFolder(out)
    run.write_arrays(FILE, ids=np.array(ids, dtype=str), weights=weights, centres=centres, layer=index)
    folder = run.plot_folder(FOLDER.name)  # never leave an earlier explain's figures beside these
    letters, name = _letters(x, centres), model.spec.layers[index].type
    plots = []
    for k in progress(range(len(ids))) if progress else range(len(ids)):
        path = folder / f"{k:02d}_{safe_name(ids[k])}.png"
        plot_attention(weights[k], centres, path, title=f"{ids[k]}: attention of layer {index} ({name})",
                       letters=None if letters is None else letters[k])
        plots.append(str(path.relative_to(out)))
    return {"layer": index, "layer_type": name, "heads": int(weights.shape[1]),
            "positions": int(weights.shape[2]), "rows": "query position", "columns": "key position",
            "file": FILE, "plots": plots}


def _letters(x: np.ndarray, centres: np.ndarray) -> list[str] | None:
    """The base under each of the layer's positions, when these are the input's own positions one by one
    (no pooling or stride before the layer); None otherwise (a pooled position covers several bases)."""
    if len(centres) != x.shape[2] or not np.array_equal(centres, np.arange(x.shape[2])):
        return None
    codes = np.where(x.max(1) > 0.99, x.argmax(1), 4)  # (N, L); N (0.25 each) is no base
    return ["".join(np.array(list("ACGTN"))[row]) for row in codes]
