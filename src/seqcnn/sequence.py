"""DNA alphabets, integer codes and one-hot encoding by lookup table.

A sequence is stored as uint8 *codes*, one byte per base:

=====  ====================================================
code   meaning
=====  ====================================================
0..3   A, C, G, T (either case; U is read as T)
4      N or another IUPAC ambiguity code (R Y S W K M B D H V)
5      padding added by seqcnn (never present in user data)
=====  ====================================================

One-hot encoding maps codes to rows of a small table, so it needs no per-base Python loop:
A/C/G/T give unit vectors, ``N`` gives ``0.25`` in every channel (``unknown="uniform"``, the
default, as DeepBind does) or zeros (``unknown="zeros"``, as Basset and tangermeme do), and
padding always gives zeros. The result has shape ``(N, 4, L)``, channels first, float32.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqcnn.errors import InputError, where

ALPHABET = "ACGT"
N_CODE = 4
PAD_CODE = 5
INVALID = 255
IUPAC_AMBIGUOUS = "NRYSWKMBDHV"

#: 256-entry table from a raw byte to its code; INVALID for bytes outside the alphabet.
CODE_OF_BYTE = np.full(256, INVALID, dtype=np.uint8)
for _code, _base in enumerate(ALPHABET):
    CODE_OF_BYTE[ord(_base)] = _code
    CODE_OF_BYTE[ord(_base.lower())] = _code
CODE_OF_BYTE[ord("U")] = CODE_OF_BYTE[ord("u")] = 3
for _base in IUPAC_AMBIGUOUS:
    CODE_OF_BYTE[ord(_base)] = CODE_OF_BYTE[ord(_base.lower())] = N_CODE

#: Code to letter, for decoding; padding decodes to '-'.
LETTER_OF_CODE = np.frombuffer(b"ACGTN-", dtype=np.uint8)

#: Code of the complementary base (N and padding map to themselves).
COMPLEMENT_CODE = np.array([3, 2, 1, 0, N_CODE, PAD_CODE], dtype=np.uint8)

UNKNOWN_CHOICES = ("uniform", "zeros")


def onehot_table(unknown: str = "uniform") -> np.ndarray:
    """Return the ``(6, 4)`` float32 table that maps each code to its one-hot row.

    Args:
        unknown: ``"uniform"`` (N is 0.25 in every channel) or ``"zeros"``.

    Raises:
        InputError: for another value of ``unknown``.
    """
    if unknown not in UNKNOWN_CHOICES:
        raise InputError(f"unknown must be one of {list(UNKNOWN_CHOICES)}, but got unknown={unknown!r}")
    table = np.zeros((6, 4), dtype=np.float32)
    table[np.arange(4), np.arange(4)] = 1.0
    table[N_CODE] = 0.25 if unknown == "uniform" else 0.0
    return table


def encode(seq: str | bytes, *, source: str | None = None, record: str | None = None) -> np.ndarray:
    """Encode one sequence to uint8 codes of shape ``(L,)``.

    Args:
        seq: the bases, as text or bytes.
        source: file name used in error messages.
        record: record id used in error messages.

    Raises:
        InputError: for a character outside A/C/G/T/U and the IUPAC codes, naming the record
            and the 1-based position.
    """
    try:
        raw = seq.encode("latin-1") if isinstance(seq, str) else bytes(seq)
    except UnicodeEncodeError as exc:  # a letter beyond Latin-1 is no base either
        raise InputError(
            f"{where(source, record=record)}: invalid character {seq[exc.start]!r} at position {exc.start + 1}; "
            f"expected A, C, G, T or an IUPAC code ({IUPAC_AMBIGUOUS})"
        ) from None
    codes = CODE_OF_BYTE[np.frombuffer(raw, dtype=np.uint8)]
    bad = np.flatnonzero(codes == INVALID)
    if bad.size:
        pos = int(bad[0])
        char = raw[pos : pos + 1].decode("latin-1")
        raise InputError(
            f"{where(source, record=record)}: invalid character {char!r} at position {pos + 1}; "
            f"expected A, C, G, T or an IUPAC code ({IUPAC_AMBIGUOUS})"
        )
    return codes


def encode_batch(
    seqs: Sequence[str | bytes],
    *,
    length: int | None = None,
    fit: str = "error",
    ids: Sequence[str] | None = None,
    source: str | None = None,
) -> np.ndarray:
    """Encode sequences of one length to a ``(N, L)`` uint8 code matrix.

    Args:
        seqs: the sequences.
        length: the target length; defaults to the length of the first sequence.
        fit: what to do with a sequence of another length: ``"error"``, ``"pad"`` (pad both
            ends with padding codes, centred), ``"crop"`` (keep the centre), or ``"pad-crop"``
            (either, as needed).
        ids: record ids, for error messages.
        source: file name, for error messages.

    Returns:
        Codes of shape ``(N, L)``.

    Raises:
        InputError: for an empty input, an invalid character, or a length mismatch with
            ``fit="error"`` (naming the first offending record).
    """
    if fit not in ("error", "pad", "crop", "pad-crop"):
        raise InputError(f"fit must be one of ['error', 'pad', 'crop', 'pad-crop'], but got fit={fit!r}")
    if len(seqs) == 0:
        raise InputError(f"{where(source)}: no sequences found")
    target = len(seqs[0]) if length is None else int(length)
    if target <= 0:
        raise InputError(f"{where(source)}: sequence length must be positive, got {target}")
    out = np.full((len(seqs), target), PAD_CODE, dtype=np.uint8)
    for i, seq in enumerate(seqs):
        rec = ids[i] if ids is not None else f"#{i + 1}"
        codes = encode(seq, source=source, record=rec)
        out[i] = _fit_length(codes, target, fit, source, rec)
    return out


def _fit_length(codes: np.ndarray, target: int, fit: str, source: str | None, rec: str) -> np.ndarray:
    """Pad or crop ``codes`` to ``target`` (centred), or raise if ``fit`` does not allow it."""
    n = codes.size
    if n == target:
        return codes
    if n < target and fit in ("pad", "pad-crop"):
        left = (target - n) // 2
        padded = np.full(target, PAD_CODE, dtype=np.uint8)
        padded[left : left + n] = codes
        return padded
    if n > target and fit in ("crop", "pad-crop"):
        left = (n - target) // 2
        return codes[left : left + target]
    raise InputError(
        f"{where(source, record=rec)}: sequence has length {n}, expected {target} like the first "
        f"record; use --pad/--crop (fit='pad-crop') to bring all sequences to one length"
    )


def onehot(codes: np.ndarray, unknown: str = "uniform") -> np.ndarray:
    """One-hot encode codes ``(N, L)`` (or ``(L,)``) to float32 ``(N, 4, L)`` (or ``(4, L)``)."""
    table = onehot_table(unknown)
    hot = table[codes]  # (..., L, 4)
    return np.ascontiguousarray(np.moveaxis(hot, -1, -2))


def onehot_strings(seqs: Sequence[str], unknown: str = "uniform", **kwargs) -> np.ndarray:
    """Encode and one-hot a list of same-length sequences to ``(N, 4, L)`` float32."""
    return onehot(encode_batch(seqs, **kwargs), unknown)


def decode(codes: np.ndarray) -> list[str]:
    """Turn codes ``(N, L)`` back into strings (padding becomes ``-``)."""
    codes = np.atleast_2d(np.asarray(codes, dtype=np.uint8))
    letters = LETTER_OF_CODE[codes]
    return [row.tobytes().decode("ascii") for row in letters]


def decode_onehot(x: np.ndarray) -> list[str]:
    """Decode one-hot ``(N, 4, L)`` arrays: argmax per position, N where no channel is 1."""
    x = np.asarray(x)
    codes = x.argmax(axis=1).astype(np.uint8)
    codes[x.max(axis=1) < 1.0] = N_CODE
    codes[x.sum(axis=1) == 0] = PAD_CODE
    return decode(codes)


def reverse_complement_codes(codes: np.ndarray) -> np.ndarray:
    """Reverse complement of codes ``(..., L)``."""
    return COMPLEMENT_CODE[np.asarray(codes)[..., ::-1]]


def reverse_complement(seq: str) -> str:
    """Reverse complement of one sequence string (IUPAC codes become N)."""
    return decode(reverse_complement_codes(encode(seq)))[0]


def gc_content(codes: np.ndarray) -> float:
    """Fraction of G or C among the A/C/G/T bases of ``codes``."""
    codes = np.asarray(codes)
    acgt = codes < N_CODE
    total = int(acgt.sum())
    return float(((codes == 1) | (codes == 2)).sum() / total) if total else float("nan")


def gc_fraction(codes: np.ndarray) -> np.ndarray:
    """GC fraction of each row of codes ``(N, L)`` among its A/C/G/T bases (NaN when none)."""
    acgt = (codes < 4).sum(1)
    gc = ((codes == 1) | (codes == 2)).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(acgt > 0, gc / np.maximum(acgt, 1), np.nan)
