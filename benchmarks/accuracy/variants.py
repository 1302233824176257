"""Variant scoring: accuracy on a simulated genome and throughput on one CPU thread.

Accuracy: a random genome (chr1 1.5 Mb for training, chr2 0.5 Mb held out) with JASPAR 2024
motif sites planted every ~1 kb (CTCF MA0139 and HNF4A MA0114, sampled from their PWMs, either
strand). A ``chipseq`` model (256 x 12 conv, global max pool, softmax; strands averaged) is
trained on chr1: positives are 101 bp windows over sites, negatives random windows without one.
On chr2 (never seen in training) two groups of SNVs are scored with ``seqcnn.interpret.variants``: at each
site's most informative position (highest information content of the PWM) to the base of
lowest probability there, and at positions at least 200 bp from any site. Reported: the AUROC
of ``-delta`` separating the groups (target >= 0.95), and that REF-mismatch records planted in
the same VCF never appear among the scores.

Throughput: random SNVs over the genome, scored by the trained model: the whole job (VCF ->
windows -> scores), the scoring alone on the numba path and through the whole torch model, and
tangermeme's ``substitution_effect`` on the same model and windows (forward strand only, as it
has no strand averaging; compared with seqcnn on the forward strand too). One thread:
run as ``OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 .venv/bin/python -m benchmarks.accuracy.variants``. Rates are
given per wall second and per CPU second of this process (the machine may be shared).

Writes ``benchmarks/results/accuracy/variants-<machine>.json``; ``--quick`` makes everything smaller.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import result_path
from benchmarks.harness import timed_call as timed

MOTIFS = ("MA0139", "MA0114")  # CTCF, HNF4A (JASPAR 2024 CORE vertebrates, latest versions)
WIDTH = 101
COMPLEMENT = str.maketrans("ACGT", "TGCA")


def pick_motifs() -> list:
    from seqcnn.io.jaspar import load_jaspar

    return [next(m for m in load_jaspar() if m.id.startswith(prefix)) for prefix in MOTIFS]


def simulate(
    rng: np.random.Generator, sizes: dict[str, int], motifs: list, spacing: int = 1000
) -> tuple[dict[str, str], list[dict]]:
    """Random chromosomes with one motif site every ``spacing`` bases (jittered), and the sites."""
    chroms, sites = {}, []
    for chrom, size in sizes.items():
        seq = np.array(list("ACGT"))[rng.integers(0, 4, size)]
        for centre in range(spacing // 2, size - spacing // 2, spacing):
            centre += int(rng.integers(-spacing // 5, spacing // 5))
            m = int(rng.integers(len(motifs)))
            pwm = motifs[m].pwm
            site = "".join("ACGT"[rng.choice(4, p=pwm[:, j] / pwm[:, j].sum())] for j in range(pwm.shape[1]))
            strand = "+" if rng.random() < 0.5 else "-"
            start = centre - pwm.shape[1] // 2
            seq[start : start + len(site)] = list(site if strand == "+" else site.translate(COMPLEMENT)[::-1])
            sites.append({"chrom": chrom, "start": start, "motif": m, "strand": strand, "width": len(site)})
        chroms[chrom] = "".join(seq)
    return chroms, sites


def write_fasta(path: Path, records: dict[str, str]) -> None:
    with open(path, "w") as handle:
        for name, seq in records.items():
            handle.write(f">{name}\n" + "\n".join(seq[i : i + 60] for i in range(0, len(seq), 60)) + "\n")


def far_from_sites(rng, chrom: str, size: int, sites: list[dict], n: int, gap: int) -> list[int]:
    """``n`` 0-based positions of ``chrom`` at least ``gap`` bases from every site."""
    starts = np.array(sorted(s["start"] for s in sites if s["chrom"] == chrom))
    out = []
    while len(out) < n:
        p = int(rng.integers(gap, size - gap))
        k = np.searchsorted(starts, p)
        near = [starts[i] for i in (k - 1, k) if 0 <= i < len(starts)]
        if all(abs(p - s) >= gap + 30 for s in near):
            out.append(p)
    return out


def training_fasta(path: Path, rng, chroms: dict[str, str], sites: list[dict], negatives_per_site: int = 2) -> int:
    """Positives: windows over chr1's sites (centre jittered by up to 30 bp); negatives: windows without a site."""
    lines = []
    train_sites = [s for s in sites if s["chrom"] == "chr1"]
    for i, s in enumerate(train_sites):
        centre = s["start"] + s["width"] // 2 + int(rng.integers(-30, 31))
        lines.append(f">p{i} label=1\n{chroms['chr1'][centre - WIDTH // 2 : centre - WIDTH // 2 + WIDTH]}\n")
    for i, p in enumerate(
        far_from_sites(rng, "chr1", len(chroms["chr1"]), sites, negatives_per_site * len(train_sites), WIDTH)
    ):
        lines.append(f">n{i} label=0\n{chroms['chr1'][p - WIDTH // 2 : p - WIDTH // 2 + WIDTH]}\n")
    path.write_text("".join(lines))
    return len(lines)


def most_informative(pwm: np.ndarray) -> int:
    bits = 2 + (pwm * np.log2(pwm)).sum(axis=0)
    return int(np.argmax(bits))


def test_variants(
    rng, chroms: dict[str, str], sites: list[dict], motifs: list, n_mismatch: int
) -> tuple[list[tuple], dict[str, str]]:
    """VCF rows on chr2: SNVs at sites' most informative positions, SNVs far from sites, REF mismatches."""
    rows, group = [], {}
    chrom = chroms["chr2"]
    for i, s in enumerate(x for x in sites if x["chrom"] == "chr2"):
        pwm = motifs[s["motif"]].pwm
        j = most_informative(pwm)
        low = "ACGT"[int(np.argmin(pwm[:, j]))]
        pos = s["start"] + (j if s["strand"] == "+" else s["width"] - 1 - j)
        alt = low if s["strand"] == "+" else low.translate(COMPLEMENT)
        if chrom[pos] != alt:
            rows.append(("chr2", pos + 1, f"site{i}", chrom[pos], alt))
            group[f"site{i}"] = "site"
    for i, pos in enumerate(far_from_sites(rng, "chr2", len(chrom), sites, len(rows), 200)):
        rows.append(("chr2", pos + 1, f"far{i}", chrom[pos], "ACGT".replace(chrom[pos], "")[rng.integers(3)]))
        group[f"far{i}"] = "far"
    for i, pos in enumerate(rng.integers(200, len(chrom) - 200, n_mismatch)):
        wrong = "ACGT".replace(chrom[pos], "")[rng.integers(3)]
        rows.append(("chr2", int(pos) + 1, f"mismatch{i}", wrong, chrom[pos]))
        group[f"mismatch{i}"] = "mismatch"
    return sorted(rows, key=lambda r: r[1]), group


def write_vcf(path: Path, rows: list[tuple], chroms: dict[str, str]) -> None:
    head = "##fileformat=VCFv4.2\n" + "".join(f"##contig=<ID={c},length={len(s)}>\n" for c, s in chroms.items())
    head += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    path.write_text(head + "".join(f"{c}\t{p}\t{i}\t{r}\t{a}\t.\t.\t.\n" for c, p, i, r, a in rows))


def accuracy(work: Path, run: Path, genome: Path, rng, chroms, sites, motifs, n_mismatch: int) -> dict:
    from sklearn.metrics import roc_auc_score

    from seqcnn.interpret.variants import score_variants, write_scores

    rows, group = test_variants(rng, chroms, sites, motifs, n_mismatch)
    write_vcf(work / "test.vcf", rows, chroms)
    result = score_variants(run, genome, vcf=work / "test.vcf")
    write_scores(work / "test_scores.tsv", result)
    scored = {v.id: float(d) for v, d in zip(result.variants, result.delta[:, 0])}
    labels = [1 if group[k] == "site" else 0 for k in scored]
    return {
        "n_site": labels.count(1),
        "n_far": labels.count(0),
        "n_mismatch_in_vcf": n_mismatch,
        "n_mismatch_scored": sum(group[k] == "mismatch" for k in scored),
        "skipped": dict(result.skips.counts),
        "auroc_minus_delta": float(roc_auc_score(labels, [-scored[k] for k in scored])),
        "median_delta_site": float(np.median([d for k, d in scored.items() if group[k] == "site"])),
        "median_abs_delta_far": float(np.median([abs(d) for k, d in scored.items() if group[k] == "far"])),
    }


def throughput(work: Path, run: Path, genome: Path, rng, chroms, n: int, n_slow: int) -> dict:
    """SNVs per second: the whole job, the scoring paths, tangermeme's substitution_effect."""
    from seqcnn.interpret.variants import Scorer, score_variants
    from seqcnn.runs.folder import load_model

    names = list(chroms)
    rows = []
    for _ in range(n):
        c = names[rng.integers(len(names))]
        p = int(rng.integers(WIDTH, len(chroms[c]) - WIDTH))
        rows.append((c, p + 1, ".", chroms[c][p], "ACGT".replace(chroms[c][p], "")[rng.integers(3)]))
    write_vcf(work / "speed.vcf", rows, chroms)
    score_variants(run, genome, vcf=work / "speed.vcf", batch_size=4096)  # warm: numba's compiled loop, pyfaidx's index
    result, wall, cpu = timed(lambda: score_variants(run, genome, vcf=work / "speed.vcf"))
    out = {"n": n, "whole_job": rate(n, wall, cpu)}
    w = result.windows
    model = load_model(run)
    for rc in (True, False):
        fast, full = Scorer(model, rc_average=rc), Scorer(model, rc_average=rc, fast=False)
        fast.score(w.ref[:64], w.alt[:64])
        _, wall, cpu = timed(lambda s=fast: s.score(w.ref, w.alt))
        out[f"scoring_fast_{'both' if rc else 'forward'}"] = rate(n, wall, cpu)
        _, wall, cpu = timed(lambda s=full: s.score(w.ref[:n_slow], w.alt[:n_slow]))
        out[f"scoring_whole_model_{'both' if rc else 'forward'}"] = rate(n_slow, wall, cpu)
    out["tangermeme_forward"] = tangermeme_rate(model, w, n_slow)
    return out


def tangermeme_rate(model, w, n: int) -> dict:
    """tangermeme's substitution_effect on the same windows (one-hot built inside the timing, as seqcnn's is)."""
    import torch
    from tangermeme.variant_effect import substitution_effect

    from seqcnn.sequence import onehot

    ref, alt = w.ref[:n], w.alt[:n]
    rows, cols = np.nonzero(ref != alt)
    subs = torch.from_numpy(np.stack([rows, cols, alt[rows, cols]], axis=1).astype(np.int64))

    def run():
        x = torch.from_numpy(onehot(ref))
        result = substitution_effect(model, x, subs, batch_size=4096, device="cpu", verbose=False)
        before, after = result.y_before.double(), result.y_after.double()
        return (after[:, 1] - after[:, 0]) - (before[:, 1] - before[:, 0])  # delta of the log-odds

    run()
    _, wall, cpu = timed(run)
    return rate(n, wall, cpu)


def rate(n: int, wall: float, cpu: float) -> dict:
    return {
        "seconds_wall": round(wall, 3),
        "seconds_cpu": round(cpu, 3),
        "per_s_wall": round(n / wall),
        "per_s_cpu": round(n / cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller genome, fewer epochs and variants")
    parser.add_argument("--out", default=str(result_path(__file__, "json")))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch

    import seqcnn

    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    sizes = {"chr1": 300_000, "chr2": 100_000} if args.quick else {"chr1": 1_500_000, "chr2": 500_000}
    motifs = pick_motifs()
    chroms, sites = simulate(rng, sizes, motifs)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_fasta(work / "genome.fa", chroms)
        n_train = training_fasta(work / "train.fa", rng, chroms, sites)
        started = time.perf_counter()
        run = seqcnn.train(
            str(work / "train.fa"),
            model="chipseq",
            recipe="chipseq",
            rc_average=True,
            out=work / "run",
            epochs=4 if args.quick else 12,
            seed=args.seed,
            progress=False,
        )
        train_s = time.perf_counter() - started
        metrics = json.loads((run / "metrics.json").read_text())
        acc = accuracy(work, run, work / "genome.fa", rng, chroms, sites, motifs, n_mismatch=50)
        speed = throughput(
            work,
            run,
            work / "genome.fa",
            rng,
            chroms,
            n=5_000 if args.quick else 50_000,
            n_slow=2_000 if args.quick else 5_000,
        )
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, {os.cpu_count()} cores",
        "load_average": os.getloadavg(),
        "torch_threads": torch.get_num_threads(),
        "numba_threads": os.environ.get("NUMBA_NUM_THREADS"),
        "genome": sizes,
        "motifs": [f"{m.id} {m.name}" for m in motifs],
        "sites": len(sites),
        "training_windows": n_train,
        "training_seconds": round(train_s, 1),
        "test_auroc_windows": metrics.get("auroc"),
        "accuracy": acc,
        "throughput": speed,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
