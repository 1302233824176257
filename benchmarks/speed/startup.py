"""Whole-process time of a small ``seqcnn train`` before and after a change (docs/benchmarks/startup.md).

Runs ``python -m seqcnn train <primer files> --epochs 1`` with two source trees in alternating
pairs (so that a changing machine load hits both alike), and reports the median of each and
whether ``torch._dynamo`` was imported. The tree "before" is any checkout's ``src`` folder, e.g.
``git archive 44c17c9 src | tar -x -C /tmp/base``.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.speed.startup --before /tmp/base/src --after src --pairs 4

(results: ``benchmarks/results/speed/startup-dynamo-<machine>.json``). With ``--runs N`` (and no ``--before``)
it measures the time to the first result instead, each as wall seconds and CPU seconds (user + system, which a
loaded machine does not stretch), in ``benchmarks/results/speed/startup-first-result-<machine>.json``:

- ``seqcnn train sequences.txt --labels labels.txt --epochs 1``: the whole process, and the moment
  its ``test:`` line reaches the pipe (the plots and the report are drawn after it);
- ``seqcnn predict`` of the primer's 2,000 sequences with that run;
- ``python -c "import torch"``: the floor under both;
- ``--keras-pairs K``: 50 epochs of the primer model with the primer's recipe (Adam 1e-3,
  batch 32, the Keras notebook's protocol), whole process, against ``benchmarks/parity/keras_primer.py``
  in ``benchmarks/.venv-keras`` (in /work/main or this tree), in K alternating pairs;
- ``--pipe TREE``: the bytes that ``seqcnn train`` (50 epochs, progress shown) writes to stdout and
  stderr when they are pipes, with this tree and with the source tree ``TREE`` (e.g. an older one);
- ``--report-pairs K``: the 1-epoch ``seqcnn train`` with its report drawn by the report workers
  (``seqcnn.report.workers``, the default) and in the training process (``SEQCNN_REPORT_WORKERS=0``),
  in K alternating pairs, so that a machine whose speed drifts hits both alike;
- ``--seeds S``: median test accuracy of ``seqcnn train`` on the primer's files over seeds
  0..S-1, with ``--recipe primer`` and with the defaults (the split is seqcnn's own).

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.speed.startup --runs 5 --keras-pairs 3 --report-pairs 5

With ``--runs 0`` only ``--pipe`` or ``--seeds`` runs, and the file is ``startup-pipe-<machine>.json`` or
``startup-accuracy-<machine>.json``.
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

from benchmarks.harness import BENCHMARKS, PRIMER, keras_python, result_path, timed_command, write_json

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


def timed(cmd: list[str], env: dict) -> dict:
    """Run ``cmd``: wall seconds, CPU seconds of the process, and the wall seconds to its ``test:`` line."""
    run = timed_command(cmd, env, mark="test:")
    run["first_result_s"] = run.pop("mark_s")
    return run


def seqcnn_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "seqcnn", *[str(a) for a in args]]


def first_result(args, tmp: Path) -> dict:
    """The time-to-first-result measurements (see the module docstring)."""
    env = {**os.environ, "PYTHONPATH": str(args.after.resolve()), "MPLBACKEND": "Agg"}
    files = (PRIMER / "sequences.txt", "--labels", PRIMER / "labels.txt")
    out: dict = {"train_epochs_1": [], "predict_2000": [], "seqcnn_50_epochs": [], "keras_50_epochs": [],
                 "import_torch": [], "report_workers": [], "report_in_process": []}
    for _ in range(args.runs):
        out["import_torch"].append({k: v for k, v in timed([sys.executable, "-c", "import torch"], env).items()
                                    if k != "stdout"})
        run = timed(seqcnn_cmd("train", *files, "--epochs", "1", "--out", tmp / "run", "--force", "--quiet"), env)
        out["train_epochs_1"].append({k: v for k, v in run.items() if k != "stdout"})
        pred = timed(seqcnn_cmd("predict", tmp / "run", PRIMER / "sequences.txt", "-o", tmp / "p.tsv"), env)
        out["predict_2000"].append({k: v for k, v in pred.items() if k != "stdout"})
        print("train --epochs 1", out["train_epochs_1"][-1], "predict", out["predict_2000"][-1], flush=True)
    for i in range(args.report_pairs):
        for name in ("report_workers", "report_in_process")[:: 1 if i % 2 == 0 else -1]:
            mode = {**env, "SEQCNN_REPORT_WORKERS": "1" if name == "report_workers" else "0"}
            run = timed(seqcnn_cmd("train", *files, "--epochs", "1", "--out", tmp / name, "--force", "--quiet"), mode)
            out[name].append({k: v for k, v in run.items() if k != "stdout"})
            print(name, out[name][-1], flush=True)
    keras = keras_python()
    for i in range(args.keras_pairs if keras.is_file() else 0):
        ours = seqcnn_cmd("train", *files, "--model", "primer", "--recipe", "primer", "--out", tmp / "k", "--force",
                          "--quiet")
        theirs = [str(keras), str(BENCHMARKS / "parity" / "keras_primer.py"), *map(str, files[::2])]
        for name, cmd in (("seqcnn", ours), ("keras", theirs)) if i % 2 == 0 else (("keras", theirs), ("seqcnn", ours)):
            run = timed(cmd, env if name == "seqcnn" else {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
            out[f"{name}_50_epochs"].append({k: v for k, v in run.items() if k != "stdout"})
            print(name, "50 epochs", out[f"{name}_50_epochs"][-1], flush=True)
    for name, src in (("after", args.after), ("before", args.pipe)) if args.pipe else ():
        cmd = seqcnn_cmd("train", *files, "--model", "primer", "--epochs", "50", "--out", tmp / "pipe", "--force")
        done = subprocess.run(cmd, env={**env, "PYTHONPATH": str(src.resolve())}, capture_output=True)
        out.setdefault("pipe_bytes_50_epochs", {})[name] = len(done.stdout) + len(done.stderr)
        print("pipe", name, out["pipe_bytes_50_epochs"][name], flush=True)
    out["accuracy"] = {}
    for recipe in ("primer", None) if args.seeds else ():
        accs = []
        for seed in range(args.seeds):
            extra = ("--recipe", recipe) if recipe else ()
            timed(seqcnn_cmd("train", *files, *extra, "--seed", seed, "--out", tmp / "a", "--force", "--quiet"), env)
            accs.append(json.loads((tmp / "a" / "metrics.json").read_text())["accuracy"])
            print(recipe or "default", seed, accs[-1], flush=True)
        out["accuracy"][recipe or "default"] = {"per_seed": accs, "median": statistics.median(accs)}
    return out


def summary(out: dict) -> dict:
    """Medians of each measurement, and seqcnn's 50 epochs as a share of Keras's."""
    med = {}
    for key in ("import_torch", "train_epochs_1", "predict_2000", "seqcnn_50_epochs", "keras_50_epochs",
                "report_workers", "report_in_process"):
        if out.get(key):
            med[key] = {f: statistics.median(r[f] for r in out[key]) for f in ("wall_s", "cpu_s")}
            if key in ("train_epochs_1", "report_workers", "report_in_process"):
                med[key]["first_result_s"] = statistics.median(r["first_result_s"] for r in out[key])
                med[key]["after_result_s"] = round(statistics.median(r["wall_s"] - r["first_result_s"]
                                                                     for r in out[key]), 2)
    if "seqcnn_50_epochs" in med and "keras_50_epochs" in med:
        med["ratio_50_epochs"] = {f: round(med["seqcnn_50_epochs"][f] / med["keras_50_epochs"][f], 3)
                                  for f in ("wall_s", "cpu_s")}
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a source tree to compare (the torch._dynamo measurement)")
    parser.add_argument("--after", type=Path, default=Path("src"))
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="time-to-first-result runs (without --before)")
    parser.add_argument("--keras-pairs", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=0)
    parser.add_argument("--report-pairs", type=int, default=0, help="report workers against in-process drawing")
    parser.add_argument("--pipe", type=Path, help="a source tree to compare the output into a pipe with")
    args = parser.parse_args()
    if args.before is None:
        with tempfile.TemporaryDirectory() as tmp:
            out = first_result(args, Path(tmp))
        result = {"runs": out, "median": summary(out), "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                  "machine": f"{platform.node()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
                  "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
        part = "first-result" if args.runs else "pipe" if args.pipe else "accuracy" if args.seeds else "first-result"
        write_json(args.out or result_path(__file__, "json", part), result)
        print(json.dumps(result["median"]), result["machine"])
        return
    args.out = args.out or result_path(__file__, "json", "dynamo")
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
    write_json(args.out, result)
    print(json.dumps(result["median"]), result["machine"])


if __name__ == "__main__":
    main()
