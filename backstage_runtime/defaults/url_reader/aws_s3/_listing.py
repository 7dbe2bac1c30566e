"""Listed objects as trees: which keys make tree files, when a listing is too long, and the
ETag of a listing.

S3 has no version identifier for a prefix, so a tree's ETag is a digest of the listed keys and
ETags: any upload, overwrite or deletion under the prefix changes it, and an unchanged listing
lets ``read_tree`` answer ``NotModifiedError`` before anything is downloaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ....api.services.url_reader import ArchiveLimitError

__all__ = ["Listed", "entry_limit", "listing_etag", "too_many_entries", "tree_path"]


@dataclass(frozen=True)
class Listed:
    """One listed object: its tree ``path``, full ``key``, ``etag``, ``size`` and last change."""

    path: str
    key: str
    etag: str
    size: int | None
    last_modified_at: datetime | None


def tree_path(key: str, prefix: str) -> str | None:
    """The path of object ``key`` in a tree rooted at folder ``prefix`` (``""`` or ending in
    ``/``), or None when the object cannot be a tree file: outside the folder, a folder marker
    (ending in ``/``), or with empty, ``.`` or ``..`` segments. S3 stores ``docs/a/../b`` as
    written; such a key would not extract safely, and failing the whole tree for it would let
    anyone who may upload under the prefix break reads of it.
    """
    if not key.startswith(prefix):
        return None
    path = key[len(prefix) :]
    if not path or any(segment in ("", ".", "..") for segment in path.split("/")):
        return None
    return path


def entry_limit(trees: object) -> int | None:
    """``backend.reading.tree.maxEntries`` of a tree response factory that exposes its limits
    (the default one does); None when it does not, and the tree response alone enforces it.
    """
    value = getattr(getattr(trees, "limits", None), "max_entries", None)
    return value if isinstance(value, int) else None


def too_many_entries(source: str, limit: int) -> ArchiveLimitError:
    """The error of a listing of ``source`` that holds more than ``limit`` entries."""
    return ArchiveLimitError(
        f"The tree from {source} has more than {limit} entries "
        "(see backend.reading.tree.maxEntries)"
    )


def listing_etag(listed: Iterable[Listed]) -> str:
    """The ETag of a set of objects (order-independent)."""
    digest = hashlib.sha256()
    for key, etag in sorted((item.key, item.etag) for item in listed):
        digest.update(f"{key}\0{etag}\n".encode())
    return digest.hexdigest()
