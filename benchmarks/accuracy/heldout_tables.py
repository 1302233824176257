"""The defaults on labelled ChIP-seq tables that the defaults panel did not see (BENCHMARKS.md, Defaults panel).

Each experiment's whole DeepBind training file becomes a labelled table as a user would hand it
over (every AC positive and one dinucleotide shuffle of each, labelled 1 and 0: DeepBind's own
protocol), its B file the test table; then ``seqcnn train TABLE --test TEST`` with no other option.
The test AUROC is compared with DeepBind's published one (DeepBind Supplementary Table 5, quoted in
``../shared/data/README.md``). GABPA and MYC are left out: the panel holds them.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.accuracy.heldout_tables --only ELK1,ARID3A,ZBTB7A

Rows go to ``benchmarks/results/accuracy/heldout_tables-<machine>.tsv`` after every run, replacing the row of the
same experiment and options from an earlier run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import result_path
from benchmarks.studies.make_panel import encode_set

RESULTS = result_path(__file__, "tsv")
#: experiment -> (file prefix, DeepBind*, DeepBind) from the data README
PUBLISHED = {
    "ARID3A": ("ARID3A_K562_ARID3A_(sc-8821)_Stanford", 0.888, 0.810),
    "CTCFL": ("CTCFL_K562_CTCFL_(SC-98982)_HudsonAlpha", 0.987, 0.973),
    "ELK1": ("ELK1_GM12878_ELK1_(1277-1)_Stanford", 0.953, 0.948),
    "FOXA1": ("FOXA1_HepG2_FOXA1_(SC-101058)_HudsonAlpha", 0.982, 0.977),
    "REST": ("REST_GM12878_NRSF_HudsonAlpha", 0.999, 0.999),
    "SP1": ("SP1_GM12878_SP1_HudsonAlpha", 0.900, 0.898),
    "USF1": ("USF1_HepG2_USF-1_HudsonAlpha", 0.993, 0.995),
    "ZBTB7A": ("ZBTB7A_HepG2_ZBTB7A_(SC-34508)_HudsonAlpha", 0.874, 0.801),
}


def run(name: str, work: Path, extra: list[str]) -> dict:
    prefix, star, plain = PUBLISHED[name]
    info = encode_set(prefix, 10**9, work, name)
    out = work / f"run-{name}"
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "seqcnn", "train", str(work / info["file"]), "--test", str(work / info["test"]),
           "--out", str(out), "--quiet", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{name}: seqcnn train failed: {done.stderr.strip()[-500:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    model = json.loads((out / "config.json").read_text()).get("model")
    return {"experiment": name, "rows": info["rows"], "options": " ".join(extra) or "(defaults)",
            "model": model.get("name") if isinstance(model, dict) else model,
            "auroc": round(metrics["auroc"], 4), "deepbind_star": star, "deepbind": plain,
            "beats_best_published": metrics["auroc"] > max(star, plain),
            "wall_s": round(time.perf_counter() - start, 1),
            "inferred": " | ".join(line for line in done.stderr.splitlines() if line.startswith("seqcnn:"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PUBLISHED), help="comma-separated experiments")
    parser.add_argument("--options", default="", help="extra `seqcnn train` options, e.g. '--augment rc'")
    args = parser.parse_args()
    rows = []
    if RESULTS.is_file():
        rows = [dict(zip(RESULTS.read_text().splitlines()[0].split("\t"), line.split("\t")))
                for line in RESULTS.read_text().splitlines()[1:]]
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only.split(","):
            row = run(name, Path(tmp), args.options.split())
            row["date"] = time.strftime("%Y-%m-%d %H:%M %Z")
            row["machine"] = f"{platform.node()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
            rows = [r for r in rows if (r["experiment"], r["options"]) != (row["experiment"], row["options"])]
            rows.append(row)
            print("\t".join(str(v) for v in row.values()), flush=True)
            keys = list(rows[-1])
            RESULTS.write_text("\t".join(keys) + "\n" + "".join(
                "\t".join(str(r.get(k, "")) for k in keys) + "\n" for r in rows))


if __name__ == "__main__":
    main()
