"""Arguments shared by the verbs that name motifs (marginalize, space, ablate, design)."""

from __future__ import annotations

import argparse


def add_motif_source_arguments(parser: argparse.ArgumentParser) -> None:
    """``--motifs FILE.meme`` (repeatable) and ``--jaspar-release``."""
    parser.add_argument("--motifs", action="append", default=[], metavar="MEME",
                        help="MEME file whose motif names --motif may use (searched before JASPAR); repeatable")
    parser.add_argument("--jaspar-release", default="JASPAR2024", help="JASPAR release of IDs and names "
                        "(default JASPAR2024, offline)")


def add_background_arguments(parser: argparse.ArgumentParser) -> None:
    """``--background FILE``, ``-n``, ``--seed`` and ``--device``: the sequences a motif is written into
    (marginalize, space)."""
    parser.add_argument("--background", metavar="FILE", help="background sequences (default: the run's test "
                        "sequences, dinucleotide-shuffled)")
    parser.add_argument("-n", type=int, default=200, help="background sequences (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: cpu)")


def resolve(names: list[str], args: argparse.Namespace) -> list:
    """The named motifs, each printed with where it was found."""
    from seqcnn.io.motif_lookup import find_motif

    found = [find_motif(name, args.motifs, args.jaspar_release) for name in names]
    for motif in found:
        print(f"motif {motif.name}: {motif.found}, {motif.width} bases, consensus {motif.iupac or motif.consensus()}")
    return found
