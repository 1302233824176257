"""The built-in ``profile-sim`` data set: a small genome, two stranded bigWig tracks and narrowPeak peaks.

Made from a seed, so identical on every machine, and written as the files a user would have
(:func:`simulate_profiles`): ``genome.fa``, ``plus.bw``, ``minus.bw`` and ``peaks.narrowPeak``, so that the
whole path from files (``seqcnn train PEAKS --genome --signal``) is what is exercised.

- 12.3 Mb of random DNA (a peak per 8.6 kb, so that background windows fit between them) whose GC content
  varies by kilobase block (0.35 to 0.60), so that GC matching matters.
- At each peak one JASPAR 2024 site (CTCF or TP53) of graded affinity: sampled from the motif's letter
  probabilities raised to a random power (log-uniform from 0.4 to 3), so sites run from near-consensus to weak.
- Expected reads grow with the site's log-odds score (a factor :data:`COUNT_GAIN` per unit of the score
  scaled to the motif's best), from about 1 to several hundred per peak.
- A stranded footprint: plus-strand reads pile up on one side of the site, minus-strand reads on the
  other (CTCF narrow and close, TP53 wider and further out), over a flat part of the window; reads are
  Poisson at every base, with a low genome-wide background.
- The narrowPeak summit (column 10) is the site's centre moved by a normal draw of sd
  :data:`SUMMIT_SD` bases, as peak callers place summits off the bound site.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqcnn.data.image_sets import cache_dir
from seqcnn.data.simulate import jaspar_motif
from seqcnn.files import atomic_write_text
from seqcnn.io.bigwig import write_bigwig

#: The chromosomes and their lengths; the last is the one held out as the test chromosome.
CHROMS = {"chr1": 2_400_000, "chr2": 2_300_000, "chr3": 2_200_000, "chr4": 2_100_000, "chr5": 3_300_000}
TEST_CHROM = "chr5"
MOTIFS = ("CTCF", "TP53")
#: Per motif: (distance of each strand's pile from the site's centre, its sd), in bases.
FOOTPRINTS = {"CTCF": (12, 5.0), "TP53": (25, 10.0)}
COUNT_GAIN = 5.0  # log expected reads per unit of the site's scaled score
BASE_READS = 20.0  # expected reads (both strands) of a site at scaled score 0.3
FLANK_FRACTION = 0.2  # reads spread evenly over the window rather than in the footprint
SPREAD = 500  # half width of the flat part, bases
BACKGROUND_RATE = 0.002  # genome-wide reads per base and strand
SUMMIT_SD = 25.0
SPACING = 2_600  # at least this many bases between sites


@dataclass(frozen=True)
class ProfileSim:
    """The files of a simulated profile data set and what was planted."""

    folder: Path
    genome: Path
    plus: Path
    minus: Path
    peaks: Path
    test_chrom: str
    n_peaks: int


def _genome(rng: np.random.Generator, chroms: dict[str, int]) -> dict[str, np.ndarray]:
    """Base codes per chromosome, GC content drawn per kilobase block."""
    out = {}
    for name, length in chroms.items():
        blocks = -(-length // 1000)
        gc = np.repeat(rng.uniform(0.35, 0.60, blocks), 1000)[:length]
        strong = rng.random(length) < gc
        which = rng.random(length) < 0.5
        out[name] = np.where(strong, np.where(which, 1, 2), np.where(which, 0, 3)).astype(np.uint8)  # C/G or A/T
    return out


def _site(pwm: np.ndarray, sharpness: float, rng: np.random.Generator) -> np.ndarray:
    """A site ``(W,)`` drawn from the letter probabilities raised to ``sharpness`` (higher: nearer consensus)."""
    p = pwm**sharpness
    p = p / p.sum(axis=0, keepdims=True)
    return (rng.random(p.shape[1]) > p.cumsum(axis=0)).sum(axis=0).clip(0, 3).astype(np.uint8)


def _scaled_score(pwm: np.ndarray, site: np.ndarray) -> float:
    """The site's log-odds score against uniform bases, as a fraction of the motif's best."""
    logodds = np.log2(pwm / 0.25)
    return float(logodds[site, np.arange(len(site))].sum() / logodds.max(axis=0).sum())


def _footprint(length: int, centre: int, shift: int, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Each strand's share of a site's reads over ``(length,)``: a Gaussian pile (plus strand upstream, minus
    downstream) over an even spread of :data:`FLANK_FRACTION` within :data:`SPREAD` bases."""
    pos = np.arange(length)
    flat = ((pos >= centre - SPREAD) & (pos < centre + SPREAD)).astype(np.float64)
    flat /= 2 * flat.sum()
    out = []
    for mode in (centre - shift, centre + shift):
        pile = np.exp(-0.5 * ((pos - mode) / sd) ** 2)
        out.append((1 - FLANK_FRACTION) * pile / (2 * pile.sum()) + FLANK_FRACTION * flat)
    return out[0], out[1]


def simulate_profiles(folder: str | Path, *, chroms: dict[str, int] | None = None, n_peaks: int = 1430,
                      seed: int = 0) -> ProfileSim:
    """Write a simulated stranded profile data set into ``folder`` (see the module's description).

    Args:
        folder: where ``genome.fa``, ``plus.bw``, ``minus.bw`` and ``peaks.narrowPeak`` go (created).
        chroms: chromosome name -> length (default :data:`CHROMS`); the last is the test chromosome.
        n_peaks: number of planted sites, spread over the chromosomes by length.
        seed: random seed; the same seed writes the same files.

    Returns:
        The files and the test chromosome.
    """
    chroms = dict(chroms or CHROMS)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    genome = _genome(rng, chroms)
    motifs = [jaspar_motif(name) for name in MOTIFS]
    total = sum(chroms.values())
    plus = {c: rng.poisson(BACKGROUND_RATE, n).astype(np.float64) for c, n in chroms.items()}
    minus = {c: rng.poisson(BACKGROUND_RATE, n).astype(np.float64) for c, n in chroms.items()}
    rows = []
    for chrom, length in chroms.items():
        count = round(n_peaks * length / total)
        centres = np.sort(rng.choice(np.arange(SPACING, length - SPACING, SPACING), size=count, replace=False))
        centres = centres + rng.integers(-SPACING // 4, SPACING // 4, size=count)
        for centre in centres:
            rows.append(_plant(rng, motifs, genome[chrom], plus[chrom], minus[chrom], chrom, int(centre), len(rows)))
    _write_fasta(folder / "genome.fa", genome)
    write_bigwig(folder / "plus.bw", chroms, plus)
    write_bigwig(folder / "minus.bw", chroms, minus)
    atomic_write_text(folder / "peaks.narrowPeak", "".join(rows))
    return ProfileSim(folder, folder / "genome.fa", folder / "plus.bw", folder / "minus.bw",
                      folder / "peaks.narrowPeak", list(chroms)[-1], len(rows))


def _plant(rng, motifs, codes, plus, minus, chrom: str, centre: int, number: int) -> str:
    """Plant one site at ``centre``, add its reads to both tracks, and return its narrowPeak line."""
    motif = motifs[int(rng.integers(len(motifs)))]
    site = _site(motif.pwm, float(np.exp(rng.uniform(np.log(0.4), np.log(3.0)))), rng)
    score = _scaled_score(motif.pwm, site)
    width = len(site)
    start = centre - width // 2
    codes[start:start + width] = 3 - site[::-1] if rng.random() < 0.5 else site  # either strand
    expected = BASE_READS * np.exp(COUNT_GAIN * (score - 0.3))
    lo, hi = centre - 2 * SPREAD, centre + 2 * SPREAD
    shift, sd = FOOTPRINTS[motif.name]
    share_plus, share_minus = _footprint(hi - lo, centre - lo, shift, sd)
    plus[lo:hi] += rng.poisson(expected * share_plus)
    minus[lo:hi] += rng.poisson(expected * share_minus)
    summit = int(np.clip(centre + round(rng.normal(0, SUMMIT_SD)), centre - 90, centre + 89))
    peak_start, peak_end = centre - 100, centre + 100
    reads = int(plus[peak_start:peak_end].sum() + minus[peak_start:peak_end].sum())
    return (f"{chrom}\t{peak_start}\t{peak_end}\tpeak{number}_{motif.name}\t{min(1000, reads)}\t.\t{reads}\t-1\t-1\t"
            f"{summit - peak_start}\n")


def _write_fasta(path: Path, genome: dict[str, np.ndarray]) -> None:
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    parts = []
    for name, codes in genome.items():
        text = letters[codes].tobytes().decode()
        parts.append(f">{name}\n" + "\n".join(text[i:i + 80] for i in range(0, len(text), 80)) + "\n")
    atomic_write_text(path, "".join(parts))


def profile_sim_files(data_dir: str | Path | None = None, seed: int = 0) -> ProfileSim:
    """The files of ``profile-sim`` (``--dataset profile-sim``): written once into ``data_dir`` (default the data
    cache, ``$SEQCNN_DATA/profile-sim/seed-<seed>``), then read from there."""
    folder = Path(data_dir) if data_dir else cache_dir("profile-sim") / f"seed-{seed}"
    names = ("genome.fa", "plus.bw", "minus.bw", "peaks.narrowPeak")
    if all((folder / n).is_file() for n in names):
        return ProfileSim(folder, *(folder / n for n in names), TEST_CHROM,
                          sum(1 for _ in open(folder / "peaks.narrowPeak", encoding="utf-8")))
    return simulate_profiles(folder, seed=seed)
