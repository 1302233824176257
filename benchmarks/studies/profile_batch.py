"""Why profile runs train on batches of 8 on a small data set: batch size (and the counts head's learning rate) on
``profile-sim``, six epochs, short windows.

Each setting is one ``seqcnn train --dataset profile-sim`` (split chr1-3 / chr4 / chr5, no background, input 600,
output 300, one thread), whose result line gives the test metrics. bpnet-lite's batches of 64 make 13 steps an epoch on
the 802 training peaks; 6 epochs of them leave the model at the average profile.

    .venv/bin/python -m benchmarks.studies.profile_batch [--settings 64:1,64:10,16:10,8:10]

Results: ``benchmarks/results/studies/profile_batch-<machine>.json`` (key ``batch<B>-counts_lr<S>``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time

from benchmarks.harness import ROOT, machine, result_path, update_json
from benchmarks.studies.profile_sim import DATA, data_files

LINE = re.compile(r"counts pearson (\S+) spearman (\S+) mse (\S+); profile median JSD (\S+) \(average profile (\S+)\)")


def run(batch: int, scale: float, epochs: int) -> dict:
    """One training run; its test metrics and seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(ROOT / ".venv" / "bin" / "seqcnn"), "train", "--dataset", "profile-sim", "--data-dir", str(DATA),
               "--test-chroms", "chr5", "--val-chroms", "chr4", "--background-ratio", "0", "--input-length", "600",
               "--output-length", "300", "--epochs", str(epochs), "--patience", str(epochs), "--threads", "1",
               "--batch-size", str(batch), "--counts-lr-scale", str(scale), "--out", f"{tmp}/run", "--quiet"]
        started = time.time()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    m = LINE.search(out)
    keys = ("counts_pearson", "counts_spearman", "counts_mse", "profile_jsd", "baseline_profile_jsd")
    result = dict(zip(keys, (float(v) for v in m.groups())))
    result.update(seconds=round(time.time() - started, 1), epochs=epochs, batch=batch, counts_lr_scale=scale)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="64:1,64:10,16:10,8:10", help="BATCH:COUNTS_LR_SCALE,...")
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    data_files()
    path = result_path(__file__, "json")
    for item in args.settings.split(","):
        batch, scale = item.split(":")
        result = run(int(batch), float(scale), args.epochs)
        result.update(machine=machine(), date=time.strftime("%Y-%m-%d"))
        update_json(path, f"batch{batch}-counts_lr{scale}", result)
        print(item, result)


if __name__ == "__main__":
    main()
