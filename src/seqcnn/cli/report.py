"""Write a run's or a sweep's report.html: one self-contained page (plots inlined, no network needed).

A run folder gets its command, data summary (classes, lengths, GC content, file hashes), model
summary with receptive fields, training curves, test metrics with confusion matrix, ROC, PR and
calibration plots, motifs and saliency maps when `seqcnn explain` has run, and versions. A sweep
folder gets the AUROC box plot, a sortable table of every cell and per-model medians beside the
published ones (Zeng et al. 2016). `seqcnn train` writes the report of its run by itself.
"""

from __future__ import annotations

import argparse

VERB = "report"
ORDER = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="RUN|SWEEP", help="run folder or sweep folder")
    parser.add_argument("-o", "--out", help="HTML file to write (default: FOLDER/report.html)")


def run(args: argparse.Namespace) -> int:
    from seqcnn.report.html import write_report

    print(f"report: {write_report(args.folder, args.out)}")
    return 0
