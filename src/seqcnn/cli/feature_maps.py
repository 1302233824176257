"""Draw an image run's first-layer kernels, the feature maps of every Conv2D layer and a saliency map.

For test image N of the run (Fashion-MNIST runs find their test images themselves; other image
runs name them with --images). Writes PNGs into RUN/plots/feature-maps/N/ (or --out).
"""

from __future__ import annotations

import argparse

VERB = "feature-maps"
ORDER = 42


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder of an image model")
    parser.add_argument("--image", type=int, default=0, metavar="N", help="test image to draw (0-based; default 0)")
    parser.add_argument(
        "--images",
        help="images to pick from instead of the run's test set: class folders, .npz, or IDX (with --labels)",
    )
    parser.add_argument("--labels", help="IDX labels file for IDX --images")
    parser.add_argument("--data-dir", help="Fashion-MNIST folder (default: the one the run was trained from)")
    parser.add_argument("--out", help="output folder (default: RUN/plots/feature-maps/N)")


def run(args: argparse.Namespace) -> int:
    from seqcnn.interpret.feature_maps import explain_image

    written = explain_image(
        args.run, args.image, images=args.images, labels=args.labels, data_dir=args.data_dir, out=args.out
    )
    print(f"{len(written)} figures (kernels, {len(written) - 2} layers of feature maps, saliency): {written[0].parent}")
    return 0
