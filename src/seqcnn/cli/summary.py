"""Print a model's Keras-style summary: output shapes, parameters, receptive fields, multiply-adds."""

from __future__ import annotations

import argparse

from seqcnn.errors import SpecError

VERB = "summary"
ORDER = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="zoo name or spec .json file")
    parser.add_argument("--length", type=int, help="sequence length (1D models)")
    parser.add_argument(
        "--channels", type=int, help="input channels (default: 4 for sequences, the model's default for images)"
    )
    parser.add_argument("--input-shape", help="image input as H,W,C (channels last, like Keras)")
    parser.add_argument("--classes", type=int, help="number of output classes (default: the model's)")
    parser.add_argument("--channels-first", action="store_true", help="print shapes channels first, as PyTorch does")


def input_shape(args: argparse.Namespace, default: tuple[int, ...] | None) -> tuple[int, ...]:
    """Channels-first input shape from --length/--channels/--input-shape, else ``default``."""
    if args.input_shape:
        try:
            dims = [int(d) for d in args.input_shape.split(",")]
        except ValueError:
            raise SpecError(f"--input-shape must be integers like 28,28,1, got {args.input_shape!r}") from None
        return (dims[-1], *dims[:-1])
    if args.length:
        return (args.channels or 4, args.length)
    if default is None:
        raise SpecError("give --length L (sequences) or --input-shape H,W,C (images) for a spec file")
    return default


def run(args: argparse.Namespace) -> int:
    from seqcnn.models.lookup import default_input, resolve_spec
    from seqcnn.models.summary import summary

    shape = input_shape(args, default_input(args.model))
    spec = resolve_spec(args.model, classes=args.classes, input_shape=shape)
    print(summary(spec, shape, channels_last=not args.channels_first))
    return 0
