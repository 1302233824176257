"""Recompute a run's metrics on a labelled set of sequences and print them."""

from __future__ import annotations

import argparse
import json

from seqcnn.cli._common import add_length_arguments, fit_mode

VERB = "evaluate"
ORDER = 21


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder")
    parser.add_argument("file", help="labelled sequence file")
    parser.add_argument("--labels", help="label file, one label per line")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON (the keys of metrics.json)")
    add_length_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from seqcnn.jobs.inference import evaluate_file
    from seqcnn.metrics import format_metrics

    metrics = evaluate_file(args.run, args.file, args.labels, fit=fit_mode(args), length=args.length)
    print(json.dumps(metrics, indent=2) if args.json else format_metrics(metrics))
    return 0
