"""Train a model and write a run folder (default: the primer model on built-in simulated data).

Data: a FASTA file (labels as `key=VALUE` in headers, or --labels), a CSV/TSV table with a
sequence column and label columns, or one sequence per line with --labels; gzip is read
transparently. The target column(s) are chosen with --target, else the one column that could be a
label (printed); the task (binary, multiclass, multilabel, regression) is inferred from the values
and printed (--task overrides). Without DATA, the built-in `primer-sim` set is used: 2,000 simulated 50 bp
sequences, half carrying the motif CGACCGAACTCC (Zou et al. 2019).
"""

from __future__ import annotations

import argparse
import sys

from seqcnn.cli._common import add_length_arguments, fit_mode

AUGMENTATION_NAMES = (
    "rc (reverse complement)",
    "shift (images: random shifts of up to 2 pixels)",
    "flip (images: horizontal flips)",
    "none (not even the reverse complement a labelled DNA table gets by default, see seqcnn.data.strands)",
)

VERB = "train"
ORDER = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", nargs="?", help="sequence file or built-in data set name (default: primer-sim)")
    parser.add_argument(
        "--dataset",
        help="built-in data set by name (primer-sim, fashion-mnist, multiclass-sim, multilabel-sim, regression-sim); "
             "same as giving it as DATA",
    )
    parser.add_argument("--data-dir", help="folder holding a named data set's files")
    parser.add_argument("--labels", help="label file, one label per line, in the order of the sequences")
    group = parser.add_argument_group("targets and tasks")
    group.add_argument(
        "--target",
        metavar="COLUMN[,COLUMN...]",
        help="target column(s) of a table, key=value names in FASTA headers, or label-file columns; several make a "
             "multi-task model (default: the one column that could be a label; several candidates are refused)",
    )
    group.add_argument(
        "--task",
        choices=("binary", "multiclass", "multilabel", "regression", "poisson"),
        help="task kind (default: inferred from the values and printed); poisson: regression of counts",
    )
    group.add_argument(
        "--input-shape", metavar="H,W,C", help="reshape flat image rows of a .npz file, e.g. 28,28,1"
    )
    group.add_argument(
        "--dedupe", action="store_true",
        help="drop repeated sequences (identical or reverse complement) before the split; the first is kept",
    )
    parser.add_argument("--test", help="separate labelled test file (default: hold out --test-size of DATA)")
    parser.add_argument("--test-labels", help="label file for --test")
    parser.add_argument(
        "--model",
        help="zoo name or spec .json file (default: the data's: primer for the built-in primer-sim, chipseq for "
             "sequence files); see `seqcnn models`",
    )
    parser.add_argument(
        "--recipe",
        help="training recipe: seqcnn (default for primer-sim), labelled (default for labelled sequence files and "
             "stores), "
             "primer (the paper's exact protocol), chipseq (default for positives-only data), chipseq-hybrid "
             "(default for positives-only data with a model that has recurrent or attention layers), fashion "
             "(default for images), fashion-aug or fashion-bn (batch-normalised image CNNs)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        help="training epochs (default: the recipe's: seqcnn and primer 50, labelled 20, chipseq up to 20, "
             "chipseq-hybrid 20, fashion 15, fashion-bn 30)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        help="examples per batch (default: the recipe's: 32; chipseq, chipseq-hybrid, fashion-aug and fashion-bn 64)",
    )
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--optimizer", help="adam, adamw or sgd")
    parser.add_argument(
        "--patience", type=int, help="early stopping: stop after this many epochs without a better validation loss"
    )
    parser.add_argument(
        "--seed", type=int, help="random seed for the split, initial weights and batch order (default: 0)"
    )
    parser.add_argument("--test-size", type=float, default=0.25, help="fraction held out for the test (default: 0.25)")
    parser.add_argument(
        "--val-size",
        type=float,
        help="fraction of the rest used for validation (default: 0.25; 0.1 for positives-only data)",
    )
    parser.add_argument("--augment", help="comma-separated training augmentations: " + ", ".join(AUGMENTATION_NAMES))
    parser.add_argument("--device", help="auto (default), cpu or cuda")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (default: 1 for models under 5 million multiply-adds per example, else torch's choice)",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        help="bf16: autocast convolutions and matmuls (default: the recipe's; the fashion recipes ask bf16, "
        "which is kept only where the device computes bf16 natively, else float32, printed)",
    )
    parser.add_argument(
        "--channels-last",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="NHWC memory format for 2D convolutions (recipe default)",
    )
    group = parser.add_argument_group("ChIP-seq data (positives only)")
    group.add_argument(
        "--negatives",
        help="negatives for positives-only data: shuffle (one dinucleotide-shuffled copy per positive, as DeepBind), "
             "N (N copies; default 4), gc (GC-matched genome windows, BED input), none",
    )
    group.add_argument("--negatives-file", help="sequence file of negatives (label 0) for a positives-only DATA")
    group.add_argument(
        "--rc-average",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average both strands at prediction (default: on for positives-only data, and for labelled DNA tables "
             "unless they look strand-specific); recorded for predict/evaluate",
    )
    group.add_argument(
        "--init-from",
        metavar="RUN",
        help="start from a trained run's weights (the layers whose shapes fit): a run folder or a .safetensors file",
    )
    group.add_argument(
        "--freeze", type=int, default=0, metavar="K", help="with --init-from: keep the first K spec layers fixed"
    )
    group.add_argument("--genome", help="genome FASTA (indexed with pyfaidx); DATA is then a BED file of peaks")
    group.add_argument("--width", type=int, default=101, help="window width around each peak (BED input; default 101)")
    group.add_argument(
        "--summit-column",
        type=int,
        help="1-based BED column with the summit offset (10 for narrowPeak; default: the interval's centre)",
    )
    group.add_argument(
        "--test-chroms", help="comma-separated chromosomes held out as the test set (BED input), e.g. chr8,chr9"
    )
    group = parser.add_argument_group("base-resolution profiles (BPNet-style; DATA: BED or narrowPeak, with --genome)")
    group.add_argument(
        "--signal", metavar="PLUS.bw[,MINUS.bw]",
        help="bigWig signal: one track (unstranded: ATAC, DNase) or two (stranded, plus then minus); the task is "
             "then 'profile' (printed), the model bpnet; --dataset profile-sim gives a simulated set",
    )
    group.add_argument("--control", metavar="CTL.bw[,CTL2.bw]", help="control bigWig track(s) the model also reads")
    group.add_argument("--val-chroms", help="chromosomes held out for validation (default: 10%% of the training peaks)")
    group.add_argument("--input-length", type=int, default=2114, help="bases the model reads (default 2,114)")
    group.add_argument("--output-length", type=int, default=1000, help="bases of the predicted profile (default 1,000)")
    group.add_argument("--jitter", type=int, default=128, help="largest random shift in training, bases (default 128)")
    group.add_argument(
        "--background-ratio", type=float, default=0.1,
        help="GC-matched background windows per peak (default 0.1, as ChromBPNet; 0 for none)",
    )
    group.add_argument(
        "--counts-weight", type=float,
        help="lambda of the counts loss (default: the median total reads of the training peaks / 10, printed)",
    )
    group.add_argument(
        "--counts-lr-scale", type=float,
        help="the counts head's learning rate over the rest's (default 10; 1: one rate, as bpnet-lite)",
    )
    parser.add_argument("--out", help="run folder to create (default: runs/<model>-<time>)")
    parser.add_argument("--force", action="store_true", help="allow --out to be an existing folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    group = parser.add_argument_group("interrupted runs and reruns")
    group.add_argument(
        "--resume",
        metavar="RUN",
        help="continue an interrupted run (Ctrl-C, kill, power cut) from its last completed epoch",
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        help="train again with the arguments recorded in a run's config.json (other data and training options are "
             "ignored)",
    )
    group.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow --init-from a .pt/.pth/.pkl file: pickle files can run code when loaded",
    )
    add_length_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from seqcnn.report import workers

    painters = workers.start()  # before torch is imported: they load matplotlib while this process trains
    try:
        return _train(args, None if painters is None else painters.write_report)
    finally:
        if painters is not None:
            painters.close()


def _train(args: argparse.Namespace, reporter) -> int:
    from seqcnn.errors import SeqcnnError
    from seqcnn.jobs.train import train

    if args.dataset and args.data:
        raise SeqcnnError(f"give either DATA ({args.data!r}) or --dataset ({args.dataset!r}), not both")
    if args.resume or args.config:
        return _rerun(args, reporter)
    if args.signal or (args.data or args.dataset) == "profile-sim":
        return _train_profiles(args)
    augment = tuple(a.strip() for a in args.augment.split(",") if a.strip()) if args.augment else None
    augment = () if augment == ("none",) else augment  # an explicit "no augmentation" (the strand test's opt-out)
    run_dir = train(
        args.data or args.dataset,
        args.labels,
        data_dir=args.data_dir,
        augment=augment,
        test=args.test,
        test_labels=args.test_labels,
        model=args.model,
        recipe=args.recipe,
        out=args.out,
        force=args.force,
        test_size=args.test_size,
        val_size=args.val_size,
        fit_length=fit_mode(args),
        length=args.length,
        progress=not args.quiet,
        command=["seqcnn", *sys.argv[1:]],
        genome=args.genome,
        width=args.width,
        summit_column=args.summit_column,
        test_chroms=[c.strip() for c in args.test_chroms.split(",") if c.strip()] if args.test_chroms else None,
        negatives=args.negatives,
        negatives_file=args.negatives_file,
        rc_average=args.rc_average,
        init_from=args.init_from,
        freeze=args.freeze,
        trust_pickle=args.trust_pickle,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer=args.optimizer,
        patience=args.patience,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        precision=args.precision,
        channels_last=args.channels_last,
        target=args.target,
        task=args.task,
        input_shape=parse_shape(args.input_shape),
        dedupe=args.dedupe,
        announce=_announce,
        reporter=reporter,
    )
    print(f"run folder: {run_dir}")
    return 0


def _chroms(text: str | None) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def _train_profiles(args: argparse.Namespace) -> int:
    """``--signal`` (or ``--dataset profile-sim``): a base-resolution profile model (seqcnn.jobs.profile)."""
    from seqcnn.errors import InputError
    from seqcnn.jobs.profile import ProfileRecipe, train_profiles

    peaks, genome, signal, test_chroms = args.data or args.dataset, args.genome, args.signal, _chroms(args.test_chroms)
    if peaks == "profile-sim":
        from seqcnn.data.profile_sim import profile_sim_files

        sim = profile_sim_files(args.data_dir, args.seed or 0)
        peaks, genome, signal = sim.peaks, sim.genome, f"{sim.plus},{sim.minus}"
        test_chroms = test_chroms or [sim.test_chrom]
        print(f"seqcnn: profile-sim: {sim.n_peaks:,} simulated peaks, genome and stranded bigWigs in {sim.folder}; "
              f"test chromosome {','.join(test_chroms)}", file=sys.stderr)
    elif genome is None:
        raise InputError("--signal needs --genome FASTA (and DATA, a BED or narrowPeak file of peaks)")
    if peaks is None:
        raise InputError("--signal needs DATA: a BED or narrowPeak file of peaks")
    recipe = ProfileRecipe(**{k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                                 ("lr", args.lr), ("patience", args.patience), ("seed", args.seed),
                                                 ("threads", args.threads), ("device", args.device),
                                                 ("counts_lr_scale", args.counts_lr_scale)) if v is not None})
    run_dir = train_profiles(
        peaks, genome=genome, signal=signal, control=args.control, test_chroms=test_chroms,
        val_chroms=_chroms(args.val_chroms), input_length=args.input_length, output_length=args.output_length,
        jitter=args.jitter, background_ratio=args.background_ratio, counts_weight=args.counts_weight,
        model=args.model, recipe=recipe, out=args.out, force=args.force, progress=not args.quiet,
        command=["seqcnn", *sys.argv[1:]])
    print(f"run folder: {run_dir}")
    return 0


def parse_shape(text: str | None) -> tuple[int, int, int] | None:
    """``--input-shape H,W,C`` as three positive integers.

    Raises:
        InputError: for anything else.
    """
    from seqcnn.errors import InputError

    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise InputError(f"--input-shape must be three positive integers H,W,C (e.g. 28,28,1), got {text!r}")
    return int(parts[0]), int(parts[1]), int(parts[2])


def _announce(line: str) -> None:
    """Print the test result line at once (plots and the report are drawn after it)."""
    print(line, flush=True)


def _rerun(args: argparse.Namespace, reporter) -> int:
    from pathlib import Path

    from seqcnn.errors import SeqcnnError
    from seqcnn.files import refuse_pickle
    from seqcnn.jobs.train import rerun

    if args.resume and args.config:
        raise SeqcnnError(f"give either --resume RUN ({args.resume!r}) or --config FILE ({args.config!r}), not both")
    refuse_pickle(args.resume or args.config)  # a .pt/.pth/.pkl is neither a run nor a config
    config = Path(args.resume) / "config.json" if args.resume else Path(args.config)
    run_dir = rerun(config, out=args.out, force=args.force, resume=bool(args.resume), progress=not args.quiet,
                    trust_pickle=args.trust_pickle, command=["seqcnn", *sys.argv[1:]], announce=_announce,
                    reporter=reporter)
    print(f"run folder: {run_dir}")
    return 0
