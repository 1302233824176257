"""List the zoo's models with a description and parameter count for their default input."""

from __future__ import annotations

import argparse

VERB = "models"
ORDER = 31


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--family", help="only one family of models, e.g. zeng2016 (the nine architectures of Zeng et al. 2016)"
    )


def run(args: argparse.Namespace) -> int:
    from seqcnn.models import zoo

    names = zoo.family(args.family) if args.family else zoo.names()
    width = max(len(n) for n in names)
    for name in names:
        entry = zoo.entry(name)
        spec = zoo.get(name)
        params = sum(i.params for i in spec.analyse(entry.default_input))
        shape = "x".join(str(d) for d in entry.default_input)
        print(f"{name:<{width}}  {params:>12,} params  input {shape:<9}  {entry.summary}")
    return 0
