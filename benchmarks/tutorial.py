"""Run the tutorial's commands (docs/tutorial/*.md) at full settings, and the parser the test shares.

A page's commands are its ```bash blocks, one ``seqcnn`` command a line (```python blocks are run
too, as they are); every other line of such a block is a comment. Two
comment forms are read by the tools, not the shell:

- ``# tutorial-test: ARGS`` appends ARGS to the ``seqcnn`` command on the line above it when
  ``tests/test_tutorial.py`` runs it (fewer epochs, a subset); argparse keeps the last value of a
  repeated option, so an appended ``--epochs 2`` wins. ``{fashion}`` and ``{encode}`` stand for the
  test's small Fashion-MNIST folder and ENCODE experiment.
- ``# tutorial-expect: KEY >= X`` (or ``<=``, ``==``): every number printed after KEY in the
  block's output must satisfy the comparison, at the test's reduced settings.

The ```text block right after a command block is its output. For a block without a
``tutorial-test`` line the output is deterministic, and the test checks that the page's lines
(``...`` marks lines left out) appear in the real output in the same order, character for
character. ``<!-- figure: SRC -->`` before an image names the file the commands wrote (a glob
pattern: the first match in sorted order, for names that hold a sequence's id); the test
checks that the commands write it, and this script copies it next to the page.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.tutorial [--pages 13,14] [--skip-slow]

runs the pages in a scratch folder beside the repository (``../tutorial-run`` by default, where
``../shared/data`` resolves as on the pages), writes each block's output to
``benchmarks/results/tutorial/PAGE-N.txt`` and copies the figures into ``docs/tutorial/figures/``.
It stays at the top of ``benchmarks/`` and imports nothing of it: ``tests/test_tutorial.py`` loads it by path.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import operator
import os
import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "tutorial"
RESULTS = ROOT / "benchmarks" / "results" / "tutorial"

_FENCE = re.compile(r"^```(\w*)\s*$")
_FIGURE = re.compile(r"<!-- figure: (\S+) -->\s*\n!\[[^\]]*\]\(([^)]+)\)")
_EXPECT = re.compile(r"^(\S+)\s*(>=|<=|==)\s*([-+0-9.eE]+)$")
_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq}
#: Commands that need more than a few minutes of CPU at full settings (``--skip-slow``).
SLOW = ("fashion-mnist", "encode-deepbind")


@dataclass
class Block:
    """One ```bash block of a page, with the output block after it."""

    page: str
    index: int
    commands: list[list[str]]
    test_args: dict[int, str] = field(default_factory=dict)
    expects: list[tuple[str, str, float]] = field(default_factory=list)
    shown: list[str] | None = None
    code: str | None = None

    @property
    def name(self) -> str:
        """``PAGE-N``, the block's name in results and test ids."""
        return f"{Path(self.page).stem}-{self.index}"


def pages() -> list[Path]:
    """The tutorial's pages in reading order (their names start with a two-digit number)."""
    return sorted(p for p in PAGES.glob("[0-9][0-9]-*.md"))


def _fences(text: str) -> list[tuple[str, list[str]]]:
    """Every fenced block of a markdown text: (language, lines)."""
    blocks, lang, lines = [], None, []
    for line in text.splitlines():
        m = _FENCE.match(line)
        if m and lang is None:
            lang, lines = m.group(1) or "text", []
        elif line.strip() == "```" and lang is not None:
            blocks.append((lang, lines))
            lang = None
        elif lang is not None:
            lines.append(line)
    return blocks


def _command_lines(lines: list[str]) -> list[str]:
    """Join backslash continuations; drop blank lines."""
    joined, current = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    return [j for j in joined if j.strip()]


def parse_page(path: Path) -> list[Block]:
    """The command blocks of one page.

    Raises:
        ValueError: a command line that is not a ``seqcnn`` command, or a malformed marker.
    """
    blocks: list[Block] = []
    fences = _fences(path.read_text())
    for i, (lang, lines) in enumerate(fences):
        if lang not in ("bash", "python"):
            continue
        block = Block(path.name, len(blocks) + 1, [])
        if lang == "python":
            block.code = "\n".join(lines) + "\n"
        for line in _command_lines(lines) if lang == "bash" else []:
            stripped = line.strip()
            if stripped.startswith("# tutorial-test:"):
                if not block.commands:
                    raise ValueError(f"{path.name}: {stripped!r} has no command above it")
                block.test_args[len(block.commands) - 1] = stripped.split(":", 1)[1].strip()
            elif stripped.startswith("# tutorial-expect:"):
                m = _EXPECT.match(stripped.split(":", 1)[1].strip())
                if not m:
                    raise ValueError(f"{path.name}: bad marker {stripped!r}; expected KEY >= NUMBER")
                block.expects.append((m.group(1), m.group(2), float(m.group(3))))
            elif stripped.startswith("#"):
                continue
            else:
                argv = shlex.split(stripped, comments=True)
                if argv[:1] != ["seqcnn"]:
                    raise ValueError(f"{path.name}: {stripped!r} is not a seqcnn command")
                block.commands.append(argv[1:])
        if i + 1 < len(fences) and fences[i + 1][0] == "text":
            block.shown = fences[i + 1][1]
        blocks.append(block)
    return blocks


def figures(path: Path) -> list[tuple[str, str]]:
    """(file the commands write, image the page shows) for each ``<!-- figure: -->`` of a page."""
    return _FIGURE.findall(path.read_text())


def run_block(block: Block, reduced: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a block's commands in-process in the current folder.

    Args:
        block: the block.
        reduced: None for the page's settings; else the values of the ``{placeholders}`` of its
            ``tutorial-test`` lines, whose arguments are then appended to their commands.

    Returns:
        (exit status of the first failing command or 0, everything the commands printed on stdout).
    """
    from seqcnn.cli import main

    out = io.StringIO()
    if block.code is not None:
        with contextlib.redirect_stdout(out):
            exec(compile(block.code, block.name, "exec"), {"__name__": "__tutorial__"})  # the page's own code
        return 0, out.getvalue()
    for i, argv in enumerate(block.commands):
        if reduced is not None and i in block.test_args:
            argv = argv + shlex.split(block.test_args[i].format(**reduced))
        with contextlib.redirect_stdout(out):
            try:
                code = main(list(argv))
            except SystemExit as exc:  # argparse's usage errors
                code = int(exc.code or 0)
        if code:
            return code, out.getvalue()
    return 0, out.getvalue()


def shown_lines_missing(shown: list[str], output: str) -> list[str]:
    """The page's output lines (``...`` skipped) that are not in the real output in that order."""
    actual = [line.rstrip() for line in output.splitlines()]
    missing, pos = [], 0
    for line in shown:
        line = line.rstrip()
        if line.strip() in ("", "..."):
            continue
        try:
            pos = actual.index(line, pos) + 1
        except ValueError:
            missing.append(line)
    return missing


def failed_expectations(expects: list[tuple[str, str, float]], output: str) -> list[str]:
    """Each expectation that no number in the output meets, or that some number after KEY breaks."""
    failed = []
    for key, op, value in expects:
        found = [float(x) for x in re.findall(re.escape(key) + r"[\s:=]+(-?[0-9][0-9.,]*)", output)
                 for x in [x.replace(",", "").rstrip(".")]]
        if not found or not all(_OPS[op](x, value) for x in found):
            failed.append(f"{key} {op} {value}: found {found or 'nothing'}")
    return failed


def _clear_outputs(block: Block) -> None:
    """Remove the ``--out`` folders of a block's commands left by an earlier run of this script."""
    for argv in block.commands:
        if "--out" in argv[:-1]:
            shutil.rmtree(argv[argv.index("--out") + 1], ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run every page at full settings; write outputs and copy figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default="", help="comma-separated page numbers (default: all)")
    parser.add_argument("--skip-slow", action="store_true", help=f"skip commands on {', '.join(SLOW)}")
    parser.add_argument("--workdir", default=str(ROOT.parent / "tutorial-run"))
    args = parser.parse_args(argv)
    wanted = {f"{int(n):02d}" for n in args.pages.split(",") if n}
    work = Path(args.workdir)
    (work / "docs").mkdir(parents=True, exist_ok=True)
    for folder in ("specs", "data"):
        shutil.copytree(PAGES / folder, work / "docs" / "tutorial" / folder, dirs_exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    here = Path.cwd()
    os.chdir(work)
    try:
        return _run_pages(args, wanted)
    finally:
        os.chdir(here)


def _run_pages(args: argparse.Namespace, wanted: set[str]) -> int:
    if True:
        for page in pages():
            if wanted and page.name[:2] not in wanted:
                continue
            for block in parse_page(page):
                if args.skip_slow and any(s in " ".join(c) for c in block.commands for s in SLOW):
                    print(f"{block.name}: skipped (slow)", file=sys.stderr)
                    continue
                _clear_outputs(block)
                start = time.perf_counter()
                code, output = run_block(block)
                seconds = time.perf_counter() - start
                (RESULTS / f"{block.name}.txt").write_text(output)
                print(f"{block.name}: exit {code}, {seconds:.1f} s", file=sys.stderr)
                if code:
                    return code
            for src, dest in figures(page):
                found = sorted(Path().glob(src))
                if found:
                    (PAGES / dest).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(found[0], PAGES / dest)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    raise SystemExit(main())
