"""Score variants (VCF or table) with a trained run: reference vs alternative windows from the genome.

Each variant's window is the run's input length, centred on the REF allele; the alternative
window starts at the same base, with ALT substituted and the window cut or extended from the
genome to the same length (indels shift the bases after them). Scores are the log-odds of the
target class (both strands' mean probability when the run averages strands); delta = alt - ref.
Multi-allelic records are split per ALT; symbolic ALTs (<DEL>), '*', missing ALTs, REFs that
differ from the genome and windows off the chromosome are skipped and counted.
The VCF need not be sorted: each record's window is fetched by its coordinates, and the scores
keep the file's order.

A profile run (trained with --signal) scores the log2 fold change of its predicted reads, alt against ref, and the
Jensen-Shannon distance between the two predicted profiles (TSV: id chrom pos ref alt counts_ref counts_alt
log2_fold_change jsd).

Writes the scores (TSV: chrom pos id ref alt ref_score alt_score delta) and, in the run folder,
variants.json and plots/variants/ with attributions of the top variants.
"""

from __future__ import annotations

import argparse
from pathlib import Path

VERB = "variants"
ORDER = 22


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder of a DNA model")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--vcf", help="VCF or BCF file, plain or bgzipped")
    source.add_argument(
        "--variants", help="table of variants: chrom pos ref alt [id] (1-based positions, tabs or spaces)"
    )
    parser.add_argument(
        "--genome", required=True, help="genome FASTA the variants were called on (indexed with pyfaidx)"
    )
    parser.add_argument("-o", "--output", help="scores TSV (default: RUN/variants.tsv)")
    parser.add_argument(
        "--target-class",
        type=int,
        help="class scored (default: the last class, 1 for binary); "
        "for sigmoid or regression outputs, the output scored (default: all)",
    )
    parser.add_argument(
        "--strict-ref",
        action="store_true",
        help="a REF that does not match the genome is an error (default: skipped and counted)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="a window running off the chromosome is an error (default: skipped and counted)",
    )
    parser.add_argument(
        "--skip-missing-contigs",
        action="store_true",
        help="skip variants on contigs absent from the genome (default: error)",
    )
    parser.add_argument(
        "--top",
        type=int,
        default=10,
        help="top variants (by |delta|) with attributions in RUN/variants.json (default 10; 0: none)",
    )
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: cpu)")


def run(args: argparse.Namespace) -> int:
    from seqcnn.errors import InputError
    from seqcnn.interpret.variants import score_variants, summary_line, write_scores, write_top_variants

    if args.batch_size < 1 or args.top < 0:
        raise InputError(f"--batch-size must be >= 1 and --top >= 0, got {args.batch_size} and {args.top}")
    from seqcnn.runs.folder import profile_record

    if profile_record(args.run) is not None:
        return _profile_variants(args)
    result = score_variants(
        args.run,
        args.genome,
        vcf=args.vcf,
        table=args.variants,
        target=args.target_class,
        batch_size=args.batch_size,
        strict_ref=args.strict_ref,
        strict=args.strict,
        skip_missing_contigs=args.skip_missing_contigs,
        device=args.device,
    )
    if result.contig_map:
        pairs = ", ".join(f"{a} -> {b}" for a, b in list(result.contig_map.items())[:8])
        more = f" and {len(result.contig_map) - 8} more" if len(result.contig_map) > 8 else ""
        print(f"contig names differ from the genome's by a 'chr' prefix; mapped {pairs}{more}")
    output = Path(args.output) if args.output else Path(args.run) / "variants.tsv"
    write_scores(output, result)
    print(summary_line(result, output))
    if args.top:
        source = args.vcf or args.variants
        print(
            f"top {min(args.top, len(result.variants))} variants with attributions: "
            f"{write_top_variants(args.run, result, output, source, args.genome, args.top)}"
        )
        from seqcnn.report.html import write_report

        print(f"report: {write_report(args.run)}")  # the run's page shows the top variants
    return 0


def _profile_variants(args: argparse.Namespace) -> int:
    """A profile run: the log2 fold change of the predicted reads and the JSD of the predicted profiles."""
    from seqcnn.interpret.profiles import score_profile_variants

    result = score_profile_variants(args.run, args.genome, vcf=args.vcf, table=args.variants, output=args.output,
                                    strict_ref=args.strict_ref, strict=args.strict,
                                    skip_missing_contigs=args.skip_missing_contigs,
                                    batch_size=min(args.batch_size, 256))
    print(f"{result['scored']} variants scored (log2 fold change of predicted reads, JSD of the profiles): "
          f"{result['output']}; skipped {result['skipped']}")
    return 0
