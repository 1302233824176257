"""The version of seqcnn, naming the commit of the code that runs.

A release tag ``vX.Y.Z`` on a clean checkout reads ``X.Y.Z``. Between releases the version names the
commit, in the scheme setuptools-scm writes into the installed metadata (``release-branch-semver``):
``0.2.0.dev12+g051d5c1`` is the 12th commit after the tag ``v0.1.0``, and ``.d20261207`` is added when
the working tree had uncommitted changes. A run folder's ``config.json`` records this string, so it
says which code made the run.

An editable install (``make setup``) records the version once, at install time; the code then moves on
with every commit. So when the package is imported from a git checkout of seqcnn, the version is read
from git at the first request; an installed wheel (or a checkout without git) uses the installed
metadata.
"""

from __future__ import annotations

import datetime
import re
import subprocess
from functools import cache
from pathlib import Path

FALLBACK = "0.2.0.dev0+unknown"  # neither git nor installed metadata: a copied source tree

_DESCRIBE = re.compile(r"^v(?P<release>\d+(?:\.\d+)*)-(?P<distance>\d+)-g[0-9a-f]+$")


def format_version(release: str | None, distance: int, node: str, dirty: bool, today: datetime.date) -> str:
    """A version string from ``git describe``'s parts, as setuptools-scm's ``release-branch-semver`` writes it.

    Args:
        release: the last release tag's number (``"0.1.0"``), or None when no tag is reachable.
        distance: commits since that tag (since the first commit when there is none).
        node: the abbreviated commit hash.
        dirty: whether the working tree has uncommitted changes.
        today: the date written for a dirty tree.
    """
    if release is not None and distance == 0 and not dirty:
        return release
    if release is None:
        public = f"0.1.0.dev{distance}"
    else:
        major, minor = (int(p) for p in (release.split(".") + ["0"])[:2])
        # Past a release (or on top of it, edited) comes the next minor release's development (release-branch-semver).
        public = f"{major}.{minor + 1}.0.dev{distance}"
    local = f"g{node}" + (f".d{today:%Y%m%d}" if dirty else "")
    return f"{public}+{local}"


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=True)
    return done.stdout.strip()


def git_version(root: Path) -> str | None:
    """The version of the checkout at ``root`` from git, or None when ``root`` is not a git work tree of its own."""
    try:
        if Path(_git(root, "rev-parse", "--show-toplevel")).resolve() != root.resolve():
            return None  # root sits inside some other repository (a site-packages in a project, say)
        node = _git(root, "rev-parse", "--short=9", "HEAD")
        dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
        try:
            described = _DESCRIBE.match(_git(root, "describe", "--tags", "--long", "--match", "v[0-9]*", "HEAD"))
        except subprocess.CalledProcessError:
            described = None  # no release tag reachable (a shallow clone, or none made yet)
    except (OSError, subprocess.SubprocessError):
        return None
    if described is None:
        try:
            distance = int(_git(root, "rev-list", "--count", "HEAD"))
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
        return format_version(None, distance, node, dirty, datetime.date.today())
    return format_version(described["release"], int(described["distance"]), node, dirty, datetime.date.today())


def _checkout_root() -> Path | None:
    """The repository root when this package is imported from a source checkout (``src/seqcnn`` beside pyproject)."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / ".git").exists():
        return root
    return None


@cache
def version() -> str:
    """seqcnn's version: from git in a checkout, else the installed metadata."""
    root = _checkout_root()
    if root is not None:
        found = git_version(root)
        if found is not None:
            return found
    from importlib import metadata

    try:
        return metadata.version("seqcnn")
    except metadata.PackageNotFoundError:
        return FALLBACK
