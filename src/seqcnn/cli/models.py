"""List the zoo's models with a description and parameter count for their default input."""

from __future__ import annotations

import argparse

VERB = "models"
ORDER = 31


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from seqcnn.models import zoo

    width = max(len(n) for n in zoo.names())
    for name in zoo.names():
        entry = zoo.entry(name)
        spec = zoo.get(name)
        params = sum(i.params for i in spec.analyse(entry.default_input))
        shape = "x".join(str(d) for d in entry.default_input)
        print(f"{name:<{width}}  {params:>12,} params  input {shape:<9}  {entry.summary}")
    return 0
