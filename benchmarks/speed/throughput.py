"""Throughput and memory of training from an on-disk store (docs/benchmarks/scale.md).

Measures, on this machine:

1. loader alone: batches/s of a shuffled pass over a store of 1,000,000 x 101 bp (read from
   the memory map, one-hot encoded), against
2. the training step alone: batches/s of the ``deepbind`` zoo model on a batch already in memory,
3. both together: sequences/s of ``deepbind`` training from the store (the loop of
   ``seqcnn.training.train_epoch``: ``data.batches`` then ``training.train_step``),
4. bounded memory: a child process whose private memory is capped with ``RLIMIT_DATA`` trains
   from a store ten times larger than the cap, and reports its peak resident memory.

``RLIMIT_DATA`` caps the private writable memory of a process (heap, anonymous maps, thread
stacks); the read-only memory map of the store is page cache that the kernel may drop at any
time, so it is reported apart (``RssFile``). ``RLIMIT_AS`` cannot be used: it counts the
address space of the mapping itself.

Usage::

    nice -n 10 .venv/bin/python -m benchmarks.speed.throughput --work /tmp/seqcnn-bench [--threads 1]

The stores are made once in ``--work`` (random bases, random labels) and kept; ``--clean``
deletes the large one afterwards. Results: ``benchmarks/results/speed/throughput[-<N>thread]-<machine>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import ROOT, result_path

LENGTH = 101


def make_store(path: Path, rows: int, seed: int = 0) -> Path:
    """A store of ``rows`` random 101 bp sequences with random 0/1 labels, written in chunks."""
    from seqcnn.data.store import StoreWriter

    if (path / "manifest.json").is_file():
        return path
    rng = np.random.default_rng(seed)
    chunk = 1 << 20
    with StoreWriter(path, LENGTH, ids=False, force=True) as writer:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            writer.add(rng.integers(0, 4, size=(n, LENGTH), dtype=np.uint8), rng.integers(0, 2, size=n))
    return path


def deepbind():
    import torch

    from seqcnn.models import zoo
    from seqcnn.models.network import build_model

    torch.manual_seed(0)
    return build_model(zoo.get("deepbind", classes=2, input_shape=(4, LENGTH)), (4, LENGTH))


def loader_rate(store: Path, batch_size: int, n: int) -> float:
    """Batches/s of a shuffled pass (read + one-hot), first ``n`` batches."""
    import torch

    from seqcnn.data.batches import batches, store_set
    from seqcnn.data.store import Store

    data = store_set(Store(store).all())
    it = batches(data, batch_size, shuffle=True, generator=torch.Generator().manual_seed(0))
    next(it)
    start = time.perf_counter()
    for _ in range(n):
        next(it)
    return n / (time.perf_counter() - start)


def onehot_ms(batch_size: int, n: int = 200) -> dict:
    """Milliseconds to one-hot a batch of codes: ``F.embedding`` (what seqcnn does) against indexing the table,
    1 and 2 threads."""
    import torch

    from seqcnn.sequence import onehot_table

    table = torch.from_numpy(onehot_table())
    codes = torch.randint(0, 6, (batch_size, LENGTH), dtype=torch.uint8)
    ways = {
        "embedding": lambda: torch.nn.functional.embedding(codes.long(), table),
        "indexing": lambda: table[codes.long()],
    }
    before, out = torch.get_num_threads(), {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, fn in ways.items():
            fn()
            start = time.perf_counter()
            for _ in range(n):
                fn()
            out[f"{name}_{threads}_threads"] = (time.perf_counter() - start) / n * 1e3
    torch.set_num_threads(before)
    return out


def step_rate(batch_size: int, n: int) -> float:
    """Batches/s of ``train_step`` alone on one batch already in memory."""
    import torch

    from seqcnn.training.loop import train_step
    from seqcnn.training.optimizers import make_optimizer
    from seqcnn.training.recipes import TrainConfig

    model, config = deepbind(), TrainConfig(batch_size=batch_size)
    optimizer = make_optimizer(model, config)
    xb = torch.nn.functional.one_hot(torch.randint(0, 4, (batch_size, LENGTH)), 4).float().transpose(1, 2)
    yb = torch.randint(0, 2, (batch_size,))
    for _ in range(5):
        train_step(model, xb, yb, optimizer, config)
    start = time.perf_counter()
    for _ in range(n):
        train_step(model, xb, yb, optimizer, config)
    return n / (time.perf_counter() - start)


def train_from_store(store: Path, batch_size: int, n: int | None, seconds: float | None = None, probe=None) -> dict:
    """Train ``deepbind`` from the store for ``n`` batches (or ``seconds``); rows/s and batches done."""
    import torch

    from seqcnn.data.batches import batches, store_set
    from seqcnn.data.store import Store
    from seqcnn.training.loop import train_step
    from seqcnn.training.optimizers import make_optimizer
    from seqcnn.training.recipes import TrainConfig

    model, config = deepbind(), TrainConfig(batch_size=batch_size)
    optimizer = make_optimizer(model, config)
    data = store_set(Store(store).all())
    done, rows, start = 0, 0, time.perf_counter()
    for xb, yb in batches(data, batch_size, shuffle=True, generator=torch.Generator().manual_seed(0)):
        train_step(model, xb, yb, optimizer, config)
        done, rows = done + 1, rows + len(yb)
        if probe is not None and done % 50 == 0:
            probe()
        if (n is not None and done >= n) or (seconds is not None and time.perf_counter() - start >= seconds):
            break
    elapsed = time.perf_counter() - start
    return {
        "batches": done,
        "rows": rows,
        "seconds": elapsed,
        "batches_per_s": done / elapsed,
        "sequences_per_s": rows / elapsed,
    }


def status_kb() -> dict:
    """VmHWM, VmRSS, RssAnon, RssFile and VmData of this process, in kB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "VmData"):  # VmHWM: peak resident set
            out[key] = int(value.split()[0])
    return out


def child(
    store: Path,
    limit_mb: int,
    batch_size: int,
    seconds: float,
    full_pass: bool,
    pass_batch: int = 4096,
    keep_pages: bool = False,
) -> None:
    """Run under ``RLIMIT_DATA = limit_mb``: a full shuffled loader pass (every row read and one-hot
    encoded, in batches of ``pass_batch``), then training for ``seconds``; print JSON."""
    limit = limit_mb << 20
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    import torch

    from seqcnn.data.batches import batches, store_set
    from seqcnn.data.store import Store

    if keep_pages:  # for comparison: pages read stay mapped in the process (counted in its RSS)
        Store.release = lambda self: None
    peak = {"RssAnon": 0, "VmData": 0, "VmRSS": 0}

    def probe() -> None:
        now = status_kb()
        for key in peak:
            peak[key] = max(peak[key], now[key])

    report = {"limit_mb": limit_mb, "keep_pages": keep_pages}
    if full_pass:
        data = store_set(Store(store).all())
        start, rows = time.perf_counter(), 0
        for i, (_, yb) in enumerate(
            batches(data, pass_batch, shuffle=True, generator=torch.Generator().manual_seed(1))
        ):
            rows += len(yb)
            if i % 20 == 0:
                probe()
        report["loader_pass"] = {
            "rows": rows,
            "batch_size": pass_batch,
            "seconds": time.perf_counter() - start,
            **status_kb(),
        }
    report["training"] = {**train_from_store(store, batch_size, None, seconds, probe), **status_kb()}
    probe()
    report["peak_sampled_kb"] = peak
    print(json.dumps(report))


def store_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir() if p.suffix in (".codes", ".labels"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="/tmp/seqcnn-bench", help="folder for the stores")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--loader-batches", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--limit-mb", type=int, default=512, help="RLIMIT_DATA of the bounded-memory child")
    parser.add_argument("--factor", type=float, default=10.0, help="store size / limit in the bounded-memory run")
    parser.add_argument("--seconds", type=float, default=60.0, help="training time of the bounded-memory child")
    parser.add_argument(
        "--no-full-pass", action="store_true", help="skip the child's full loader pass over the large store"
    )
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice, one per core)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--keep-pages", action="store_true", help="bounded-memory child without Store.release (comparison)"
    )
    parser.add_argument("--clean", action="store_true", help="delete the large store afterwards")
    parser.add_argument("--out", help="results file (default: benchmarks/results/speed/throughput-...json)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(
            Path(args.child),
            args.limit_mb,
            args.batch_size,
            args.seconds,
            not args.no_full_pass,
            keep_pages=args.keep_pages,
        )

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    small = make_store(work / "store-1m", args.rows)
    result = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_at_start": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d"),
        "batch_size": args.batch_size,
        "store_rows": args.rows,
        "store_bytes": store_bytes(small),
        "store_make_seconds": time.perf_counter() - t0,
    }
    result["onehot_ms"] = onehot_ms(args.batch_size)
    result["loader_batches_per_s"] = loader_rate(small, args.batch_size, args.loader_batches)
    result["step_batches_per_s"] = step_rate(args.batch_size, args.steps)
    result["train_from_store"] = train_from_store(small, args.batch_size, args.steps)
    print(json.dumps(result, indent=1), flush=True)
    if not args.skip_memory:
        big_rows = int(args.factor * (args.limit_mb << 20) / (LENGTH + 4)) + 1
        t0 = time.perf_counter()
        big = make_store(work / f"store-{big_rows}", big_rows)
        made = time.perf_counter() - t0
        cmd = [
            sys.executable,
            "-m",
            __spec__.name,
            "--child",
            str(big),
            "--limit-mb",
            str(args.limit_mb),
            "--batch-size",
            str(args.batch_size),
            "--seconds",
            str(args.seconds),
        ]
        cmd += (["--no-full-pass"] if args.no_full_pass else []) + (["--keep-pages"] if args.keep_pages else [])
        run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if run.returncode != 0:
            raise SystemExit(f"bounded-memory child failed:\n{run.stderr[-3000:]}")
        result["bounded_memory"] = {
            "store_rows": big_rows,
            "store_bytes": store_bytes(big),
            "store_make_seconds": made,
            **json.loads(run.stdout.strip().splitlines()[-1]),
        }
        if args.clean:
            shutil.rmtree(big)
    part = f"{args.threads}thread" if args.threads else None
    out = Path(args.out) if args.out else result_path(__file__, "json", part)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
