"""Write docs/tutorial/data/toy.fa and toy.vcf: the small genome and variants of tutorial page 16.

One 6 kb chromosome of uniform random bases (seed 16) with the primer's motif CGACCGAACTCC planted
at ten positions, and 20 SNVs: one at the sixth base of each motif site (to the base that is
least like the motif: a transversion) and ten at least 100 bp from any site.

    .venv/bin/python -m benchmarks.tutorial_toy_genome
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MOTIF = "CGACCGAACTCC"
OUT = Path(__file__).resolve().parents[1] / "docs" / "tutorial" / "data"
SWAP = {"A": "C", "C": "A", "G": "T", "T": "G"}


def main() -> None:
    """Write the two files."""
    rng = np.random.default_rng(16)
    bases = list(rng.choice(list("ACGT"), 6000))
    sites = [300 + 550 * i for i in range(10)]
    for s in sites:
        bases[s : s + len(MOTIF)] = MOTIF
    genome = "".join(bases)
    OUT.mkdir(parents=True, exist_ok=True)
    lines = [genome[i : i + 60] for i in range(0, len(genome), 60)]
    (OUT / "toy.fa").write_text(">chrT\n" + "\n".join(lines) + "\n")
    records = [(s + 6, f"site{i}") for i, s in enumerate(sites)]
    records += [(s + 275, f"far{i}") for i, s in enumerate(sites)]
    vcf = ["##fileformat=VCFv4.2", "##contig=<ID=chrT,length=6000>", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    for pos, name in sorted(records):
        ref = genome[pos - 1]
        vcf.append(f"chrT\t{pos}\t{name}\t{ref}\t{SWAP[ref]}\t.\t.\t.")
    (OUT / "toy.vcf").write_text("\n".join(vcf) + "\n")


if __name__ == "__main__":
    main()
