"""Time `seqcnn models` (every zoo model analysed for its default input, VGG16 included), the
pure-Python analysis of VGG16 alone, and the two shape property tests of tests/test_arith.py.

    nice -n 10 .venv/bin/python -m benchmarks.speed.zoo_listing

Prints its table (docs/benchmarks/startup.md); no results file.
"""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys

from benchmarks.harness import ROOT
from benchmarks.harness import call_seconds as timed


def main() -> None:
    from seqcnn.models import zoo

    def listing() -> None:
        for name in zoo.names():
            spec = zoo.get(name)
            sum(i.params for i in spec.analyse(zoo.entry(name).default_input))

    vgg = zoo.get("vgg16")
    cli = [sys.executable, "-m", "seqcnn", "models"]
    rows = {
        "analyse every zoo model (in process)": timed(listing, 20),
        "zoo.get + analyse vgg16 (in process)": timed(lambda: zoo.get("vgg16").analyse((3, 224, 224)), 50),
        "vgg16 analyse only": timed(lambda: vgg.analyse((3, 224, 224)), 50),
        "`seqcnn models` as a command (Python start-up included)": timed(
            lambda: subprocess.run(cli, check=True, capture_output=True), 5
        ),
    }
    tests = ["tests/test_arith.py::test_conv_output_size_equals_torch_over_random_configs",
             "tests/test_arith.py::test_pool_output_size_equals_torch_over_random_configs_with_ceil_mode"]
    calls: dict[str, list[float]] = {t: [] for t in tests}
    for _ in range(3):
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "--durations=0", "--durations-min=0", *tests],
                             check=True, capture_output=True, text=True, cwd=ROOT).stdout
        for line in out.splitlines():  # "1.09s call     tests/test_arith.py::..."
            parts = line.split()
            if len(parts) == 3 and parts[1] == "call" and parts[2] in calls:
                calls[parts[2]].append(float(parts[0].rstrip("s")))
    for test, times in calls.items():
        rows[f"`{test.split('::')[1]}` (pytest call phase)"] = times
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    for what, times in rows.items():
        print(
            f"| {what} | median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms of "
            f"{len(times)} |"
        )


if __name__ == "__main__":
    main()
