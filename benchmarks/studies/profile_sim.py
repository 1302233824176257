"""Profile models on the held-out simulation ``profile-sim``: seqcnn's ``bpnet`` read back through ``seqcnn predict``,
and bpnet-lite 1.1's BPNet on the same peaks, tracks, split and epochs.

Data: ``profile-sim`` (seed 0: 1,430 peaks, planted JASPAR CTCF and TP53 sites of graded affinity, stranded
footprints, Poisson reads, summits off the site), written once into ``benchmarks/panel/profile-sim``. Split:
training chr1-chr3, validation chr4, test chr5 for both tools; peaks only (``--background-ratio 0``; bpnet-lite's
BPNet is given no background either). Both models: 64 filters, 9 dilated residual layers, profile conv 75, Adam 1e-3,
batches of 64, jitter and reverse complement, counts weight = median total reads of the training peaks / 10, the
weights of the epoch with the lowest validation loss.

Each tool runs in its own process (peak resident memory from the OS); seqcnn through its command line, bpnet-lite's
``BPNet`` module and losses in ``benchmarks/studies/profile_sim_peer.py`` under ``benchmarks/.venv-peers`` (made
with ``pip install <the torch 2.13.0 wheel> bpnet-lite==1.1.0``; never a dependency of seqcnn). Both tools' test
predictions are scored here by the same code (:func:`seqcnn.metrics.profile_metrics`): counts Pearson of
``log(1 + reads)``, median Jensen-Shannon distance (unsmoothed) against the average training profile's.

    .venv/bin/python -m benchmarks.studies.profile_sim --tools seqcnn,bpnet-lite --epochs 20
    ... --input-length 1000 --output-length 500 --epochs 8      # a reduced, equal comparison

Results: ``benchmarks/results/studies/profile_sim-<machine>.json`` (one key per tool and settings).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import BENCHMARKS, ROOT, machine, result_path, update_json

DATA = BENCHMARKS / "panel" / "profile-sim"
PEER_PYTHON = BENCHMARKS / ".venv-peers" / "bin" / "python"
TRAIN, VAL, TEST = ("chr1", "chr2", "chr3"), ("chr4",), ("chr5",)


def data_files():
    """The simulation's files (written on first use)."""
    from seqcnn.data.profile_sim import profile_sim_files

    return profile_sim_files(DATA, seed=0)


def observed_at(sim, chroms, starts, length: int) -> np.ndarray:
    """Reads of both tracks ``(n, 2, length)`` at the output windows."""
    from seqcnn.io.bigwig import BigWig

    tracks = [BigWig(sim.plus), BigWig(sim.minus)]
    return np.stack([np.stack([bw.values(c, int(s), int(s) + length) for bw in tracks])
                     for c, s in zip(chroms, starts)])


def training_baseline(sim, length: int) -> np.ndarray:
    """The average normalised profile ``(2, length)`` of the training chromosomes' peaks, centred on the summit."""
    chroms, starts = [], []
    for line in sim.peaks.read_text().splitlines():
        f = line.split("\t")
        if f[0] in TRAIN:
            chroms.append(f[0])
            starts.append(int(f[1]) + int(f[9]) - length // 2)
    obs = observed_at(sim, chroms, starts, length)
    totals = obs.sum(axis=(1, 2), keepdims=True)
    shares = obs[totals[:, 0, 0] > 0] / totals[totals[:, 0, 0] > 0]
    mean = shares.mean(axis=0)
    return mean / mean.sum()


def score(sim, chroms, starts, probs: np.ndarray, log_counts: np.ndarray, length: int) -> dict:
    """Test metrics of predictions ``probs`` ``(n, 2, length)`` and ``log(1 + total)`` ``(n,)``."""
    from seqcnn.metrics import profile_metrics

    observed = observed_at(sim, chroms, starts, length)
    m = profile_metrics(observed, probs, log_counts, training_baseline(sim, length))
    m["jsd_ratio"] = round(m["profile_jsd"] / m["baseline_profile_jsd"], 4)
    return m


def run_seqcnn(sim, args, work: Path) -> dict:
    """Train through ``seqcnn train``, predict through ``seqcnn predict``, score the test chromosome."""
    run, pred = work / "seqcnn-run", work / "seqcnn-pred.npz"
    seqcnn = str(ROOT / ".venv" / "bin" / "seqcnn")
    cmd = [seqcnn, "train", "--dataset", "profile-sim", "--data-dir", str(sim.folder),  # the tutorial's command
           "--test-chroms", ",".join(TEST), "--val-chroms", ",".join(VAL), "--background-ratio", "0",
           "--epochs", str(args.epochs), "--threads", str(args.threads), "--input-length", str(args.input_length),
           "--output-length", str(args.output_length), "--jitter", str(args.jitter), "--patience", str(args.epochs),
           "--out", str(run), "--force", "--quiet"]
    started = time.time()
    subprocess.run(cmd, check=True)
    wall = time.time() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    subprocess.run([seqcnn, "predict", str(run), str(sim.peaks), "--genome", str(sim.genome), "-o", str(pred)],
                   check=True)
    with np.load(pred) as p:
        keep = np.isin(p["chrom"], TEST)
        probs = p["profile"][keep].transpose(0, 2, 1)
        log_counts = np.log1p(p["counts"][keep].sum(axis=1))
        chroms, starts = p["chrom"][keep], p["start"][keep]
    history = [line.split(",") for line in (run / "history.csv").read_text().splitlines()]
    seconds = [float(r[history[0].index("seconds")]) for r in history[1:]]
    out = score(sim, chroms, starts, probs, log_counts, args.output_length)
    best = json.loads((run / "config.json").read_text())["train"]["best_epoch"]
    out.update(train_wall_s=round(wall, 1), s_per_epoch=round(float(np.mean(seconds)), 1), epochs=len(seconds),
               peak_rss_mb=round(peak, 1), best_epoch=best, parameters=_parameters(run))
    return out


def _parameters(run: Path) -> int:
    from seqcnn.runs.folder import load_model

    return sum(p.numel() for p in load_model(run).parameters())


def run_peer(sim, args, work: Path) -> dict:
    """bpnet-lite 1.1's BPNet in its own environment (``profile_sim_peer.py``), scored here."""
    if not PEER_PYTHON.is_file():
        raise SystemExit(f"{PEER_PYTHON}: missing; python3 -m venv benchmarks/.venv-peers, then pip install the torch "
                         "2.13.0 wheel and bpnet-lite==1.1.0 into it")
    pred = work / "bpnet-lite-pred.npz"
    cmd = [str(PEER_PYTHON), str(Path(__file__).with_name("profile_sim_peer.py")), "--peaks", str(sim.peaks),
           "--genome", str(sim.genome), "--plus", str(sim.plus), "--minus", str(sim.minus), "--train", ",".join(TRAIN),
           "--val", ",".join(VAL), "--test", ",".join(TEST), "--epochs", str(args.epochs), "--threads",
           str(args.threads), "--input-length", str(args.input_length), "--output-length", str(args.output_length),
           "--jitter", str(args.jitter), "--out", str(pred)]
    started = time.time()
    subprocess.run(cmd, check=True)
    wall = time.time() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with np.load(pred) as p:
        out = score(sim, p["chrom"], p["start"], p["profile"], p["log_counts"], args.output_length)
        out.update(train_wall_s=round(wall, 1), s_per_epoch=round(float(np.mean(p["epoch_seconds"])), 1),
                   epochs=int(len(p["epoch_seconds"])), peak_rss_mb=round(peak, 1), best_epoch=int(p["best_epoch"]),
                   parameters=int(p["parameters"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", default="seqcnn,bpnet-lite")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--input-length", type=int, default=2114)
    parser.add_argument("--output-length", type=int, default=1000)
    parser.add_argument("--jitter", type=int, default=128)
    args = parser.parse_args()
    tools = args.tools.split(",")
    if len(tools) > 1:  # one process per tool: the peak memory read from the OS is then that tool's alone
        for tool in tools:
            subprocess.run([sys.executable, "-m", "benchmarks.studies.profile_sim", "--tools", tool,
                            *(f"--{k.replace('_', '-')}={getattr(args, k)}" for k in
                              ("epochs", "threads", "input_length", "output_length", "jitter"))], check=True)
        return
    sim = data_files()
    path = result_path(__file__, "json")
    for tool in tools:
        work = DATA.parent / f"profile-sim-work-{tool}-{args.input_length}-{args.epochs}"
        work.mkdir(parents=True, exist_ok=True)
        result = (run_seqcnn if tool == "seqcnn" else run_peer)(sim, args, work)
        settings = {k: getattr(args, k) for k in ("epochs", "threads", "input_length", "output_length", "jitter")}
        result.update(settings=settings, machine=machine(), date=time.strftime("%Y-%m-%d"))
        key = f"{tool}-in{args.input_length}-out{args.output_length}-e{args.epochs}"
        update_json(path, key, result)
        print(key, json.dumps({k: result[k] for k in ("counts_pearson", "profile_jsd", "baseline_profile_jsd",
                                                       "jsd_ratio", "s_per_epoch", "peak_rss_mb")}), file=sys.stderr)


if __name__ == "__main__":
    main()
