"""Design sequences that a run's model scores as asked: greedy substitutions, evolution, or Ledidi.

Starts: --start FILE (ids kept; sequences of another length than the model's are refused unless
--pad/--crop) or --n N random sequences (--seed). Objective: raise the positive class (default),
--lower it, --class NAME, --task NAME, specificity --maximize A B --minimize C, or for regression
--target VALUE. Rules: at most --max-edits bases changed (Hamming distance to the start), only
--positions 40-60,... (1-based) editable, no --avoid motif (IUPAC strings or JASPAR/--motifs names,
both strands) in any design, GC within --gc MIN:MAX. --oracle RUN2 scores every design with an
independent model too.

Writes into --out (default RUN/design): designed.tsv (id sequence edits score_start score changes
rules_kept, each output for start and design, oracle scores), designed.fa, rounds.png, logos/,
motifs.tsv (JASPAR motifs gained and lost, FIMO) and design.html.
"""

from __future__ import annotations

import argparse

from seqcnn.cli._motifs import add_motif_source_arguments

VERB = "design"
ORDER = 46


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder of a DNA model")
    start = parser.add_argument_group("starts")
    start.add_argument("--start", metavar="FILE", help="start sequences (FASTA, table or one per line); ids kept")
    start.add_argument("--n", type=int, default=10, help="random starts when no --start (default 10)")
    start.add_argument("--length", type=int, help="length of random starts (must be the model's; default it)")
    start.add_argument("--pad", action="store_true", help="pad shorter starts (centred) to the model's length")
    start.add_argument("--crop", action="store_true", help="crop longer starts (centred) to the model's length")
    goal = parser.add_argument_group("objective")
    goal.add_argument("--lower", action="store_true", help="lower the output instead of raising it")
    goal.add_argument("--class", dest="class_name", metavar="NAME", help="the class raised (classifiers)")
    goal.add_argument("--task", metavar="NAME", help="the task raised (multi-task and regression runs)")
    goal.add_argument("--maximize", nargs="+", default=[], metavar="TASK", help="outputs whose mean is raised")
    goal.add_argument("--minimize", nargs="+", default=[], metavar="TASK", help="outputs whose mean is lowered")
    goal.add_argument("--target", type=float, metavar="VALUE", help="bring a regression output to VALUE")
    how = parser.add_argument_group("method")
    how.add_argument("--method", default="greedy", help="greedy (default), evolve or ledidi")
    how.add_argument("--rounds", type=int, help="greedy rounds (default --max-edits), evolve generations (30), "
                     "Ledidi iterations (300)")
    how.add_argument("--population", type=int, default=50, help="evolve: members per start (default 50)")
    how.add_argument("--min-gain", type=float, default=0.001,
                     help="greedy: the least gain of the objective worth an edit (default 0.001)")
    how.add_argument("--stop-at", type=float, help="a design stops once its objective reaches this")
    how.add_argument("--ledidi-lambda", type=float, default=0.01,
                     help="Ledidi's weight of edits against the objective (default 0.01)")
    rules = parser.add_argument_group("rules")
    rules.add_argument("--max-edits", type=int, default=10, help="most bases changed per design (default 10)")
    rules.add_argument("--positions", help="editable positions, 1-based ranges: 40-60,80-90 (default all)")
    rules.add_argument("--avoid", action="append", default=[], metavar="MOTIFS",
                       help="motifs no design may contain, comma-separated: GAATTC,MA0139.2; repeatable")
    rules.add_argument("--gc", metavar="MIN:MAX", help="GC fraction range of every design, e.g. 0.35:0.65")
    parser.add_argument("--oracle", metavar="RUN2", help="a second run that scores every design")
    parser.add_argument("-o", "--out", help="output folder (default RUN/design)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=4096, help="candidates per forward pass (default 4096)")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: cpu)")
    parser.add_argument("--quiet", action="store_true", help="no line per round")
    add_motif_source_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from seqcnn.cli._common import fit_mode
    from seqcnn.interpret.design import DesignOptions
    from seqcnn.interpret.design_run import DesignRequest, design_run

    options = DesignOptions(method=args.method, rounds=args.rounds, population=args.population, stop_at=args.stop_at,
                            seed=args.seed, batch_size=args.batch_size, ledidi_lambda=args.ledidi_lambda,
                            min_gain=args.min_gain, progress=not args.quiet)
    request = DesignRequest(
        run=args.run, out=args.out, start=args.start, n=args.n, length=args.length, seed=args.seed,
        fit=fit_mode(args), lower=args.lower, class_name=args.class_name, task=args.task, maximize=args.maximize,
        minimize=args.minimize, target=args.target, max_edits=args.max_edits, positions=args.positions,
        avoid=args.avoid, gc=args.gc, oracle=args.oracle, motif_files=args.motifs, release=args.jaspar_release,
        device=args.device, options=options.check())
    result = design_run(request)
    d = result.designs
    print(f"objective: {result.objective.description}")
    for line in result.avoided:
        print(f"avoided: {line}")
    print(f"{len(result.ids)} designs by {args.method} in {d.seconds:.1f} s: median objective "
          f"{np.median(result.score_start):.4g} -> {np.median(result.score):.4g}, median edits {np.median(d.edits):g} "
          f"(at most {args.max_edits}); {int((d.penalty == 0).sum())} keep every rule")
    if result.oracle is not None:
        line = f"oracle {args.oracle}: median {np.median(result.oracle_start):.4g} -> {np.median(result.oracle):.4g}"
        if result.called is not None:
            line += f"; called positive (p > 0.5) by the oracle: {result.called} of {len(result.ids)}"
        print(line)
    for note in d.notes:
        print(note)
    print(f"designs: {result.files['tsv']}, {result.files['fasta']}")
    print(f"page: {result.files['page']}")
    return 0
