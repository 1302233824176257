"""Arguments shared by several verbs."""

from __future__ import annotations

import argparse


def add_length_arguments(parser: argparse.ArgumentParser) -> None:
    """``--pad``, ``--crop`` and ``--length`` for sequences of unequal length."""
    group = parser.add_argument_group("sequence length")
    group.add_argument("--pad", action="store_true", help="pad shorter sequences (centred) to the target length")
    group.add_argument("--crop", action="store_true", help="crop longer sequences (centred) to the target length")
    group.add_argument("--length", type=int, help="target length (default: the first sequence's, or the model's)")


def fit_mode(args: argparse.Namespace) -> str:
    """The ``fit`` argument of :func:`seqcnn.sequence.encode_batch` for ``--pad``/``--crop``."""
    if args.pad and args.crop:
        return "pad-crop"
    return "pad" if args.pad else "crop" if args.crop else "error"
