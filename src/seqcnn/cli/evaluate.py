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
    from seqcnn.checkpoint import load_model
    from seqcnn.labelled import to_labelled
    from seqcnn.inference import predict, run_rc_average
    from seqcnn.io import read_sequences
    from seqcnn.metrics import classification_metrics, format_metrics

    model = load_model(args.run)
    records = read_sequences(args.file, args.labels)
    data = to_labelled(records, fit=fit_mode(args), length=args.length or model.input_shape[-1], min_classes=1)
    metrics = classification_metrics(data.labels, predict(model, data.x, rc_average=run_rc_average(args.run)))
    print(json.dumps(metrics, indent=2) if args.json else format_metrics(metrics))
    return 0
