"""Space two motifs: their joint effect by distance and orientation, against the sum of each alone.

A and B are written into background sequences (as `seqcnn marginalize` does), the pair centred, B
START:STOP:STEP bases after A's end (--distances, default 0:50:5), on A's strand (+) and reverse-
complemented (-). For each distance and output: the effect of A alone, of B alone at its place, of
both, the sum of the two alone and the interaction (both - sum), with the paired t-test of both
against the sum.

Writes a TSV (default RUN/space.tsv) and its plot of the first output (RUN/plots/space.png; with -o, beside
the TSV with .png).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from seqcnn.cli._common import add_length_arguments, fit_mode
from seqcnn.cli._motifs import add_background_arguments, add_motif_source_arguments, resolve

VERB = "space"
ORDER = 44


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder of a DNA model")
    parser.add_argument("--motif", action="append", required=True, metavar="MOTIF",
                        help="give twice: motif A, then motif B (JASPAR ID or name, --motifs name, IUPAC)")
    parser.add_argument("--distances", default="0:50:5", help="START:STOP:STEP or a comma list (default 0:50:5)")
    parser.add_argument("-o", "--output", help="TSV to write (default RUN/space.tsv)")
    add_background_arguments(parser)
    add_motif_source_arguments(parser)
    add_length_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from seqcnn.errors import InputError
    from seqcnn.interpret.experiments import SPACE_COLUMNS, background, parse_distances, space, write_table
    from seqcnn.interpret.scoring import load_scorer
    from seqcnn.report.experiment_plots import plot_spacing

    if len(args.motif) != 2:
        raise InputError(f"--motif must be given twice (A, then B), got {len(args.motif)}")
    distances = parse_distances(args.distances)
    a, b = resolve(args.motif, args)
    scorer = load_scorer(args.run, args.device)
    codes, described = background(scorer, args.background, args.n, args.seed, fit_mode(args))
    print(f"background: {described}; effects in {scorer.units}")
    rows = space(scorer, a, b, codes, distances, args.seed)
    left_out = sorted(set(distances) - {r.distance for r in rows})
    if left_out:
        print(f"distances left out (the pair does not fit {scorer.length} bases): {', '.join(map(str, left_out))}")
    out = Path(args.output) if args.output else Path(args.run) / "space.tsv"
    write_table(out, SPACE_COLUMNS, [r.row() for r in rows])
    task = scorer.reported()[0][1]
    first = [r for r in rows if r.task == task]
    shown = sorted({r.distance for r in first})
    both = {o: np.array([r.both.mean() for r in first if r.orientation == o]) for o in ("+", "-")}
    alone = np.array([(r.a + r.b).mean() for r in first if r.orientation == "+"])
    png_path = out.with_suffix(".png") if args.output else Path(args.run) / "plots" / "space.png"
    png = plot_spacing(np.array(shown), both, alone, png_path,
                       title=f"{a.label} then {b.label}: output {task}, {len(codes)} sequences", units=scorer.units)
    best = max(first, key=lambda r: r.both.mean())
    print(f"strongest pair for {task}: distance {best.distance} ({best.orientation}), effect {best.both.mean():+.4g} "
          f"against {(best.a + best.b).mean():+.4g} for the two alone")
    print(f"spacing: {out}, {png}")
    return 0
