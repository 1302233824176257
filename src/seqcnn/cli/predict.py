"""Predict class probabilities for new sequences with a trained run.

A profile run (trained with --signal) predicts at peaks instead: seqcnn predict RUN PEAKS --genome FASTA -o
pred.npz writes ids, profile (n x output length x tracks, probabilities) and counts (n x tracks, expected reads);
--bigwig-out DIR writes the predicted tracks as bigWig files for a genome browser.
"""

from __future__ import annotations

import argparse

from seqcnn.cli._common import add_length_arguments, fit_mode

VERB = "predict"
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder")
    parser.add_argument("file", help="sequence file (FASTA, table or one per line) or a store from `seqcnn prepare`")
    parser.add_argument("-o", "--output", required=True,
                        help="output TSV: id, probability, predicted class (a profile run: an .npz file)")
    parser.add_argument("--batch-size", type=int, default=1024)
    group = parser.add_argument_group("profile runs (trained with --signal)")
    group.add_argument("--genome", help="genome FASTA; FILE is then a BED or narrowPeak file of peaks")
    group.add_argument("--control", metavar="CTL.bw[,CTL2.bw]", help="control track(s), when the run was trained "
                       "with them")
    group.add_argument("--bigwig-out", metavar="DIR", help="also write the predicted tracks as bigWig files into DIR")
    add_length_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from seqcnn.runs.folder import profile_record

    if profile_record(args.run) is not None:
        from seqcnn.jobs.profile import predict_profiles

        return _predict_profiles(args, predict_profiles)
    if args.genome or args.bigwig_out or args.control:
        from seqcnn.errors import InputError

        raise InputError(f"--genome, --control and --bigwig-out are for profile runs (trained with --signal); "
                         f"{args.run} is not one")
    from seqcnn.jobs.inference import predict_file

    n = predict_file(
        args.run, args.file, args.output, fit=fit_mode(args), length=args.length, batch_size=args.batch_size
    )
    print(f"predictions for {n} sequences: {args.output}")
    return 0


def _predict_profiles(args: argparse.Namespace, predict_profiles) -> int:
    from seqcnn.errors import InputError

    if not args.genome:
        raise InputError(f"{args.run} is a profile run: give the peaks' genome with --genome FASTA")
    if not str(args.output).endswith(".npz"):
        raise InputError(f"-o {args.output}: a profile run writes an .npz file (ids, profile, counts); name it *.npz")
    n = predict_profiles(args.run, args.file, args.genome, args.output, control=args.control,
                         bigwig_out=args.bigwig_out, batch_size=min(args.batch_size, 256))
    print(f"profiles and counts for {n} peaks: {args.output}" +
          (f"; predicted tracks in {args.bigwig_out}" if args.bigwig_out else ""))
    return 0
