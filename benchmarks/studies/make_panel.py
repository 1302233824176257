"""Make the development panel of labelled sequence tables (docs/benchmarks/panel.md).

Every set is a CSV table with the header ``id,sequence,label`` that ``seqcnn train FILE`` reads;
sets with their own test file get ``NAME.test.csv`` beside them. Written to ``benchmarks/panel/``
(ignored by git), with ``panel.json`` describing each set.

- ``primer-files``: the primer's 2,000 sequences and labels (../shared/data/zou2019-primer).
- ``planted-*``: JASPAR 2024 motifs (pyjaspar, offline) sampled into uniform random background.
  Positives carry one instance of every motif (random position and strand); half the negatives
  carry one instance of one motif, so that one motif alone does not decide; a fraction of the
  labels (``noise``) is flipped. ``multiclass-*``: class k > 0 carries motif k, class 0 none.
- ``encode-*``: an ENCODE experiment in DeepBind's format: its AC file's positives (subsampled)
  with one dinucleotide-shuffled copy each as the training table, its B file as the test table.

    .venv/bin/python -m benchmarks.studies.make_panel            # the panel used here (1k-20k rows)
    .venv/bin/python -m benchmarks.studies.make_panel --large    # adds 100k-row sets
"""

from __future__ import annotations

import argparse
import gzip
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.harness import BENCHMARKS, DATA

PANEL = BENCHMARKS / "panel"
#: Motifs by JASPAR name, in the order sets use them (well-known, distinct vertebrate motifs).
MOTIF_NAMES = ("CTCF", "GATA1", "SPI1", "FOXA1", "CEBPB")


@dataclass(frozen=True)
class Planted:
    """A planted-motif set: sequence length, motifs per positive, rows, label noise, classes."""

    name: str
    length: int
    motifs: int
    rows: int
    noise: float = 0.0
    classes: int = 2  # > 2: class k carries motif k, class 0 none


PLANTED = (
    Planted("planted-L150-m2-n4k", 150, 2, 4000),  # the example
    Planted("planted-L50-m1-n2k-noise10", 50, 1, 2000, noise=0.10),
    Planted("planted-L300-m1-n1k", 300, 1, 1000),
    Planted("planted-L500-m2-n2k-noise5", 500, 2, 2000, noise=0.05),
    Planted("planted-L1000-m3-n1k", 1000, 3, 1000),
    Planted("planted-L150-m2-n20k", 150, 2, 20000),
    Planted("multiclass-L200-k4-n4k", 200, 1, 4000, classes=4),
)
LARGE = (Planted("planted-L200-m2-n100k", 200, 2, 100000), Planted("planted-L1000-m2-n100k", 1000, 2, 100000))
#: ENCODE experiments (DeepBind's files): file prefix and how many AC positives to keep.
ENCODE = {"encode-GABPA": ("GABPA_GM12878_GABP_HudsonAlpha", 3000), "encode-MYC": ("MYC_H1-hESC_c-Myc_Stanford", 3000)}


def jaspar_motifs(names=MOTIF_NAMES) -> list:
    """The JASPAR 2024 CORE vertebrate motifs of these names (first id of each)."""
    from seqcnn.io.jaspar import load_jaspar

    by_name: dict = {}
    for motif in load_jaspar():
        by_name.setdefault(motif.name.upper(), motif)
    return [by_name[n] for n in names]


def sample_motif(pwm: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One instance (codes 0-3) drawn column by column from a (4, W) PWM, on a random strand."""
    cum = pwm.cumsum(axis=0)
    codes = (rng.random(pwm.shape[1])[None, :] > cum).sum(axis=0).clip(0, 3).astype(np.uint8)
    return codes if rng.random() < 0.5 else (3 - codes)[::-1]


def plant(seq: np.ndarray, pwms: list[np.ndarray], rng: np.random.Generator) -> None:
    """Write one instance of each PWM into ``seq`` at random positions, without overlap."""
    taken = np.zeros(len(seq), dtype=bool)
    for pwm in pwms:
        w = pwm.shape[1]
        for _ in range(100):
            at = int(rng.integers(0, len(seq) - w + 1))
            if not taken[at : at + w].any():
                break
        seq[at : at + w] = sample_motif(pwm, rng)
        taken[at : at + w] = True


def planted_set(spec: Planted, motifs: list, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``(N, L)`` and labels of a planted-motif set."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(spec.rows, spec.length), dtype=np.uint8)
    pwms = [m.pwm for m in motifs]
    if spec.classes > 2:
        labels = rng.integers(0, spec.classes, size=spec.rows)
        for seq, k in zip(codes, labels):
            if k:
                plant(seq, [pwms[k - 1]], rng)
    else:
        labels = rng.permutation(np.arange(spec.rows) % 2)
        for seq, y in zip(codes, labels):
            chosen = (
                pwms[: spec.motifs] if y else ([pwms[int(rng.integers(spec.motifs))]] if rng.random() < 0.5 else [])
            )
            plant(seq, chosen, rng)
    flip = rng.random(spec.rows) < spec.noise
    labels = np.where(flip, (labels + rng.integers(1, spec.classes, size=spec.rows)) % spec.classes, labels)
    return codes, labels


def write_table(path: Path, ids, seqs, labels) -> None:
    """``id,sequence,label`` CSV."""
    with open(path, "w") as fh:
        fh.write("id,sequence,label\n")
        fh.writelines(f"{i},{s},{y}\n" for i, s, y in zip(ids, seqs, labels))


def as_text(codes: np.ndarray) -> list[str]:
    """Codes 0-3 to A/C/G/T strings."""
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)[codes]
    return [row.tobytes().decode() for row in letters]


def read_deepbind(path: Path) -> tuple[list[str], list[str], list[int]]:
    """Event ids, sequences and Bound labels of a DeepBind ``.seq.gz`` file."""
    with gzip.open(path, "rt") as fh:
        next(fh)
        rows = [line.rstrip("\n").split("\t") for line in fh if line.strip()]
    return [r[1] for r in rows], [r[2].upper() for r in rows], [int(r[3]) for r in rows]


def encode_set(prefix: str, keep: int, out: Path, name: str, seed: int = 0) -> dict:
    """Training table (subsampled positives + one dinucleotide shuffle each) and the B file as the test table."""
    from seqcnn.data.negatives import dinucleotide_shuffle
    from seqcnn.sequence import CODE_OF_BYTE, LETTER_OF_CODE

    ids, seqs, _ = read_deepbind(DATA / "encode-deepbind" / f"{prefix}_AC.seq.gz")
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(seqs), size=min(keep, len(seqs)), replace=False))
    pos = np.stack([CODE_OF_BYTE[np.frombuffer(seqs[i].encode(), dtype=np.uint8)] for i in pick])
    neg = dinucleotide_shuffle(pos, copies=1, seed=seed)
    text = [LETTER_OF_CODE[row].tobytes().decode() for row in np.concatenate([pos, neg])]
    write_table(
        out / f"{name}.csv",
        [ids[i] for i in pick] + [f"{ids[i]}_shuf" for i in pick],
        text,
        [1] * len(pick) + [0] * len(pick),
    )
    test_ids, test_seqs, test_labels = read_deepbind(DATA / "encode-deepbind" / f"{prefix}_B.seq.gz")
    write_table(out / f"{name}.test.csv", test_ids, test_seqs, test_labels)
    return {
        "name": name,
        "file": f"{name}.csv",
        "test": f"{name}.test.csv",
        "rows": 2 * len(pick),
        "length": pos.shape[1],
        "source": f"{prefix}: {len(pick)} of {len(seqs)} AC positives + 1 dinucleotide shuffle each; B file as test",
    }


# Sets where the position of a signal decides the label (issue "defaults that see position").
#: Base probabilities (A, C, G, T) of exons and introns: exons a little GC-rich, introns T-rich.
EXON = np.array([0.25, 0.27, 0.27, 0.21])
INTRON = np.array([0.25, 0.19, 0.20, 0.36])
PYRIMIDINE = np.array([0.10, 0.35, 0.10, 0.45])  # the polypyrimidine tract before an acceptor
#: Donor (exon -3..-1, intron +1..+6) and acceptor (intron -3..-1, exon +1) consensus columns (A, C, G, T),
#: close to the published splice-site frequencies of human introns (MAG|GURAGU and YAG|G).
DONOR = np.array([
    [0.35, 0.35, 0.18, 0.12], [0.60, 0.13, 0.14, 0.13], [0.10, 0.05, 0.80, 0.05],
    [0.00, 0.00, 1.00, 0.00], [0.00, 0.01, 0.00, 0.99], [0.60, 0.03, 0.35, 0.02],
    [0.70, 0.08, 0.10, 0.12], [0.07, 0.05, 0.80, 0.08], [0.15, 0.15, 0.20, 0.50],
]).T
ACCEPTOR = np.array([[0.03, 0.70, 0.02, 0.25], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.25, 0.13, 0.50, 0.12]]).T


def draw(probs: np.ndarray, rng: np.random.Generator, n: int | None = None) -> np.ndarray:
    """Codes drawn from base probabilities: one column ``(4,)`` for ``n`` bases, or a ``(4, W)`` matrix."""
    if probs.ndim == 1:
        return rng.choice(4, size=n, p=probs).astype(np.uint8)
    cum = probs.cumsum(axis=0)
    return (rng.random(probs.shape[1])[None, :] > cum).sum(axis=0).clip(0, 3).astype(np.uint8)


@dataclass(frozen=True)
class Positional:
    """A set where position decides: kind (splice, promoter, position-only), length, rows, label noise."""

    name: str
    kind: str
    length: int
    rows: int
    noise: float = 0.0
    classes: int = 2


POSITIONAL = (
    # three classes like the public splice-junction set: exon-intron (donor), intron-exon (acceptor), neither
    Positional("splice-L60-n3k", "splice", 60, 3190, noise=0.02, classes=3),
    Positional("splice-L140-n8k", "splice", 140, 8000, noise=0.02, classes=3),
    Positional("promoter-L200-n4k", "promoter", 200, 4000, noise=0.05),
    Positional("position-only-L100-n2k", "position", 100, 2000),
    Positional("position-only-L300-n4k", "position", 300, 4000),
)


def splice_row(label: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """One splice-like sequence with its boundary at the centre: 0 donor (EI), 1 acceptor (IE), 2 neither (N).

    Neither: exon-like, intron-like or both at a random boundary, and half of them carry a decoy GT or AG
    dinucleotide exactly where a real site's would be, so that the dinucleotide alone does not decide.
    """
    mid = length // 2
    if label == 0:
        seq = np.concatenate([draw(EXON, rng, mid), draw(INTRON, rng, length - mid)])
        seq[mid - 3 : mid + 6] = draw(DONOR, rng)
    elif label == 1:
        seq = np.concatenate([draw(INTRON, rng, mid - 20), draw(PYRIMIDINE, rng, 17), draw(ACCEPTOR, rng),
                              draw(EXON, rng, length - mid - 1)])
        at = int(rng.integers(max(0, mid - 40), mid - 24))  # a weak branch point, 24-40 bases before the exon
        seq[at : at + 5] = draw(np.array([[0.1, 0.5, 0.1, 0.3], [0.1, 0.1, 0.1, 0.7], [0.4, 0.1, 0.4, 0.1],
                                          [1.0, 0, 0, 0], [0.2, 0.4, 0.1, 0.3]]).T, rng)
    else:
        cut = int(rng.integers(0, length + 1))
        first, second = (EXON, INTRON) if rng.random() < 0.5 else (INTRON, EXON)
        seq = np.concatenate([draw(first, rng, cut), draw(second, rng, length - cut)])
        decoy = rng.random()
        if decoy < 0.25:
            seq[mid : mid + 2] = (2, 3)  # GT where a donor's would be
        elif decoy < 0.5:
            seq[mid - 2 : mid] = (0, 2)  # AG where an acceptor's would be
    return seq


def promoter_row(positive: bool, length: int, motifs: dict, rng: np.random.Generator) -> np.ndarray:
    """A promoter-like sequence, transcription start at 3/4 of the length: positives carry a TATA box 30 bases
    upstream (+-2), an initiator at the start and an SP1 GC box anywhere upstream; negatives carry the same motifs
    (all three, or one) anywhere."""
    seq = rng.integers(0, 4, size=length, dtype=np.uint8)
    tss = 3 * length // 4
    tata, inr, sp1 = motifs["TBP"], motifs["INR"], motifs["SP1"]
    if positive:
        at = tss - 31 + int(rng.integers(-2, 3))
        seq[at : at + tata.shape[1]] = draw(tata, rng)
        seq[tss - 2 : tss - 2 + inr.shape[1]] = draw(inr, rng)
        at = int(rng.integers(0, tss - 45 - sp1.shape[1]))
        seq[at : at + sp1.shape[1]] = draw(sp1, rng)
    else:
        chosen = [tata, inr, sp1] if rng.random() < 0.5 else [[tata, inr, sp1][int(rng.integers(3))]]
        plant(seq, chosen, rng)
    return seq


def position_row(label: int, length: int, pwm: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One site of the same motif in every sequence: class 1 in the first third, class 0 in the last third."""
    seq = rng.integers(0, 4, size=length, dtype=np.uint8)
    w = pwm.shape[1]
    third = length // 3
    at = int(rng.integers(0, third - w)) if label else int(rng.integers(length - third, length - w))
    seq[at : at + w] = sample_motif(pwm, rng)
    return seq


#: The initiator (YYANWYY around the transcription start), as base probabilities.
INR = np.array([[0, .5, 0, .5], [0, .5, 0, .5], [1, 0, 0, 0], [.25, .25, .25, .25], [.5, 0, 0, .5],
                [0, .5, 0, .5], [0, .5, 0, .5]], dtype=float).T


def positional_set(spec: Positional, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``(N, L)`` and labels of a set where position decides."""
    rng = np.random.default_rng(seed)
    if spec.kind == "splice":  # a quarter donors, a quarter acceptors, half neither, as the public set
        labels = rng.permutation(np.resize([0, 1, 2, 2], spec.rows))
        codes = np.stack([splice_row(int(y), spec.length, rng) for y in labels])
    elif spec.kind == "promoter":
        motifs = {m.name.upper(): m.pwm for m in jaspar_motifs(("TBP", "SP1"))} | {"INR": INR}
        labels = rng.permutation(np.arange(spec.rows) % 2)
        codes = np.stack([promoter_row(bool(y), spec.length, motifs, rng) for y in labels])
    else:
        pwm = jaspar_motifs(("CTCF",))[0].pwm
        labels = rng.permutation(np.arange(spec.rows) % 2)
        codes = np.stack([position_row(int(y), spec.length, pwm, rng) for y in labels])
    flip = rng.random(spec.rows) < spec.noise
    labels = np.where(flip, (labels + rng.integers(1, spec.classes, size=spec.rows)) % spec.classes, labels)
    return codes, labels

POSITION_SOURCES = {
    "splice": "splice-like: donor (EI) or acceptor (IE) consensus at the centre, exon/intron composition, decoys",
    "promoter": "promoter-like: TATA (JASPAR TBP) 30 bp before the start, an initiator at it, an SP1 box upstream",
    "position": "one JASPAR CTCF site in every sequence: first third (1) or last third (0)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also the 100k-row sets")
    parser.add_argument("--out", type=Path, default=PANEL)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sets = [
        {"name": "primer-sim", "file": "primer-sim", "rows": 2000, "length": 50, "source": "seqcnn's built-in data"}
    ]
    primer = DATA / "zou2019-primer"
    seqs = (primer / "sequences.txt").read_text().split()
    labels = (primer / "labels.txt").read_text().split()
    write_table(args.out / "primer-files.csv", [f"seq{i}" for i in range(len(seqs))], seqs, labels)
    sets.append(
        {"name": "primer-files", "file": "primer-files.csv", "rows": len(seqs), "length": 50, "source": str(primer)}
    )
    motifs = jaspar_motifs()
    for spec in PLANTED + (LARGE if args.large else ()):
        codes, y = planted_set(spec, motifs)
        write_table(args.out / f"{spec.name}.csv", [f"r{i}" for i in range(len(y))], as_text(codes), y)
        used = motifs[: spec.classes - 1] if spec.classes > 2 else motifs[: spec.motifs]
        sets.append(
            {
                "name": spec.name,
                "file": f"{spec.name}.csv",
                **asdict(spec),
                "source": "JASPAR2024 " + ", ".join(f"{m.id} {m.name}" for m in used),
            }
        )
        print(spec.name, flush=True)
    for spec in POSITIONAL:
        codes, y = positional_set(spec)
        names = ("EI", "IE", "N") if spec.kind == "splice" else ("0", "1")
        write_table(args.out / f"{spec.name}.csv", [f"r{i}" for i in range(len(y))], as_text(codes),
                    [names[k] for k in y])
        source = POSITION_SOURCES[spec.kind]
        sets.append({"name": spec.name, "file": f"{spec.name}.csv", **asdict(spec), "source": source})
        print(spec.name, flush=True)
    for name, (prefix, keep) in ENCODE.items():
        sets.append(encode_set(prefix, keep, args.out, name))
        print(name, flush=True)
    (args.out / "panel.json").write_text(json.dumps(sets, indent=1) + "\n")


if __name__ == "__main__":
    main()
