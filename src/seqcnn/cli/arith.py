"""Convolution arithmetic: output size and placements of a kernel, or every layer's receptive field.

  seqcnn arith --input 6x6 --kernel 3x3                 -> output 4x4 (16 placements)
  seqcnn arith --input 28x28 --kernel 7x7 --padding same --stride 2
  seqcnn arith --input 10 --kernel 3 --stride 2 --pool --ceil
  seqcnn arith --model primer --length 50                -> receptive field, jump and start per layer

Padding is valid (none), same (Keras: output = ceil(input / stride)), half (kernel // 2 on
each side), full (kernel - 1 on each side) or a number of positions on each side.
"""

from __future__ import annotations

import argparse

VERB = "arith"
ORDER = 32


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", help="input size per axis, e.g. 6x6 (image) or 100 (sequence)")
    parser.add_argument("--kernel", help="kernel or pool window size per axis, e.g. 3x3")
    parser.add_argument("--stride", help="stride per axis (default: 1; with --pool: the window)")
    parser.add_argument(
        "--padding", default="valid", help="valid (default), same, half, full or an integer, per axis or for all"
    )
    parser.add_argument("--dilation", default="1", help="dilation per axis (default: 1)")
    parser.add_argument("--pool", action="store_true", help="a pooling window: the stride defaults to the window size")
    parser.add_argument("--ceil", action="store_true", help="ceil mode: round the number of steps up (pooling)")
    group = parser.add_argument_group("receptive fields of a model")
    group.add_argument(
        "--model", help="zoo name or spec .json file: print every layer's receptive field, jump and start"
    )
    group.add_argument("--length", type=int, help="sequence length (1D models)")
    group.add_argument("--channels", type=int, help="input channels (default: 4 for sequences)")
    group.add_argument("--input-shape", help="image input as H,W,C (channels last, like Keras)")


def run(args: argparse.Namespace) -> int:
    from seqcnn.errors import SpecError

    if args.model:
        print(_model_fields(args))
        return 0
    if not args.input or not args.kernel:
        raise SpecError("give --input and --kernel (e.g. --input 6x6 --kernel 3x3), or --model NAME")
    print(_window_text(args))
    return 0


def _window_text(args: argparse.Namespace) -> str:
    from seqcnn.lecture.arithmetic import parse_sizes, window

    size = parse_sizes(args.input, "--input")
    kernel = parse_sizes(args.kernel, "--kernel")
    stride = parse_sizes(args.stride, "--stride") if args.stride else kernel if args.pool else (1,)
    padding = parse_sizes(args.padding, "--padding", allow_modes=True)
    geometry = window(size, kernel, stride, padding, parse_sizes(args.dilation, "--dilation"), ceil_mode=args.ceil)

    def dims(values) -> str:
        return "x".join(str(v) for v in values)

    pads = " x ".join(f"{left}+{right}" for left, right in geometry.padding)
    lines = [
        f"input {dims(geometry.input)}, kernel {dims(geometry.kernel)}, stride {dims(geometry.stride)}, "
        f"dilation {dims(geometry.dilation)}, padding {pads} ({args.padding})",
        f"output {dims(geometry.output)} ({geometry.placements:,} placements)",
    ]
    names = {1: ("length",), 2: ("height", "width")}.get(len(size)) or [f"axis {a}" for a in range(len(size))]
    lines += [f"  {name}: {geometry.formula(a)}" for a, name in enumerate(names)]
    return "\n".join(lines)


def _model_fields(args: argparse.Namespace) -> str:
    from seqcnn.cli.summary import input_shape
    from seqcnn.models.lookup import default_input, resolve_spec
    from seqcnn.models.summary import field_table

    shape = input_shape(args, default_input(args.model))
    spec = resolve_spec(args.model, input_shape=shape)
    return field_table(spec, shape)
