"""Files written whole or not at all, JSON, SHA-256, safe names and the refusal of pickles: the one place for them.

Every layer writes through these functions: a temporary file in the same folder, flushed and
synced, then renamed over the target, so a crash, a kill or a full disk leaves either the old
file or the new one, never half of one. Nothing else in seqcnn renames temporary files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from seqcnn.errors import InputError, RunError

#: Suffixes of pickle-based model files, which can run code when loaded.
PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt")


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; it replaces ``path`` when the block ends.

    When the block raises, the temporary file is removed and ``path`` is left as it was.

    Args:
        path: the file to write.
        mode: ``"wb"`` or ``"w"``.
        encoding: the text encoding for ``"w"`` (UTF-8 by default).

    Raises:
        OSError: naming ``path`` when the disk is full or the folder is not writable.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from other users
        text = "b" not in mode
        with os.fdopen(fd, mode, encoding=(encoding or "utf-8") if text else None) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a quota: say which file could not be written
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_open`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write JSON (indented, keys in insertion order) atomically; arrays are written as lists."""
    atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def move_into_place(tmp: str | Path, path: str | Path) -> Path:
    """Replace the folder ``path`` by the finished folder ``tmp`` (same parent folder).

    The old folder is removed first, so an interruption between the two steps leaves no folder
    at ``path`` rather than a mixture of old and new files.
    """
    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    os.replace(tmp, path)
    return path


def read_json(path: str | Path) -> Any:
    """Read a JSON file.

    Raises:
        InputError: for a missing file or one that is not JSON, naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: corrupt JSON ({exc})") from None


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks of 1 MiB."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_name(name: str) -> str:
    """A file-name-safe version of ``name``: no separators, no leading dots, at most 80 characters."""
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".")
    return keep[:80] or "run"


def refuse_pickle(path: str | Path, trust_pickle: bool = False) -> bool:
    """Refuse a pickle-based model file unless the user said they trust it.

    Returns:
        True when ``path`` is a pickle file that may be read (``trust_pickle``), else False.

    Raises:
        RunError: for a ``.pt``/``.pth``/``.pkl``... file without ``trust_pickle``, saying why.
    """
    if Path(path).suffix.lower() not in PICKLE_SUFFIXES:
        return False
    if not trust_pickle:
        raise RunError(
            f"{path}: refusing to read a pickle file: loading it can run any code it contains; "
            "seqcnn reads weights from safetensors only. Convert it, or pass --trust-pickle if you trust its source"
        )
    return True
