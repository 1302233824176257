"""JASPAR motifs offline: the SQLite files that pyjaspar ships inside its wheel.

pyjaspar ships every JASPAR release from 2014 on as an SQLite file, so :func:`load_jaspar` (every
motif of a collection and taxonomic group) and :func:`open_database` (the file itself, for other
queries) need no network.
"""

from __future__ import annotations

import sqlite3
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from seqcnn.errors import InputError

DEFAULT_RELEASE = "JASPAR2024"
DEFAULT_COLLECTION = "CORE"
DEFAULT_TAX_GROUP = "vertebrates"


@dataclass(frozen=True)
class Motif:
    """A target motif: its id, name, letter probabilities ``(4, W)`` and TF family."""

    id: str
    name: str
    pwm: np.ndarray
    family: str = ""


def open_database(release: str) -> sqlite3.Connection:
    """A read-only connection to the SQLite file of ``release`` inside the pyjaspar wheel.

    Raises:
        InputError: for an unknown release, listing the ones shipped.
    """
    # pyjaspar opens its database: only when motifs are read
    from pyjaspar import jaspar_releases
    from pyjaspar.utils import get_jaspardb_path

    if release not in jaspar_releases:
        raise InputError(f"unknown JASPAR release {release!r}; valid releases: {', '.join(sorted(jaspar_releases))}")
    path = get_jaspardb_path(jaspar_releases[release])
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _choices(db: sqlite3.Connection, sql: str) -> list[str]:
    return sorted(str(row[0]) for row in db.execute(sql).fetchall())


@lru_cache(maxsize=8)
def load_jaspar(
    release: str = DEFAULT_RELEASE, collection: str = DEFAULT_COLLECTION, tax_group: str = DEFAULT_TAX_GROUP
) -> tuple[Motif, ...]:
    """The latest version of every motif of a JASPAR collection and taxonomic group, offline.

    Args:
        release: e.g. ``"JASPAR2024"``.
        collection: e.g. ``"CORE"`` or ``"UNVALIDATED"``.
        tax_group: e.g. ``"vertebrates"``, ``"insects"``, ``"plants"``.

    Returns:
        The motifs, sorted by id.

    Raises:
        InputError: for an unknown release, collection or taxonomic group, listing valid ones.
    """
    # pyjaspar opens its database: only when motifs are read
    from pyjaspar import jaspardb

    with open_database(release) as db:
        collections = _choices(db, "SELECT DISTINCT COLLECTION FROM MATRIX")
        groups = _choices(db, "SELECT DISTINCT VAL FROM MATRIX_ANNOTATION WHERE TAG = 'tax_group'")
    if collection not in collections:
        raise InputError(
            f"unknown JASPAR collection {collection!r} in {release}; valid collections: {', '.join(collections)}"
        )
    if tax_group not in groups:
        raise InputError(
            f"unknown JASPAR taxonomic group {tax_group!r} in {release}; valid groups: {', '.join(groups)}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        records = jaspardb(release=release).fetch_motifs(collection=collection, tax_group=[tax_group])
    motifs = [_motif(record) for record in records]
    return tuple(sorted(motifs, key=lambda m: m.id))


def _motif(record) -> Motif:
    counts = np.array([record.counts[base] for base in "ACGT"], dtype=np.float64)  # (4, W)
    counts += 1e-3  # JASPAR counts have zeros; Tomtom needs no exact zeros either way
    family = "; ".join(record.tf_family or [])
    return Motif(record.matrix_id, record.name, counts / counts.sum(axis=0, keepdims=True), family)
