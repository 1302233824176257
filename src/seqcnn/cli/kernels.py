"""The lecture's kernels: the 6x6 walk-through as text, and with --out the figures as PNG.

  seqcnn kernels                                   # input, kernel and feature map of the 6x6 example
  seqcnn kernels --out figures/                    # + walk-through, 16 placements, padding/stride,
                                                   #   box blur and Sobel, max-pool routing
  seqcnn kernels --out figures/ --image photo.jpg  # filter your own picture (PNG or JPEG)
"""

from __future__ import annotations

import argparse

VERB = "kernels"
ORDER = 33


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="folder to write the figures into (PNG)")
    parser.add_argument("--image", help="PNG or JPEG to blur and edge-detect (default: a built-in synthetic image)")


def run(args: argparse.Namespace) -> int:
    from seqcnn.errors import InputError
    from seqcnn.lecture import kernels

    if args.image and not args.out:
        raise InputError("--image needs --out FOLDER: the filtered image is written as a figure")
    x = kernels.lecture_input()
    print("input (6x6):", kernels.format_matrix(x), sep="\n")
    print("kernel (vertical edge):", kernels.format_matrix(kernels.VERTICAL_EDGE), sep="\n")
    print(
        "feature map (4x4, 16 placements):",
        kernels.format_matrix(kernels.correlate(x, kernels.VERTICAL_EDGE)),
        sep="\n",
    )
    if args.out:
        for path in kernels.write_figures(args.out, args.image):
            print(f"figure: {path}")
    return 0
