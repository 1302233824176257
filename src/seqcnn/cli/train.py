"""Train a model and write a run folder (default: the primer model on built-in simulated data).

Data: a FASTA file (labels as `label=VALUE` in headers, or --labels), a CSV/TSV table with
`sequence` and `label` columns, or one sequence per line with --labels; gzip is read
transparently. Without DATA, the built-in `primer-sim` set is used: 2,000 simulated 50 bp
sequences, half carrying the motif CGACCGAACTCC (Zou et al. 2019).
"""

from __future__ import annotations

import argparse
import sys

from seqcnn.cli._common import add_length_arguments, fit_mode

AUGMENTATION_NAMES = ("rc (reverse complement)", "shift (images: random shifts of up to 2 pixels)", "flip (images: horizontal flips)")

VERB = "train"
ORDER = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", nargs="?", help="sequence file or built-in data set name (default: primer-sim)")
    parser.add_argument("--dataset", help="built-in data set by name (primer-sim, fashion-mnist); same as giving it as DATA")
    parser.add_argument("--data-dir", help="folder holding a named data set's files")
    parser.add_argument("--labels", help="label file, one label per line, in the order of the sequences")
    parser.add_argument("--test", help="separate labelled test file (default: hold out --test-size of DATA)")
    parser.add_argument("--test-labels", help="label file for --test")
    parser.add_argument("--model", help="zoo name or spec .json file (default: the data set's, primer for plain sequences); see `seqcnn models`")
    parser.add_argument("--recipe", default="seqcnn", help="training recipe: seqcnn (default) or primer (the paper's exact protocol)")
    parser.add_argument("--epochs", type=int, help="training epochs (recipe default: 50)")
    parser.add_argument("--batch-size", type=int, help="examples per batch (recipe default: 32)")
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--optimizer", help="adam, adamw or sgd")
    parser.add_argument("--patience", type=int, help="early stopping: stop after this many epochs without a better validation loss")
    parser.add_argument("--seed", type=int, help="random seed for the split, initial weights and batch order (default: 0)")
    parser.add_argument("--test-size", type=float, default=0.25, help="fraction held out for the test (default: 0.25)")
    parser.add_argument("--val-size", type=float, default=0.25, help="fraction of the rest used for validation (default: 0.25)")
    parser.add_argument("--augment", help="comma-separated training augmentations: " + ", ".join(AUGMENTATION_NAMES))
    parser.add_argument("--device", help="auto (default), cpu or cuda")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--out", help="run folder to create (default: runs/<model>-<time>)")
    parser.add_argument("--force", action="store_true", help="allow --out to be an existing folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_length_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from seqcnn.checkpoint import read_json
    from seqcnn.errors import SeqcnnError
    from seqcnn.metrics import format_metrics
    from seqcnn.run import train

    if args.dataset and args.data:
        raise SeqcnnError(f"give either DATA ({args.data!r}) or --dataset ({args.dataset!r}), not both")
    augment = tuple(a.strip() for a in args.augment.split(",") if a.strip()) if args.augment else None
    run_dir = train(
        args.data or args.dataset, args.labels, data_dir=args.data_dir, augment=augment, test=args.test, test_labels=args.test_labels, model=args.model, recipe=args.recipe, out=args.out, force=args.force,
        test_size=args.test_size, val_size=args.val_size, fit_length=fit_mode(args), length=args.length,
        progress=not args.quiet, command=["seqcnn", *sys.argv[1:]],
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
        patience=args.patience, seed=args.seed, device=args.device, threads=args.threads,
    )
    metrics_file = run_dir / "metrics.json"
    if metrics_file.is_file():
        print(f"test: {format_metrics(read_json(metrics_file))}")
    print(f"run folder: {run_dir}")
    return 0
