"""Pretrain a convolution + transformer trunk to predict hidden bases of unlabelled sequences.

DATA is a sequence file (read into memory) or a store made by `seqcnn prepare FILE --negatives none
--out STORE` (read batch by batch, so it may be larger than memory). Runs under torchrun
(`torchrun --standalone --nproc_per_node 2 -m seqcnn pretrain STORE`): each process reads its
share of every batch, rank 0 writes the run folder. Then fine-tune it:
`seqcnn train DATA --model mlm-classifier --init-from PRETRAIN_RUN`.
"""

from __future__ import annotations

import argparse

VERB = "pretrain"
ORDER = 11


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data",
        help="unlabelled sequences, all of one length (FASTA, table or one per line; gzip is fine), or a store "
        "from seqcnn prepare (labels ignored)",
    )
    parser.add_argument(
        "--model", default="mlm-trunk", help="zoo model or spec file with 4 outputs per position (default: mlm-trunk)"
    )
    parser.add_argument("--epochs", type=int, default=5, help="passes over the sequences (default: 5)")
    parser.add_argument("--batch-size", type=int, default=128, help="sequences per batch (default: 128)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: 0.001)")
    parser.add_argument("--mask-rate", type=float, default=0.15, help="fraction of positions hidden (default: 0.15)")
    parser.add_argument(
        "--val-fraction", type=float, default=0.1, help="sequences held out for the accuracy (default: 0.1)"
    )
    parser.add_argument("--max-sequences", type=int, help="use a random subset of this many sequences (files only)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--out", help="run folder (default: a new one under runs/)")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    parser.add_argument("--quiet", action="store_true", help="no line per epoch")


def run(args: argparse.Namespace) -> int:
    from seqcnn.runs.folder import read_run_json
    from seqcnn.training.pretrain import PretrainConfig, pretrain

    config = PretrainConfig(
        model=args.model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        mask_rate=args.mask_rate,
        val_fraction=args.val_fraction,
        max_sequences=args.max_sequences,
        seed=args.seed,
        threads=args.threads,
    )
    run_dir = pretrain(args.data, args.out, config=config, force=args.force, progress=None if args.quiet else print)
    metrics = read_run_json(run_dir / "metrics.json")
    print(
        f"held-out masked accuracy {metrics['accuracy']:.4f} (best k-mer baseline, k={metrics['best_kmer_k']}: "
        f"{metrics['best_kmer_accuracy']:.4f})"
    )
    print(f"run folder: {run_dir}")
    return 0
