"""bpnet-lite 1.1's BPNet on profile-sim, for ``benchmarks/studies/profile_sim.py`` (run under benchmarks/.venv-peers).

bpnet-lite's own pieces: ``bpnetlite.io.PeakGenerator`` (windows from the FASTA and bigWigs, jitter, reverse
complement), ``bpnetlite.bpnet.BPNet`` and its losses ``MNLLLoss`` and ``log1pMSELoss``. Its ``BPNet.fit`` moves
every batch to CUDA, so the epoch loop is written here, as ``fit`` does it on the CPU: Adam, the profile loss plus
alpha x the counts loss (alpha = median total reads of the training peaks / 10), the validation loss once per
epoch, the best epoch's weights kept. Windows are centred on the narrowPeak summits (a BED of one base at each
summit, as bpnet-lite centres a locus on its midpoint). Writes the test chromosome's predictions as an .npz.

Standard library, numpy, torch and bpnet-lite only: it imports nothing of seqcnn.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def summit_bed(peaks: Path, chroms: list[str], folder: Path, name: str) -> tuple[Path, list[tuple[str, int]]]:
    """A BED of one base at each summit of ``chroms``' peaks, and the (chrom, summit) pairs in order."""
    rows = []
    for line in peaks.read_text().splitlines():
        f = line.split("\t")
        if f[0] in chroms:
            rows.append((f[0], int(f[1]) + int(f[9])))
    path = folder / f"{name}.bed"
    path.write_text("".join(f"{c}\t{s}\t{s + 1}\n" for c, s in rows))
    return path, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("peaks", "genome", "plus", "minus", "train", "val", "test", "out"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--input-length", type=int, default=2114)
    parser.add_argument("--output-length", type=int, default=1000)
    parser.add_argument("--jitter", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    from bpnetlite.bpnet import BPNet
    from bpnetlite.io import PeakGenerator, extract_loci
    from bpnetlite.losses import MNLLLoss, log1pMSELoss

    tmp = Path(tempfile.mkdtemp())
    signals = [args.plus, args.minus]
    train_bed, _ = summit_bed(Path(args.peaks), args.train.split(","), tmp, "train")
    val_bed, _ = summit_bed(Path(args.peaks), args.val.split(","), tmp, "val")
    test_bed, test_rows = summit_bed(Path(args.peaks), args.test.split(","), tmp, "test")
    loader = PeakGenerator(str(train_bed), args.genome, signals, in_window=args.input_length,
                           out_window=args.output_length, max_jitter=args.jitter, reverse_complement=True,
                           random_state=0, batch_size=64, pin_memory=False)
    train_y = extract_loci(str(train_bed), args.genome, signals, in_window=args.input_length,
                           out_window=args.output_length)[1]
    alpha = float(np.median(train_y.sum(dim=(1, 2)).numpy())) / 10
    x_val, y_val = extract_loci(str(val_bed), args.genome, signals, in_window=args.input_length,
                                out_window=args.output_length)
    trim = (args.input_length - args.output_length) // 2
    model = BPNet(n_filters=64, n_layers=9, n_outputs=2, n_control_tracks=0, trimming=trim, alpha=alpha)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    best, best_epoch, best_state, seconds = float("inf"), 0, None, []
    for epoch in range(1, args.epochs + 1):
        tic = time.time()
        model.train()
        for X, y in loader:
            optimizer.zero_grad()
            y_profile, y_counts = model(X)
            y_profile = torch.nn.functional.log_softmax(y_profile.reshape(y_profile.shape[0], -1), dim=-1)
            y = y.reshape(y.shape[0], -1)
            loss = MNLLLoss(y_profile, y).mean() + alpha * log1pMSELoss(y_counts, y.sum(dim=-1).reshape(-1, 1)).mean()
            loss.backward()
            optimizer.step()
        seconds.append(time.time() - tic)
        model.eval()
        with torch.no_grad():
            p, c = model(x_val)
            p = torch.nn.functional.log_softmax(p.reshape(p.shape[0], -1), dim=-1)
            y = y_val.reshape(y_val.shape[0], -1)
            val = float(MNLLLoss(p, y).mean() + alpha * log1pMSELoss(c, y.sum(dim=-1).reshape(-1, 1)).mean())
        print(f"bpnet-lite epoch {epoch}: validation {val:.4g} ({seconds[-1]:.0f} s)", flush=True)
        if val < best:
            best, best_epoch, best_state = val, epoch, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    model.eval()
    x_test = extract_loci(str(test_bed), args.genome, signals, in_window=args.input_length,
                          out_window=args.output_length)[0]
    with torch.no_grad():
        probs, counts = [], []
        for i in range(0, len(x_test), 64):
            p, c = model(x_test[i:i + 64])
            shape = p.shape
            probs.append(torch.softmax(p.reshape(shape[0], -1), dim=-1).reshape(shape).numpy())
            counts.append(c.reshape(-1).numpy())
    chrom = np.array([c for c, _ in test_rows])
    start = np.array([s - args.output_length // 2 for _, s in test_rows])
    np.savez(args.out, profile=np.concatenate(probs), log_counts=np.concatenate(counts), chrom=chrom, start=start,
             epoch_seconds=np.array(seconds), best_epoch=best_epoch,
             parameters=sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    main()
