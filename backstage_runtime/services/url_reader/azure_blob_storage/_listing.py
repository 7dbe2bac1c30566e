"""Listed blobs as trees: which names make tree files, and the ETag of a listing.

Azure has no version identifier for a folder, so a tree's ETag is derived from what the
listing says: a SHA-256 over the sorted names and ETags of every blob under the prefix (before
the caller's filter, so that a change anywhere under the folder counts). Any upload, overwrite
or deletion changes a blob's ETag or the set of names, and with it the tree's ETag; an
unchanged listing lets :meth:`read_tree` answer ``NotModifiedError`` before any download.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

__all__ = ["BlobInfo", "listing_etag", "tree_path"]


@dataclass(frozen=True)
class BlobInfo:
    """One listed blob: its full ``name``, ``etag``, ``size`` in bytes and last change."""

    name: str
    etag: str
    size: int | None
    last_modified_at: datetime | None


def listing_etag(blobs: Iterable[BlobInfo]) -> str:
    """The ETag of a set of blobs (order-independent)."""
    digest = hashlib.sha256()
    for name, etag in sorted((blob.name, blob.etag.strip('"')) for blob in blobs):
        digest.update(f"{name}\0{etag}\n".encode())
    return digest.hexdigest()


def tree_path(name: str, prefix: str) -> str | None:
    """The path of blob ``name`` in a tree rooted at folder ``prefix`` (``""`` or ending in
    ``/``), or None when the blob cannot be a tree file: outside the folder, or with empty,
    ``.`` or ``..`` segments (Backstage skips dot segments too), which would not extract safely.
    """
    if not name.startswith(prefix):
        return None
    path = name[len(prefix) :]
    segments = path.split("/")
    if not path or any(segment in ("", ".", "..") for segment in segments):
        return None
    return path
