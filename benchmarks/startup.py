"""Whole-process time of a small ``seqcnn train`` before and after a change (BENCHMARKS.md, Defaults panel).

Runs ``python -m seqcnn train <primer files> --epochs 1`` with two source trees in alternating
pairs (so that a changing machine load hits both alike), and reports the median of each and
whether ``torch._dynamo`` was imported. The tree "before" is any checkout's ``src`` folder, e.g.
``git archive 44c17c9 src | tar -x -C /tmp/base``.

    OMP_NUM_THREADS=1 python benchmarks/startup.py --before /tmp/base/src --after src --pairs 4
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PRIMER = Path(__file__).resolve().parents[2] / "shared" / "data" / "zou2019-primer"
#: The CLI in-process, then whether torch._dynamo was imported by it (printed to stderr at exit).
PROBE = (
    "import atexit, sys, runpy\n"
    "atexit.register(lambda: print('DYNAMO', 'torch._dynamo' in sys.modules, file=sys.stderr))\n"
    "sys.argv = ['seqcnn'] + sys.argv[1:]\n"
    "runpy.run_module('seqcnn', run_name='__main__')\n"
)


def one(src: Path, out: Path) -> tuple[float, bool]:
    """Seconds for the whole process, and whether it imported torch._dynamo."""
    env = {**os.environ, "PYTHONPATH": str(src.resolve()), "MPLBACKEND": "Agg"}
    cmd = [
        sys.executable,
        "-c",
        PROBE,
        "train",
        str(PRIMER / "sequences.txt"),
        "--labels",
        str(PRIMER / "labels.txt"),
        "--epochs",
        "1",
        "--out",
        str(out),
        "--force",
        "--quiet",
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(done.stderr)
    return seconds, "DYNAMO True" in done.stderr


def dynamo_import_seconds() -> float:
    """Seconds to import torch._dynamo in a process that has imported torch already."""
    code = "import time, torch; t = time.perf_counter(); import torch._dynamo; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=Path("src"))
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "startup-dynamo.json")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"before": [], "after": []}
    dynamo = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.pairs):
            for name in ("before", "after") if i % 2 == 0 else ("after", "before"):
                seconds, dynamo[name] = one(getattr(args, name), Path(tmp) / name)
                times[name].append(round(seconds, 3))
                print(name, f"{seconds:.2f} s", "dynamo imported" if dynamo[name] else "no dynamo", flush=True)
    imports = [round(dynamo_import_seconds(), 3) for _ in range(args.pairs)]
    result = {
        "import_torch_dynamo_s": imports,
        "command": "python -m seqcnn train sequences.txt --labels labels.txt --epochs 1 --quiet",
        "seconds": times,
        "median": {k: statistics.median(v) for k, v in times.items()},
        "dynamo_imported": dynamo,
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["median"]), result["machine"])


if __name__ == "__main__":
    main()
