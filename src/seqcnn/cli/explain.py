"""Explain a trained run: attributions, first-layer filters as PWMs, and their JASPAR matches.

Writes into the run folder: attributions.npz, plots/saliency/*.png, motifs.meme, motifs.tsv,
plots/filters/*.png and explain.json; for a model with a MultiHeadAttention or TransformerEncoder
layer, the last one's attention weights for the same sequences (attention.npz, plots/attention/*.png).
JASPAR comes from the pyjaspar package: no network.
"""

from __future__ import annotations

import argparse

from seqcnn.cli._common import add_length_arguments, fit_mode

VERB = "explain"
ORDER = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder")
    parser.add_argument("file", nargs="?", help="sequences to explain instead of the run's best test positives")
    parser.add_argument("-n", "--sequences", type=int, default=10, help="sequences to attribute (default 10)")
    parser.add_argument("--target", type=int, default=1, help="class index to explain (default 1); see --target-class")
    parser.add_argument(
        "--target-class", metavar="NAME|INDEX", help="class to explain, by name (e.g. EI) or index"
    )
    parser.add_argument(
        "--task-name", metavar="NAME", help="task (target column) to explain, for multi-label and regression runs"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="fraction of a filter's maximum activation a window needs (default 0.5)",
    )
    parser.add_argument("--jaspar-release", default="JASPAR2024", help="JASPAR release (default JASPAR2024)")
    parser.add_argument("--collection", default="CORE", help="JASPAR collection (default CORE)")
    parser.add_argument("--tax-group", default="vertebrates", help="JASPAR taxonomic group (default vertebrates)")
    parser.add_argument(
        "--motifs", action="append", default=[], metavar="MEME", help="extra target motifs (MEME file); repeatable"
    )
    parser.add_argument("--top", type=int, default=5, help="matches per filter in motifs.tsv (default 5)")
    parser.add_argument(
        "--min-bits",
        type=float,
        default=5.0,
        help="match only filters whose PWM holds at least this many bits (default 5)",
    )
    parser.add_argument(
        "--shuffles", type=int, default=20, help="dinucleotide-shuffled references for DeepLIFT/SHAP (default 20)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-filters", action="store_true", help="skip filter PWMs and JASPAR matches")
    parser.add_argument("--patterns", action="store_true",
                        help="TF-MoDISco patterns from DeepLIFT/SHAP over the test positives (or FILE), "
                        "matched to JASPAR")
    parser.add_argument("--pattern-peaks", type=int, default=400,
                        help="profile runs: test peaks (strongest first) that --patterns attributes (default 400)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_length_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from seqcnn.interpret.explain import ExplainOptions, explain
    from seqcnn.runs.folder import RunFolder, profile_record

    if profile_record(args.run) is not None:
        return _explain_profiles(args)

    options = ExplainOptions(
        n_sequences=args.sequences,
        target=args.target,
        target_class=args.target_class,
        task_name=args.task_name,
        threshold=args.threshold,
        release=args.jaspar_release,
        collection=args.collection,
        tax_group=args.tax_group,
        extra_motifs=args.motifs,
        top=args.top,
        min_bits=args.min_bits,
        n_shuffles=args.shuffles,
        seed=args.seed,
        filters=not args.no_filters,
        patterns=args.patterns,
        progress=not args.quiet,
    )
    out = explain(args.run, args.file, fit=fit_mode(args), options=options)
    summary = RunFolder(out).explain_summary()
    print(
        f"attributions for {len(summary['sequences']['ids'])} sequences: {out / 'attributions.npz'}, "
        f"{out / 'plots' / 'saliency'}"
    )
    if "attention" in summary:
        a = summary["attention"]
        print(f"attention weights of layer {a['layer']} ({a['layer_type']}, {a['heads']} heads, {a['positions']} "
              f"positions): {out / a['file']}, {out / 'plots' / 'attention'}")
    if "filters" in summary:
        f = summary["filters"]
        print(f"{f['with_sites']} of {f['n_filters']} filters as PWMs: {out / 'motifs.meme'}; "
              f"{f['matched_q_below_0.05']} match {f['jaspar']['release']} (q < 0.05): {out / 'motifs.tsv'}")
    if "patterns" in summary:
        p = summary["patterns"]
        print(f"{len(p['patterns'])} patterns from {p['sequences']} sequences: {out / 'patterns.meme'}; "
              f"{p['matched_q_below_0.05']} match JASPAR (q < 0.05): {out / 'patterns.tsv'}")
    print(f"summary: {out / 'explain.json'}")
    print(f"report: {out / 'report.html'}")
    return 0


def _explain_profiles(args: argparse.Namespace) -> int:
    """A profile run: counts-head and profile-head attributions of the strongest test peaks; --patterns adds the
    TF-MoDISco patterns of the counts head."""
    from pathlib import Path

    from seqcnn.interpret.profiles import explain_profiles

    if args.file:
        from seqcnn.errors import InputError

        raise InputError(f"{args.run} is a profile run: it explains its own test peaks; leave out FILE ({args.file})")
    summary = explain_profiles(args.run, n_sequences=args.sequences, patterns=args.patterns, n_shuffles=args.shuffles,
                               seed=args.seed, max_pattern_sequences=args.pattern_peaks,
                               release=args.jaspar_release, collection=args.collection,
                               tax_group=args.tax_group)
    out = Path(args.run)
    print(f"counts-head and profile-head attributions of {len(summary['sequences']['ids'])} test peaks: "
          f"{out / 'attributions.npz'}, {out / summary['attributions']['plot']}")
    if "patterns" in summary:
        p = summary["patterns"]
        print(f"{len(p['patterns'])} patterns from the counts head over {p['sequences']} test peaks: "
              f"{out / 'patterns.meme'}; {p['matched_q_below_0.05']} match JASPAR (q < 0.05): {out / 'patterns.tsv'}")
        for row in p["patterns"][:5]:
            print(f"  {row.get('pattern')}: {row.get('n_seqlets')} seqlets, best match {row.get('best_match')} "
                  f"(q {row.get('q_value')})")
    print(f"summary: {out / 'explain.json'}")
    return 0
