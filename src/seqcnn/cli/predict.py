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
    from seqcnn.checkpoint import load_model
    from seqcnn.inference import predict, run_rc_average, write_predictions
    from seqcnn.io import read_sequences
    from seqcnn.sequence import encode_batch

    model = load_model(args.run)
    from seqcnn.store import is_store

    if is_store(args.file):  # streamed chunk by chunk: the store may be larger than memory
        from seqcnn.inference import predict_store

        n = predict_store(model, args.file, args.output, batch_size=args.batch_size, rc_average=run_rc_average(args.run))
        print(f"predictions for {n} sequences: {args.output}")
        return 0
    records = read_sequences(args.file)
    length = args.length or model.input_shape[-1]
    codes = encode_batch(records.seqs, length=length, fit=fit_mode(args), ids=records.ids, source=records.source)
    probs = predict(model, codes, batch_size=args.batch_size, rc_average=run_rc_average(args.run))
    write_predictions(args.output, records.ids, probs)
    print(f"predictions for {len(records)} sequences: {args.output}")
    return 0
