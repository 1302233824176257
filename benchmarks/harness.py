"""What every benchmark shares: where the data are, which machine runs it, where its results go, how to time.

A benchmark is run from the repository root as a module, so that it imports this one by its package name::

    .venv/bin/python -m benchmarks.speed.conv_paths --repeats 20

Importing this module puts the checkout's ``src/`` first on ``sys.path`` and on ``PYTHONPATH`` (for the
commands a benchmark starts): a benchmark measures the code of the tree it is in, whatever seqcnn the
interpreter has installed. That is the one path setup of ``benchmarks/``; scripts import each other by
package (``from benchmarks.studies.make_panel import ...``).

Results: ``benchmarks/results/<topic>/<script>[-<part>]-<machine>.<ext>``, where ``<topic>`` is the script's
folder (``accuracy``, ``speed``, ``parity``, ``studies``), ``<part>`` names one of a script's several
measurements (``explain.py``'s ``ism``, ``collapse.py``'s ``--tag``) and ``<machine>`` is :func:`machine_tag`.
A rerun on the same machine overwrites the file; git keeps the earlier numbers. ``python -m benchmarks.harness``
prints this machine's tag and description.

Standard library only: the Keras reference scripts import it from ``benchmarks/.venv-keras`` too.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
RESULTS = BENCHMARKS / "results"
SPECS = BENCHMARKS / "specs"
#: The shared data sets, beside the clone (``../shared/data``), as every page of BENCHMARKS.md assumes.
DATA = ROOT.parent / "shared" / "data"
PRIMER = DATA / "zou2019-primer"
ENCODE = DATA / "encode-deepbind"
FASHION = DATA / "fashion-mnist"

SRC = ROOT / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))
if str(SRC) not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p)


def keras_python() -> Path:
    """The Keras 3 reference interpreter, ``benchmarks/.venv-keras`` of this tree or of the main checkout beside it.

    Made from ``benchmarks/parity/requirements-keras.txt``; TensorFlow is never a dependency of seqcnn. Returns
    this tree's path when neither exists (callers check ``is_file()``).
    """
    for root in (ROOT, ROOT.parent / "main"):
        python = root / "benchmarks" / ".venv-keras" / "bin" / "python"
        if python.is_file():
            return python
    return BENCHMARKS / ".venv-keras" / "bin" / "python"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _isa(flags: set[str]) -> str:
    """The widest vector unit that decides the speed of these models: amx, avx512bf16, avx512, avx2 or the arch."""
    if {"amx_tile", "amx_bf16"} & flags:
        return "amx"
    if "avx512_bf16" in flags:
        return "avx512bf16"
    if "avx512f" in flags:
        return "avx512"
    if "avx2" in flags:
        return "avx2"
    return platform.machine().lower() or "cpu"


def _cpu_family(model: str) -> str:
    words = re.sub(r"\((r|tm)\)|@.*|\d+-core|\bcpu\b|\bprocessor\b", " ", model.lower()).split()
    words = [w for w in words if w not in ("intel", "amd", "genuine", "authentic")]
    return re.sub(r"[^a-z0-9]+", "", words[0]) if words else platform.machine().lower()


def _gpu_name(device: str | None) -> str | None:
    if not device or not str(device).startswith("cuda"):
        return None
    import torch  # only when a GPU is named: the Keras side never gets here

    return torch.cuda.get_device_name(torch.device(device))


def machine_tag(device: str | None = None) -> str:
    """A short name of the machine for result files: ``xeon-2c-avx512``, ``xeon-2c-amx``, ``h100``.

    CPU runs: the processor family, the cores and the widest vector unit; a run on a GPU (``device`` starting
    with ``cuda``): the GPU's model. ``BENCH_MACHINE`` in the environment overrides it.
    """
    if os.environ.get("BENCH_MACHINE"):
        return re.sub(r"[^a-z0-9.]+", "-", os.environ["BENCH_MACHINE"].lower()).strip("-")
    gpu = _gpu_name(device)
    if gpu:
        words = gpu.lower().replace("nvidia", " ").split()
        return next((w for w in words if any(c.isdigit() for c in w)), words[0] if words else "gpu")
    return f"{_cpu_family(_cpu_model())}-{os.cpu_count()}c-{_isa(_cpu_flags())}"


def machine(device: str | None = None) -> dict:
    """The machine in words, for the result files: tag, processor, cores, load, versions, date (UTC)."""
    info = {
        "tag": machine_tag(device),
        "cpu": _cpu_model(),
        "isa": _isa(_cpu_flags()),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    gpu = _gpu_name(device)
    if gpu:
        info["gpu"] = gpu
    return info


def result_path(script: str, ext: str, part: str | None = None, device: str | None = None) -> Path:
    """``benchmarks/results/<topic>/<script>[-<part>]-<machine>.<ext>`` for the script file ``script``.

    Args:
        script: the benchmark's ``__file__``; its folder is the topic, its name the script.
        ext: the extension, without the dot (``json``, ``tsv``, ``curves.csv``); ``""`` for a folder.
        part: one of the script's several measurements, or None when it makes one.
        device: ``cuda...`` tags the result with the GPU instead of the CPU.

    Returns:
        The path, its folder created.
    """
    file = Path(script).resolve()
    topic = file.parent.name if file.parent != BENCHMARKS else "misc"
    name = "-".join(p for p in (file.stem, part, machine_tag(device)) if p)
    folder = RESULTS / topic
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (f"{name}.{ext}" if ext else name)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (a temporary file renamed over it): a killed run leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def write_json(path: Path, result) -> Path:
    """Write ``result`` as indented JSON, atomically."""
    return write_text(path, json.dumps(result, indent=2) + "\n")


def update_json(path: Path, key: str, value) -> dict:
    """Set ``key`` of the JSON object in ``path`` to ``value`` (other keys kept: runs of other parts or subsets)."""
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[key] = value
    write_json(path, data)
    return data


def call_seconds(fn, repeats: int) -> list[float]:
    """Wall seconds of each of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def timed_call(fn):
    """Call ``fn`` once: ``(its result, wall seconds, CPU seconds of this process)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def calls_within(fn, seconds: float, warmup: int = 10, sync=None) -> tuple[int, float]:
    """Call ``fn`` ``warmup`` times, then as often as fits in ``seconds``: ``(calls, seconds)``.

    ``sync`` (e.g. ``torch.cuda.synchronize``) is called before the clock starts and stops, so that a GPU's
    queued work is counted.
    """
    sync = sync or (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    sync()
    return n, time.perf_counter() - start


def timed_command(cmd: list[str], env: dict | None = None, mark: str | None = None, cwd: Path | None = None) -> dict:
    """Run ``cmd`` and time it: wall and CPU seconds (user + system of the child), and its output.

    Args:
        cmd: the command.
        env: its environment (None: this process's).
        mark: a line prefix (``"test:"``) whose first appearance on stdout is timed as ``mark_s``.
        cwd: its working folder.

    Returns:
        ``{"wall_s", "cpu_s", "mark_s", "stdout"}``; ``mark_s`` is None when ``mark`` never came.

    Raises:
        SystemExit: the command failed (with the end of its stderr).
    """
    before = os.times()
    start = time.perf_counter()
    first = None
    with subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if mark and first is None and line.startswith(mark):
                first = time.perf_counter() - start
        err = proc.stderr.read()
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode:
        raise SystemExit(f"{' '.join(map(str, cmd[:4]))}: {err[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "mark_s": None if first is None else round(first, 2), "stdout": "".join(lines)}


def median(values) -> float:
    """The median, rounded to 3 decimals, of the values."""
    return round(statistics.median(values), 3)


def main() -> None:
    """``python -m benchmarks.harness [--device cuda]``: this machine's tag, then its description."""
    device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else None
    print(machine_tag(device))
    print(json.dumps(machine(device), indent=2))


if __name__ == "__main__":
    main()
