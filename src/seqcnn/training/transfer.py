"""Starting a model from another run's weights (``seqcnn train --init-from RUN --freeze N``): tensors copied by
name where the shapes agree, the first layers frozen."""

from __future__ import annotations

from pathlib import Path

from seqcnn.errors import InputError, RunError
from seqcnn.files import refuse_pickle
from seqcnn.runs.folder import load_model


def load_state_dict_file(path: str | Path, trust_pickle: bool = False) -> dict:
    """Weights from a run folder, a ``.safetensors`` file or (with ``trust_pickle``) a torch pickle.

    Raises:
        RunError: for a pickle file without ``trust_pickle``, or an unreadable file.
    """
    path = Path(path)
    if path.is_dir():
        return load_model(path).state_dict()
    if refuse_pickle(path, trust_pickle):
        import torch

        try:
            obj = torch.load(path, map_location="cpu", weights_only=False)  # the user vouched for this file
        except Exception as exc:  # noqa: BLE001 (any failure of an arbitrary pickle is the file's fault)
            raise RunError(f"{path}: cannot read this torch file ({type(exc).__name__}: {exc})") from None
        obj = obj.state_dict() if hasattr(obj, "state_dict") else obj
        if not isinstance(obj, dict):
            raise RunError(f"{path}: expected a state dict or a module, found {type(obj).__name__}")
        return obj
    # safetensors.torch imports torch: only when weights are read or written
    from safetensors import SafetensorError
    from safetensors.torch import load

    if not path.is_file():
        raise RunError(f"{path}: weights not found; expected a run folder or a .safetensors file")
    try:
        return load(path.read_bytes())
    except (SafetensorError, ValueError) as exc:
        raise RunError(f"{path}: not a readable safetensors file ({exc})") from None


def transfer(net, run: str | Path, freeze: int = 0, trust_pickle: bool = False) -> list[str]:
    """Start ``net`` from a trained run's weights and freeze its first ``freeze`` spec layers.

    Tensors are copied by name (``layers.<i>.weight``) where the shapes agree, so a model
    that shares its bottom layers with the run's keeps them and trains the rest afresh.

    Returns:
        The names of the copied tensors.

    Raises:
        InputError: when no tensor fits, or ``freeze`` is not between 0 and the layer count.
        RunError: for a ``.pt``/``.pth``/``.pkl`` file without ``trust_pickle``.
    """
    if not 0 <= freeze <= len(net.layers):
        raise InputError(f"--freeze must be between 0 and the model's {len(net.layers)} layers, got {freeze}")
    source = load_state_dict_file(run, trust_pickle)
    state = net.state_dict()
    copied = [k for k, v in source.items() if k in state and tuple(state[k].shape) == tuple(v.shape)]
    if not copied:
        raise InputError(f"{run}: no layer's weights fit the new model (compare `seqcnn summary` of both)")
    net.load_state_dict({**state, **{k: source[k] for k in copied}})
    for layer in list(net.layers)[:freeze]:
        for param in layer.parameters():
            param.requires_grad_(False)
    return copied
