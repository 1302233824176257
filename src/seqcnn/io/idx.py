"""IDX arrays, the format of MNIST and Fashion-MNIST (gzipped or not).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian 32-bit size per dimension, then the values in C order, big-endian.
``train-images-idx3-ubyte`` holds uint8 images ``(N, 28, 28)``; ``...-idx1-ubyte`` labels ``(N,)``.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from seqcnn.errors import InputError
from seqcnn.files import atomic_write_bytes

#: IDX type code -> big-endian numpy dtype.
IDX_TYPES: dict[int, str] = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

GZIP_MAGIC = b"\x1f\x8b"


def read_idx_bytes(path: str | Path) -> bytes:
    """The raw (decompressed) bytes of an IDX file; gzip is detected from the first bytes."""
    raw = Path(path).read_bytes()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable gzip file ({exc}); expected a gzipped IDX file") from None


def parse_idx(data: bytes, source: str | Path = "<bytes>") -> np.ndarray:
    """Decode IDX bytes into an array in native byte order.

    Args:
        data: the file's bytes, decompressed.
        source: the file name, for error messages.

    Returns:
        The array, shape as given by the header (e.g. ``(N, 28, 28)`` uint8).

    Raises:
        InputError: for a bad magic number, an unknown type code, or a size that disagrees
            with the header.
    """
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise InputError(
            f"{source}: not an IDX file; expected the magic number 0x0000TTDD, found 0x{data[:4].hex() or 'empty'}"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        valid = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise InputError(f"{source}: unknown IDX type code 0x{code:02X}; expected one of {valid}")
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise InputError(f"{source}: IDX header announces {ndim} dimensions but the file has {len(data)} bytes")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(IDX_TYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise InputError(
            f"{source}: IDX header says shape {shape} ({expected} bytes with the header), but the file has "
            f"{len(data)} bytes"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file, gzipped or not.

    Args:
        path: e.g. ``train-images-idx3-ubyte.gz``.

    Returns:
        The array in native byte order, e.g. uint8 ``(60000, 28, 28)``.

    Raises:
        InputError: for a file that is not IDX or whose size disagrees with its header.
    """
    return parse_idx(read_idx_bytes(path), path)


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode an array as IDX bytes (the inverse of :func:`parse_idx`).

    Raises:
        InputError: for a dtype that IDX cannot hold.
    """
    array = np.asarray(array)
    for code, name in IDX_TYPES.items():
        if np.dtype(name).newbyteorder("=") == array.dtype.newbyteorder("="):
            header = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
            return header + np.ascontiguousarray(array, dtype=np.dtype(name)).tobytes()
    raise InputError(f"cannot write dtype {array.dtype} as IDX; expected uint8, int8, int16, int32, float32 or float64")


def write_idx(path: str | Path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write an array as an IDX file, gzipped when ``compress`` (default: name ends in ``.gz``)."""
    path = Path(path)
    data = idx_bytes(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    atomic_write_bytes(path, data)
    return path


def is_idx(path: str | Path) -> bool:
    """True when ``path`` is a file starting with an IDX magic number (gzipped or not)."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(2)
        with (gzip.open(path, "rb") if head == GZIP_MAGIC else open(path, "rb")) as handle:
            magic = handle.read(4)
    except (OSError, EOFError):
        return False
    return len(magic) == 4 and magic[:2] == b"\x00\x00" and magic[2] in IDX_TYPES and 1 <= magic[3] <= 8
