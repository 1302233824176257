"""Predict class probabilities for new sequences with a trained run."""

from __future__ import annotations

import argparse

from seqcnn.cli._common import add_length_arguments, fit_mode

VERB = "predict"
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder")
    parser.add_argument("file", help="sequence file (FASTA, table or one per line) or a store from `seqcnn prepare`")
    parser.add_argument("-o", "--output", required=True, help="output TSV: id, probability, predicted class")
    parser.add_argument("--batch-size", type=int, default=1024)
    add_length_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from seqcnn.jobs.inference import predict_file

    n = predict_file(
        args.run, args.file, args.output, fit=fit_mode(args), length=args.length, batch_size=args.batch_size
    )
    print(f"predictions for {n} sequences: {args.output}")
    return 0
