"""The version names the commit: parts of `git describe` to a string, a real repository, the CLI and config.json."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest

from seqcnn.version import format_version, git_version

DAY = datetime.date(2026, 12, 7)
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.mark.parametrize(
    ("release", "distance", "dirty", "expected"),
    [
        ("0.1.0", 0, False, "0.1.0"),  # a clean release tag is just the number
        ("0.1.0", 12, False, "0.2.0.dev12+gabc1234ef"),
        ("0.1.0", 12, True, "0.2.0.dev12+gabc1234ef.d20261207"),
        ("0.1.0", 0, True, "0.2.0.dev0+gabc1234ef.d20261207"),  # edited on top of the tag: not the release
        ("1.4.2", 3, False, "1.5.0.dev3+gabc1234ef"),
        (None, 205, False, "0.1.0.dev205+gabc1234ef"),  # no tag reachable: counted from the first commit
    ],
)
def test_version_string_from_describe_parts(release, distance, dirty, expected):
    assert format_version(release, distance, "abc1234ef", dirty, DAY) == expected


def _git(root: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(root)}
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True, env=env)
    return done.stdout.strip()


@needs_git
def test_git_version_follows_tags_commits_and_edits(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "f.txt").write_text("1\n")
    _git(tmp_path, "add", "f.txt")
    _git(tmp_path, "commit", "-qm", "one")
    node = _git(tmp_path, "rev-parse", "--short=9", "HEAD")
    assert git_version(tmp_path) == f"0.1.0.dev1+g{node}"

    _git(tmp_path, "tag", "-a", "v0.3.1", "-m", "release")
    assert git_version(tmp_path) == "0.3.1"

    (tmp_path / "f.txt").write_text("2\n")  # an uncommitted edit marks the version with the date
    assert git_version(tmp_path).startswith(f"0.4.0.dev0+g{node}.d")

    _git(tmp_path, "commit", "-qam", "two")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "three")
    node = _git(tmp_path, "rev-parse", "--short=9", "HEAD")
    assert git_version(tmp_path) == f"0.4.0.dev2+g{node}"

    (tmp_path / "untracked.txt").write_text("x")  # untracked files are not edits of the code
    assert git_version(tmp_path) == f"0.4.0.dev2+g{node}"


@needs_git
def test_git_version_is_none_outside_a_repository_root(tmp_path):
    assert git_version(tmp_path) is None  # no repository at all
    _git(tmp_path, "init", "-q")
    (tmp_path / "sub").mkdir()
    assert git_version(tmp_path / "sub") is None  # inside another repository: that one's commits are not ours


def test_cli_version_and_config_name_the_same_code(capsys):
    import seqcnn
    from seqcnn.cli import main
    from seqcnn.version import version

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"seqcnn {version()}"
    assert seqcnn.__version__ == version()
    root = Path(seqcnn.__file__).resolve().parents[2]
    if shutil.which("git") and (root / ".git").exists():  # a checkout: the version names its HEAD
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=9", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        assert version() == _describe_tag_only(root) or f"+g{head}" in version()


def _describe_tag_only(root: Path) -> str | None:
    """The release number when HEAD is exactly a clean release tag, else None."""
    done = subprocess.run(["git", "-C", str(root), "describe", "--tags", "--exact-match", "--match", "v[0-9]*"],
                          capture_output=True, text=True)
    return done.stdout.strip().removeprefix("v") or None if done.returncode == 0 else None
