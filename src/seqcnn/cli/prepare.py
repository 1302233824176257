"""Convert sequence files (or BED peaks on a genome) into an on-disk store for training at scale.

The store keeps each base as a 1-byte code, labels beside them, in memory-mapped shards with
a manifest of counts, lengths and SHA-256 hashes. `seqcnn train STORE` and `seqcnn predict
RUN STORE` read it as they read a file, one batch at a time, so the data may be larger than
memory. Inputs: FASTA, CSV/TSV tables (DeepBind's .seq.gz included), one sequence per line;
with --genome, BED files (windows around peaks, or every window with --tile).
"""

from __future__ import annotations

import argparse

from seqcnn.cli._common import add_length_arguments, fit_mode

VERB = "prepare"
ORDER = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="sequence files, or BED files with --genome")
    parser.add_argument("--out", required=True, help="the store folder to create")
    parser.add_argument("--labels", help="label file (one per line) for a single INPUT")
    parser.add_argument("--negatives", help="for positives-only input: shuffle (default), N copies, none")
    parser.add_argument("--genome", help="genome FASTA; each INPUT is then a BED file of peaks")
    parser.add_argument("--width", type=int, default=101, help="window width for BED input (default 101)")
    parser.add_argument(
        "--summit-column", type=int, help="1-based BED column with the summit offset (10 for narrowPeak)"
    )
    parser.add_argument(
        "--tile",
        type=int,
        metavar="STEP",
        help="with --genome: every window of --width at this step, labelled 1 where it overlaps a peak",
    )
    parser.add_argument("--shard-rows", type=int, default=1 << 20, help="rows per shard file (default 1048576)")
    parser.add_argument("--seed", type=int, default=0, help="seed of shuffled negatives (default 0)")
    parser.add_argument("--force", action="store_true", help="replace an existing store")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_length_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from seqcnn.data.prepare import prepare
    from seqcnn.data.store import Store

    out = prepare(
        args.inputs, args.out, labels=args.labels, fit=fit_mode(args), length=args.length, negatives=args.negatives,
        genome=args.genome, width=args.width, summit_column=args.summit_column, tile=args.tile, seed=args.seed,
        shard_rows=args.shard_rows, force=args.force, progress=not args.quiet,
    )
    store = Store(out)
    counts = ", ".join(f"{c:,}" for c in store.manifest["class_counts"])
    print(f"{len(store):,} sequences of {store.length} bp in {len(store.shards)} shard(s); class counts {counts}")
    print(f"store: {out}")
    return 0
