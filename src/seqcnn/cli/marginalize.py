"""Marginalize a motif: write it into the centre of background sequences and compare each output before and after.

The background is the run's test sequences, dinucleotide-shuffled (default 200; drawn with replacement
when there are fewer), or the first N sequences of --background FILE as they are. MOTIF is a JASPAR ID
or name (MA0114.5, offline), a motif name of --motifs FILE.meme, or an IUPAC string (TGACTCA). A
matrix motif is written as its consensus; an IUPAC string draws each ambiguous base from its allowed ones.
Effects are probabilities for classifiers and multi-label runs, the target's units for regression
(the `units` column); p is the paired t-test over the sequences.

Writes a TSV (default RUN/marginalize.tsv): motif task n mean_before mean_after mean_delta sd_delta p units.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from seqcnn.cli._common import add_length_arguments, fit_mode
from seqcnn.cli._motifs import add_background_arguments, add_motif_source_arguments, resolve

VERB = "marginalize"
ORDER = 43


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder of a DNA model")
    parser.add_argument("--motif", action="append", required=True, metavar="MOTIF",
                        help="JASPAR ID or name, a name in --motifs, or an IUPAC string; repeatable")
    parser.add_argument("-o", "--output", help="TSV to write (default RUN/marginalize.tsv)")
    add_background_arguments(parser)
    add_motif_source_arguments(parser)
    add_length_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from seqcnn.interpret.experiments import EFFECT_COLUMNS, background, marginalize, write_table
    from seqcnn.interpret.scoring import load_scorer

    motifs = resolve(args.motif, args)
    scorer = load_scorer(args.run, args.device)
    codes, described = background(scorer, args.background, args.n, args.seed, fit_mode(args))
    print(f"background: {described}; effects in {scorer.units}")
    effects = [e for motif in motifs for e in marginalize(scorer, motif, codes, args.seed)]
    for e in effects:
        print(f"{e.motif} -> {e.task}: {e.before.mean():.4g} -> {e.after.mean():.4g} "
              f"(mean delta {e.delta.mean():+.4g}, n={len(e.delta)})")
    out = Path(args.output) if args.output else Path(args.run) / "marginalize.tsv"
    print(f"marginalization: {write_table(out, EFFECT_COLUMNS, [e.row() for e in effects])}")
    return 0
