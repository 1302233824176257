"""Every relative link of the documentation resolves: README.md, BENCHMARKS.md, CHANGELOG.md, CONTRIBUTING.md and
docs/**/*.md.

A link is Markdown's ``[text](target)`` or ``![alt](target)`` outside code; ``target`` is a path relative to the
linking file (or ``#anchor`` alone), optionally with ``#anchor``. The path must exist; an anchor into a Markdown
file must be the GitHub slug of one of its headings. Web links (``https:``, ``mailto:``) are not followed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP = ("README.md", "BENCHMARKS.md", "CHANGELOG.md", "CONTRIBUTING.md")

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def documents() -> list[Path]:
    """The Markdown files whose links are checked."""
    top = [ROOT / name for name in TOP if (ROOT / name).is_file()]
    return top + sorted((ROOT / "docs").rglob("*.md"))


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))  # keeps line numbers and offsets


def prose(text: str) -> str:
    """``text`` with fenced code blocks and code spans blanked out."""
    return CODE.sub(_blank, FENCE.sub(_blank, text))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings (a repeated one gets -1, -2, ... as on GitHub)."""
    seen: dict[str, int] = {}
    out = set()
    for match in HEADING.finditer(FENCE.sub(_blank, path.read_text(encoding="utf-8"))):
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def broken_links(path: Path) -> list[str]:
    """``FILE:LINE: target (why)`` for every relative link of ``path`` that does not resolve."""
    text = prose(path.read_text(encoding="utf-8"))
    problems = []
    for match in LINK.finditer(text):
        target = match.group(1)
        if EXTERNAL.match(target):
            continue
        where, _, anchor = target.partition("#")
        file = (path.parent / where).resolve() if where else path
        line = text.count("\n", 0, match.start()) + 1
        label = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{line}: {target}"
        if not file.exists():
            problems.append(f"{label} (no such file)")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            problems.append(f"{label} (no heading with this anchor in {file.name})")
    return problems


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    problems = broken_links(path)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_the_documents_are_found():
    names = {str(p.relative_to(ROOT)) for p in documents()}
    assert {"README.md", "BENCHMARKS.md", "CHANGELOG.md", "docs/benchmarks/README.md"} <= names


def test_a_broken_link_is_reported(tmp_path):
    (tmp_path / "there.md").write_text("# A title, with `code`!\n\n## Twice\n\n## Twice\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md) [ok](there.md#a-title-with-code) [ok](there.md#twice-1) [ok](#local)\n"
        "# Local\n"
        "![missing](figures/none.png) [bad anchor](there.md#nowhere) [web](https://example.org/x)\n"
        "`[not a link](nowhere.md)`\n"
        "```\n[also not](nowhere.md)\n```\n"
    )
    assert broken_links(page) == [
        f"{page}:3: figures/none.png (no such file)",
        f"{page}:3: there.md#nowhere (no heading with this anchor in there.md)",
    ]
