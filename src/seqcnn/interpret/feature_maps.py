"""The lecture's picture of a CNN for an image run: first-layer kernels, the feature maps of
every convolutional layer for one image, and a saliency map of the predicted class.

:func:`explain_image` is the whole job on a run folder (``seqcnn feature-maps RUN --image N``);
:func:`feature_maps`, :func:`first_kernels` and :func:`saliency` work on any spec model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from seqcnn.data.image_sets import read_fashion, read_images
from seqcnn.errors import InputError, RunError
from seqcnn.report.image_plots import plot_feature_maps, plot_kernels, plot_saliency
from seqcnn.runs.folder import load_run


def conv_layers(model: torch.nn.Module) -> list[tuple[int, torch.nn.Module]]:
    """``(spec index, module)`` of every 2D convolution of a spec model, in order."""
    layers = getattr(model, "layers", model)
    return [(i, m) for i, m in enumerate(layers) if isinstance(m, torch.nn.Conv2d)]


@torch.no_grad()
def feature_maps(model: torch.nn.Module, image: torch.Tensor) -> list[tuple[int, np.ndarray]]:
    """The output (after its activation) of every Conv2D layer for one image.

    Args:
        model: a spec model (or any module with ``Conv2d`` children in ``model.layers``).
        image: one image ``(C, H, W)``.

    Returns:
        ``(spec layer index, maps (F, H', W'))`` per convolutional layer.
    """
    found: list[tuple[int, np.ndarray]] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out, i=i: found.append((i, out[0].float().cpu().numpy())))
             for i, m in conv_layers(model)]
    try:
        model.eval()
        model(image[None])
    finally:
        for hook in hooks:
            hook.remove()
    return found


def first_kernels(model: torch.nn.Module) -> np.ndarray:
    """The first convolution's weights ``(F, C, kh, kw)``.

    Raises:
        RunError: for a model without a 2D convolution.
    """
    convs = conv_layers(model)
    if not convs:
        raise RunError("the model has no Conv2D layer; feature maps need a 2D convolutional network")
    return convs[0][1].weight.detach().float().cpu().numpy()


def saliency(model: torch.nn.Module, image: torch.Tensor, target: int | None = None) -> tuple[np.ndarray, int]:
    """Gradient magnitude of a class's logit with respect to the pixels (Simonyan et al. 2014).

    Args:
        model: returns logits ``(1, K)``.
        image: one image ``(C, H, W)``.
        target: the class; default the predicted one.

    Returns:
        ``(map (H, W), target)``: the largest absolute gradient over channels, and the class.
    """
    model.eval()
    x = image[None].clone().requires_grad_(True)
    logits = model(x)
    target = int(logits.argmax(1)) if target is None else int(target)
    logits[0, target].backward()
    return x.grad[0].abs().amax(0).cpu().numpy(), target


def explain_image(run_dir: str | Path, index: int, images: str | Path | None = None, labels: str | Path | None = None,
                  data_dir: str | None = None, out: str | Path | None = None) -> list[Path]:
    """Draw kernels, feature maps and saliency for test image ``index`` of an image run.

    Args:
        run_dir: a run folder of an image model.
        index: which image (0-based) of the run's test set, or of ``images``.
        images: a file or folder of images (see :func:`seqcnn.data.image_sets.read_images`); default the
            run's own test set (Fashion-MNIST runs).
        labels: the labels file for IDX ``images``.
        data_dir: the Fashion-MNIST folder; default the one the run was trained from.
        out: output folder; default ``RUN/plots/feature-maps/<index>``.

    Returns:
        The PNG files written: ``kernels.png``, ``maps-<layer>.png`` per Conv2D, ``saliency.png``.

    Raises:
        RunError: for a run that is not an image model.
        InputError: for an image index out of range, or a run whose test images cannot be found.
    """

    run = load_run(run_dir)
    if len(run.model.input_shape) != 3:
        raise RunError(
            f"{run_dir}: model input {tuple(run.model.input_shape)} is not an image (C, H, W); feature maps are for "
            "image runs"
        )
    test = _test_images(run, images, labels, data_dir)
    if not 0 <= index < len(test):
        raise InputError(f"--image {index} is out of range; the test set has {len(test)} images (0 to {len(test) - 1})")
    image = torch.from_numpy(test.x[index])
    names = test.class_names or [str(k) for k in range(int(test.labels.max()) + 1)]
    sal, predicted = saliency(run.model, image)
    title = f"{test.ids[index]}: true {names[test.labels[index]]}, predicted {names[predicted]}"
    folder = Path(out) if out else Path(run_dir) / "plots" / "feature-maps" / str(index)
    written = [plot_kernels(first_kernels(run.model), folder / "kernels.png")]
    for layer, maps in feature_maps(run.model, image):
        written.append(
            plot_feature_maps(
                maps, folder / f"maps-{layer}.png", f"layer {layer} ({run.model.spec.layers[layer].type}): {title}"
            )
        )
    written.append(
        plot_saliency(test.x[index], sal, folder / "saliency.png", f"saliency of '{names[predicted]}': {title}")
    )
    return written


def _test_images(run, images, labels, data_dir):
    """The labelled images to pick from: ``images`` when given, else the run's Fashion-MNIST test set."""

    if images is not None:
        return read_images(images, labels)
    source = Path(run.config.get("data", {}).get("source", ""))
    folder = Path(data_dir) if data_dir else source.parent
    if not (source.name.startswith("train-images-idx3-ubyte") or data_dir):
        raise InputError(f"{run.path}: trained on {source}; give the images to explain with --images FILE")
    return read_fashion(folder, download_missing=False)[1]
