"""Search hyperparameters with pruning (Optuna), or answer "how many layers?" with the lecture's procedure.

Examples:
  seqcnn tune data.tsv --trials 30 --epochs 10 --out tune/data
  seqcnn tune ENCODE_AC.seq.gz --procedure layers --trials 8 --out tune/layers
  seqcnn tune data.tsv --engine ray --address HEAD:6379 --trials 60 --out /shared/tune/data

Each trial trains a point of the search space on the training part and reports its validation
metric (AUROC, or Pearson for regression) after every epoch; the pruner stops trials that fall
behind. The test part is never seen by the search: only best/, an ordinary run of the best point,
is tested. The default space is the lecture's (conv layers 1-4, filters, kernel, pooling, dropout,
learning rate, weight decay, batch size); --space FILE (YAML or JSON) replaces parameters of it:
  layers: {low: 1, high: 3}
  filters: {choices: [32, 64]}
  lr: {low: 0.0001, high: 0.01, log: true}
  pool: global
Needs the cluster extra: pip install 'seqcnn[cluster]'.
"""

from __future__ import annotations

import argparse

VERB = "tune"
ORDER = 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", nargs="?",
                        help="labelled sequence file (a DeepBind <name>_AC.seq.gz takes its _B as test file)")
    parser.add_argument("--data", dest="data_option", metavar="FILE",
                        help="the same as DATA (as seqcnn sweep spells it); the last one given wins")
    parser.add_argument("--out", required=True, help="output folder (a rerun continues its study)")
    parser.add_argument("--test", help="separate test file (for best/ only)")
    parser.add_argument("--trials", type=int, default=20, help="trials of the search (default 20)")
    parser.add_argument("--epochs", type=int, help="most epochs a trial trains (default: the recipe's)")
    parser.add_argument("--space", help="YAML or JSON file replacing parameters of the default space")
    parser.add_argument("--procedure", choices=("search", "layers"), default="search",
                        help="search (default), or layers: add layers until overfitting, then regularise")
    parser.add_argument("--pruner", choices=("median", "halving"), default="median",
                        help="median (default) or halving (successive halving)")
    parser.add_argument("--recipe", help="training recipe (default: the data's)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, the trials and the sampler")
    parser.add_argument("--threads", type=int, help="torch threads of a local trial")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    engine = parser.add_argument_group("engine")
    engine.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="local: trials one after another here (default); ray: Ray tasks side by side")
    engine.add_argument("--address", help="with --engine ray: the cluster's HOST:PORT or 'auto' (default: Ray here)")
    engine.add_argument("--cpus-per-trial", type=int, default=1, metavar="N",
                        help="with --engine ray: CPUs (and threads) per trial (default 1)")


def run(args: argparse.Namespace) -> int:
    from seqcnn.errors import InputError
    from seqcnn.jobs.tune import tune

    data = args.data_option or args.data
    if data is None:
        raise InputError("seqcnn tune: no data; give a labelled sequence file as DATA or --data FILE")
    out = tune(data, out=args.out, test=args.test, trials=args.trials, epochs=args.epochs, engine=args.engine,
               address=args.address, cpus_per_trial=args.cpus_per_trial, space=args.space,
               procedure=args.procedure, pruner=args.pruner, recipe=args.recipe, seed=args.seed,
               threads=args.threads, progress=not args.quiet)
    extra = f"\nlayers: {out / 'layers.tsv'}" if args.procedure == "layers" else ""
    print(f"trials: {out / 'trials.tsv'}\nbest: {out / 'best.json'}\nbest run: {out / 'best'}{extra}\n"
          f"report: {out / 'report.html'}")
    return 0
