"""Size and headless render time of the default run's report.html; screenshot for docs/report.png.

Trains the default run (what `make run` does: `seqcnn train` with no options, the primer model on
primer-sim) into a private folder unless --run names an existing run folder, then measures:

- the size of report.html;
- the time of write_report (reading the folder, the calibration plot, rendering), median of 3;
- the wall time of headless chromium loading the page and writing a screenshot, each time with a
  fresh profile (browser start included), median of --repeat, next to the same for an empty page.

    nice -n 10 .venv/bin/python -m benchmarks.speed.report [--run runs/default] [--screenshot docs/report.png]

Prints its table (docs/benchmarks/startup.md, the report); no results file besides the screenshot.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.harness import ROOT

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def render_seconds(browser: str, page: Path, shot: Path, size: str) -> float:
    """Wall time of one headless chromium screenshot of ``page`` with a fresh profile."""
    with tempfile.TemporaryDirectory() as profile:
        started = time.perf_counter()
        subprocess.run(
            [
                browser,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                f"--window-size={size}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return time.perf_counter() - started


def full_page_screenshot(browser: str, page: Path, out: Path, width: int = 1280, height: int = 6000) -> tuple[int, int]:
    """Screenshot a tall window, then crop the empty background below the page's end."""
    import numpy as np
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        shot = Path(tmp) / "tall.png"
        render_seconds(browser, page, shot, f"{width},{height}")
        image = Image.open(shot).convert("RGB")
    pixels = np.asarray(image)
    background = pixels[-1, -1]
    used = np.flatnonzero((pixels != background).any(axis=(1, 2)))
    bottom = min(int(used[-1]) + 24, image.height) if used.size else image.height
    image = image.crop((0, 0, width, bottom))
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, optimize=True)
    return image.size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="existing run folder (default: train the default run into --out)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "runs" / "bench-report-default", help="where to train the default run"
    )
    parser.add_argument("--repeat", type=int, default=5, help="chromium renders to time")
    parser.add_argument(
        "--screenshot", type=Path, default=ROOT / "docs" / "report.png", help="full-page screenshot to write"
    )
    args = parser.parse_args()
    from seqcnn.report.html import write_report

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium not found: apt-get install -y chromium")
    run = args.run
    if run is None:
        run = args.out
        print(f"training the default run into {run} ...", flush=True)
        subprocess.run(
            [str(Path(sys.executable).with_name("seqcnn")), "train", "--out", str(run), "--force", "--quiet"],
            check=True,
        )
    writes = []
    for _ in range(3):
        started = time.perf_counter()
        page = write_report(run).resolve()
        writes.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.html"
        empty.write_text("<!doctype html><title>empty</title>")
        shot = Path(tmp) / "shot.png"
        renders = [render_seconds(browser, page, shot, "1280,800") for _ in range(args.repeat)]
        blanks = [render_seconds(browser, empty, shot, "1280,800") for _ in range(args.repeat)]
    size = full_page_screenshot(browser, page, args.screenshot)
    version = subprocess.run([browser, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"date {date.today()}, {platform.machine()} {platform.processor() or ''}, {version}")
    print(f"run: {run}")
    print(f"report.html: {page.stat().st_size / 1e6:.3f} MB ({page.stat().st_size:,} bytes)")
    print(
        f"write_report: median {statistics.median(writes):.2f} s of {len(writes)} "
        f"({', '.join(f'{w:.2f}' for w in writes)})"
    )
    print(
        f"chromium screenshot of report.html: median {statistics.median(renders):.2f} s, max {max(renders):.2f} s of "
        f"{len(renders)}"
    )
    print(
        f"chromium screenshot of an empty page: median {statistics.median(blanks):.2f} s of {len(blanks)} (browser "
        "start-up)"
    )
    print(f"screenshot: {args.screenshot} {size[0]}x{size[1]}, {args.screenshot.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
