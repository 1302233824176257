"""Ablate a motif: shuffle out its FIMO hits in given sequences and report each sequence's drop.

The motif's hits (memelite's FIMO, p < 1e-4, both strands) in each sequence of FILE are shuffled
(a random permutation of each hit's bases, --shuffles times, outputs averaged) and the run's outputs
compared before and after. Sequences without a hit are counted, not scored. Effects are probabilities
for classifiers and multi-label runs, the target's units for regression; p is the paired t-test.

Writes a summary TSV (default RUN/ablate.tsv: motif task n mean_before mean_after mean_delta sd_delta
p units without_hit) and one row per scored sequence beside it (ablate.sequences.tsv).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from seqcnn.cli._common import add_length_arguments, fit_mode
from seqcnn.cli._motifs import add_motif_source_arguments, resolve

VERB = "ablate"
ORDER = 45


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder of a DNA model")
    parser.add_argument("file", help="sequences whose motif sites are ablated (FASTA, table or one per line)")
    parser.add_argument("--motif", required=True, metavar="MOTIF",
                        help="JASPAR ID or name, a name in --motifs, or an IUPAC string")
    parser.add_argument("--shuffles", type=int, default=10, help="shuffles of each hit, averaged (default 10)")
    parser.add_argument("-o", "--output", help="summary TSV (default RUN/ablate.tsv)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: cpu)")
    add_motif_source_arguments(parser)
    add_length_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from seqcnn.interpret.experiments import ablate, write_ablation
    from seqcnn.interpret.scoring import load_scorer
    from seqcnn.io import read_sequences
    from seqcnn.sequence import encode_batch

    (motif,) = resolve([args.motif], args)
    scorer = load_scorer(args.run, args.device)
    records = read_sequences(args.file, legacy_labels=False)
    codes = encode_batch(records.seqs, length=scorer.length, fit=fit_mode(args), ids=records.ids,
                         source=records.source)
    result = ablate(scorer, motif, list(records.ids), codes, args.shuffles, args.seed)
    print(f"{result.total - result.without_hit} of {result.total} sequences have a hit of {motif.label} "
          f"({int(result.hits.sum())} hits); {result.without_hit} without a hit are counted, not scored")
    for e in result.effects:
        if len(e.delta):
            print(f"{e.motif} ablated -> {e.task}: {e.before.mean():.4g} -> {e.after.mean():.4g} "
                  f"(mean delta {e.delta.mean():+.4g} {scorer.units})")
    out = Path(args.output) if args.output else Path(args.run) / "ablate.tsv"
    summary, per = write_ablation(out, result)
    print(f"ablation: {summary}, {per}")
    return 0
