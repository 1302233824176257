"""bpnet-lite 1.1's BPNet on profile-sim, for ``benchmarks/studies/profile_sim.py`` (run under benchmarks/.venv-peers).

bpnet-lite's own pipeline with its defaults: ``bpnetlite.io.PeakGenerator`` (windows around the narrowPeak summits,
jitter, reverse complement, its removal of outlier peaks above 1.2 x the 99th percentile of reads, batches of 64),
``BPNet(n_filters=64, n_layers=9, n_outputs=2, n_control_tracks=0)`` with ``count_loss_weight`` = median total
reads of the training peaks / 10, Adam at 1e-3 and ``BPNet.fit(device="cpu")`` (gradients clipped at 1, the
validation loss once per epoch, the best epoch's weights saved). No background windows: PeakGenerator's negatives
are drawn with a ratio of 1e-9 (0 divides by zero there). Writes the test chromosome's predictions as an .npz.

numpy, torch and bpnet-lite only: it imports nothing of seqcnn.
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
from pathlib import Path

import numpy as np
import torch


def split_peaks(peaks: Path, chroms: list[str], folder: Path, name: str) -> tuple[Path, list[tuple[str, int]]]:
    """The narrowPeak lines of ``chroms``, and each one's (chrom, summit)."""
    lines = [line for line in peaks.read_text().splitlines() if line.split("\t")[0] in chroms]
    path = folder / f"{name}.narrowPeak"
    path.write_text("".join(line + "\n" for line in lines))
    return path, [(f[0], int(f[1]) + int(f[9])) for f in (line.split("\t") for line in lines)]


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

    tmp = Path(tempfile.mkdtemp())
    os.chdir(tmp)  # BPNet.fit writes its model files and log into the working folder
    signals = [args.plus, args.minus]
    windows = {"in_window": args.input_length, "out_window": args.output_length}
    train, _ = split_peaks(Path(args.peaks), args.train.split(","), tmp, "train")
    val, _ = split_peaks(Path(args.peaks), args.val.split(","), tmp, "val")
    test, test_rows = split_peaks(Path(args.peaks), args.test.split(","), tmp, "test")
    loader = PeakGenerator(str(train), str(train), args.genome, signals, max_jitter=args.jitter, negative_ratio=1e-9,
                           reverse_complement=True, summits=True, random_state=0, batch_size=64, pin_memory=False,
                           **windows)
    train_y = extract_loci(str(train), args.genome, signals, summits=True, **windows)[1]
    alpha = float(np.median(train_y.sum(dim=(1, 2)).numpy())) / 10
    x_val, y_val = extract_loci(str(val), args.genome, signals, summits=True, **windows)
    trim = (args.input_length - args.output_length) // 2
    model = BPNet(n_filters=64, n_layers=9, n_outputs=2, n_control_tracks=0, count_loss_weight=alpha,
                  trimming=trim, name="bpnet", verbose=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.fit(loader, optimizer, X_valid=x_val, y_valid=y_val, max_epochs=args.epochs, batch_size=64, device="cpu")
    with open(tmp / "bpnet.log") as fh:
        log = list(csv.DictReader(fh, delimiter="\t"))
    seconds = [float(r["Training Time"]) for r in log]
    best_epoch = 1 + max((i for i, r in enumerate(log) if r["Saved?"] == "True"), default=0)
    model = torch.load(tmp / "bpnet.torch", weights_only=False)  # written by fit a moment ago, in our own folder
    model.eval()
    x_test = extract_loci(str(test), args.genome, signals, summits=True, **windows)[0]
    with torch.no_grad():
        probs, counts = [], []
        for i in range(0, len(x_test), 64):
            p, c = model(x_test[i:i + 64].float())
            shape = p.shape
            probs.append(torch.softmax(p.reshape(shape[0], -1), dim=-1).reshape(shape).numpy())
            counts.append(c.reshape(-1).numpy())
    chrom = np.array([c for c, _ in test_rows])
    start = np.array([s - args.output_length // 2 for _, s in test_rows])
    np.savez(args.out, profile=np.concatenate(probs), log_counts=np.concatenate(counts), chrom=chrom, start=start,
             epoch_seconds=np.array(seconds), best_epoch=best_epoch, alpha=alpha,
             parameters=sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    main()
