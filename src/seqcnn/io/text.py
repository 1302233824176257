"""Opening text files: gzip by magic number, UTF-8 with or without BOM, any line ending."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from seqcnn.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | Path) -> bytes:
    """Read a whole file, decompressing gzip transparently.

    Raises:
        InputError: if the file is missing, is a directory, or is a truncated or corrupt gzip.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file")
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: corrupt or truncated gzip file ({exc})") from None
    return raw


def read_text(path: str | Path) -> str:
    """Read a text file as UTF-8 (BOM dropped), gzip handled.

    Raises:
        InputError: for binary content (NUL bytes) or invalid UTF-8, naming the line.
    """
    raw = read_bytes(path)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise InputError(f"{path}, line {line}: binary data (NUL byte), expected a text file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{path}, line {line}: not valid UTF-8 text, expected a text file") from None


def numbered_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` with line endings (LF, CRLF or CR) removed."""
    yield from enumerate(read_text(path).splitlines(), start=1)


def header_names(path, row: list[str]) -> list[str]:
    """Header cells stripped, blanks named ``column<i>`` (1-based), original case kept.

    Raises:
        InputError: for a name used twice (compared without regard to case).
    """
    names = [cell.strip() or f"column{i}" for i, cell in enumerate(row, start=1)]
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        if name.lower() in seen:
            raise InputError(f"{path}, line 1: column {i} is named {name!r} like column {seen[name.lower()]}; "
                             "expected distinct column names")
        seen[name.lower()] = i
    return names
